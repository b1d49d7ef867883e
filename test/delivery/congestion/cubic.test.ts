import { CUBIC_ALPHA, CUBIC_BETA, CUBIC_C, Cubic, RECOVERY_EXTENSION_RTTS } from '../../../src/delivery/congestion/cubic';
import { NewReno } from '../../../src/delivery/congestion/newreno';
import { controllerFactory } from '../../../src/delivery/congestion/select';
import { restartAfterIdle } from '../../../src/delivery/congestion/idle-restart';
import { RttStats } from '../../../src/delivery/reliable/rtt';

const MSS = 1000;
const pkt = (pn: number, sentAtMs: number, bytes = MSS) => ({ pn, sentAtMs, bytes });
/** A path of `ms` RTT (smoothed `ms`, rttvar ms/2; at 40 ms the PTO is 145 ms). */
function rttOf(ms: number): RttStats {
  const r = new RttStats();
  r.update(ms, 0);
  return r;
}
const rtt40 = (): RttStats => rttOf(40);

/** Acks one window's worth of datagrams per RTT, cwnd-limited, from `fromMs` for `ms`; returns the window at the end. */
function run(cc: Cubic, fromMs: number, ms: number, pn0: number, rttMs = 40): number {
  let pn = pn0;
  for (let t = fromMs; t < fromMs + ms; t += rttMs) {
    const n = Math.floor(cc.windowBytes / MSS);
    for (let k = 0; k < n; k++) cc.onPacketsAcked([pkt(pn++, t - rttMs)], cc.windowBytes, t);
  }
  return cc.windowBytes;
}

