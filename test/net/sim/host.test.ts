import { EPHEMERAL_FIRST } from '../../../src/net/sim';
import { bytes, makeNet, open, send } from './harness';

const A = '127.0.0.1';
const B = '127.0.0.2';

describe('SimHost binding', () => {
  test('port 0 takes the next free ephemeral port; a bound port is EADDRINUSE until closed', async () => {
    const { net, sched } = makeNet();
    const first = await open(net, sched, A);
    const second = await open(net, sched, A);
    expect([first.t.port, second.t.port]).toEqual([EPHEMERAL_FIRST, EPHEMERAL_FIRST + 1]);
    await open(net, sched, A, 5000);
    await expect(open(net, sched, A, 5000)).rejects.toMatchObject({ code: 'EADDRINUSE', message: 'bind EADDRINUSE 127.0.0.1:5000' });
    await first.t.close();
    const again = await open(net, sched, A, EPHEMERAL_FIRST);
    expect(again.t.port).toBe(EPHEMERAL_FIRST);
    expect(net.host(A).boundPorts).toBe(3);
  });

  test('binding an address the host does not have is EADDRNOTAVAIL; a bad port is ERR_SOCKET_BAD_PORT', async () => {
    const { net, sched } = makeNet();
    await expect(open(net, sched, A, 1, B)).rejects.toMatchObject({ code: 'EADDRNOTAVAIL' });
    await expect(open(net, sched, A, 70_000)).rejects.toMatchObject({ code: 'ERR_SOCKET_BAD_PORT' });
  });

  test('hasFamily by address form: a wildcard bind serves every address of the host', async () => {
    const { net, sched } = makeNet();
    net.host('127.0.0.5', '::5');
    const v4 = await open(net, sched, '127.0.0.5', 1, '127.0.0.5');
    const v6 = await open(net, sched, '127.0.0.5', 2, '::5');
    const any = await open(net, sched, '127.0.0.5', 3, '0.0.0.0');
    expect([v4.t.hasFamily(4), v4.t.hasFamily(6)]).toEqual([true, false]);
    expect([v6.t.hasFamily(4), v6.t.hasFamily(6)]).toEqual([false, true]);
    expect([any.t.hasFamily(4), any.t.hasFamily(6)]).toEqual([true, true]);
    expect(any.t.host).toBe('0.0.0.0');
    // A family the transport does not serve: false, nothing sent, done never runs.
    const done = jest.fn();
    expect(v4.t.send(bytes(1), 3, '::5', 6, done)).toBe(false);
    await sched.advance(0);
    expect(done).not.toHaveBeenCalled();
    expect(net.trace).toEqual([]);
    // The wildcard transport receives on both addresses and answers from the matching one.
    send(v6.t, any.t, bytes(1), '::5');
    send(v4.t, any.t, bytes(1), '127.0.0.5');
    await sched.advance(0);
    expect(any.got.map((g) => [g.address, g.port])).toEqual([
      ['::5', 2],
      ['127.0.0.5', 1],
    ]);
  });

  test('one address belongs to one host; host() returns the same host again', () => {
    const { net } = makeNet();
    const h = net.host(A, '::1');
    expect(net.host(A)).toBe(h);
    expect(net.host('::1')).toBe(h);
    expect(() => net.host(B, '::1')).toThrow('simulated address ::1 belongs to another host');
    expect(h.addresses).toEqual([A, '::1']);
    expect(net.host('::ffff:127.0.0.9').addresses).toEqual(['127.0.0.9']);
  });
});

