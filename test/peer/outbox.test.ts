/** Outbox: every queued message expires at its own deadline, wherever it is in the queue. */
import { Outbox, type OutMessage } from '../../src/peer/outbox';

function msg(name: string, deadlineMs: number, bytes = 10): OutMessage & { name: string } {
  return { name, bytes, deadlineMs, resolve: () => undefined, reject: () => undefined };
}
const limits = { maxMessages: 3, maxBytes: 100 };

describe('Outbox', () => {
  test('a message behind a longer-lived one expires at its own deadline', () => {
    const o = new Outbox<ReturnType<typeof msg>>();
    expect(o.enqueue(msg('long', 10_000), limits)).toBe(true);
    expect(o.enqueue(msg('short', 1_000), limits)).toBe(true);
    expect(o.enqueue(msg('mid', 5_000), limits)).toBe(true);
    expect(o.nextDeadline).toBe(1_000);
    expect(o.expire(999).map((m) => m.name)).toEqual([]);
    expect(o.expire(1_000).map((m) => m.name)).toEqual(['short']);
    expect([o.queued, o.queuedBytes, o.nextDeadline]).toEqual([2, 20, 5_000]);
    expect(o.expire(9_999).map((m) => m.name)).toEqual(['mid']);
    expect(o.takeAll().map((m) => m.name)).toEqual(['long']);
    expect([o.queued, o.queuedBytes, o.nextDeadline]).toEqual([0, 0, Infinity]);
  });

  test('bounds by count and bytes; the batch goes to the queue in order and what does not fit is returned', () => {
    const o = new Outbox<ReturnType<typeof msg>>();
    o.enqueue(msg('q1', 100, 60), limits);
    for (const n of ['b1', 'b2', 'b3']) o.push(msg(n, 100, 20));
    expect(o.batched).toBe(3);
    expect(o.batchToQueue(limits).map((m) => m.name)).toEqual(['b3']); // 60+20+20 = 100 bytes, then the count limit
    expect(o.takeAll().map((m) => m.name)).toEqual(['q1', 'b1', 'b2']);
  });

  test('with the flush\'s time, each batched message is due at that time + its own timeoutMs', () => {
    const o = new Outbox<ReturnType<typeof msg>>();
    o.push({ ...msg('b1', 0), timeoutMs: 300 });
    o.push({ ...msg('b2', 0), timeoutMs: 100 });
    expect(o.batchToQueue(limits, 5_000)).toEqual([]);
    expect(o.nextDeadline).toBe(5_100);
    expect(o.expire(5_099).map((m) => m.name)).toEqual([]);
    expect(o.expire(5_100).map((m) => m.name)).toEqual(['b2']);
    expect(o.expire(5_300).map((m) => m.name)).toEqual(['b1']);
  });

  test('controls are taken once; clear returns batch and queue', () => {
    const o = new Outbox<ReturnType<typeof msg>>();
    o.pushControl({ type: 'keepalive' });
    expect(o.takeControls()).toEqual([{ type: 'keepalive' }]);
    expect(o.takeControls()).toEqual([]);
    o.enqueue(msg('q', 5), limits);
    o.push(msg('b', 5));
    o.pushControl({ type: 'keepalive' });
    expect(o.clear().map((m) => m.name)).toEqual(['q', 'b']);
    expect(o.takeControls()).toEqual([]);
    expect(o.takeQueued(5)).toEqual([]);
  });
});