describe('CUBIC (RFC 9438)', () => {
  it('constants: C 0.4, β 0.7, α = 3(1 − β)/(1 + β), recovery extended by 1 smoothed RTT', () => {
    expect([CUBIC_C, CUBIC_BETA, RECOVERY_EXTENSION_RTTS]).toEqual([0.4, 0.7, 1]);
    expect(CUBIC_ALPHA).toBeCloseTo(0.529412, 6);
  });

  it('slow start as NewReno, then a loss takes the window to β and remembers W_max; one reduction per recovery period, which lasts one smoothed RTT past the reduction', () => {
    const cc = new Cubic({ rtt: rtt40(), maxDatagramBytes: MSS });
    expect([cc.windowBytes, cc.inSlowStart]).toEqual([10_000, true]);
    cc.onPacketsAcked([pkt(0, 0), pkt(1, 0)], 10_000, 40);
    expect(cc.windowBytes).toBe(12_000);
    cc.onPacketsLost([pkt(2, 10)], 100);
    expect([cc.windowBytes, cc.ssthreshBytes, cc.lastMaxWindowBytes, cc.inRecovery, cc.inSlowStart]).toEqual([8400, 8400, 12_000, true, false]);
    cc.onPacketsLost([pkt(3, 90)], 120); // sent before the recovery began
    expect(cc.windowBytes).toBe(8400);
    // Sent within one smoothed RTT (40 ms) after the reduction at 100: the same episode (RECOVERY_EXTENSION_RTTS).
    cc.onPacketsLost([pkt(4, 130), pkt(5, 140)], 200);
    expect(cc.windowBytes).toBe(8400);
    // Fast convergence: the next event below W_max lowers W_max to cwnd × (1 + β) / 2.
    cc.onPacketsLost([pkt(6, 141)], 210);
    expect([cc.windowBytes, cc.lastMaxWindowBytes]).toEqual([5880, 8400 * 0.85]);
  });

  it('after a loss at 100 datagrams on a 200 ms path the window climbs the cubic curve: back at W_max after K = ∛(30/0.4) = 4.22 s, concave before, convex after', () => {
    const cc = new Cubic({ rtt: rttOf(200), maxDatagramBytes: MSS });
    cc.onPacketsAcked([pkt(0, 0)], 10_000, 1); // leaves pn 0 acked
    // grow to 100 datagrams in slow start
    let pn = 1;
    while (cc.windowBytes < 100_000) cc.onPacketsAcked([pkt(pn++, 0)], cc.windowBytes, 10);
    expect(cc.windowBytes).toBe(100_000);
    cc.onPacketsLost([pkt(pn++, 20)], 1000);
    expect(cc.windowBytes).toBe(70_000);
    const at1s = run(cc, 1200, 1000, 10_000, 200);
    const at3s = run(cc, 2200, 2000, 20_000, 200);
    const atK = run(cc, 4200, 1200, 40_000, 200);
    const at7s = run(cc, 5400, 2600, 60_000, 200);
    // W_cubic(t + RTT) = 0.4 (t + 0.2 − 4.217)³ + 100: 85.1 at t = 1 s, 99.1 at 3 s, 100 at K, 104.5 at 7 s;
    // the window follows it a step (one RTT of acks) behind.
    expect([at1s, at3s, atK, at7s].map((w) => Math.round(w / MSS))).toEqual([82, 98, 100, 105]);
    expect(cc.lastMaxWindowBytes).toBe(100_000);
  });

  it('on a small window the Reno-friendly estimate leads: +α datagrams per window, faster than the cubic curve', () => {
    const cc = new Cubic({ rtt: rtt40(), maxDatagramBytes: MSS });
    cc.onPacketsLost([pkt(0, 0)], 1); // 10 → 7 datagrams, W_max 10: K = ∛(3/0.4) = 1.96 s
    const w = run(cc, 41, 400, 100); // 10 RTTs
    // W_est grows α = 0.53 per window: ≈ 7 + 10 × 0.53 = 12.3; W_cubic(0.4 s) = 0.4 (0.4 − 1.96)³ + 10 = 8.5
    expect(Math.round(w / MSS)).toBe(12);
  });

  it('no growth while application-limited; persistent congestion collapses to 2 datagrams', () => {
    const cc = new Cubic({ rtt: rtt40(), maxDatagramBytes: MSS });
    cc.onPacketsLost([pkt(0, 0)], 1);
    cc.onPacketsAcked([pkt(1, 10)], 2000, 50); // 2000 in flight of 7000
    expect(cc.windowBytes).toBe(7000);
    cc.onPersistentCongestion();
    expect([cc.windowBytes, cc.inRecovery]).toEqual([2000, false]);
  });

  it('restarts after idle: a window of 64 datagrams, 400 ms of silence (PTO 145 ms) → halved once per PTO beyond the first, ssthresh keeps ¾', () => {
    expect(restartAfterIdle(64_000, 40_000, 400, 145, 10_000)).toEqual({ windowBytes: 16_000, ssthreshBytes: 48_000 });
    expect(restartAfterIdle(64_000, 40_000, 500, 145, 10_000)).toEqual({ windowBytes: 10_000, ssthreshBytes: 48_000 });
    expect(restartAfterIdle(64_000, Infinity, 5000, 145, 10_000)).toEqual({ windowBytes: 10_000, ssthreshBytes: Infinity });
    expect(restartAfterIdle(64_000, 40_000, 145, 145, 10_000)).toBeNull(); // not idle long enough
    expect(restartAfterIdle(10_000, 40_000, 5000, 145, 10_000)).toBeNull(); // already at the initial window
    const cc = new Cubic({ rtt: rtt40(), maxDatagramBytes: MSS });
    let pn = 0;
    while (cc.windowBytes < 64_000) cc.onPacketsAcked([pkt(pn++, 0)], cc.windowBytes, 10);
    cc.onPacketSent(100, 1000, pkt(pn++, 100, 1000)); // nothing else in flight, but sent 100 ms after nothing: first send
    expect(cc.windowBytes).toBe(10_000); // the first packet ever: idle since −∞
    while (cc.windowBytes < 64_000) cc.onPacketsAcked([pkt(pn++, 100)], cc.windowBytes, 110);
    cc.onPacketSent(200, 5000, pkt(pn++, 200, 1000)); // others in flight: no restart
    cc.onPacketSent(600, 1000, pkt(pn++, 600, 1000)); // alone, 400 ms after the last
    expect([cc.windowBytes, cc.idleRestarts]).toEqual([16_000, 2]);
    const nr = new NewReno({ rtt: rtt40(), maxDatagramBytes: MSS });
    nr.onPacketSent(0, 1000, pkt(pn++, 0, 1000)); // the first packet: at the initial window already
    while (nr.windowBytes < 64_000) nr.onPacketsAcked([pkt(pn++, 0)], nr.windowBytes, 10);
    nr.onPacketSent(400, 1000, pkt(pn++, 400, 1000));
    expect([nr.windowBytes, nr.idleRestarts]).toEqual([16_000, 1]);
  });

  it('the setting picks the controller', () => {
    const r = rtt40();
    expect(controllerFactory('cubic', 1472)(r)).toBeInstanceOf(Cubic);
    expect(controllerFactory('newreno', 1472)(r)).toBeInstanceOf(NewReno);
    expect(controllerFactory('cubic', 1472)(r).windowBytes).toBe(14_720);
  });

  it('paces at 1.25 × cwnd / srtt in slow start and 1.0 × in congestion avoidance', () => {
    const cc = new Cubic({ rtt: rtt40(), maxDatagramBytes: MSS });
    expect(cc.pacingRateBytesPerMs()).toBe((1.25 * 10_000) / 40);
    cc.onPacketsLost([pkt(0, 0)], 1); // 10 000 → 7 000, out of slow start
    expect(cc.inSlowStart).toBe(false);
    expect(cc.pacingRateBytesPerMs()).toBe(7000 / 40);
  });
});

