/**
 * The reliable sender's ring (items indexed by seq): wraparound, growth with queued items,
 * acknowledgements out of order, requeueing after a loss, the frame item built once.
 */
import { ManualClock } from '../../../src/runtime/clock';
import { DeliveryError } from '../../../src/errors';
import { ReliableSender, type ReliableSenderOptions } from '../../../src/delivery/reliable-sender';
import { DUE, LIVE, SACKED, SENT, SendRing, messagePromise, resolvers } from '../../../src/delivery/reliable/send-ring';

const STREAM = 7;
const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const make = (over: Partial<ReliableSenderOptions> = {}): { s: ReliableSender; clock: ManualClock } => {
  const clock = new ManualClock();
  return { s: new ReliableSender({ clock, stream: STREAM, window: 8, rtoInitialMs: 200, rtoMinMs: 100, packetLoss: true, ...over }), clock };
};

describe('SendRing', () => {
  it('state() gives the bits of a held seq and 0 for one not held (another seq in its slot, removed, or an empty ring)', () => {
    const ring = new SendRing();
    expect(ring.state(1)).toBe(0);
    ring.ensure(1, 2);
    ring.add(1, b(1), 1, 1, 2);
    ring.add(2, b(2), 2, 2, 2);
    ring.transmitted(1, 10, 1, 20);
    ring.set(1, SACKED | DUE);
    expect([ring.state(1), ring.state(2), ring.state(17), ring.state(3)]).toEqual([LIVE | SENT | SACKED | DUE, LIVE, 0, 0]);
    ring.remove(1);
    expect(ring.state(1)).toBe(0);
  });

  it('finds a seq only in its own slot: a seq that shares the slot of a held one is not held', () => {
    const ring = new SendRing();
    ring.ensure(1, 3);
    expect(ring.capacity).toBe(16);
    for (let seq = 1; seq <= 3; seq++) ring.add(seq, b(seq), 1, 3, 6);
    expect([ring.live(1), ring.live(17), ring.live(33), ring.live(4)]).toEqual([true, false, false, false]);
    ring.transmitted(2, 50, 1, 250);
    ring.set(2, SACKED);
    expect([ring.has(2, SENT), ring.has(2, SACKED), ring.has(2, DUE), ring.has(18, SENT)]).toEqual([true, true, false, false]);
    expect([ring.transmissions(2), ring.sentAt(2), ring.txOrder(2), ring.rtoAt(2), ring.data(2), ring.first(2), ring.last(2), ring.wireFlags(2)]).toEqual([1, 50, 1, 250, b(2), 1, 3, 6]);
    ring.remove(2);
    expect([ring.live(2), ring.has(2, LIVE)]).toEqual([false, false]);
  });

  it('grows to the span from base to the newest seq, keeping each item and its state', () => {
    const ring = new SendRing();
    ring.ensure(1, 10);
    const resolve = (): void => undefined;
    const reject = (): void => undefined;
    for (let seq = 1; seq <= 10; seq++) ring.add(seq, b(seq), 1, 10, 6);
    ring.setMessage(10, 1234, 567, resolve, reject);
    ring.transmitted(5, 7, 3, 99);
    ring.remove(1);
    ring.ensure(2, 40); // 39 seqs: 64 slots
    expect(ring.capacity).toBe(64);
    expect([ring.live(1), ring.live(5), ring.transmissions(5), ring.sentAt(5), ring.rtoAt(5), ring.data(10)]).toEqual([false, true, 1, 7, 99, b(10)]);
    expect([ring.first(5), ring.last(5), ring.wireFlags(5), ring.deadline(10), ring.timeout(10), ring.resolver(10), ring.rejecter(10)]).toEqual([1, 10, 6, 1234, 567, resolve, reject]);
    ring.remove(10); // the message's resolving functions go with its last item
    expect([ring.live(10), ring.resolver(10), ring.rejecter(10)]).toEqual([false, undefined, undefined]);
  });
  it('indexes seqs across 2^30 (mask → division) and past 2^32 alike: each in its own slot, wrapping with the ring', () => {
    for (const from of [2 ** 30 - 3, 2 ** 32 - 3, 2 ** 40 + 5]) {
      const ring = new SendRing();
      ring.ensure(from, from + 9);
      expect(ring.capacity).toBe(16);
      for (let seq = from; seq <= from + 9; seq++) ring.add(seq, b(seq % 251), from, from + 9, 6);
      ring.setMessage(from + 9, 77, 88, () => undefined, () => undefined);
      for (let seq = from; seq <= from + 9; seq++) {
        expect([ring.live(seq), ring.data(seq), ring.first(seq), ring.last(seq), ring.live(seq + 16), ring.live(seq - 16)]).toEqual([true, b(seq % 251), from, from + 9, false, false]);
      }
      expect([ring.deadline(from + 9), ring.timeout(from + 9)]).toEqual([77, 88]);
      ring.remove(from + 4);
      expect([ring.live(from + 3), ring.live(from + 4), ring.live(from + 5)]).toEqual([true, false, true]);
      ring.ensure(from, from + 40); // grows to 64 slots, re-indexing what is held
      expect([ring.capacity, ring.live(from), ring.live(from + 4), ring.data(from + 9), ring.deadline(from + 9)]).toEqual([64, true, false, b((from + 9) % 251), 77]);
    }
  });
});

