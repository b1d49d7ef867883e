/**
 * A datagram-mode message's outbox entry (src/engine/native/send.ts DatagramMessage, s64): a
 * message that goes whole is one object — its own payload item, no item and array beside it —
 * packed into the frame as is, with the same bytes as a plain item; the flush is scheduled once
 * per batch; the promises still settle only in the transport's callback.
 */
import { datagramMessage, type DatagramMessage } from '../../../src/engine/native/send';
import { FramePacker } from '../../../src/engine/native/frame-packer';
import { FRAME_HEADER_BYTES, SEAL_OVERHEAD_BYTES } from '../../../src/engine/native/frame-send';
import { WindowWaitQueue } from '../../../src/delivery/congestion/window-wait';
import { encodeFrame, unpaddedFrameBytes, FLAG_COMPRESSED, FLAG_FRAGMENT, type Frame, type PayloadItem } from '../../../src/wire/frame';
import type { NativeLink } from '../../../src/engine/native/link';
import { SimWorld, bytesOf, holdingDone, messages, watch } from '../../sim/harness';

const ok = (): void => undefined;
const fail = (): void => undefined;

/** Enough of a link for datagramMessage and the packer: a 1472-byte path, message ids from 900. */
function fakeLink(waiting: WindowWaitQueue<DatagramMessage>): NativeLink {
  let id = 900;
  return {
    path: { maxDatagram: 1472, current: null, hasDatagrams: true, waiting },
    ctx: { maxDatagram: { 4: 1472, 6: 1452 } },
    peer: { endpoint: { family: 4 } },
    nextMsgId: () => id++,
  } as unknown as NativeLink;
}