describe('CUBIC: a HyStart++ delay exit that proves spurious (hystart.ts HYSTART_CSS_ROUNDS)', () => {
  /** Slow start over a 0.3 ms path (cwnd-limited, one ack per datagram), then a 6 ms spike, then `after` ms samples; the controller after each phase. */
  function spiked(after: number, loss = false): { cc: Cubic; exitedAt: number[]; end: [number, boolean, number, number] } {
    const rtt = new RttStats();
    const cc = new Cubic({ rtt, maxDatagramBytes: MSS });
    let pn = 0;
    const round = (ms: number, t: number): void => {
      const n = Math.floor(cc.windowBytes / MSS);
      const first = pn;
      for (let k = 0; k < n; k++) cc.onPacketSent(t, (k + 1) * MSS, pkt(pn++, t));
      for (let q = first; q < pn; q++) {
        rtt.update(ms, 0);
        cc.onPacketsAcked([pkt(q, t)], cc.windowBytes, t + ms);
      }
    };
    round(0.3, 0);
    round(0.3, 1);
    round(6, 2);
    const exitedAt = [cc.windowBytes, cc.inSlowStart ? 1 : 0, cc.hystartExits];
    if (loss) cc.onPacketsLost([pkt(pn - 1, 8)], 9);
    round(after, 10);
    round(after, 20);
    return { cc, exitedAt, end: [cc.windowBytes, cc.inSlowStart, cc.hystartExits, cc.hystartResumes] };
  }

  it('the spike ends slow start; samples back at 0.3 ms resume it and the window doubles again per round', () => {
    const { exitedAt, end } = spiked(0.3);
    expect(exitedAt).toEqual([45_771, 0, 1]); // the spike's exit, then congestion avoidance for the rest of its round
    expect(end).toEqual([180_771, true, 1, 1]); // resumed at the 5th sample of the next round: 45 + 45 + 90 datagrams
  });

  it('samples that stay at 6 ms hold the exit (congestion avoidance); after a loss, 0.3 ms samples do not resume slow start', () => {
    expect(spiked(6).end.slice(1)).toEqual([false, 1, 0]);
    expect(spiked(0.3, true).end.slice(1)).toEqual([false, 1, 0]);
  });
});
