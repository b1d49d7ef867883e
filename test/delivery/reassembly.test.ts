import { ManualClock } from '../../src/runtime/clock';
import { FRAGMENT_OVERHEAD_BYTES, MESSAGE_OVERHEAD_BYTES, Reassembler, type ReassemblerOptions } from '../../src/delivery/reassembly';
import { fragment } from '../../src/delivery/fragment';

const KiB = 1024;
const MiB = 1024 * 1024;
const O = FRAGMENT_OVERHEAD_BYTES;
const M = MESSAGE_OVERHEAD_BYTES;

function make(over: Partial<ReassemblerOptions> = {}): { r: Reassembler; clock: ManualClock } {
  const clock = new ManualClock();
  const r = new Reassembler({ clock, timeoutMs: 30_000, perPeerBytes: 4 * MiB, totalBytes: 64 * MiB, maxMessageBytes: MiB, ...over });
  return { r, clock };
}
const bytes = (n: number, seed = 1): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

describe('Reassembler', () => {
  it('reassembles in order and out of order, byte-exact, releasing memory', () => {
    const { r } = make();
    const msg = bytes(1000);
    const chunks = fragment(msg, 300); // 300, 300, 300, 100
    expect(r.add('p', 7, 0, 4, chunks[0]!)).toEqual({});
    expect(r.add('p', 7, 3, 4, chunks[3]!)).toEqual({});
    expect(r.add('p', 7, 1, 4, chunks[1]!)).toEqual({});
    expect(r.bytesHeld).toBe(700 + 3 * O + M);
    expect(r.peerBytesHeld('p')).toBe(700 + 3 * O + M);
    expect(r.messagesHeld).toBe(1);
    const done = r.add('p', 7, 2, 4, chunks[2]!);
    expect(done.drop).toBeUndefined();
    expect(done.message).toEqual(msg);
    expect(r.bytesHeld).toBe(0);
    expect(r.messagesHeld).toBe(0);
  });

  it('copies chunks (does not retain the caller buffer)', () => {
    const { r } = make();
    const datagram = bytes(10);
    r.add('p', 1, 0, 2, datagram.subarray(0, 5));
    datagram.fill(0);
    expect(r.add('p', 1, 1, 2, bytes(3, 9)).message).toEqual(Uint8Array.from([...bytes(10).subarray(0, 5), ...bytes(3, 9)]));
  });

  it('ignores duplicate fragments and never delivers a completed msgId twice', () => {
    const { r } = make();
    const chunks = fragment(bytes(10), 5);
    r.add('p', 1, 0, 2, chunks[0]!);
    expect(r.add('p', 1, 0, 2, chunks[0]!)).toEqual({});
    expect(r.duplicates).toBe(1);
    expect(r.bytesHeld).toBe(5 + O + M);
    expect(r.add('p', 1, 1, 2, chunks[1]!).message).toEqual(bytes(10));
    expect(r.add('p', 1, 1, 2, chunks[1]!)).toEqual({});
    expect(r.add('p', 1, 0, 2, chunks[0]!)).toEqual({});
    expect(r.duplicates).toBe(3);
    expect(r.messagesHeld).toBe(0);
    // The same msgId from another peer is another message.
    expect(r.add('q', 1, 0, 1, bytes(3)).message).toEqual(bytes(3));
  });

  it('delivers a single-fragment message (count 1) once', () => {
    const { r } = make();
    expect(r.add('p', 5, 0, 1, bytes(4)).message).toEqual(bytes(4));
    expect(r.add('p', 5, 0, 1, bytes(4))).toEqual({});
    expect(r.add('p', 6, 0, 1, new Uint8Array(0)).message).toEqual(new Uint8Array(0));
  });

  it('remembers a bounded number of completed msgIds per peer', () => {
    const { r } = make({ completedMemory: 2 });
    for (const id of [1, 2, 3]) expect(r.add('p', id, 0, 1, bytes(1)).message).toBeDefined();
    expect(r.add('p', 3, 0, 1, bytes(1))).toEqual({});
    expect(r.add('p', 2, 0, 1, bytes(1))).toEqual({});
    expect(r.add('p', 1, 0, 1, bytes(1)).message).toEqual(bytes(1)); // forgotten: outside the memory
  });

  it('validates index, count and fragment sizes', () => {
    const { r } = make({ maxMessageBytes: 1000 });
    expect(r.add('p', 1, 2, 2, bytes(5))).toEqual({ drop: 'malformed' });
    expect(r.add('p', 1, 0, 0, bytes(5))).toEqual({ drop: 'malformed' });
    expect(r.add('p', -1, 0, 2, bytes(5))).toEqual({ drop: 'malformed' });
    expect(r.add('p', 1.5, 0, 2, bytes(5))).toEqual({ drop: 'malformed' });
    expect(r.add('p', 1, 0, 2, new Uint8Array(0))).toEqual({ drop: 'malformed' });
    expect(r.add('p', 2, 0, 4, bytes(300))).toEqual({});
    expect(r.add('p', 2, 1, 5, bytes(300))).toEqual({ drop: 'malformed' }); // count differs
    expect(r.add('p', 2, 1, 4, bytes(299))).toEqual({ drop: 'malformed' }); // chunk size differs
    expect(r.add('p', 2, 3, 4, bytes(301))).toEqual({ drop: 'malformed' }); // last longer than a chunk
    expect(r.add('p', 2, 3, 4, bytes(101))).toEqual({ drop: 'tooLarge' }); // 3 × 300 + 101 > 1000
    expect(r.add('p', 2, 3, 4, bytes(100))).toEqual({});
    expect(r.add('p', 2, 1, 4, bytes(300))).toEqual({});
    expect(r.add('p', 2, 2, 4, bytes(300)).message?.length).toBe(1000);
    expect(r.bytesHeld).toBe(0);
  });

  it('refuses claims larger than maxMessageBytes from the first fragment on', () => {
    const { r } = make({ maxMessageBytes: 1000 });
    expect(r.add('p', 1, 0, 4, bytes(334))).toEqual({ drop: 'tooLarge' }); // ≥ 3 × 334 + 1
    expect(r.add('p', 1, 0, 4, bytes(333))).toEqual({}); // 3 × 333 + 1 = 1000
    expect(r.add('p', 2, 9, 10, bytes(101))).toEqual({ drop: 'tooLarge' }); // last first: chunk ≥ 101
    expect(r.add('p', 3, 0, 1001, bytes(1))).toEqual({ drop: 'tooLarge' });
    expect(r.add('p', 4, 0, 1, bytes(1001))).toEqual({ drop: 'tooLarge' });
    expect(r.messagesHeld).toBe(1);
  });

  it('refuses a message that cannot fit the per-peer budget at all', () => {
    const { r } = make({ maxMessageBytes: 10_000, perPeerBytes: 301 + 2 * O + M, totalBytes: 5000 });
    expect(r.add('p', 1, 0, 4, bytes(300))).toEqual({ drop: 'tooLarge' }); // ≥ 901 + 4 × O + M > the budget
    expect(r.add('p', 1, 0, 3, bytes(150))).toEqual({ drop: 'tooLarge' }); // ≥ 301 + 3 × O + M: one fragment overhead too many
    expect(r.add('p', 1, 0, 2, bytes(300))).toEqual({}); // 301 + 2 × O + M fits exactly
  });

  it('expires incomplete messages timeoutMs after their first fragment', () => {
    const { r, clock } = make({ timeoutMs: 1000 });
    r.add('p', 1, 0, 3, bytes(10));
    clock.advance(600);
    r.add('p', 1, 1, 3, bytes(10));
    r.add('p', 2, 0, 2, bytes(10));
    clock.advance(399);
    expect(r.sweep()).toBe(0);
    expect(r.messagesHeld).toBe(2);
    clock.advance(1);
    expect(r.sweep()).toBe(1);
    expect(r.messagesHeld).toBe(1);
    expect(r.bytesHeld).toBe(10 + O + M);
    expect(r.add('p', 1, 2, 3, bytes(5))).toEqual({ drop: 'stale' });
    clock.advance(600); // lazy sweep on add
    expect(r.add('q', 1, 0, 2, bytes(10))).toEqual({});
    expect(r.expirations).toBe(2);
    expect(r.messagesHeld).toBe(1);
    expect(r.peerBytesHeld('p')).toBe(0);
  });

  it('evicts the least recently active message of the same peer when the peer is over budget', () => {
    const { r } = make({ perPeerBytes: 3 * (100 + O) + 2 * M, totalBytes: MiB });
    r.add('p', 1, 0, 3, bytes(100));
    r.add('p', 2, 0, 3, bytes(100));
    r.add('p', 1, 1, 3, bytes(100)); // message 1 now more recent than 2
    expect(r.add('q', 1, 0, 3, bytes(100))).toEqual({}); // other peers have their own budget
    expect(r.add('p', 3, 0, 3, bytes(100))).toEqual({ evicted: 1 });
    expect(r.evictions).toBe(1);
    expect(r.add('p', 2, 1, 3, bytes(100))).toEqual({ drop: 'stale' });
    expect(r.peerBytesHeld('p')).toBe(3 * (100 + O) + 2 * M);
    // The message being completed is never its own victim.
    const res = r.add('p', 1, 2, 3, bytes(100));
    expect(res.evicted).toBe(1); // message 3 goes
    expect(res.message?.length).toBe(300);
    expect(r.peerBytesHeld('p')).toBe(0);
    expect(r.messagesHeld).toBe(1);
  });

  it('evicts from the peer holding the most bytes when the total is over budget', () => {
    const unit = 100 + O + M;
    const { r } = make({ perPeerBytes: 10 * unit, totalBytes: 4 * unit });
    r.add('x', 1, 0, 2, bytes(100));
    r.add('y', 1, 0, 2, bytes(100));
    r.add('y', 2, 0, 2, bytes(100));
    r.add('x', 2, 0, 2, bytes(100));
    r.add('x', 3, 0, 2, bytes(100)); // full: x and y hold 2 each (tie: the first found, x, loses x1)
    expect(r.bytesHeld).toBe(4 * unit);
    expect(r.add('z', 1, 0, 2, bytes(100))).toEqual({ evicted: 1 }); // tie again: x loses x2
    expect(r.peerBytesHeld('x')).toBe(unit);
    expect(r.peerBytesHeld('y')).toBe(2 * unit);
    expect(r.peerBytesHeld('z')).toBe(unit);
    expect(r.add('x', 1, 1, 2, bytes(1))).toEqual({ drop: 'stale' });
    expect(r.add('x', 2, 1, 2, bytes(1))).toEqual({ drop: 'stale' });
    expect(r.add('x', 3, 1, 2, bytes(1)).message?.length).toBe(101);
  });

  it('survives a flood of first fragments without exceeding its bounds', () => {
    const { r } = make(); // 4 MiB per peer, 64 MiB total, 1 MiB messages
    const chunk = bytes(KiB);
    const peers = 20;
    let evicted = 0;
    let drops = 0;
    let maxHeld = 0;
    let maxPeerHeld = 0;
    for (let i = 0; i < 100_000; i++) {
      const peer = `peer${i % peers}`;
      const res = r.add(peer, i, 0, 1000, chunk);
      if (res.drop) drops++;
      evicted += res.evicted ?? 0;
      maxHeld = Math.max(maxHeld, r.bytesHeld);
      maxPeerHeld = Math.max(maxPeerHeld, r.peerBytesHeld(peer));
    }
    expect(drops).toBe(0);
    expect(maxHeld).toBeLessThanOrEqual(64 * MiB);
    expect(maxPeerHeld).toBeLessThanOrEqual(4 * MiB);
    const perFragment = KiB + O + M; // each first fragment is a new message
    expect(r.messagesHeld).toBe(Math.floor((64 * MiB) / perFragment));
    expect(r.bytesHeld).toBe(Math.floor((64 * MiB) / perFragment) * perFragment);
    expect(evicted).toBe(100_000 - r.messagesHeld);
    expect(r.evictions).toBe(evicted);
  });

  it('forgets a peer entirely with dropPeer', () => {
    const { r } = make();
    r.add('p', 1, 0, 2, bytes(10));
    r.add('p', 2, 0, 1, bytes(10));
    r.add('q', 1, 0, 2, bytes(10));
    r.dropPeer('p');
    expect(r.bytesHeld).toBe(10 + O + M);
    expect(r.messagesHeld).toBe(1);
    expect(r.add('p', 2, 0, 1, bytes(10)).message).toEqual(bytes(10));
    r.dropPeer('nobody');
  });
});
