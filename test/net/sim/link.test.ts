import { bytes, makeNet, open, send } from './harness';

const A = '127.0.0.1';
const B = '127.0.0.2';

async function pair(seed = 1) {
  const { net, sched } = makeNet(seed);
  const a = await open(net, sched, A, 1000);
  const b = await open(net, sched, B, 2000);
  return { net, sched, a, b };
}

describe('link bandwidth and queue', () => {
  test('1 Mbit/s, 10 kB queue: 1000-byte packets serialise 8 ms apart, the 11th of a burst is tail-dropped', async () => {
    const { net, sched, a, b } = await pair();
    net.linkOneWay(A, B, { latencyMs: 10, bandwidthBps: 1_000_000, queueBytes: 10_000 });
    // 972 payload + 28 IPv4/UDP header = 1000 bytes on the wire = 8 ms at 1 Mbit/s.
    for (let i = 0; i < 12; i++) send(a.t, b.t, bytes(972, i));
    expect(net.trace.map((e) => e.fate)).toEqual(['queueFull', 'queueFull']);
    await sched.advance(8);
    // The first packet left the queue at 8 ms: room for exactly one more.
    send(a.t, b.t, bytes(972, 12));
    send(a.t, b.t, bytes(972, 13));
    await sched.advance(200);
    expect(b.got.map((g) => g.atMs)).toEqual([18, 26, 34, 42, 50, 58, 66, 74, 82, 90, 98]);
    expect(b.got.map((g) => g.data[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12]);
    const s = net.stats(A, B);
    expect(s.delivered).toEqual({ count: 11, bytes: 11 * 972 });
    expect(s.queueFull).toEqual({ count: 3, bytes: 3 * 972 });
  });

  test('the queue limit only applies in its direction, and the reverse direction is unshaped', async () => {
    const { net, sched, a, b } = await pair();
    net.linkOneWay(A, B, { bandwidthBps: 1_000_000, queueBytes: 1000 });
    for (let i = 0; i < 3; i++) send(b.t, a.t, bytes(972));
    await sched.advance(0);
    expect(a.got.map((g) => g.atMs)).toEqual([0, 0, 0]);
  });

  test('goodput through a shaped link matches its rate', async () => {
    const { net, sched, a, b } = await pair();
    net.linkOneWay(A, B, { bandwidthBps: 8_000_000, queueBytes: 1_000_000 });
    for (let i = 0; i < 1000; i++) send(a.t, b.t, bytes(972));
    await sched.advance(10_000);
    // 1000 × 1000 wire bytes at 1 MB/s: the last arrives at exactly 1000 ms.
    expect(b.got).toHaveLength(1000);
    expect(b.got[999]!.atMs).toBeCloseTo(1000, 6);
  });
});

describe('link MTU', () => {
  test('IPv4: payload + 28 must fit the MTU; larger datagrams are silently dropped as tooBig', async () => {
    const { net, sched, a, b } = await pair();
    net.link(A, B, { mtu: 1280 });
    const r1 = send(a.t, b.t, bytes(1252));
    const r2 = send(a.t, b.t, bytes(1253));
    await sched.advance(0);
    expect(r1).toEqual([null]);
    expect(r2).toEqual([null]);
    expect(b.got.map((g) => g.data.length)).toEqual([1252]);
    expect(net.trace.map((e) => [e.size, e.fate])).toEqual([
      [1253, 'tooBig'],
      [1252, 'delivered'],
    ]);
  });

  test('IPv6: payload + 48 must fit the MTU', async () => {
    const { net, sched } = makeNet();
    const a = await open(net, sched, '::1', 1000);
    const b = await open(net, sched, '::2', 2000);
    net.link('::1', '::2', { mtu: 1280 });
    send(a.t, b.t, bytes(1232));
    send(a.t, b.t, bytes(1233));
    await sched.advance(0);
    expect(b.got.map((g) => [g.data.length, g.address, g.port])).toEqual([[1232, '::1', 1000]]);
    expect(net.trace.map((e) => [e.from, e.to, e.fate])).toEqual([
      ['[::1]:1000', '[::2]:2000', 'tooBig'],
      ['[::1]:1000', '[::2]:2000', 'delivered'],
    ]);
  });
});

describe('link jitter, reordering, duplication', () => {
  test('jitter keeps every arrival in [latency, latency + jitter) and varies it', async () => {
    const { net, sched, a, b } = await pair(3);
    net.linkOneWay(A, B, { latencyMs: 10, jitterMs: 5 });
    for (let i = 0; i < 200; i++) send(a.t, b.t, bytes(1, i));
    await sched.advance(20);
    const at = b.got.map((g) => g.atMs);
    expect(at).toHaveLength(200);
    expect(Math.min(...at)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...at)).toBeLessThan(15);
    expect(new Set(at).size).toBeGreaterThan(150);
  });

  test('reorder holds a seeded fraction back by reorderDelayMs, so later datagrams overtake it', async () => {
    const { net, sched, a, b } = await pair(5);
    net.linkOneWay(A, B, { latencyMs: 10, reorder: 0.25, reorderDelayMs: 7 });
    for (let i = 0; i < 400; i++) send(a.t, b.t, bytes(1, i % 256));
    await sched.advance(30);
    const late = b.got.filter((g) => g.atMs === 17).length;
    const onTime = b.got.filter((g) => g.atMs === 10).length;
    expect(late + onTime).toBe(400);
    expect(late).toBeGreaterThan(70);
    expect(late).toBeLessThan(130);
    expect(b.got[0]!.atMs).toBe(10);
    expect(b.got[399]!.atMs).toBe(17);
  });

  test('reorder defaults to an extra delay of max(5, latency)', async () => {
    const { net, sched, a, b } = await pair();
    net.linkOneWay(A, B, { latencyMs: 20, reorder: 1 });
    send(a.t, b.t, bytes(1));
    await sched.advance(100);
    expect(b.got.map((g) => g.atMs)).toEqual([40]);
  });

  test('duplicate 1: every datagram arrives twice, as separate buffers, the copy traced as duplicated', async () => {
    const { net, sched, a, b } = await pair();
    net.linkOneWay(A, B, { latencyMs: 1, duplicate: 1 });
    send(a.t, b.t, bytes(4, 7));
    await sched.advance(1);
    expect(b.got).toHaveLength(2);
    b.got[0]!.data.fill(0);
    expect([...b.got[1]!.data]).toEqual([7, 7, 7, 7]);
    expect(net.trace.map((e) => e.fate)).toEqual(['delivered', 'duplicated']);
    expect(net.stats().duplicated).toEqual({ count: 1, bytes: 4 });
  });

  test('link parameters are validated', () => {
    const { net } = makeNet();
    expect(() => net.link(A, B, { loss: 1.5 })).toThrow('link loss must be in [0, 1], got 1.5');
    expect(() => net.link(A, B, { bandwidthBps: 0 })).toThrow('link bandwidthBps must be > 0, got 0');
    expect(() => net.link(A, B, { mtu: 10 })).toThrow('link mtu must be >= 68, got 10');
    expect(() => net.link(A, B, { latencyMs: -1 })).toThrow('link latencyMs must be >= 0, got -1');
    expect(() => net.link(A, 'nope', {})).toThrow('not an IP address: "nope"');
  });

  test('changing a link keeps the schedule of datagrams already accepted', async () => {
    const { net, sched, a, b } = await pair();
    net.linkOneWay(A, B, { latencyMs: 50 });
    send(a.t, b.t, bytes(1, 1));
    net.linkOneWay(A, B, { latencyMs: 5 });
    send(a.t, b.t, bytes(1, 2));
    await sched.advance(100);
    expect(b.got.map((g) => [g.data[0], g.atMs])).toEqual([
      [2, 5],
      [1, 50],
    ]);
  });
});

describe('partition', () => {
  test('cuts both directions (fate partitioned), in-flight datagrams still arrive, healing restores', async () => {
    const { net, sched, a, b } = await pair();
    net.link(A, B, { latencyMs: 10 });
    send(a.t, b.t, bytes(1, 1));
    net.partition(A, B, true);
    send(a.t, b.t, bytes(1, 2));
    send(b.t, a.t, bytes(1, 3));
    await sched.advance(10);
    expect(b.got.map((g) => g.data[0])).toEqual([1]);
    expect(a.got).toEqual([]);
    net.partition(B, A, false);
    send(b.t, a.t, bytes(1, 4));
    await sched.advance(10);
    expect(a.got.map((g) => g.data[0])).toEqual([4]);
    expect(net.stats().partitioned.count).toBe(2);
    expect(net.stats(B, A).partitioned).toEqual({ count: 1, bytes: 1 });
  });
});
