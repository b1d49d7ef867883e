/** The inbox's per-peer share (the flow-control window each peer gets while no reader is attached). */
import { Inbox } from '../../src/node/inbox';
import type { MessageEvent } from '../../src/api/types';

const ev = (peer: string, n: number): MessageEvent => ({ peer, addr: '127.0.0.1:1', data: new Uint8Array(n), reliable: true, encrypted: true, receivedAt: new Date(0) });

describe('Inbox.shareFor', () => {
  it('one peer alone may fill the inbox; others divide it by the peers holding messages or waiting', () => {
    const inbox = new Inbox({ maxMessages: 10, maxBytes: 1000 });
    expect(inbox.shareFor('A')).toEqual({ messages: 10, bytes: 1000 });
    for (let i = 0; i < 4; i++) inbox.offer(ev('A', 100));
    expect(inbox.shareFor('A')).toEqual({ messages: 6, bytes: 600 }); // alone: the rest
    expect(inbox.shareFor('B')).toEqual({ messages: 5, bytes: 500 }); // ⌈10 ÷ 2⌉, nothing held
    expect(inbox.shareFor('A', new Set(['B']))).toEqual({ messages: 1, bytes: 100 }); // B waits: A is held to half
    expect(inbox.shareFor('C', new Set(['B']))).toEqual({ messages: 4, bytes: 334 }); // ⌈10 ÷ 3⌉ = 4, ⌈1000 ÷ 3⌉ = 334
    inbox.offer(ev('B', 500));
    expect(inbox.shareFor('C')).toEqual({ messages: 4, bytes: 100 }); // the free room (100 bytes) caps its share (334)
  });

  it('taking the inbox (all, or what a predicate picks) and requeueing keep the per-peer counts', () => {
    const inbox = new Inbox({ maxMessages: 10, maxBytes: 1000 });
    inbox.offer(ev('A', 100));
    inbox.offer(ev('B', 100));
    const taken = inbox.take((e) => e.peer === 'A');
    expect([taken.length, inbox.peers]).toEqual([1, 1]);
    expect(inbox.shareFor('A')).toEqual({ messages: 5, bytes: 500 });
    inbox.requeue(taken);
    expect(inbox.peers).toBe(2);
    inbox.take();
    expect([inbox.peers, inbox.shareFor('A')]).toEqual([0, { messages: 10, bytes: 1000 }]);
  });
});