describe('SimTransport send and close', () => {
  test('close() resolves only after every pending done ran; then send is refused and the port gets noListener', async () => {
    const { net, sched } = makeNet();
    const a = await open(net, sched, A);
    const b = await open(net, sched, B, 2000);
    net.link(A, B, { latencyMs: 10 });
    const events: string[] = [];
    a.t.send(bytes(1), 2000, B, 4, () => events.push(`done, bound: ${a.t.hasFamily(4)}`));
    const closing = a.t.close().then(() => events.push('closed'));
    expect(a.t.hasFamily(4)).toBe(true);
    await closing;
    expect(events).toEqual(['done, bound: true', 'closed']);
    expect(a.t.send(bytes(1), 2000, B, 4)).toBe(false);
    expect(a.t.hasFamily(4)).toBe(false);
    // The datagram sent before close still arrives; one to the closed port finds no listener.
    send(b.t, a.t, bytes(2), A);
    await sched.advance(10);
    expect(b.got).toHaveLength(1);
    expect(a.got).toEqual([]);
    expect(net.trace.map((e) => e.fate)).toEqual(['delivered', 'noListener']);
    await a.t.close();
  });

  test('a datagram to an address with no host, or a port with no transport, is noListener', async () => {
    const { net, sched } = makeNet();
    const a = await open(net, sched, A);
    a.t.send(bytes(1), 9, '127.0.0.77', 4);
    a.t.send(bytes(1), 9, A, 4);
    await sched.advance(0);
    expect(net.stats().noListener).toEqual({ count: 2, bytes: 2 });
  });

  test('too large for UDP is EMSGSIZE; an address of the other family is EINVAL, a name ENOTFOUND; none reaches the network', async () => {
    const { net, sched } = makeNet();
    const a = await open(net, sched, A);
    const b = await open(net, sched, B);
    const r1 = send(a.t, b.t, bytes(65_508));
    const ok = send(a.t, b.t, bytes(65_507));
    const r2: Array<Error | null> = [];
    a.t.send(bytes(1), b.t.port, '::2', 4, (e) => r2.push(e));
    a.t.send(bytes(1), b.t.port, 'peer.example', 4, (e) => r2.push(e));
    await sched.advance(0);
    expect(r1).toEqual([expect.objectContaining({ code: 'EMSGSIZE' })]);
    expect(r2).toEqual([expect.objectContaining({ code: 'EINVAL' }), expect.objectContaining({ code: 'ENOTFOUND' })]);
    expect(ok).toEqual([null]);
    expect(net.trace.map((e) => e.size)).toEqual([65_507]);
    expect(() => a.t.send(bytes(1), 0, B, 4)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT' }));
  });

  test('IPv6: the largest UDP payload (65527) crosses a link without an MTU; one byte more is EMSGSIZE', async () => {
    const { net, sched } = makeNet();
    const a = await open(net, sched, '::1');
    const b = await open(net, sched, '::2');
    const ok = send(a.t, b.t, bytes(65_527));
    const tooBig = send(a.t, b.t, bytes(65_528));
    await sched.advance(0);
    expect(ok).toEqual([null]);
    expect(tooBig).toEqual([expect.objectContaining({ code: 'EMSGSIZE' })]);
    expect(b.got.map((g) => g.data.length)).toEqual([65_527]);
  });

  test('crash: pending dones never run, close() still resolves, nothing is received, the host can restart', async () => {
    const { net, sched } = makeNet();
    const a = await open(net, sched, A, 1000);
    const b = await open(net, sched, B, 2000);
    net.link(A, B, { latencyMs: 5 });
    const done = jest.fn();
    a.t.send(bytes(1, 1), 2000, B, 4, done);
    net.host(A).crash();
    await a.t.close();
    expect(done).not.toHaveBeenCalled();
    expect(net.host(A).boundPorts).toBe(0);
    send(b.t, a.t, bytes(1, 2), A);
    await sched.advance(5);
    // What left before the crash still arrives at b.
    expect(b.got.map((g) => g.data[0])).toEqual([1]);
    expect(a.got).toEqual([]);
    const restarted = await open(net, sched, A, 1000);
    send(b.t, restarted.t, bytes(1, 3), A);
    await sched.advance(5);
    expect(restarted.got.map((g) => g.data[0])).toEqual([3]);
  });

  test('the trace can be switched off: stats stay exact, entries are not kept; clearTrace resets both', async () => {
    const { net, sched } = makeNet(1, false);
    const a = await open(net, sched, A, 1000);
    const b = await open(net, sched, B, 2000);
    send(a.t, b.t, bytes(3));
    send(a.t, b.t, bytes(4));
    await sched.advance(0);
    expect(net.trace).toEqual([]);
    expect(net.stats('127.0.0.1:1000', '127.0.0.2:2000').delivered).toEqual({ count: 2, bytes: 7 });
    expect(net.stats('127.0.0.1:1001').delivered.count).toBe(0);
    expect(net.stats(B).delivered.count).toBe(0);
    net.clearTrace();
    expect(net.stats().delivered.count).toBe(0);
  });
});

describe('SimHost freeze and thaw', () => {
  test('a frozen host receives nothing; on thaw what waited is handed over in arrival order, traced at the handover', async () => {
    const { net, sched } = makeNet();
    const a = await open(net, sched, A, 1000);
    const b = await open(net, sched, B, 2000);
    net.link(A, B, { latencyMs: 10 });
    net.host(B).freeze();
    expect(net.host(B).frozen).toBe(true);
    for (const n of [1, 2, 3]) send(a.t, b.t, bytes(1, n));
    await sched.advance(100);
    expect(b.got).toEqual([]);
    // Its own sends still work (freezing the application is the test's business).
    send(b.t, a.t, bytes(1, 9), A);
    await sched.advance(10);
    expect(a.got).toHaveLength(1);
    net.host(B).thaw();
    send(a.t, b.t, bytes(1, 4));
    await sched.advance(10);
    expect(b.got.map((g) => [g.data[0], g.atMs])).toEqual([
      [1, 110],
      [2, 110],
      [3, 110],
      [4, 120],
    ]);
    expect(net.trace.filter((e) => e.to === '127.0.0.2:2000').map((e) => [e.sentMs, e.atMs, e.fate])).toEqual([
      [0, 110, 'delivered'],
      [0, 110, 'delivered'],
      [0, 110, 'delivered'],
      [110, 120, 'delivered'],
    ]);
  });

  test('the receive buffer is bounded per socket: beyond it datagrams are dropped as bufferFull', async () => {
    const { net, sched } = makeNet();
    const a = await open(net, sched, A, 1000);
    const b = await open(net, sched, B, 2000);
    const b2 = await open(net, sched, B, 2001);
    net.host(B).freeze(250);
    for (let i = 0; i < 3; i++) send(a.t, b.t, bytes(100, i));
    send(a.t, b2.t, bytes(100, 7));
    await sched.advance(0);
    expect(net.stats(A).bufferFull).toEqual({ count: 1, bytes: 100 });
    net.host(B).thaw();
    await sched.advance(0);
    expect(b.got.map((g) => g.data[0])).toEqual([0, 1]);
    expect(b2.got.map((g) => g.data[0])).toEqual([7]);
  });

  test('a socket closed while frozen, or a crash, turns what waited into noListener', async () => {
    const { net, sched } = makeNet();
    const a = await open(net, sched, A, 1000);
    const b = await open(net, sched, B, 2000);
    const c = await open(net, sched, B, 2001);
    net.host(B).freeze();
    send(a.t, b.t, bytes(1));
    send(a.t, c.t, bytes(1));
    await sched.advance(0);
    await b.t.close();
    net.host(B).thaw();
    await sched.advance(0);
    expect(b.got).toEqual([]);
    expect(c.got).toHaveLength(1);
    net.host(B).freeze();
    send(a.t, c.t, bytes(1));
    await sched.advance(0);
    net.host(B).crash();
    await sched.advance(0);
    expect(net.host(B).frozen).toBe(false);
    expect(c.got).toHaveLength(1);
    expect(net.trace.map((e) => e.fate)).toEqual(['noListener', 'delivered', 'noListener']);
  });
});
