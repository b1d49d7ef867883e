import { DEFAULT_BURST_DATAGRAMS, DEFAULT_INITIAL_BURST_DATAGRAMS, Pacer } from '../../../src/delivery/congestion/pacer';

describe('Pacer', () => {
  it('lets the initial window of 10 datagrams go at once, then spaces datagrams at the rate with bursts of at most 2', () => {
    expect([DEFAULT_BURST_DATAGRAMS, DEFAULT_INITIAL_BURST_DATAGRAMS]).toEqual([2, 10]);
    let rate = 10; // bytes per ms
    const p = new Pacer({ rate: () => rate, maxDatagramBytes: 1000 });
    expect(p.maxBurstBytes()).toBe(2000);
    expect(p.budget(0)).toBe(10_000);
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
    expect(p.budget(10_000)).toBe(2000); // refills to the 2-datagram quantum, no more
    p.onPacketSent(10_000, 1000);
    p.onPacketSent(10_000, 1000);
    expect(p.timeUntilSend(10_000, 1000)).toBe(100); // a third datagram waits
    rate = 0;
    expect(p.timeUntilSend(10_000, 1000)).toBe(Infinity);
  });

  it('the initial allowance is spent over time, not clipped to the quantum (nor refilled above what is left)', () => {
    const p = new Pacer({ rate: () => 10, maxDatagramBytes: 1000 });
    for (let k = 0; k < 5; k++) p.onPacketSent(k, 1000); // 5 sent over 4 ms
    expect(p.budget(4)).toBe(5000);
    expect(p.budget(500)).toBe(5000);
    for (let k = 0; k < 5; k++) p.onPacketSent(500, 1000);
    expect(p.budget(500)).toBe(0);
    expect(p.budget(700)).toBe(2000);
  });

  it('a late timer does not cost the rate: the bucket also holds what the rate delivered since the wake-up was due (≤ 8 datagrams, ≤ 10 ms late)', () => {
    const fresh = (): Pacer => {
      const p = new Pacer({ rate: () => 1000, maxDatagramBytes: 1000 }); // 8 Mbit/s
      for (let k = 0; k < 10; k++) p.onPacketSent(0, 1000);
      return p;
    };
    const p = fresh();
    expect(p.maxBurstBytes()).toBe(2000);
    expect(p.timeUntilSend(0, 1000)).toBe(1); // come back at 1 ms
    expect(p.budget(6)).toBe(6000); // woken 5 ms late: 2000 + 5 ms of the rate
    for (let k = 0; k < 6; k++) p.onPacketSent(6, 1000); // the pump sends what the bucket holds
    expect(p.budget(6)).toBe(0);
    expect(p.budget(100)).toBe(2000); // no wait pending: the quantum
    const q = fresh();
    q.timeUntilSend(0, 1000);
    expect(q.budget(5)).toBe(5000);
    expect(q.budget(12)).toBe(2000); // 11 ms late: the window held the sender, not a timer
    const r = fresh();
    r.timeUntilSend(0, 1000);
    expect(r.budget(10)).toBe(10_000); // 9 ms late: 2000 + 8 datagrams at most
    expect(new Pacer({ rate: () => 1000, maxDatagramBytes: 1000 }).budget(0)).toBe(10_000);
  });

  it('allows 2 ms of the rate as a burst on fast paths, and resets to a full initial bucket', () => {
    const p = new Pacer({ rate: () => 125_000, maxDatagramBytes: 1200, burstDatagrams: 4 }); // 1 Gbit/s
    expect(p.maxBurstBytes()).toBe(250_000);
    p.onPacketSent(0, 250_000);
    expect(p.timeUntilSend(0, 1200)).toBe(1);
    expect(p.timeUntilSend(0.5, 1200)).toBe(0);
    p.reset();
    expect(p.budget(0)).toBe(250_000);
    const slow = new Pacer({ rate: () => 1, maxDatagramBytes: 1200 });
    slow.onPacketSent(0, 1200);
    slow.reset();
    expect(slow.budget(0)).toBe(12_000);
  });
});