describe('DatagramMessage', () => {
  test('a whole message is one entry, its own item: exactly these fields, in this order, its body as data', () => {
    const link = fakeLink(new WindowWaitQueue({ maxMessages: 10, maxBytes: 1 << 20 }));
    const body = bytesOf(64, 1);
    const m = datagramMessage(link, body, FLAG_COMPRESSED, 70, 5000, ok, fail);
    expect(Object.keys(m)).toEqual(['flags', 'data', 'fragments', 'bytes', 'deadlineMs', 'timeoutMs', 'resolve', 'reject']);
    expect(m.data).toBe(body);
    expect([m.flags, m.fragments, m.bytes, m.deadlineMs, m.timeoutMs]).toEqual([FLAG_COMPRESSED, null, 70, 0, 5000]);
    expect([m.resolve, m.reject]).toEqual([ok, fail]);
  });

  test('a body larger than a frame keeps its fragments (one message id), with the same fields', () => {
    const link = fakeLink(new WindowWaitQueue({ maxMessages: 10, maxBytes: 1 << 20 }));
    const m = datagramMessage(link, bytesOf(3000, 2), 0, 3000, 10, ok, fail);
    expect(Object.keys(m)).toEqual(['flags', 'data', 'fragments', 'bytes', 'deadlineMs', 'timeoutMs', 'resolve', 'reject']);
    const f = m.fragments!;
    expect(f.map((x) => [x.flags, x.id, x.index, x.count, x.data.length])).toEqual([
      [FLAG_FRAGMENT, 900, 0, 3, 1362],
      [FLAG_FRAGMENT, 900, 1, 3, 1362],
      [FLAG_FRAGMENT, 900, 2, 3, 276],
    ]);
  });

  test('the packer puts whole entries themselves in the frame and settles them; the bytes are those of plain items', () => {
    const waiting = new WindowWaitQueue<DatagramMessage>({ maxMessages: 100, maxBytes: 1 << 20 });
    const link = fakeLink(waiting);
    const bodies = Array.from({ length: 16 }, (_, i) => bytesOf(64, i));
    const entries = bodies.map((b, i) => datagramMessage(link, b, i === 3 ? FLAG_COMPRESSED : 0, 64, 10, ok, fail));
    for (const m of entries) waiting.push(m, 50);
    const packer = new FramePacker(link, null, 0);
    packer.begin([], [], 1472);
    packer.sizeControls(packer.budget);
    while (packer.addDatagram());
    expect([packer.items, packer.frame.p.length, packer.settles.length]).toEqual([16, 0, 0]); // gathered, not yet in the frame
    packer.finish();
    expect(packer.frame.p).toHaveLength(16);
    packer.frame.p.forEach((item, i) => expect(item).toBe(entries[i]));
    expect(packer.settles).toEqual(entries);
    expect(waiting.size).toBe(0);
    // Byte for byte what the frame of plain { flags, data } items encodes to (padded and not).
    const plain: PayloadItem[] = bodies.map((b, i) => ({ flags: i === 3 ? FLAG_COMPRESSED : 0, data: b }));
    const asEntries: Frame = { t: 123456, n: 77, i: 5, p: packer.frame.p, c: [] };
    const asItems: Frame = { t: 123456, n: 77, i: 5, p: plain, c: [] };
    expect(unpaddedFrameBytes(asEntries)).toBe(unpaddedFrameBytes(asItems));
    expect(unpaddedFrameBytes(asItems)).toBe(1 + 1 + 5 + 1 + 1 + 3 + 1 + 1 + 16 * (1 + 1 + 2 + 64));
    expect(Buffer.from(encodeFrame(asEntries))).toEqual(Buffer.from(encodeFrame(asItems)));
    expect(Buffer.from(encodeFrame(asEntries, 1400))).toEqual(Buffer.from(encodeFrame(asItems, 1400)));
  });

  test('frames of small messages: each frame gets its own exact arrays at finish(), untouched by the next frame; a frame abandoned before finish() leaves nothing behind (q23)', () => {
    const waiting = new WindowWaitQueue<DatagramMessage>({ maxMessages: 100, maxBytes: 1 << 20 });
    const link = fakeLink(waiting);
    const entries = Array.from({ length: 45 }, (_, i) => datagramMessage(link, bytesOf(64, i), 0, 64, 10, ok, fail));
    for (const m of entries) waiting.push(m, 50);
    const packer = new FramePacker(link, null, 0);
    // Abandoned: two items gathered, then begin() again (the pump returns without sending when nothing fits).
    packer.begin([], [], 1472);
    packer.sizeControls(2 * 68);
    while (packer.addDatagram());
    expect(packer.items).toBe(2);
    const frames: PayloadItem[][] = [];
    const settles: unknown[][] = [];
    for (let k = 0; k < 3; k++) {
      packer.begin([], [], 1472);
      packer.sizeControls(packer.budget);
      expect([packer.items, packer.eliciting]).toEqual([0, false]);
      while (packer.addDatagram());
      expect(packer.eliciting).toBe(true);
      packer.finish();
      frames.push(packer.frame.p);
      settles.push(packer.settles);
      expect(packer.items).toBe(0);
    }
    // The frame's content budget (1472 less the seal and the header) holds 20 items of 68 bytes.
    expect([Math.floor(packer.budget / 68), 1472 - SEAL_OVERHEAD_BYTES - FRAME_HEADER_BYTES]).toEqual([20, packer.budget]);
    expect(frames.map((p) => p.length)).toEqual([20, 20, 3]);
    expect(frames.flat()).toEqual(entries.slice(2)); // in order, each frame's array kept as it was when the next was packed
    expect(settles.flat()).toEqual(entries.slice(2));
    frames.forEach((p, k) => expect(settles[k]).not.toBe(p));
    expect(new Set([...frames, ...settles]).size).toBe(6);
    expect(waiting.size).toBe(0);
  });

  test('a fragmented entry goes item by item (a `current` record) and settles with its last fragment', () => {
    const waiting = new WindowWaitQueue<DatagramMessage>({ maxMessages: 100, maxBytes: 1 << 20 });
    const link = fakeLink(waiting);
    const m = datagramMessage(link, bytesOf(3000, 3), 0, 3000, 10, ok, fail);
    waiting.push(m, 50);
    const packer = new FramePacker(link, null, 0);
    const sent: PayloadItem[][] = [];
    for (let k = 0; k < 3; k++) {
      packer.begin([], [], 1472);
      packer.sizeControls(packer.budget);
      while (packer.addDatagram());
      packer.finish();
      sent.push(packer.frame.p);
      expect(packer.settles).toEqual(k === 2 ? [m] : []);
    }
    expect(sent.map((p) => p.map((x) => x.index))).toEqual([[0], [1], [2]]);
    expect(sent.flat()).toEqual(m.fragments);
  });
});

