/**
 * The link's timer after an express send (src/engine/native/express.ts sendExpress,
 * PacketPath.armAfterExpress): the same deadline as the full arm() after every send. Two
 * simulated worlds of the same seed run the same script, one re-arming by arm(): the timer's
 * deadline after each send, the frames sealed and the path state are identical.
 */
import { SimWorld, bytesOf, watch } from '../../sim/harness';
import { expressSent, setExpressFullArm } from '../../../src/engine/native/express';
import { PacketPath } from '../../../src/engine/native/packet-path';
import { captureSeals, linkOf } from './link-probe';

const A = '10.7.0.1';
const B = '10.7.0.2';

/** Gaps (ms) between a's 1 KiB sends: back to back, sub-RTT, past the delayed ack, past the probe timeout. */
const GAPS = [0, 0, 0, 1, 0, 2, 0.25, 0, 5, 0, 0, 30, 0, 1, 0, 0, 120, 0, 3, 0, 0, 0, 400, 0, 0.5, 0];

interface Trace { express: number; timers: (number | null)[]; seals: number[][]; state: unknown[]; got: number; arms: number }

/**
 * a and b paired; a sends 1 KiB at the GAPS, b answers with 64 B now and then (so a owes acks
 * that ride along); `farWake`: before the first send a's timer is armed far ahead (a pacer
 * wake-up, arm's extraAtMs), later than the probe timeout the send starts.
 */
async function script(fullArm: boolean, farWake: boolean): Promise<Trace> {
  setExpressFullArm(fullArm);
  const w = new SimWorld(21);
  try {
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b);
    let got = 0;
    b.on('message', (m) => (got += m.data.length));
    await w.scheduler.advance(1_000);
    const path = linkOf(a, 'b').path;
    if (farWake) {
      const now = w.clock.monotonic();
      path.arm(now, now + 10_000);
      expect(path.timerAtMs).toBe(now + 10_000);
    }
    const seals = captureSeals();
    const arm = jest.spyOn(PacketPath.prototype, 'arm');
    const before = expressSent();
    const timers: (number | null)[] = [];
    const sends = [];
    for (let k = 0; k < GAPS.length; k++) {
      sends.push(watch(a.send('b', bytesOf(1024, k))));
      timers.push(path.timerAtMs);
      if (k % 5 === 2) void b.send('a', bytesOf(64, k));
      await w.scheduler.advance(GAPS[k]!);
    }
    const express = expressSent() - before;
    const arms = arm.mock.calls.length;
    await w.scheduler.advance(2_000);
    jest.restoreAllMocks();
    expect(sends.map((s) => s.state)).toEqual(Array(GAPS.length).fill('resolved'));
    const space = path.space;
    const state = [space.nextPacketNumber, space.bytesInFlight, space.windowBytes, path.timerAtMs];
    return { express, timers, seals: seals.map((x) => [...x.header, ...x.plain]), state, got, arms };
  } finally {
    jest.restoreAllMocks();
    setExpressFullArm(false);
    await w.closeAll();
  }
}

const FULL_ARMS = 98; // 21 of them after the express sends
const LEAN_ARMS = 88; // 10 of those 21 left out: the timer was armed at or before the new deadlines

describe('express path: the timer after a send', () => {
  test('the same deadline as arm() after every send: from an unarmed timer, under acks, past delayed acks and probe timeouts', async () => {
    const full = await script(true, false);
    const lean = await script(false, false);
    expect([lean.express, full.express]).toEqual([21, 21]); // 21 of 26 sends by the express path in both worlds (the others: pacer, a probe first)
    expect(lean.timers).toEqual(full.timers);
    expect(lean.timers[0]).not.toBeNull(); // the first send armed an unarmed timer (its probe timeout)
    expect(lean.seals).toEqual(full.seals);
    expect(lean.state).toEqual(full.state);
    expect([lean.got, full.got]).toEqual([GAPS.length * 1024, GAPS.length * 1024]);
    // The work left out: arm() runs only when the timer was unarmed or must come forward.
    expect([full.arms, lean.arms]).toEqual([FULL_ARMS, LEAN_ARMS]);
  });

  test('a timer armed later than the new probe timeout (a far pacer wake-up) is brought forward, as by arm()', async () => {
    const full = await script(true, true);
    const lean = await script(false, true);
    expect([lean.express, full.express]).toEqual([21, 21]);
    expect(lean.timers).toEqual(full.timers);
    expect(lean.timers[0]).toBeLessThan(10_000); // not the far wake-up any more
    expect(lean.seals).toEqual(full.seals);
    expect(lean.state).toEqual(full.state);
  });
});
