import { RttProbe, RTT_PROBE_INTERVAL_MS, rttProbeIntervalMs } from '../../../src/delivery/reliable/rtt-probe';

const acked = (...pns: number[]) => (pn: number): boolean => pns.includes(pn);

describe('RttProbe', () => {
  it('the interval: 8 smoothed RTTs, within 25 ms … 1 s (1 s before any sample: the initial RTT is 333 ms)', () => {
    expect([rttProbeIntervalMs(0.5), rttProbeIntervalMs(4), rttProbeIntervalMs(40), rttProbeIntervalMs(333)]).toEqual([25, 32, 320, RTT_PROBE_INTERVAL_MS]);
  });

  it('asks at the first fast round without a fresh sample, then not again within the interval, even unanswered', () => {
    const p = new RttProbe();
    p.onFastRound(100, 50, 10); // a sample 50 ms ago, srtt 10 ms: fresh (interval 80 ms)
    expect(p.take()).toBe(false);
    p.onFastRound(130, 50, 10);
    expect([p.take(), p.take()]).toEqual([true, false]); // taken once
    p.onFastRound(209, 50, 10);
    expect(p.take()).toBe(false); // asked < 80 ms ago (the probe or its ack may be lost: ask again later)
    p.onFastRound(210, 50, 10);
    expect(p.take()).toBe(true);
    p.onFastRound(5_000, -Infinity, 333); // no sample: once a second
    p.onFastRound(5_999, -Infinity, 333);
    expect(p.take()).toBe(true);
    p.onFastRound(6_000, -Infinity, 333);
    expect(p.take()).toBe(true);
  });

  it('measures to the largest acknowledged: the probe itself is the loss detector’s job; an ack-only datagram after it is ours', () => {
    const p = new RttProbe();
    p.onFastRound(1_000, -Infinity, 333);
    p.onSent(40, 1_001, false); // an ack-only datagram before the probe went
    p.onSent(41, 1_002, true); // the probe: the first ack-eliciting datagram since asking
    p.onSent(42, 1_003, false);
    p.onSent(43, 1_004, false);
    expect(p.latestFor(43, 39, acked(41), 1_010)).toBe(6); // 1,010 − 1,004
    expect(p.latestFor(41, 39, acked(41), 1_010)).toBeNull(); // the probe is the largest: the loss detector samples it
    expect(p.latestFor(43, 43, acked(41), 1_010)).toBeNull(); // the largest not newly acknowledged
    expect(p.latestFor(43, 39, acked(), 1_010)).toBeNull(); // the probe not (newly) acknowledged
    expect(p.latestFor(44, 39, acked(41), 1_010)).toBeNull(); // a number whose send time was not recorded
    p.onSample();
    expect(p.latestFor(43, 39, acked(41), 1_010)).toBeNull(); // done: one sample per probe
  });

  it('keeps the send times of 256 ack-only datagrams after the probe, and forgets everything on a new path', () => {
    const p = new RttProbe();
    p.onFastRound(0, -Infinity, 333);
    p.onSent(10, 0, true);
    for (let pn = 11; pn <= 300; pn++) p.onSent(pn, pn, false);
    expect(p.latestFor(266, 0, acked(10), 300)).toBe(34); // the 256th after the probe
    expect(p.latestFor(267, 0, acked(10), 300)).toBeNull();
    p.reset();
    expect(p.latestFor(266, 0, acked(10), 300)).toBeNull();
    p.onFastRound(1, -Infinity, 333); // a new path asks at once
    expect(p.take()).toBe(true);
  });
});
