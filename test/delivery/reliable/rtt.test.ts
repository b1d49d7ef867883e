import { RttStats } from '../../../src/delivery/reliable/rtt';

describe('RttStats (RFC 9002 §5)', () => {
  it('starts at the initial RTT: smoothed 333, rttvar 166.5, PTO 333 + 4 × 166.5 + 25', () => {
    const r = new RttStats();
    expect([r.hasSample, r.smoothedMs, r.rttvarMs, r.minMs, r.ptoMs()]).toEqual([false, 333, 166.5, 0, 1024]);
  });

  it('takes the first sample whole, then smooths with ack delay subtracted only above min', () => {
    const r = new RttStats();
    r.update(100, 7); // first sample: ack delay ignored
    expect([r.latestMs, r.minMs, r.smoothedMs, r.rttvarMs, r.ptoMs()]).toEqual([100, 100, 100, 50, 325]);
    r.update(120, 10); // 120 ≥ 100 + 10 → adjusted 110
    expect([r.smoothedMs, r.rttvarMs]).toEqual([101.25, 40]);
    r.update(105, 10); // 105 < 100 + 10 → not adjusted
    expect([r.smoothedMs, r.rttvarMs]).toEqual([101.71875, 30.9375]);
    r.update(150, 100); // ack delay capped at max ack delay 25 → adjusted 125
    expect([r.smoothedMs, r.rttvarMs]).toEqual([104.62890625, 29.0234375]);
    r.update(80, 0);
    expect([r.latestMs, r.minMs]).toEqual([80, 80]);
  });

  it('clamps a zero sample to the 1 ms granularity and resets to the initial state', () => {
    const r = new RttStats({ initialRttMs: 100, maxAckDelayMs: 0 });
    r.update(0, 0);
    expect([r.latestMs, r.smoothedMs, r.rttvarMs, r.ptoMs()]).toEqual([1, 1, 0.5, 3]);
    r.reset();
    expect([r.hasSample, r.smoothedMs, r.rttvarMs, r.minMs, r.ptoMs()]).toEqual([false, 100, 50, 0, 300]);
  });
});
