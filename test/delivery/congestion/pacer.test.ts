import { Pacer } from '../../../src/delivery/congestion/pacer';

describe('Pacer', () => {
  it('lets a burst of 10 datagrams go, then spaces datagrams at the rate', () => {
    let rate = 10; // bytes per ms
    const p = new Pacer({ rate: () => rate, maxDatagramBytes: 1000 });
    expect(p.maxBurstBytes()).toBe(10_000);
    for (let k = 0; k < 10; k++) {
      expect(p.timeUntilSend(0, 1000)).toBe(0);
      p.onPacketSent(0, 1000);
    }
    expect(p.budget(0)).toBe(0);
    expect(p.timeUntilSend(0, 1000)).toBe(100);
    expect(p.timeUntilSend(50, 1000)).toBe(50);
    expect(p.timeUntilSend(99.95, 1000)).toBe(1); // never less than the 1 ms minimum delay
    expect(p.timeUntilSend(100, 1000)).toBe(0);
    p.onPacketSent(100, 1000);
    expect(p.budget(100)).toBe(0);
    expect(p.budget(10_000)).toBe(10_000); // refills to the burst, no more
    rate = 0;
    p.onPacketSent(10_000, 10_000);
    expect(p.timeUntilSend(10_000, 1000)).toBe(Infinity);
  });

  it('allows 2 ms of the rate as a burst on fast paths, and resets to a full bucket', () => {
    const p = new Pacer({ rate: () => 125_000, maxDatagramBytes: 1200, burstDatagrams: 4 }); // 1 Gbit/s
    expect(p.maxBurstBytes()).toBe(250_000);
    p.onPacketSent(0, 250_000);
    expect(p.timeUntilSend(0, 1200)).toBe(1);
    expect(p.timeUntilSend(0.5, 1200)).toBe(0);
    p.reset();
    expect(p.budget(0)).toBe(250_000);
  });
});
