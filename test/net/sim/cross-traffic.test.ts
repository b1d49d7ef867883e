import { bytes, makeNet, open, send } from './harness';

const A = '127.0.0.1';
const B = '127.0.0.2';

describe('cross traffic', () => {
  test('alone on a link it is carried at its rate with no queueing delay', async () => {
    const { net, sched } = makeNet();
    net.linkOneWay(A, B, { bandwidthBps: 10_000_000, queueBytes: 30_000 });
    // 5 Mbit/s of 1250-byte packets: one every 2 ms.
    const x = net.crossTraffic(A, B, { rateBps: 5_000_000, packetBytes: 1250 });
    await sched.advance(1000);
    x.stop();
    await sched.advance(1000);
    expect(x.counts).toEqual({ offered: 500, carried: 500, queueFull: 0, lost: 0, tooBig: 0, maxQueueDelayMs: 1 });
    expect(sched.pendingTimers).toBe(0);
    expect(net.trace).toEqual([]);
  });

  test('rates above one packet per ms are offered in full', async () => {
    const { net, sched } = makeNet();
    const x = net.crossTraffic(A, B, { rateBps: 96_000_000, packetBytes: 1200 });
    await sched.advance(100);
    x.stop();
    expect(x.counts.offered).toBe(1000);
  });

  test('it shares the bottleneck: a burst beside it sees the queue it built and fills it sooner', async () => {
    const { net, sched } = makeNet();
    const a = await open(net, sched, A);
    const b = await open(net, sched, B);
    net.linkOneWay(A, B, { bandwidthBps: 10_000_000, queueBytes: 20_000 });
    // The link alone takes a burst of 20 packets of 1000 wire bytes into its queue.
    for (let i = 0; i < 20; i++) send(a.t, b.t, bytes(972));
    await sched.advance(100);
    expect(net.stats(A, B).queueFull.count).toBe(0);
    // With 12 Mbit/s of cross traffic offered to the 10 Mbit/s link, the queue stands full.
    const x = net.crossTraffic(A, B, { rateBps: 12_000_000, packetBytes: 1000 });
    await sched.advance(100);
    for (let i = 0; i < 20; i++) send(a.t, b.t, bytes(972));
    await sched.advance(100);
    x.stop();
    expect(net.stats(A, B).queueFull.count).toBeGreaterThanOrEqual(19);
    expect(x.counts.queueFull).toBeGreaterThan(0);
    expect(x.counts.maxQueueDelayMs).toBeGreaterThanOrEqual(15);
  });

  test('options are validated', () => {
    const { net } = makeNet();
    expect(() => net.crossTraffic(A, B, { rateBps: 0 })).toThrow('cross traffic rateBps must be > 0 and finite, got 0');
    expect(() => net.crossTraffic(A, B, { rateBps: 1e6, packetBytes: 10 })).toThrow('packetBytes must be an integer >= 28');
  });
});