describe('ReliableSender ring', () => {
  it('wraps around: 1,000 messages through a window of 8 stay in 16 slots, each resolved once, in order', async () => {
    const { s } = make();
    const done: number[] = [];
    for (let k = 1; k <= 1000; k++) {
      void s.push([b(k & 0xff)], 0, 1e9).then(() => done.push(k));
      const item = s.takeItem()!;
      expect(item.id).toBe(k);
      s.onAck(STREAM, k, []);
    }
    await flush();
    expect(done.length).toBe(1000);
    expect(done.every((x, i) => x === i + 1)).toBe(true);
    expect([s.base, s.inFlight, s.queued, s.pendingMessages, s.ringSlots]).toEqual([1001, 0, 0, 0, 16]);
  });

  it('holds queued items beyond the window (growing), and sends them as the window moves', () => {
    const { s } = make();
    for (let k = 0; k < 100; k++) void s.push([b(k)], 0, 1e9);
    expect([s.queued, s.inFlight, s.ringSlots]).toEqual([100, 0, 128]);
    expect(s.take(100).map((i) => i.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    s.onAck(STREAM, 3, []);
    expect(s.take(100).map((i) => i.seq)).toEqual([9, 10, 11]);
    expect([s.base, s.queued, s.inFlight]).toEqual([4, 89, 8]);
  });

  it('acks out of order: SACKed items are not resent; the cumulative ack settles each message once', async () => {
    const { s } = make();
    const state: string[] = [];
    for (let k = 1; k <= 4; k++) void s.push([b(k)], 0, 1e9).then(() => state.push(`m${k}`));
    void s.push([b(5), b(6), b(7)], 0, 1e9).then(() => state.push('m5-7'));
    expect(s.take(8).map((i) => i.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    s.onAck(STREAM, 0, [3, 4, 6, 7]);
    s.onAck(STREAM, 0, [6, 7, 3, 4]); // same ranges, another order: nothing new
    expect([s.requeue(3), s.requeue(6), s.requeue(1)]).toEqual([false, false, true]);
    expect(s.take(8).map((i) => i.seq)).toEqual([1]);
    s.onAck(STREAM, 2, [3, 4, 6, 7]);
    await flush();
    expect(state).toEqual(['m1', 'm2']);
    s.onAck(STREAM, 4, [6, 7]);
    await flush();
    expect(state).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(s.requeue(5)).toBe(true);
    expect(s.take(8).map((i) => i.seq)).toEqual([5]);
    s.onAck(STREAM, 7, []);
    s.onAck(STREAM, 7, []);
    await flush();
    expect(state).toEqual(['m1', 'm2', 'm3', 'm4', 'm5-7']);
    expect([s.base, s.inFlight, s.retransmissions, s.pendingMessages]).toEqual([8, 0, 2, 0]);
  });

  it('requeues lost items in seq order before new ones, each once', () => {
    const { s } = make();
    for (let k = 0; k < 10; k++) void s.push([b(k)], 0, 1e9);
    expect(s.take(8).map((i) => i.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([s.requeue(6), s.requeue(2), s.requeue(6), s.requeue(9), s.requeue(99)]).toEqual([true, true, false, false, false]);
    s.onAck(STREAM, 1, []);
    expect(s.take(10).map((i) => i.seq)).toEqual([2, 6, 9]);
    expect([s.retransmissions, s.inFlight, s.queued]).toEqual([2, 8, 1]);
  });

  it('peekItem builds the frame item once; takeItem hands out that object', () => {
    const { s } = make();
    void s.push([b(1), b(2)], 1, 1e9);
    const a = s.peekItem();
    expect(a).toEqual({ flags: 1 | 2 | 4, data: b(1), id: 1, index: 0, count: 2 });
    expect(s.peekItem()).toBe(a);
    expect(s.takeItem()).toBe(a);
    expect(s.peekItem()).toEqual({ flags: 1 | 2 | 4, data: b(2), id: 2, index: 1, count: 2 });
  });

  it('reports every settlement and rejects through `rejection`', async () => {
    let settled = 0;
    const { s, clock } = make({ onSettled: () => settled++, rejection: (e, ms) => new DeliveryError('ERR_NOT_ACKNOWLEDGED', `to p: ${e.message} (${ms})`) });
    const ok = s.push([b(1)], 0, 1_000, 1_000);
    const late = s.push([b(2)], 0, 500, 500).catch((e: Error) => e.message);
    const big = s.push(Array.from({ length: 9 }, () => b(0)), 0, 1_000).catch((e: Error) => e.message);
    s.take(8);
    s.onAck(STREAM, 1, []);
    clock.advance(500);
    s.tick();
    await expect(ok).resolves.toBeUndefined();
    expect(await late).toBe('to p: not acknowledged within 500 ms (500)');
    expect(await big).toBe('to p: message needs 9 fragments, more than the reliable window (8) (1000)');
    expect([settled, s.pendingMessages]).toEqual([3, 0]);
  });
});

describe('messagePromise (the send promise without a closure per message)', () => {
  test('leaves the resolvers of the promise it made; push() takes them and clears them', async () => {
    const p = messagePromise();
    const { resolve } = resolvers;
    const q = messagePromise();
    const { reject } = resolvers;
    resolvers.clear();
    expect([resolvers.resolve === resolve, resolvers.reject === reject]).toEqual([false, false]);
    resolve();
    reject(new Error('q'));
    await expect(p).resolves.toBeUndefined();
    await expect(q).rejects.toThrow('q');
    const clock = new ManualClock();
    const s = new ReliableSender({ clock, stream: 9, window: 8 });
    const done = s.push([new Uint8Array(3)], 0, 1000);
    expect(resolvers.resolve.length + resolvers.reject.length).toBe(0); // the shared no-op: nothing of the message kept
    const it = s.takeItem()!;
    clock.advance(5);
    s.onAck(9, it.id!, []);
    await expect(done).resolves.toBeUndefined();
  });
});

describe('takePeeked (the packer peeks, sizes, then takes)', () => {
  test('hands out the peeked object and records it exactly as takeItem does; without a peek it throws', () => {
    const mk = (): ReliableSender => new ReliableSender({ clock: new ManualClock(), stream: 3, window: 8, packetLoss: true });
    const a = mk();
    const b = mk();
    for (const s of [a, b]) for (let i = 0; i < 3; i++) void s.push([new Uint8Array(10 + i)], 0, 1000);
    const peeked = a.peekItem()!;
    expect(a.takePeeked(42)).toBe(peeked);
    const taken = b.takeItem(42)!;
    expect([peeked.id, peeked.data.byteLength]).toEqual([taken.id, taken.data.byteLength]);
    expect([a.inFlight, a.queued, a.peekItem()!.id]).toEqual([b.inFlight, b.queued, b.peekItem()!.id]);
    expect([a.inFlight, a.queued]).toEqual([1, 2]);
    const c = mk();
    void c.push([new Uint8Array(1)], 0, 1000);
    expect(() => c.takePeeked(0)).toThrow('takePeeked() without an item from peekItem()');
  });
});
