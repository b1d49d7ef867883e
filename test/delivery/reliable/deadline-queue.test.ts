import { DeadlineQueue } from '../../../src/delivery/reliable/deadline-queue';
import { sanitizeRanges } from '../../../src/delivery/reliable/ack-ranges';
import type { SentMessage } from '../../../src/delivery/reliable/send-ring';

const msg = (firstSeq: number, deadlineMs: number): SentMessage => ({
  settled: false, firstSeq, lastSeq: firstSeq, wireFlags: 2, deadlineMs, timeoutMs: 0, resolve: () => undefined, reject: () => undefined,
});

describe('DeadlineQueue', () => {
  it('gives the unsettled message with the earliest deadline; equal deadlines in arrival order; a later earlier deadline goes first', () => {
    const q = new DeadlineQueue();
    const [a, b, c, d] = [msg(1, 100), msg(2, 100), msg(3, 50), msg(4, 200)];
    for (const m of [a, b, c, d]) q.push(m);
    expect(q.first()).toBe(c);
    c.settled = true;
    expect(q.first()).toBe(a);
    a.settled = true;
    expect(q.first()).toBe(b);
    b.settled = true;
    expect(q.first()).toBe(d);
    d.settled = true;
    expect(q.first()).toBeUndefined();
  });

  it('compacts once settled entries are most of it (past 1,024), keeping order', () => {
    const q = new DeadlineQueue();
    const ms = Array.from({ length: 3000 }, (_, i) => msg(i + 1, i));
    for (const m of ms) q.push(m);
    for (let i = 0; i < 2000; i++) ms[i]!.settled = true;
    ms[2500]!.settled = true;
    expect(q.first()).toBe(ms[2000]);
    const seen: number[] = [];
    for (let m = q.first(); m; m = q.first()) {
      seen.push(m.firstSeq);
      m.settled = true;
    }
    expect(seen).toHaveLength(999);
    expect(seen[0]).toBe(2001);
    expect(seen.includes(2501)).toBe(false);
    expect(seen[seen.length - 1]).toBe(3000);
  });

  it('lets go of settled messages at the head on every push (a fast flow holds only what is unsettled, not ~1 s of settled ones)', () => {
    const q = new DeadlineQueue();
    const ms = Array.from({ length: 5000 }, (_, i) => msg(i + 1, i));
    // A window of 4 unsettled: each push settles the oldest, as acks arrive in order.
    for (let i = 0; i < ms.length; i++) {
      q.push(ms[i]!);
      if (i >= 3) ms[i - 3]!.settled = true;
    }
    expect(q.length).toBe(4); // the last push let go of the 4,996 settled before it
    expect(q.first()).toBe(ms[4997]);
    const seen: number[] = [];
    for (let m = q.first(); m; m = q.first()) {
      seen.push(m.firstSeq);
      m.settled = true;
    }
    expect(seen).toEqual([4998, 4999, 5000]);
    expect(q.length).toBe(0);
  });

  it('keeps deadline order when a message with an earlier deadline comes after settled ones were let go', () => {
    const q = new DeadlineQueue();
    const [a, b, c] = [msg(1, 100), msg(2, 300), msg(3, 200)];
    q.push(a);
    a.settled = true;
    q.push(b);
    q.push(c);
    expect(q.length).toBe(2);
    expect(q.first()).toBe(c);
    c.settled = true;
    expect(q.first()).toBe(b);
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
