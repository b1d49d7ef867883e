import { WindowWaitQueue } from '../../../src/delivery/congestion/window-wait';

/** A queued message: its name, its size and the deadline field the queue writes. */
interface M {
  name: string | number;
  bytes: number;
  deadlineMs: number;
}
const m = (name: string | number, bytes: number): M => ({ name, bytes, deadlineMs: -1 });
const names = (xs: readonly M[]): (string | number)[] => xs.map((x) => x.name);

describe('WindowWaitQueue', () => {
  it('hands messages out in order and drops those still waiting at their deadline', () => {
    const q = new WindowWaitQueue<M>({ maxMessages: 10, maxBytes: 10_000 });
    const a = m('a', 100);
    expect(q.push(a, 50)).toBe(true);
    expect(q.push(m('b', 200), 60)).toBe(true);
    expect(q.push(m('c', 300), 70)).toBe(true);
    expect([q.size, q.bytes, q.nextDeadline()]).toEqual([3, 600, 50]);
    expect(a.deadlineMs).toBe(50); // the deadline is the message's own field: no entry of the queue's
    expect(q.first()).toBe(a);
    expect(q.shift()).toBe(a);
    expect(q.expire(59)).toEqual([]);
    expect(names(q.expire(60))).toEqual(['b']);
    expect([q.size, q.bytes, q.nextDeadline()]).toEqual([1, 300, 70]);
    expect(names(q.clear())).toEqual(['c']);
    expect([q.size, q.bytes, q.nextDeadline(), q.shift()]).toEqual([0, 0, null, undefined]);
  });

  it('refuses past its bounds, leaving the refused message untouched', () => {
    const q = new WindowWaitQueue<M>({ maxMessages: 2, maxBytes: 1000 });
    expect(q.push(m(1, 600), 10)).toBe(true);
    const big = m(2, 401);
    expect(q.push(big, 10)).toBe(false);
    expect(big.deadlineMs).toBe(-1);
    expect(q.push(m(2, 400), 10)).toBe(true);
    expect(q.push(m(3, 0), 10)).toBe(false);
    expect([q.size, q.bytes]).toEqual([2, 1000]);
  });

  it('a shorter wait (setting lowered) expires at its own deadline, ahead of older messages', () => {
    const q = new WindowWaitQueue<M>({ maxMessages: 10, maxBytes: 10_000 });
    q.push(m('old', 1), 100);
    q.push(m('new', 1), 30);
    expect(q.nextDeadline()).toBe(30);
    expect(names(q.expire(30))).toEqual(['new']);
    expect(q.first()?.name).toBe('old');
  });

  it('expires in order across many messages (the array is compacted as it goes)', () => {
    const q = new WindowWaitQueue<M>({ maxMessages: 1000, maxBytes: 1e9 });
    for (let k = 0; k < 10_000; k++) {
      q.push(m(k, 1), k);
      if (k % 2 === 1) expect(names(q.expire(k))).toEqual([k - 1, k]);
    }
    expect([q.size, q.bytes]).toEqual([0, 0]);
  });

  it('keeps each message with its size and deadline through out-of-order inserts, shifts and compaction; first() and hasRoom() agree with push()', () => {
    const q = new WindowWaitQueue<M>({ maxMessages: 200, maxBytes: 1e9 });
    for (let k = 0; k < 100; k++) q.push(m(`m${k}`, k + 1), 1000 + k);
    for (let k = 0; k < 70; k++) expect(q.shift()?.name).toBe(`m${k}`); // past 64 shifted: compacted
    q.push(m('early', 500), 1050); // between m50 (gone) and m51 (gone): goes before m70 (deadline 1070)
    q.push(m('late', 7), 5000);
    expect([q.size, q.bytes, q.nextDeadline(), q.first()?.name]).toEqual([32, 2565 + 500 + 7, 1050, 'early']);
    expect(names(q.expire(1071))).toEqual(['early', 'm70', 'm71']);
    expect([q.size, q.bytes, q.first()?.name, q.nextDeadline()]).toEqual([29, 2565 - 71 - 72 + 7, 'm72', 1072]);
    expect(names(q.clear())).toEqual([...Array.from({ length: 28 }, (_, i) => `m${72 + i}`), 'late']);
    const full = new WindowWaitQueue<M>({ maxMessages: 1, maxBytes: 10 });
    expect([full.hasRoom(10), full.hasRoom(11)]).toEqual([true, false]);
    const one = m(1, 10);
    full.push(one, 0);
    expect([full.hasRoom(0), full.first(), full.shift(), full.first()]).toEqual([false, one, one, undefined]);
  });

  it('full: at the message limit only (the byte limit leaves room for an empty message); no longer once one leaves', () => {
    const q = new WindowWaitQueue<M>({ maxMessages: 2, maxBytes: 100 });
    q.push(m(1, 100), 0);
    expect([q.full, q.hasRoom(1), q.hasRoom(0)]).toEqual([false, false, true]);
    q.push(m(2, 0), 0);
    expect([q.full, q.hasRoom(0)]).toEqual([true, false]);
    q.shift();
    expect(q.full).toBe(false);
  });
});
