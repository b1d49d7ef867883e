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
});
