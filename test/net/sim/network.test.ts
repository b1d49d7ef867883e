import { createHash } from 'node:crypto';
import { EPHEMERAL_FIRST } from '../../../src/net/sim';
import { bytes, makeNet, open, send } from './harness';

describe('SimNetwork basics', () => {
  test('a datagram crosses a 20 ms link and arrives at exactly +20 ms with the source endpoint', async () => {
    const { net, sched } = makeNet();
    const a = await open(net, sched, '127.0.0.1');
    const b = await open(net, sched, '127.0.0.2', 7000);
    net.link('127.0.0.1', '127.0.0.2', { latencyMs: 20 });
    expect(a.t.port).toBe(EPHEMERAL_FIRST);
    expect(b.t.port).toBe(7000);
    const payload = Buffer.from('hello sim');
    const results = send(a.t, b.t, payload);
    await sched.advance(19);
    expect(results).toEqual([null]);
    expect(b.got).toEqual([]);
    await sched.advance(1);
    expect(b.got).toHaveLength(1);
    expect(b.got[0]).toEqual({ data: Buffer.from('hello sim'), address: '127.0.0.1', port: EPHEMERAL_FIRST, atMs: 20 });
    expect(net.trace).toEqual([
      {
        atMs: 20,
        sentMs: 0,
        from: `127.0.0.1:${EPHEMERAL_FIRST}`,
        to: '127.0.0.2:7000',
        size: 9,
        digest: createHash('sha256').update(payload).digest('hex'),
        fate: 'delivered',
      },
    ]);
  });

  test('the datagram is copied at send: reusing the buffer after send does not change what arrives', async () => {
    const { net, sched } = makeNet();
    const a = await open(net, sched, '127.0.0.1');
    const b = await open(net, sched, '127.0.0.2');
    const head = Buffer.from([1, 2]);
    const tail = Buffer.from([3]);
    send(a.t, b.t, [head, tail]);
    head.fill(9);
    tail.fill(9);
    await sched.advance(0);
    expect([...b.got[0]!.data]).toEqual([1, 2, 3]);
  });

  test('done runs in a microtask, after send returns, in call order', async () => {
    const { net, sched } = makeNet();
    const a = await open(net, sched, '127.0.0.1');
    const b = await open(net, sched, '127.0.0.2');
    const order: number[] = [];
    for (const i of [1, 2, 3]) a.t.send(bytes(1), b.t.port, '127.0.0.2', 4, () => order.push(i));
    expect(order).toEqual([]);
    await Promise.resolve();
    expect(order).toEqual([1, 2, 3]);
  });

  test('loss 0.3 over 2000 datagrams: delivered + lost = 2000, lost near 30%, stats agree with the trace', async () => {
    const { net, sched } = makeNet(7);
    const a = await open(net, sched, '127.0.0.1');
    const b = await open(net, sched, '127.0.0.2');
    net.link('127.0.0.1', '127.0.0.2', { latencyMs: 5, loss: 0.3 });
    for (let i = 0; i < 2000; i++) send(a.t, b.t, bytes(10));
    await sched.advance(5);
    const s = net.stats('127.0.0.1', '127.0.0.2');
    expect(s.delivered.count + s.lost.count).toBe(2000);
    expect(s.lost.count).toBeGreaterThan(540);
    expect(s.lost.count).toBeLessThan(660);
    expect(b.got).toHaveLength(s.delivered.count);
    expect(s.delivered.bytes).toBe(10 * s.delivered.count);
    expect(net.trace.filter((e) => e.fate === 'lost')).toHaveLength(s.lost.count);
    expect(net.stats('127.0.0.2').delivered.count).toBe(0);
  });

  test('without a link the default is instant and lossless; setDefaultLink changes it', async () => {
    const { net, sched } = makeNet();
    const a = await open(net, sched, '127.0.0.1');
    const b = await open(net, sched, '127.0.0.2');
    send(a.t, b.t, bytes(3));
    await sched.advance(0);
    expect(b.got.map((g) => g.atMs)).toEqual([0]);
    net.setDefaultLink({ latencyMs: 50 });
    send(a.t, b.t, bytes(3));
    await sched.advance(49);
    expect(b.got).toHaveLength(1);
    await sched.advance(1);
    expect(b.got.map((g) => g.atMs)).toEqual([0, 50]);
  });

  test('a reply goes back over the reverse direction of the link', async () => {
    const { net, sched } = makeNet();
    const a = await open(net, sched, '127.0.0.1', 4000);
    const b = await open(net, sched, '127.0.0.2', 5000);
    net.link('127.0.0.1', '127.0.0.2', { latencyMs: 10 });
    net.linkOneWay('127.0.0.2', '127.0.0.1', { latencyMs: 30 });
    send(a.t, b.t, bytes(1));
    await sched.advance(10);
    b.t.send(bytes(2), b.got[0]!.port, b.got[0]!.address, 4);
    await sched.advance(30);
    expect(a.got.map((g) => [g.atMs, g.address, g.port])).toEqual([[40, '127.0.0.2', 5000]]);
  });

  test('setDefaultLink applies to pairs already used without a link, never to pairs with their own', async () => {
    const { net, sched } = makeNet();
    const a = await open(net, sched, '127.0.0.1');
    const b = await open(net, sched, '127.0.0.2');
    const c = await open(net, sched, '127.0.0.3');
    net.link('127.0.0.1', '127.0.0.2', { latencyMs: 10 });
    send(a.t, c.t, bytes(1));
    await sched.advance(0);
    net.setDefaultLink({ latencyMs: 50 });
    send(a.t, b.t, bytes(1));
    send(a.t, c.t, bytes(1));
    await sched.advance(50);
    expect(b.got.map((g) => g.atMs)).toEqual([10]);
    expect(c.got.map((g) => g.atMs)).toEqual([0, 50]);
  });

  test('inFlight counts datagrams on the links until they arrive (a quiescence condition for runUntil)', async () => {
    const { net, sched } = makeNet();
    const a = await open(net, sched, '127.0.0.1');
    const b = await open(net, sched, '127.0.0.2');
    net.link('127.0.0.1', '127.0.0.2', { latencyMs: 10, duplicate: 1 });
    send(a.t, b.t, bytes(1));
    send(a.t, b.t, bytes(1));
    expect(net.inFlight).toBe(4);
    expect(await sched.runUntil(() => net.inFlight === 0, 1000)).toBe(true);
    expect(sched.clock.monotonic()).toBe(10);
    expect(b.got).toHaveLength(4);
  });

  test('stats filter by address or by endpoint, IPv6 included', async () => {
    const { net, sched } = makeNet();
    const a = await open(net, sched, '::1', 1000);
    const b = await open(net, sched, '::2', 2000);
    send(a.t, b.t, bytes(5));
    send(b.t, a.t, bytes(7));
    await sched.advance(0);
    expect(net.stats('::1').delivered).toEqual({ count: 1, bytes: 5 });
    expect(net.stats('[::2]:2000', '::1').delivered).toEqual({ count: 1, bytes: 7 });
    expect(net.stats(undefined, '[::2]:2001').delivered.count).toBe(0);
    expect(net.stats().delivered).toEqual({ count: 2, bytes: 12 });
  });
});
