/**
 * The express path of datagram-mode messages (src/engine/native/express.ts, issue 12): a message
 * that fills its own datagram goes from send() when nothing waits before it and the window and
 * the pacer have room — in the very frame the send pump would have built. Two simulated worlds
 * of the same seed run the same script, one with the express path off: the frames they seal
 * (plaintext and data header: session id, counter) are byte-identical, and so are the packet
 * numbers, the sent bytes, the window and the pacer afterwards.
 */
import { SimWorld, bytesOf, watch } from '../../sim/harness';
import { EXPRESS_MIN_DATA_BYTES, expressMisses, expressSent, pumpExpressSent, setExpressAtSend, setExpressPath, wholeItemBytes } from '../../../src/engine/native/express';
import { FRAME_HEADER_BYTES, PACKET_ACK_RESERVE_BYTES, SEAL_OVERHEAD_BYTES, frameBudget } from '../../../src/engine/native/frame-send';
import { decodeFrame } from '../../../src/wire/frame';
import type { NativeLink } from '../../../src/engine/native/link';
import { captureSeals, linkOf, type Sealed } from './link-probe';

const A = '10.7.0.1';
const B = '10.7.0.2';

/** One world: a and b paired, b's message owed an ack by a, then a sends 1 KiB; what a sealed for it, and its path after. */
async function run(express: boolean, size: (link: NativeLink) => number = () => 1024): Promise<{ sealed: Sealed[]; express: number; state: unknown[]; got: number }> {
  setExpressPath(express);
  const w = new SimWorld(11);
  try {
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b);
    let got = 0;
    b.on('message', (m) => (got += m.data.length));
    await b.send('a', bytesOf(64, 1)); // one ack-eliciting datagram: a owes an ack (not due yet) that rides on its next frame
    await w.scheduler.advance(1);
    const link = linkOf(a, 'b');
    link.engine.reliable.reannounce(link); // our limits ride on the next frame (as after losing the frame that carried them)
    const seals = captureSeals();
    const before = expressSent();
    const sent = watch(a.send('b', bytesOf(size(link), 2)));
    const viaExpress = expressSent() - before;
    await w.scheduler.advance(0);
    jest.restoreAllMocks();
    expect(sent.state).toBe('resolved');
    const mine = linkOf(a, 'b').current();
    const sealed = seals.filter((x) => x.session === mine).map(({ header, plain }) => ({ header, plain })); // a's frames to b only
    await w.scheduler.advance(50);
    const space = linkOf(a, 'b').path.space;
    const state = [space.nextPacketNumber, space.bytesInFlight, space.windowBytes, Math.round(space.pacer.budget(w.clock.monotonic()))];
    return { sealed, express: viaExpress, state, got };
  } finally {
    jest.restoreAllMocks();
    setExpressPath(true);
    await w.closeAll();
  }
}

/**
 * One world: a and b paired, then a sends `n` messages of 1 KiB in one turn — more than the
 * window takes, so most wait in the window-wait queue and leave by the pump as b's acks come.
 */
async function flood(express: boolean, n: number, atSend = true): Promise<{ sealed: Sealed[]; sent: number; lane: number; misses: Record<string, number>; state: unknown[]; got: number[]; settled: string[] }> {
  setExpressPath(express);
  setExpressAtSend(atSend);
  const w = new SimWorld(13);
  try {
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b);
    const got: number[] = [];
    b.on('message', (m) => got.push(m.data[0]!));
    const mine = linkOf(a, 'b').current();
    const seals = captureSeals();
    const sent0 = expressSent();
    const lane0 = pumpExpressSent();
    const misses0 = expressMisses();
    const sends = Array.from({ length: n }, (_, k) => watch(a.send('b', bytesOf(1024, k))));
    await w.scheduler.advance(2000);
    jest.restoreAllMocks();
    const sealed = seals.filter((x) => x.session === mine).map(({ header, plain }) => ({ header, plain }));
    const space = linkOf(a, 'b').path.space;
    const state = [space.nextPacketNumber, space.bytesInFlight, space.windowBytes, Math.round(space.pacer.budget(w.clock.monotonic()))];
    const m1 = expressMisses();
    const misses = Object.fromEntries(Object.entries(m1).map(([k, v]) => [k, v - misses0[k as keyof typeof m1]]).filter(([, v]) => v !== 0));
    return { sealed, sent: expressSent() - sent0, lane: pumpExpressSent() - lane0, misses, state, got, settled: sends.map((x) => x.state) };
  } finally {
    jest.restoreAllMocks();
    setExpressPath(true);
    setExpressAtSend(true);
    await w.closeAll();
  }
}

