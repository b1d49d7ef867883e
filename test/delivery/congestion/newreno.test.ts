import { initialWindowBytes, NewReno } from '../../../src/delivery/congestion/newreno';
import { RttStats } from '../../../src/delivery/reliable/rtt';

const MSS = 1200;
const pkt = (pn: number, sentAtMs: number, bytes = MSS) => ({ pn, sentAtMs, bytes });

describe('NewReno (RFC 9002 §7)', () => {
  it('initial window min(10 × mss, max(14720, 2 × mss))', () => {
    expect([initialWindowBytes(1200), initialWindowBytes(1472), initialWindowBytes(1500), initialWindowBytes(9000)]).toEqual([12000, 14720, 14720, 18000]);
    const cc = new NewReno({ rtt: new RttStats() });
    expect([cc.windowBytes, cc.ssthreshBytes, cc.inSlowStart, cc.inRecovery, cc.maxDatagramBytes]).toEqual([12000, Infinity, true, false, 1200]);
    expect([cc.canSend(11999), cc.canSend(12000), cc.availableBytes(5000), cc.availableBytes(20000)]).toEqual([true, false, 7000, 0]);
  });

  it('slow start adds the acknowledged bytes while the window is the limit, not otherwise', () => {
    const cc = new NewReno({ rtt: new RttStats() });
    cc.onPacketsAcked([pkt(0, 0), pkt(1, 0)], 12000, 100);
    expect(cc.windowBytes).toBe(14400);
    cc.onPacketsAcked([pkt(2, 0)], 2400, 100); // application-limited: 2400 in flight of 14400
    expect(cc.windowBytes).toBe(14400);
    cc.onPacketsAcked([pkt(3, 0)], 7300, 100); // more than half the window in flight: still limited
    expect(cc.windowBytes).toBe(15600);
  });

  it('halves once per recovery period, then grows one mss per window in congestion avoidance', () => {
    const cc = new NewReno({ rtt: new RttStats() });
    cc.onPacketsLost([pkt(5, 10)], 100);
    expect([cc.windowBytes, cc.ssthreshBytes, cc.inRecovery, cc.inSlowStart]).toEqual([6000, 6000, true, false]);
    cc.onPacketsLost([pkt(6, 100)], 150); // sent before the recovery began (at 100): ignored
    expect(cc.windowBytes).toBe(6000);
    cc.onPacketsAcked([pkt(7, 90)], 6000, 160); // sent before recovery: no growth, still in recovery
    expect([cc.windowBytes, cc.inRecovery]).toEqual([6000, true]);
    const after = [1, 2, 3, 4, 5].map((k) => pkt(10 + k, 120));
    cc.onPacketsAcked(after.slice(0, 4), 6000, 200); // 4800 bytes acked < window
    expect([cc.windowBytes, cc.inRecovery]).toEqual([6000, false]);
    cc.onPacketsAcked(after.slice(4), 6000, 200); // 6000 acked: +1 mss
    expect(cc.windowBytes).toBe(7200);
    cc.onPacketsLost([pkt(20, 210)], 300); // a new period
    expect([cc.windowBytes, cc.ssthreshBytes]).toEqual([3600, 3600]);
  });

  it('never goes below 2 × mss; persistent congestion collapses to it', () => {
    const cc = new NewReno({ rtt: new RttStats() });
    for (let k = 1; k <= 6; k++) cc.onPacketsLost([pkt(k, k * 100)], k * 100 + 50);
    expect(cc.windowBytes).toBe(2400);
    const cc2 = new NewReno({ rtt: new RttStats() });
    cc2.onPacketsAcked([pkt(0, 0), pkt(1, 0), pkt(2, 0)], 12000, 10);
    cc2.onPacketsLost([pkt(3, 5)], 20);
    cc2.onPersistentCongestion();
    expect([cc2.windowBytes, cc2.ssthreshBytes, cc2.inRecovery]).toEqual([2400, 7800, false]);
  });

  it('paces at 1.25 × window / smoothed RTT, and resets', () => {
    const rtt = new RttStats();
    const cc = new NewReno({ rtt });
    expect(cc.pacingRateBytesPerMs()).toBe((1.25 * 12000) / 333);
    rtt.update(40, 0);
    expect(cc.pacingRateBytesPerMs()).toBe(375);
    cc.onPacketsLost([pkt(1, 1)], 2);
    cc.reset();
    expect([cc.windowBytes, cc.ssthreshBytes, cc.inRecovery]).toEqual([12000, Infinity, false]);
  });

  it('follows a larger path MTU from the initial window, and keeps the minimum in the new size', () => {
    const cc = new NewReno({ rtt: new RttStats() });
    cc.setMaxDatagramBytes(1472);
    expect([cc.windowBytes, cc.maxDatagramBytes]).toEqual([14720, 1472]);
  });
});
