/**
 * Datagram-mode admission (src/engine/native/admit.ts): what one flush refuses for want of room
 * in the window-wait queue, and what expires there together, share one error object (issue 12:
 * the error was ~0.3 µs of a ~1 µs refusal) — with the exact code, message and no stack frames.
 */
import { SimWorld, bytesOf, watch } from '../../sim/harness';
import { DeliveryError, UdpVaultError } from '../../../src/errors';

const A = '10.7.0.1';
const B = '10.7.0.2';

let w: SimWorld;
beforeEach(() => {
  w = new SimWorld(7);
});
afterEach(async () => {
  await w.closeAll();
});

describe('datagram-mode admission', () => {
  test('the messages one flush refuses (window-wait queue of 4) share one ERR_QUEUE_FULL error; the 10 sent by the express path and the 4 admitted are sent', async () => {
    const a = await w.node(A, { settings: { queueMaxMessages: 4 } });
    const b = await w.node(B);
    await w.pair(a, b);
    const got: number[] = [];
    b.on('message', (m) => got.push(m.data[0]!));
    // 1 KiB messages fill their datagrams: the first 10 go from send() while the pacer's initial
    // burst (10 datagrams) lasts (express.ts); then 4 wait for the window, the other 6 are refused.
    const sends = Array.from({ length: 20 }, (_, i) => watch(a.send('b', bytesOf(1024, i).fill(i, 0, 1))));
    expect(await w.scheduler.runUntil(() => sends.every((s) => s.state !== 'pending'), 5_000)).toBe(true);
    expect(sends.map((s) => s.state)).toEqual([...Array<string>(14).fill('resolved'), ...Array<string>(6).fill('rejected')]);
    const errors = sends.slice(14).map((s) => s.error);
    const first = errors[0] as UdpVaultError;
    expect(first).toBeInstanceOf(UdpVaultError);
    expect(first.code).toBe('ERR_QUEUE_FULL');
    expect(first.message).toBe('queue for peer b is full (waiting for the congestion window); message not sent');
    expect(first.stack).toBe('UdpVaultError: queue for peer b is full (waiting for the congestion window); message not sent');
    expect(new Set(errors).size).toBe(1);
    await w.scheduler.advance(100);
    expect(got).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
  });

  test('separate flushes refuse with separate errors (one per flush, not one per link)', async () => {
    const a = await w.node(A, { settings: { queueMaxMessages: 2 } });
    const b = await w.node(B);
    await w.pair(a, b);
    // Each flush admits 2 (the queue is empty when it starts: the previous flush sent its 2).
    // 256 B messages: below the express path's size, so every one goes through the flush.
    const first = Array.from({ length: 40 }, (_, i) => watch(a.send('b', bytesOf(256, i))));
    await w.scheduler.advance(0);
    const second = Array.from({ length: 5 }, (_, i) => watch(a.send('b', bytesOf(256, 100 + i))));
    await w.scheduler.advance(0);
    expect(first.map((s) => s.state)).toEqual(['resolved', 'resolved', ...Array<string>(38).fill('rejected')]);
    expect(second.map((s) => s.state)).toEqual(['resolved', 'resolved', 'rejected', 'rejected', 'rejected']);
    const firstErrors = new Set(first.slice(2).map((s) => s.error));
    const secondErrors = new Set(second.slice(2).map((s) => s.error));
    expect([firstErrors.size, secondErrors.size]).toEqual([1, 1]);
    expect([...firstErrors][0]).not.toBe([...secondErrors][0]);
    expect(([...secondErrors][0] as UdpVaultError).code).toBe('ERR_QUEUE_FULL');
  });

  test('messages expiring together in the window-wait queue share one ERR_CONGESTION error; each is counted', async () => {
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b);
    w.net.partition(A, B, true); // the acks stop: the congestion window fills and stays full
    const sends = Array.from({ length: 200 }, (_, i) => watch(a.send('b', bytesOf(1024, i))));
    expect(await w.scheduler.runUntil(() => sends.every((s) => s.state !== 'pending'), 5_000)).toBe(true);
    const rejected = sends.filter((s) => s.state === 'rejected');
    expect(rejected.length).toBeGreaterThan(0);
    const errors = new Set(rejected.map((s) => s.error));
    expect(errors.size).toBe(1);
    const e = [...errors][0] as DeliveryError;
    expect(e).toBeInstanceOf(DeliveryError);
    expect(e.code).toBe('ERR_CONGESTION');
    expect(e.message).toBe('congestion: the path to peer b had no room for 50 ms; message dropped at the sender');
    expect(a.status().counters.drops.congestion).toBe(rejected.length);
  });

  test('a window-wait deadline is whole milliseconds, the flush time rounded down (an integer in each message); the link timer, armed 50 ms out, still drops them at the flush time + 50 ms (q23)', async () => {
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b);
    w.net.partition(A, B, true); // no acks: what waits stays waiting
    await w.scheduler.advance(0);
    w.clock.advance(0.7); // a fractional monotonic time, as performance.now() gives
    const t = w.clock.monotonic();
    expect(Number.isInteger(t)).toBe(false);
    const sends = Array.from({ length: 30 }, (_, i) => watch(a.send('b', bytesOf(1024, i)))); // 10 go (the initial burst), 20 wait
    await w.scheduler.advance(0);
    const link = (a as unknown as { linkOf(r: string): { path: { waiting: { size: number; nextDeadline(): number | null; first(): { deadlineMs: number } | undefined } } } }).linkOf('b');
    expect(link.path.waiting.size).toBe(20);
    expect([link.path.waiting.nextDeadline(), link.path.waiting.first()!.deadlineMs]).toEqual([Math.floor(t) + 50, Math.floor(t) + 50]);
    await w.scheduler.advance(t + 50 - w.clock.monotonic() - 0.001);
    expect(sends.filter((s) => s.state === 'rejected').length).toBe(0); // past the deadline, before the timer: none dropped
    expect(link.path.waiting.size).toBe(19); // one left meanwhile as a probe timeout's probe (sent whatever the window)
    await w.scheduler.advance(0.001);
    const rejected = sends.filter((s) => s.state === 'rejected');
    expect([rejected.length, link.path.waiting.size]).toEqual([19, 0]);
    expect((rejected[0]!.error as DeliveryError).code).toBe('ERR_CONGESTION');
    expect(a.status().counters.drops.congestion).toBe(19);
  });

  test('a send while the window-wait queue is full makes no queue entry and is refused by the same turn\'s flush, with the exact ERR_QUEUE_FULL', async () => {
    const a = await w.node(A, { settings: { queueMaxMessages: 4 } });
    const b = await w.node(B);
    await w.pair(a, b);
    w.net.partition(A, B, true); // no acks: what waits stays waiting
    const fill = Array.from({ length: 30 }, (_, i) => watch(a.send('b', bytesOf(1024, i)))); // 10 go (the initial burst), 4 wait, 16 refused
    await w.scheduler.advance(0);
    const link = (a as unknown as { linkOf(r: string): { outbox: { batched: number }; path: { waiting: { size: number } } } }).linkOf('b');
    expect(link.path.waiting.size).toBe(4);
    const pendingBefore = fill.filter((s) => s.state === 'pending').length;
    const late = [watch(a.send('b', bytesOf(256, 100))), watch(a.send('b', bytesOf(1024, 101)))];
    expect(link.outbox.batched).toBe(0); // refused at send(): no queue entry
    expect(late.map((s) => s.state)).toEqual(['pending', 'pending']); // the caller attaches its handlers first
    await w.scheduler.advance(0);
    expect(late.map((s) => s.state)).toEqual(['rejected', 'rejected']);
    expect(late[0]!.error).toBe(late[1]!.error);
    const e = late[0]!.error as UdpVaultError;
    expect([e.code, e.message, e.stack]).toEqual([
      'ERR_QUEUE_FULL',
      'queue for peer b is full (waiting for the congestion window); message not sent',
      'UdpVaultError: queue for peer b is full (waiting for the congestion window); message not sent',
    ]);
    expect(fill.filter((s) => s.state === 'pending').length).toBe(pendingBefore); // the waiting messages are untouched
    expect(link.path.waiting.size).toBe(4);
  });

  test('a message larger than maxMessageBytes is still refused ERR_TOO_LARGE while the window-wait queue is full', async () => {
    const a = await w.node(A, { settings: { queueMaxMessages: 2, maxMessageBytes: 2000 } });
    const b = await w.node(B);
    await w.pair(a, b);
    w.net.partition(A, B, true);
    Array.from({ length: 30 }, (_, i) => watch(a.send('b', bytesOf(256, i))));
    await w.scheduler.advance(0);
    const big = watch(a.send('b', bytesOf(2001, 1)));
    await w.scheduler.advance(0);
    expect(big.state).toBe('rejected');
    expect((big.error as UdpVaultError).code).toBe('ERR_TOO_LARGE');
  });
});
