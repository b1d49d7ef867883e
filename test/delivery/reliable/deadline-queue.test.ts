import { DeadlineQueue } from '../../../src/delivery/reliable/deadline-queue';
import { sanitizeRanges } from '../../../src/delivery/reliable/ack-ranges';
import { SendRing } from '../../../src/delivery/reliable/send-ring';

/** A ring holding messages of one item each, seqs 1…n: a message is settled once its seq is removed. */
function ringOf(n: number): { ring: SendRing; settle: (seq: number) => void } {
  const ring = new SendRing();
  ring.ensure(1, n);
  for (let seq = 1; seq <= n; seq++) ring.add(seq, new Uint8Array(1), seq, seq, 2);
  return { ring, settle: (seq) => ring.remove(seq) };
}

describe('DeadlineQueue', () => {
  it('gives the unsettled message (its last seq) with the earliest deadline; equal deadlines in arrival order; a later earlier deadline goes first', () => {
    const { ring, settle } = ringOf(4);
    const q = new DeadlineQueue(ring);
    q.push(1, 100);
    q.push(2, 100);
    q.push(3, 50);
    q.push(4, 200);
    expect([q.first(), q.firstDeadline()]).toEqual([3, 50]);
    settle(3);
    expect([q.first(), q.firstDeadline()]).toEqual([1, 100]);
    settle(1);
    expect([q.first(), q.firstDeadline()]).toEqual([2, 100]);
    settle(2);
    expect([q.first(), q.firstDeadline()]).toEqual([4, 200]);
    settle(4);
    expect([q.first(), q.firstDeadline()]).toEqual([0, Infinity]);
  });

  it('skips settled entries at the head; a settled entry in the middle stays until it reaches the head', () => {
    const { ring, settle } = ringOf(3000);
    const q = new DeadlineQueue(ring);
    for (let seq = 1; seq <= 3000; seq++) q.push(seq, seq - 1);
    expect([q.length, q.capacity]).toEqual([3000, 4096]);
    for (let seq = 1; seq <= 2000; seq++) settle(seq);
    settle(2501);
    expect(q.first()).toBe(2001);
    expect(q.length).toBe(1000); // 2,501 is skipped when it reaches the head
    const seen: number[] = [];
    for (let seq = q.first(); seq !== 0; seq = q.first()) {
      seen.push(seq);
      settle(seq);
    }
    expect(seen).toHaveLength(999);
    expect(seen[0]).toBe(2001);
    expect(seen.includes(2501)).toBe(false);
    expect(seen[seen.length - 1]).toBe(3000);
  });

  it('full: drops settled entries anywhere, in order, and grows only when more than half is unsettled', () => {
    const { ring, settle } = ringOf(40);
    const q = new DeadlineQueue(ring);
    for (let seq = 1; seq <= 16; seq++) q.push(seq, seq);
    expect([q.length, q.capacity]).toEqual([16, 16]);
    for (let seq = 2; seq <= 9; seq++) settle(seq); // behind 1, which stays unsettled
    q.push(17, 17);
    expect([q.length, q.capacity]).toEqual([9, 16]); // 8 kept + the new one: no growth
    q.push(18, 5); // an earlier deadline goes before the later ones
    const order: number[] = [];
    for (let seq = q.first(); seq !== 0; seq = q.first()) {
      order.push(seq);
      settle(seq);
    }
    expect(order).toEqual([1, 18, 10, 11, 12, 13, 14, 15, 16, 17]);
    for (let seq = 19; seq <= 35; seq++) q.push(seq, seq);
    expect([q.length, q.capacity]).toEqual([17, 32]); // 16 unsettled filled it: doubled
    expect(q.firstDeadline()).toBe(19);
  });

  it('moves past settled messages at the head on every push (a fast flow holds only what is unsettled, not ~1 s of settled ones)', () => {
    const { ring, settle } = ringOf(5000);
    const q = new DeadlineQueue(ring);
    // A window of 4 unsettled: each push settles the oldest, as acks arrive in order.
    for (let seq = 1; seq <= 5000; seq++) {
      q.push(seq, seq - 1);
      if (seq >= 4) settle(seq - 3);
    }
    expect([q.length, q.capacity]).toEqual([4, 16]); // the last push moved past the 4,996 settled before it: no growth
    expect(q.first()).toBe(4998);
    const seen: number[] = [];
    for (let seq = q.first(); seq !== 0; seq = q.first()) {
      seen.push(seq);
      settle(seq);
    }
    expect(seen).toEqual([4998, 4999, 5000]);
    expect(q.length).toBe(0);
  });

  it('keeps deadline order when a message with an earlier deadline comes after settled ones were let go', () => {
    const { ring, settle } = ringOf(3);
    const q = new DeadlineQueue(ring);
    q.push(1, 100);
    settle(1);
    q.push(2, 300);
    q.push(3, 200);
    expect(q.length).toBe(2);
    expect([q.first(), q.firstDeadline()]).toEqual([3, 200]);
    settle(3);
    expect([q.first(), q.firstDeadline()]).toEqual([2, 300]);
  });
});

describe('sanitizeRanges', () => {
  it('clamps to [lo, hi], drops empty and unsafe pairs, sorts by start, reads at most 32 pairs', () => {
    expect(sanitizeRanges([20, 30, 1, 5, 8, 9, 40, 50, 3.5, 7], 3, 45)).toEqual([[3, 5], [8, 9], [20, 30], [40, 45]]);
    expect(sanitizeRanges([5, 4, 1, 2], 3, 10)).toEqual([]);
    const many = Array.from({ length: 40 }, (_, k) => [k * 10, k * 10 + 1]).flat();
    const out = sanitizeRanges(many, 0, 1_000);
    expect(out).toHaveLength(32);
    expect(out[31]).toEqual([310, 311]);
  });
});
