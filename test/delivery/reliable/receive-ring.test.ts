/**
 * The reliable receiver's storage: a ring indexed by seq (wraparound, growth) and fragmented
 * messages written into one buffer of their size (each fragment copied once).
 */
import { ReliableReceiver, type ReliableReceiverOptions } from '../../../src/delivery/reliable-receiver';
import { ReceiveRing } from '../../../src/delivery/reliable/receive-ring';

const S = 9;
const R = 2; // RELIABLE
const F = 4; // FRAGMENT
const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const make = (over: Partial<ReliableReceiverOptions> = {}): ReliableReceiver =>
  new ReliableReceiver({ maxBufferedItems: 64, maxBufferedBytes: 1 << 20, maxMessageBytes: 1 << 16, ...over });

describe('ReceiveRing', () => {
  it('delivers 1,000 seqs arriving in swapped pairs, in order, holding one item at a time', () => {
    const r = make();
    const got: number[] = [];
    for (let seq = 2; seq <= 1000; seq += 2) {
      // seq arrives before seq − 1: one item buffered at a time
      expect(r.onItem(S, 1, seq, R, b(seq & 0xff))).toEqual([]);
      expect(r.bufferedItems).toBe(1);
      for (const m of r.onItem(S, 1, seq - 1, R, b((seq - 1) & 0xff))) got.push(m.data[0]!);
      expect(r.bufferedItems).toBe(0);
    }
    expect(got.length).toBe(1000);
    expect(got.every((x, k) => x === ((k + 1) & 0xff))).toBe(true);
    expect(r.cum).toBe(1000);
    expect(r.ack()).toEqual([S, 1000, []]);
  });

  it('indexes by seq mod capacity: a window of 10 sliding over 1,000 seqs stays in 16 slots', () => {
    const ring = new ReceiveRing();
    for (let seq = 1; seq <= 1000; seq++) {
      ring.putWhole(Math.max(0, seq - 10), seq, R, b(seq & 0xff));
      if (seq > 10) ring.removeWhole(seq - 10);
      expect(ring.items).toBe(Math.min(seq, 10));
    }
    expect([ring.capacity, ring.highest, ring.bytes]).toEqual([16, 1000, 10]);
    expect(ring.ranges(990, 32)).toEqual([991, 1000]);
    expect((ring.get(995) as { data: Uint8Array }).data).toEqual(b(995 & 0xff));
  });

  it('grows to the span held and keeps every item in place', () => {
    const ring = new ReceiveRing();
    ring.putWhole(0, 1, R, b(1));
    expect(ring.capacity).toBe(16);
    ring.putWhole(0, 40, R, b(40));
    expect(ring.capacity).toBe(64);
    ring.putWhole(0, 17, R, b(17));
    expect([ring.has(1), ring.has(17), ring.has(40), ring.has(33), ring.items, ring.bytes, ring.highest]).toEqual([true, true, true, false, 3, 3, 40]);
    expect(ring.ranges(0, 32)).toEqual([1, 1, 17, 17, 40, 40]);
    ring.removeWhole(40);
    expect(ring.highest).toBe(17);
    ring.removeWhole(1);
    ring.removeWhole(17);
    expect([ring.items, ring.bytes, ring.highest]).toEqual([0, 0, 0]);
  });

  it('writes the fragments of a message into one buffer of its size, in any order, and delivers a view of it', () => {
    const r = make();
    expect(r.onItem(S, 1, 3, R | F, b(7), 2, 3)).toEqual([]); // the last first: held aside
    expect(r.bufferedBytes).toBe(1);
    expect(r.onItem(S, 1, 2, R | F, b(4, 5, 6), 1, 3)).toEqual([]); // chunk size known: buffer of 9
    expect(r.bufferedBytes).toBe(9);
    expect(r.ack()).toEqual([S, 0, [2, 3]]);
    const [m] = r.onItem(S, 1, 1, R | F, b(1, 2, 3), 0, 3);
    expect(m).toEqual({ flags: R, data: b(1, 2, 3, 4, 5, 6, 7) });
    expect(m!.data.buffer.byteLength).toBe(9); // one allocation, no concatenation
    expect([r.bufferedItems, r.bufferedBytes, r.cum]).toEqual([0, 0, 3]);
  });

  it('a message over 64 KiB gets its buffer once an eighth of it arrived (copies aside until then, moved in once)', () => {
    const r = make({ maxMessageBytes: 1 << 20, maxBufferedItems: 256 });
    const frag = (i: number): Uint8Array => new Uint8Array(1000).fill(i);
    const charged: number[] = [];
    // 200 fragments of 1000 bytes, the first 25 out of order (seq 1 last)
    for (let i = 24; i >= 1; i--) {
      r.onItem(S, 1, 1 + i, R | F, frag(i), i, 200);
      charged.push(r.bufferedBytes);
    }
    expect(charged).toEqual(Array.from({ length: 24 }, (_, k) => 1000 * (k + 1)));
    r.onItem(S, 1, 1, R | F, frag(0), 0, 200); // 25 × 1000 × 8 ≥ 200 000: the buffer
    expect([r.bufferedBytes, r.bufferedItems]).toEqual([200_000, 25]);
    let out: readonly { data: Uint8Array }[] = [];
    for (let i = 25; i < 200; i++) out = r.onItem(S, 1, 1 + i, R | F, frag(i), i, 200);
    expect(out.length).toBe(1);
    const data = out[0]!.data;
    expect([data.byteLength, data.buffer.byteLength]).toEqual([200_000, 200_000]);
    expect(Array.from({ length: 200 }, (_, i) => data[i * 1000]! === (i & 0xff) && data[i * 1000 + 999]! === (i & 0xff)).every(Boolean)).toBe(true);
    expect([r.bufferedBytes, r.bufferedItems, r.cum]).toEqual([0, 0, 200]);
  });

  it('caps the buffer at maxMessageBytes and refuses a message whose last fragment overruns it', () => {
    const r = make({ maxMessageBytes: 8 });
    expect(r.onItem(S, 1, 1, R | F, b(1, 2, 3), 0, 3)).toEqual([]);
    expect(r.bufferedBytes).toBe(8); // min(3 × 3, 8)
    expect(r.onItem(S, 1, 2, R | F, b(4, 5, 6), 1, 3)).toEqual([]);
    expect(r.onItem(S, 1, 3, R | F, b(7, 8, 9), 2, 3)).toEqual([]); // 9 bytes > 8
    expect([r.refused, r.cum, r.bufferedItems, r.bufferedBytes]).toEqual([3, 0, 0, 0]);
    expect(r.onItem(S, 1, 4, R | F, b(1, 2, 3, 4, 5), 0, 3)).toEqual([]); // 2 × 5 + ≥ 1 > 8: refused at once
    expect(r.refused).toBe(4);
    expect(r.onItem(S, 4, 4, R, b(4))).toEqual([{ flags: R, data: b(4) }]);
  });

  it('counts fragments of inconsistent lengths or claims as malformed, keeping the message', () => {
    const r = make();
    r.onItem(S, 1, 1, R | F, b(1, 2), 0, 3);
    expect(r.onItem(S, 1, 2, R | F, b(3), 1, 3)).toEqual([]); // not the chunk length
    expect(r.onItem(S, 1, 3, R | F, b(5, 6, 7), 2, 3)).toEqual([]); // last longer than a chunk
    expect(r.onItem(S, 1, 3, R | F, b(5), 1, 3)).toEqual([]); // seq 3 is index 2 of this message
    expect(r.onItem(S, 1, 3, R | F, b(5), 2, 4)).toEqual([]); // another count
    expect(r.onItem(S, 1, 3, R, b(5))).toEqual([]); // a whole item in the message's slot
    expect(r.malformed).toBe(5);
    r.onItem(S, 1, 3, R | F, b(5), 2, 3);
    expect(r.onItem(S, 1, 2, R | F, b(3, 4), 1, 3)).toEqual([{ flags: R, data: b(1, 2, 3, 4, 5) }]);
  });

  it('evicts a whole later message (all its fragments) to make room for an earlier item', () => {
    const r = make({ maxBufferedBytes: 10 });
    r.onItem(S, 1, 3, R | F, b(1, 2, 3, 4), 0, 2); // buffer of 8
    r.onItem(S, 1, 4, R | F, b(5), 1, 2);
    expect(r.bufferedBytes).toBe(8);
    r.onItem(S, 1, 2, R, b(0, 0, 0)); // 3 more: the message 3…4 goes
    expect([r.bufferedItems, r.bufferedBytes]).toEqual([1, 3]);
    expect(r.ack()).toEqual([S, 0, [2, 2]]);
  });

  it('a base past part of a message discards all of it', () => {
    const r = make();
    r.onItem(S, 1, 2, R | F, b(1), 0, 3);
    r.onItem(S, 1, 4, R | F, b(3), 2, 3);
    expect(r.onItem(S, 4, 5, R, b(5))).toEqual([]); // base 4: 1…3 abandoned, 4 is still before 5
    expect([r.skipped, r.bufferedItems, r.cum]).toEqual([2, 1, 3]);
    expect(r.onItem(S, 5, 6, R, b(6)).map((m) => m.data[0])).toEqual([5, 6]);
  });
});