describe('express path', () => {
  test("the pump's express lane: 200 messages of 1 KiB, most from the window-wait queue — the same frames, bytes and path state as the packer's", async () => {
    const normal = await flood(false, 200);
    const express = await flood(true, 200);
    expect([normal.sent, normal.lane]).toEqual([0, 0]);
    // A few at send() (the initial window), the rest from the queue by the lane, none by the packer.
    const frames = express.sealed.map((x) => decodeFrame(Uint8Array.from(x.plain)));
    const carrying = frames.filter((f) => f.p.length > 0);
    expect(carrying.length).toBe(200);
    expect([express.sent, express.lane]).toEqual([10, 190]); // the initial window at send(), then the lane
    expect(express.sealed.length).toBe(202); // and the two frames without items, alike in both
    expect(express.sealed).toEqual(normal.sealed);
    expect(express.state).toEqual(normal.state);
    expect(express.got).toEqual(Array.from({ length: 200 }, (_, k) => bytesOf(1024, k)[0]!)); // all, in order
    expect(normal.got).toEqual(express.got);
    expect(express.settled).toEqual(Array(200).fill('resolved'));
    expect(normal.settled).toEqual(express.settled);
  });

  test("why 190 of the 200 queue (q23): the 11th finds the pacer's initial bucket short of a full-size datagram, the other 189 an earlier message waiting before them; with the express path at send() off all 200 leave by the lane, the same bytes as the packer", async () => {
    const express = await flood(true, 200);
    expect([express.sent, express.lane]).toEqual([10, 190]);
    expect(express.misses).toEqual({ pacer: 1, before: 189 }); // the bucket asks for room for a full-size datagram, as the pump does; the rest keep the order
    const lane = await flood(true, 200, false);
    expect([lane.sent, lane.lane, lane.misses]).toEqual([0, 200, {}]); // not asked: nothing counted
    const normal = await flood(false, 200);
    expect(lane.sealed.length).toBe(normal.sealed.length);
    expect(lane.sealed).toEqual(normal.sealed);
    expect(lane.state).toEqual(normal.state);
    expect(lane.got).toEqual(normal.got);
    expect(lane.settled).toEqual(Array(200).fill('resolved'));
  });

  test('a 1 KiB message with an ack and our limits riding along: the same frame bytes, packet number and path state as the pump', async () => {
    const normal = await run(false);
    const express = await run(true);
    expect([normal.express, express.express]).toEqual([0, 1]);
    expect(express.sealed.length).toBe(1);
    expect(express.sealed).toEqual(normal.sealed);
    const frame = decodeFrame(Uint8Array.from(express.sealed[0]!.plain));
    expect(frame.p.map((i) => i.data.length)).toEqual([1024]);
    expect(frame.c.map((c) => c.type)).toEqual(['limits', 'packetAck']);
    expect(express.state).toEqual(normal.state);
    expect([normal.got, express.got]).toEqual([1024, 1024]);
  });

  test('a message whose item fills the budget, with an ack and our limits: those go alone first, the message in the next frame, as by the pump', async () => {
    // The largest whole item (bin16 header): no room beside the controls, even with the ack reserve.
    const size = (link: NativeLink): number => frameBudget(link) - 2 - 3;
    const normal = await run(false, size);
    const express = await run(true, size);
    expect([normal.express, express.express]).toEqual([0, 0]);
    expect(express.sealed.length).toBe(2);
    expect(express.sealed).toEqual(normal.sealed);
    const frames = express.sealed.map((x) => decodeFrame(Uint8Array.from(x.plain)));
    expect(frames.map((f) => f.p.length)).toEqual([0, 1]);
    expect(frames[0]!.c.map((c) => c.type)).toEqual(['limits', 'packetAck']);
    expect(express.state).toEqual(normal.state);
    expect(express.got).toBeGreaterThan(1024);
    expect([normal.got, express.got]).toEqual([frames[1]!.p[0]!.data.length, frames[1]!.p[0]!.data.length]);
  });

  test('order is kept: a 1 KiB message behind a smaller one of the same turn waits for the flush and shares its datagram; 64 B never goes express', async () => {
    const w = new SimWorld(12);
    try {
      const a = await w.node(A);
      const b = await w.node(B);
      await w.pair(a, b);
      const got: number[] = [];
      b.on('message', (m) => got.push(m.data.length));
      const seals = captureSeals();
      const before = expressSent();
      const sends = [watch(a.send('b', bytesOf(64, 1))), watch(a.send('b', bytesOf(1024, 2)))];
      expect(expressSent() - before).toBe(0);
      await w.scheduler.advance(0);
      jest.restoreAllMocks();
      const mine = linkOf(a, 'b').current();
      const frames = seals.filter((x) => x.session === mine).map((x) => decodeFrame(Uint8Array.from(x.plain)));
      expect(frames.filter((f) => f.p.length > 0).map((f) => f.p.map((i) => i.data.length))).toEqual([[64, 1024]]); // (the others: path MTU probes)
      expect(sends.map((x) => x.state)).toEqual(['resolved', 'resolved']);
      await w.scheduler.advance(50);
      expect(got).toEqual([64, 1024]);
    } finally {
      jest.restoreAllMocks();
      await w.closeAll();
    }
  });

  test('messages below EXPRESS_MIN_DATA_BYTES never fill half a frame, even on the smallest path (mtu 576, IPv6)', () => {
    const budget = 576 - 40 - 8 - SEAL_OVERHEAD_BYTES - FRAME_HEADER_BYTES - PACKET_ACK_RESERVE_BYTES;
    expect(budget).toBe(434);
    expect(wholeItemBytes(new Uint8Array(EXPRESS_MIN_DATA_BYTES - 1)) * 2).toBeLessThanOrEqual(budget);
    expect(wholeItemBytes(new Uint8Array(255))).toBe(259); // array, flags, bin8 header (2)
    expect(wholeItemBytes(new Uint8Array(256))).toBe(261); // bin16 header (3) from 256 bytes on
  });
});
