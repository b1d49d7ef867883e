/**
 * A reliable message's receivedAt is its datagram's one wall-clock read (receive.ts reads the
 * wall clock once per datagram for freshness; the reliable delivery reuses it, issue 12: no clock
 * read per message). Every wall-clock read here returns a new value, so a read per message would
 * give the messages of one datagram different times.
 */
import { SimWorld, messages, watch } from '../sim/harness';

const A = '127.0.0.2';
const B = '127.0.0.3';

describe('reliable receivedAt', () => {
  let w: SimWorld;
  afterEach(async () => {
    await w.closeAll();
    expect(w.scheduler.errors).toEqual([]);
  });

  test('eight reliable messages sent together (one datagram) share its wall-clock read; a later datagram has a later one', async () => {
    w = new SimWorld(7);
    w.net.link(A, B, { latencyMs: 5 });
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b);
    const atB = messages(b);
    const clock = w.clock;
    const wall = clock.now.bind(clock);
    let reads = 0;
    clock.now = (): number => wall() + reads++; // each read a distinct, later time (whole ms: a Date keeps no fraction)
    const first = Array.from({ length: 8 }, (_, i) => watch(a.send('b', `m${i}`.padEnd(100, '.'), { reliable: true })));
    expect(await w.scheduler.runUntil(() => atB.length === 8, 1_000)).toBe(true);
    const t0 = atB[0]!.receivedAt.getTime();
    expect(atB.map((m) => m.receivedAt.getTime())).toEqual(Array(8).fill(t0));
    expect(atB.map((m) => Buffer.from(m.data).toString().slice(0, 2))).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    const second = watch(a.send('b', 'later', { reliable: true }));
    expect(await w.scheduler.runUntil(() => atB.length === 9, 1_000)).toBe(true);
    expect(atB[8]!.receivedAt.getTime()).toBeGreaterThan(t0);
    expect(await w.scheduler.runUntil(() => [...first, second].every((s) => s.state === 'resolved'), 1_000)).toBe(true);
  });
});
