import { Cubic } from '../../../src/delivery/congestion/cubic';
import { NewReno } from '../../../src/delivery/congestion/newreno';
import { PACING_RTT_STALE_FACTOR, PACING_RTT_STALL_MAX_MS, pacingRttMs } from '../../../src/delivery/congestion/pacer';
import { RttStats } from '../../../src/delivery/reliable/rtt';

/** A loopback-like RTT history: ~1 ms samples, then a stall's samples, then ~1 ms again. */
function stalled(): RttStats {
  const r = new RttStats();
  for (let k = 0; k < 40; k++) r.update(1, 0);
  for (const ms of [12, 10, 8, 6]) r.update(ms, 0); // acks of datagrams sent before a 12 ms stall
  return r;
}

describe('pacing RTT: the smoothed RTT, or a latest sample under 4 ms when it is below half of it', () => {
  it('before any sample: the initial 333 ms (≥ 1 ms always)', () => {
    expect(pacingRttMs(new RttStats())).toBe(333);
  });

  it('after a stall the smoothed RTT carries the spike (4.17 ms) while the latest sample is 1 ms again: 1 ms paces', () => {
    expect([PACING_RTT_STALE_FACTOR, PACING_RTT_STALL_MAX_MS]).toEqual([2, 4]);
    const r = stalled();
    expect(r.latestMs).toBe(6);
    expect(pacingRttMs(r)).toBe(r.smoothedMs); // 6 ms is not below half of the smoothed value
    expect(r.smoothedMs).toBe(4.173095703125); // 1 → 2.375 → 3.328125 → 3.912109375 → 4.173…
    r.update(1, 0);
    expect(r.smoothedMs).toBe(0.875 * 4.173095703125 + 0.125);
    expect(pacingRttMs(r)).toBe(1);
    // The controllers pace over it: CUBIC 1.25 × 14 720 B / 1 ms in slow start, NewReno the same.
    expect(new Cubic({ rtt: r, maxDatagramBytes: 1472 }).pacingRateBytesPerMs()).toBe(1.25 * 14_720);
    expect(new NewReno({ rtt: r, maxDatagramBytes: 1472 }).pacingRateBytesPerMs()).toBe(1.25 * 14_720);
  });

  it('latest samples of 4 ms or more: always the smoothed RTT, even with the latest sample far below it (slow start\'s queue draining)', () => {
    const r = new RttStats();
    const trace = [40, 45, 52, 60, 68, 70, 70, 62, 51, 44, 40, 41, 55, 70, 40, 250, 250, 250, 40];
    for (const ms of trace) {
      r.update(ms, 0);
      expect(pacingRttMs(r)).toBe(r.smoothedMs);
    }
    expect(r.latestMs * 2).toBeLessThan(r.smoothedMs); // 40 against 96.6…: the rule would have applied
    const q = new RttStats();
    for (const ms of [1, 1, 40, 40, 4]) q.update(ms, 0); // a minimum of 1 ms (bench:path's calibration) does not open the gate; a latest of 4 does not either
    expect(q.latestMs * 2).toBeLessThan(q.smoothedMs);
    expect(pacingRttMs(q)).toBe(q.smoothedMs);
    q.update(3.9, 0); // below 4 ms and below half the smoothed RTT: the latest paces
    expect(pacingRttMs(q)).toBe(3.9);
  });

  it('exactly half of the smoothed RTT is not below half: the smoothed RTT still paces', () => {
    const r = new RttStats();
    r.update(8, 0);
    r.update(8, 0);
    expect(r.smoothedMs).toBe(8);
    r.update(1, 0); // smoothed 7.125, latest 1 (below 3.5625)
    expect(pacingRttMs(r)).toBe(1);
    const q = new RttStats();
    q.update(8, 0);
    q.update(4.6, 0); // smoothed 7.575; 4.6 × 2 = 9.2 is not below it
    expect(pacingRttMs(q)).toBe(7.575);
  });
});