describe('a turn of small datagram-mode messages', () => {
  let w: SimWorld;
  beforeEach(() => {
    w = new SimWorld(11);
  });
  afterEach(async () => {
    await w.closeAll();
    expect(w.scheduler.errors).toEqual([]);
  });

  test('the flush is scheduled once per batch; 45 messages of 64 B share 3 datagrams and resolve only in their callbacks', async () => {
    const held: Array<() => void> = [];
    const a = await w.node('10.9.0.1', {}, holdingDone(held));
    const b = await w.node('10.9.0.2');
    await w.pair(a, b);
    for (const r of held.splice(0)) r(); // handshake traffic
    await w.scheduler.advance(1000);
    for (const r of held.splice(0)) r();
    const got = messages(b);
    const ctx = (a as unknown as { linkOf(r: string): NativeLink }).linkOf('b').ctx;
    const schedule = ctx.scheduleFlush;
    let scheduled = 0;
    ctx.scheduleFlush = (p) => {
      scheduled++;
      schedule(p);
    };
    const out0 = a.status().counters.messagesOut;
    const peerOut = (): number => a.peers().find((p) => p.name === 'b')!.counters.messagesOut;
    const peerOut0 = peerOut();
    const first = Array.from({ length: 45 }, (_, i) => watch(a.send('b', bytesOf(64, i))));
    expect(scheduled).toBe(1);
    await w.scheduler.drain();
    expect(held).toHaveLength(3); // 20 + 20 + 5 items of 68 bytes (a 1,402-byte frame budget: 1472-byte datagrams, no ack to carry)
    expect(first.every((s) => s.state === 'pending')).toBe(true);
    held.shift()!();
    await w.scheduler.drain();
    expect(first.map((s) => s.state)).toEqual([...Array<string>(20).fill('resolved'), ...Array<string>(25).fill('pending')]);
    expect([a.status().counters.messagesOut - out0, peerOut() - peerOut0]).toEqual([20, 20]); // counted as the datagram is handed over
    for (const r of held.splice(0)) r();
    await w.scheduler.drain();
    expect(first.every((s) => s.state === 'resolved')).toBe(true);
    expect([a.status().counters.messagesOut - out0, peerOut() - peerOut0]).toEqual([45, 45]);
    // The next turn's batch schedules its own flush.
    const second = Array.from({ length: 5 }, (_, i) => watch(a.send('b', bytesOf(64, 45 + i))));
    expect(scheduled).toBe(2);
    await w.scheduler.drain();
    for (const r of held.splice(0)) r();
    await w.scheduler.advance(10);
    for (const r of held.splice(0)) r();
    expect(second.every((s) => s.state === 'resolved')).toBe(true);
    expect(got.map((m) => Buffer.from(m.data))).toEqual(Array.from({ length: 50 }, (_, i) => Buffer.from(bytesOf(64, i))));
    ctx.scheduleFlush = schedule;
  });

  test('send() of a small message reads no clock; without a session it fails ERR_NO_SESSION at its flush\'s time + its timeout', async () => {
    const a = await w.node('10.9.0.1');
    const b = await w.node('10.9.0.2');
    await w.pair(a, b);
    const monotonic = w.clock.monotonic.bind(w.clock);
    let reads = 0;
    w.clock.monotonic = (): number => {
      reads++;
      return monotonic();
    };
    const sends = Array.from({ length: 30 }, (_, i) => watch(a.send('b', bytesOf(64, i))));
    expect(reads).toBe(0);
    await w.scheduler.drain();
    expect(sends.every((s) => s.state === 'resolved')).toBe(true);
    w.clock.monotonic = monotonic;
    // A peer that never answers: the message waits in the pre-session queue for its timeout.
    await a.addPeer({ endpoint: '10.9.0.9:11000', name: 'gone', key: b.publicKey.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) });
    const t0 = w.clock.monotonic();
    const lost = watch(a.send('gone', bytesOf(64, 99), { timeoutMs: 700 }));
    await w.scheduler.advance(699);
    expect(lost.state).toBe('pending');
    expect(await w.scheduler.runUntil(() => lost.state !== 'pending', 1_000)).toBe(true);
    expect(w.clock.monotonic() - t0).toBeLessThanOrEqual(700 + 100); // found at the next tick
    const e = lost.error as { code: string; message: string };
    expect(e.code).toBe('ERR_NO_SESSION');
    expect(e.message).toBe('no session: the handshake with gone did not complete within 0.7 s');
  });
});
