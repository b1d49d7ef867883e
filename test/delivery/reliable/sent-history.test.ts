import { SentHistory } from '../../../src/delivery/reliable/sent-history';

describe('SentHistory', () => {
  it('numbers packets in order, tracked or not, and looks them up in O(1)', () => {
    const h = new SentHistory<string>();
    expect(h.add(0, 1200, true, true, ['a']).pn).toBe(0);
    expect(h.skip()).toBe(1); // ack-only datagram: numbered, not tracked
    expect(h.add(5, 1000, true, true, ['b', 'c']).pn).toBe(2);
    expect(h.nextPacketNumber).toBe(3);
    expect(h.size).toBe(2);
    expect(h.get(0)?.frames).toEqual(['a']);
    expect(h.get(1)).toBeUndefined();
    expect(h.get(2)).toEqual({ pn: 2, sentAtMs: 5, bytes: 1000, ackEliciting: true, inFlight: true, frames: ['b', 'c'] });
    expect(h.get(3)).toBeUndefined();
    expect(h.nextLive(1)).toBe(2);
    expect(h.markAcked(0)?.pn).toBe(0);
    expect(h.head).toBe(2);
    expect(h.markAcked(0)).toBeUndefined();
    expect(h.markLost(2)?.frames).toEqual(['b', 'c']);
    expect([h.size, h.head, h.nextLive(0)]).toEqual([0, 3, 3]);
  });

  it('grows past its initial 8 slots while an old packet stays live', () => {
    const h = new SentHistory<number>();
    for (let k = 0; k < 300; k++) h.add(k, 100, true, true, [k]);
    expect(h.capacity).toBe(512);
    for (let k = 1; k < 300; k++) expect(h.markAcked(k)?.frames).toEqual([k]);
    expect([h.size, h.head, h.get(0)?.frames]).toEqual([1, 0, [0]]);
    expect(h.nextLive(1)).toBe(300);
    h.markAcked(0);
    expect(h.head).toBe(300);
    expect(h.capacity).toBe(8); // emptied: back to the initial ring (an idle peer's size)
  });

  it('an emptied ring shrinks to 8 slots and goes on numbering, tracking and growing', () => {
    const h = new SentHistory<number>();
    expect(h.capacity).toBe(8);
    for (let k = 0; k < 20; k++) h.add(k, 100, true, true, [k]);
    expect(h.capacity).toBe(32);
    for (let k = 0; k < 19; k++) h.markLost(k);
    expect(h.capacity).toBe(32); // one packet still live: no shrink
    h.markAcked(19);
    expect([h.capacity, h.size, h.head, h.nextPacketNumber]).toEqual([8, 0, 20, 20]);
    expect(h.skip()).toBe(20);
    expect(h.add(7, 100, true, true, [21]).pn).toBe(21);
    expect([h.get(21)?.frames, h.get(19), h.nextLive(0), h.ackedBetween(0, 21)]).toEqual([[21], undefined, 21, false]);
    for (let k = 22; k < 40; k++) h.add(k, 100, true, true, [k]);
    expect(h.capacity).toBe(32);
    expect(h.markAcked(30)?.frames).toEqual([30]);
    expect(h.ackedBetween(21, 31)).toBe(true);
    expect(h.size).toBe(18);
  });

  it('works with packet numbers above 2^32', () => {
    const h = new SentHistory<number>(2 ** 40);
    for (let k = 0; k < 100; k++) h.add(k, 1, true, true, [k]);
    expect(h.get(2 ** 40 + 99)?.frames).toEqual([99]);
    expect(h.markAcked(2 ** 40 + 50)?.frames).toEqual([50]);
    expect(h.nextLive(2 ** 40 + 50)).toBe(2 ** 40 + 51);
  });

  it('skips dead runs with compressed pointers: a second walk over them visits nothing new', () => {
    const h = new SentHistory<number>();
    for (let k = 0; k < 1000; k++) h.add(k, 1, true, true, []);
    for (let k = 1; k < 999; k++) h.markAcked(k); // 0 and 999 stay live
    h.visits = 0;
    expect(h.nextLive(1)).toBe(999);
    const first = h.visits;
    expect(first).toBe(998);
    h.visits = 0;
    expect(h.nextLive(1)).toBe(999);
    expect(h.nextLive(500)).toBe(999);
    expect(h.visits).toBe(2);
    expect(h.ackedBetween(0, 999)).toBe(true);
    expect(h.ackedBetween(0, 1)).toBe(false);
  });

  it('holds no slots while nothing is tracked (idle form) and numbers on where it left off', () => {
    const h = new SentHistory<number>(5);
    expect(h.slotsAllocated).toBe(0);
    expect(h.skip()).toBe(5); // an ack-only datagram with nothing tracked needs no slot
    expect(h.slotsAllocated).toBe(0);
    expect(h.head).toBe(6);
    const p = h.add(1, 100, true, true, [6]);
    expect(p.pn).toBe(6);
    expect(h.slotsAllocated).toBe(8);
    expect(h.skip()).toBe(7); // behind a live packet: kept in the ring
    expect(h.add(2, 100, true, true, [8]).pn).toBe(8);
    expect(h.markAcked(6)?.frames).toEqual([6]);
    expect(h.head).toBe(8);
    expect(h.slotsAllocated).toBe(8);
    expect(h.markLost(8)?.frames).toEqual([8]);
    expect(h.size).toBe(0);
    expect(h.head).toBe(9);
    expect(h.slotsAllocated).toBe(0);
    expect(h.capacity).toBe(8);
    expect(h.get(8)).toBeUndefined();
    expect(h.nextLive(0)).toBe(9);
    expect(h.ackedBetween(0, 9)).toBe(false);
    // grown, emptied, used again: the ring starts over at the initial size
    for (let k = 0; k < 20; k++) h.add(k, 1, true, true, [9 + k]);
    expect(h.capacity).toBe(32);
    for (let pn = 9; pn < 29; pn++) h.markAcked(pn);
    expect(h.slotsAllocated).toBe(0);
    expect(h.add(3, 1, true, true, [29]).pn).toBe(29);
    expect(h.capacity).toBe(8);
    expect(h.get(29)?.frames).toEqual([29]);
    expect(h.nextLive(0)).toBe(29);
  });
});
