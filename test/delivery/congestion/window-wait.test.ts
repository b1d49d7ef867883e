import { WindowWaitQueue } from '../../../src/delivery/congestion/window-wait';

describe('WindowWaitQueue', () => {
  it('hands messages out in order and drops those still waiting at their deadline', () => {
    const q = new WindowWaitQueue<string>({ maxMessages: 10, maxBytes: 10_000 });
    expect(q.push('a', 100, 50)).toBe(true);
    expect(q.push('b', 200, 60)).toBe(true);
    expect(q.push('c', 300, 70)).toBe(true);
    expect([q.size, q.bytes, q.nextDeadline()]).toEqual([3, 600, 50]);
    expect(q.peek()).toEqual({ item: 'a', bytes: 100 });
    expect(q.shift()).toBe('a');
    expect(q.expire(59)).toEqual([]);
    expect(q.expire(60)).toEqual(['b']);
    expect([q.size, q.bytes, q.nextDeadline()]).toEqual([1, 300, 70]);
    expect(q.clear()).toEqual(['c']);
    expect([q.size, q.bytes, q.nextDeadline(), q.shift()]).toEqual([0, 0, null, undefined]);
  });

  it('refuses past its bounds', () => {
    const q = new WindowWaitQueue<number>({ maxMessages: 2, maxBytes: 1000 });
    expect(q.push(1, 600, 10)).toBe(true);
    expect(q.push(2, 401, 10)).toBe(false);
    expect(q.push(2, 400, 10)).toBe(true);
    expect(q.push(3, 0, 10)).toBe(false);
  });

  it('a shorter wait (setting lowered) expires at its own deadline, ahead of older messages', () => {
    const q = new WindowWaitQueue<string>({ maxMessages: 10, maxBytes: 10_000 });
    q.push('old', 1, 100);
    q.push('new', 1, 30);
    expect(q.nextDeadline()).toBe(30);
    expect(q.expire(30)).toEqual(['new']);
    expect(q.peek()?.item).toBe('old');
  });

  it('expires in order across many messages (the array is compacted as it goes)', () => {
    const q = new WindowWaitQueue<number>({ maxMessages: 1000, maxBytes: 1e9 });
    for (let k = 0; k < 10_000; k++) {
      q.push(k, 1, k);
      if (k % 2 === 1) expect(q.expire(k)).toEqual([k - 1, k]);
    }
    expect(q.size).toBe(0);
  });

  it('keeps items, sizes and deadlines together through out-of-order inserts, shifts and compaction; first() and hasRoom() agree with peek() and push()', () => {
    const q = new WindowWaitQueue<string>({ maxMessages: 200, maxBytes: 1e9 });
    for (let k = 0; k < 100; k++) q.push(`m${k}`, k + 1, 1000 + k);
    for (let k = 0; k < 70; k++) expect(q.shift()).toBe(`m${k}`); // past 64 shifted: compacted
    q.push('early', 500, 1050); // between m50 (gone) and m51 (gone): goes before m70 (deadline 1070)
    q.push('late', 7, 5000);
    expect([q.size, q.bytes, q.nextDeadline(), q.first()]).toEqual([32, 2565 + 500 + 7, 1050, 'early']);
    expect(q.peek()).toEqual({ item: 'early', bytes: 500 });
    expect(q.expire(1071)).toEqual(['early', 'm70', 'm71']);
    expect([q.size, q.bytes, q.first()]).toEqual([29, 2565 - 71 - 72 + 7, 'm72']);
    expect(q.clear()).toEqual([...Array.from({ length: 28 }, (_, i) => `m${72 + i}`), 'late']);
    const full = new WindowWaitQueue<number>({ maxMessages: 1, maxBytes: 10 });
    expect([full.hasRoom(10), full.hasRoom(11)]).toEqual([true, false]);
    full.push(1, 10, 0);
    expect([full.hasRoom(0), full.first(), full.shift(), full.first()]).toEqual([false, 1, 1, undefined]);
  });

  it('full: at the message limit only (the byte limit leaves room for an empty message); no longer once one leaves', () => {
    const q = new WindowWaitQueue<number>({ maxMessages: 2, maxBytes: 100 });
    q.push(1, 100, 0);
    expect([q.full, q.hasRoom(1), q.hasRoom(0)]).toEqual([false, false, true]);
    q.push(2, 0, 0);
    expect([q.full, q.hasRoom(0)]).toEqual([true, false]);
    q.shift();
    expect(q.full).toBe(false);
  });
});
