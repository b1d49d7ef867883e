import { ReliableReceiver, type ReliableReceiverOptions } from '../../src/delivery/reliable-receiver';

const S = 77;
const R = 2; // RELIABLE
const F = 4; // FRAGMENT
const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs);

function make(over: Partial<ReliableReceiverOptions> = {}): ReliableReceiver {
  return new ReliableReceiver({ maxBufferedItems: 64, maxBufferedBytes: 1 << 20, maxMessageBytes: 1 << 16, ...over });
}

describe('ReliableReceiver', () => {
  it('delivers in-order whole items at once and acks them', () => {
    const r = make();
    expect(r.ack()).toBeNull();
    expect(r.onItem(S, 1, 1, R, b(1))).toEqual([{ flags: R, data: b(1) }]);
    expect(r.onItem(S, 1, 2, R | 1, b(2))).toEqual([{ flags: R | 1, data: b(2) }]);
    expect(r.ackNeeded).toBe(true);
    expect(r.ack()).toEqual([S, 2, []]);
    expect(r.ackNeeded).toBe(false);
    expect(r.cum).toBe(2);
    expect(r.stream).toBe(S);
  });

  it('buffers out-of-order items, reports them as ranges, delivers when the gap fills', () => {
    const r = make();
    expect(r.onItem(S, 1, 3, R, b(3))).toEqual([]);
    expect(r.onItem(S, 1, 5, R, b(5))).toEqual([]);
    expect(r.onItem(S, 1, 6, R, b(6))).toEqual([]);
    expect(r.ack()).toEqual([S, 0, [3, 3, 5, 6]]);
    expect(r.bufferedItems).toBe(3);
    expect(r.bufferedBytes).toBe(3);
    expect(r.onItem(S, 1, 1, R, b(1))).toEqual([{ flags: R, data: b(1) }]);
    expect(r.onItem(S, 1, 2, R, b(2)).map((m) => [...m.data])).toEqual([[2], [3]]);
    expect(r.ack()).toEqual([S, 3, [5, 6]]);
    expect(r.onItem(S, 1, 4, R, b(4)).map((m) => [...m.data])).toEqual([[4], [5], [6]]);
    expect(r.ack()).toEqual([S, 6, []]);
    expect(r.bufferedItems).toBe(0);
    expect(r.bufferedBytes).toBe(0);
  });

  it('concatenates fragments and strips the FRAGMENT flag', () => {
    const r = make();
    expect(r.onItem(S, 1, 2, R | F | 1, b(3, 4), 1, 3)).toEqual([]);
    expect(r.onItem(S, 1, 1, R | F | 1, b(1, 2), 0, 3)).toEqual([]);
    expect(r.ack()).toEqual([S, 0, [1, 2]]);
    expect(r.onItem(S, 1, 3, R | F | 1, b(5), 2, 3)).toEqual([{ flags: R | 1, data: b(1, 2, 3, 4, 5) }]);
    expect(r.cum).toBe(3);
    expect(r.onItem(S, 1, 4, R, b(9))).toEqual([{ flags: R, data: b(9) }]);
  });

  it('copies buffered data', () => {
    const r = make();
    const datagram = b(1, 2, 3);
    r.onItem(S, 1, 2, R, datagram.subarray(0, 2));
    datagram.fill(0);
    expect(r.onItem(S, 1, 1, R, b(0)).map((m) => [...m.data])).toEqual([[0], [1, 2]]);
  });

  it('counts duplicates (delivered or buffered) and acks them again', () => {
    const r = make();
    r.onItem(S, 1, 1, R, b(1));
    r.onItem(S, 1, 3, R, b(3));
    r.ack();
    expect(r.onItem(S, 1, 1, R, b(1))).toEqual([]);
    expect(r.ackNeeded).toBe(true);
    r.ack();
    expect(r.onItem(S, 1, 3, R, b(3))).toEqual([]);
    expect(r.ackNeeded).toBe(true);
    expect(r.duplicates).toBe(2);
    expect(r.ack()).toEqual([S, 1, [3, 3]]);
  });

  it('starts a new stream at its base and ignores the previous stream', () => {
    const r = make();
    r.onItem(S, 1, 1, R, b(1));
    r.onItem(S, 1, 3, R, b(3));
    expect(r.onItem(S + 1, 10, 11, R, b(11))).toEqual([]);
    expect(r.ack()).toEqual([S + 1, 9, [11, 11]]);
    expect(r.bufferedItems).toBe(1);
    expect(r.onItem(S + 1, 10, 10, R, b(10)).map((m) => [...m.data])).toEqual([[10], [11]]);
    expect(r.onItem(S, 1, 2, R, b(2))).toEqual([]); // late packet of the old sender
    expect(r.malformed).toBe(1);
    expect(r.ack()).toEqual([S + 1, 11, []]);
  });

  it('moves past a gap when base advances, discarding the partial message in it', () => {
    const r = make();
    r.onItem(S, 1, 1, R, b(1));
    expect(r.onItem(S, 1, 3, R | F, b(3), 1, 3)).toEqual([]); // message 2..4, seq 2 lost
    expect(r.onItem(S, 1, 6, R, b(6))).toEqual([]);
    // The sender gave up on 2..4 and on 5: base 6.
    expect(r.onItem(S, 6, 7, R, b(7)).map((m) => [...m.data])).toEqual([[6], [7]]);
    expect(r.skipped).toBe(1);
    expect(r.cum).toBe(7);
    expect(r.bufferedItems).toBe(0);
    expect(r.bufferedBytes).toBe(0);
    expect(r.onItem(S, 6, 4, R | F, b(4), 2, 3)).toEqual([]); // straggler: duplicate
    expect(r.onItem(S, 5, 8, R, b(8)).map((m) => [...m.data])).toEqual([[8]]); // an older base changes nothing
    expect(r.ack()).toEqual([S, 8, []]);
  });

  it('refuses items beyond cum + maxBufferedItems without acking them', () => {
    const r = make({ maxBufferedItems: 4 });
    r.onItem(S, 1, 1, R, b(1));
    r.ack();
    expect(r.onItem(S, 1, 6, R, b(6))).toEqual([]);
    expect(r.refused).toBe(1);
    expect(r.ackNeeded).toBe(false);
    expect(r.onItem(S, 1, 5, R, b(5))).toEqual([]);
    expect(r.ack()).toEqual([S, 1, [5, 5]]);
    expect(r.onItem(S, 1, 2, R | F, b(2), 0, 5)).toEqual([]); // a message longer than the buffer
    expect(r.refused).toBe(2);
  });

  it('reports at most 32 ranges, the lowest ones', () => {
    const r = make({ maxBufferedItems: 200 });
    for (let seq = 2; seq <= 80; seq += 2) r.onItem(S, 1, seq, R, b(seq));
    const [, cum, ranges] = r.ack()!;
    expect(cum).toBe(0);
    expect(ranges).toEqual(Array.from({ length: 32 }, (_, k) => [2 * k + 2, 2 * k + 2]).flat());
  });

  it('evicts the highest buffered items to make room for lower ones', () => {
    const r = make({ maxBufferedBytes: 10 });
    r.onItem(S, 1, 3, R, new Uint8Array(4));
    r.onItem(S, 1, 4, R, new Uint8Array(4));
    expect(r.onItem(S, 1, 5, R, new Uint8Array(4))).toEqual([]); // highest: no room
    expect(r.refused).toBe(1);
    r.onItem(S, 1, 2, R, new Uint8Array(4)); // evicts seq 4
    expect(r.ack()).toEqual([S, 0, [2, 3]]);
    expect(r.bufferedBytes).toBe(8);
    expect(r.onItem(S, 1, 1, R, new Uint8Array(9)).length).toBe(3); // in order: not buffered
  });

  it('refuses a message larger than maxMessageBytes until the sender moves past it', () => {
    const r = make({ maxMessageBytes: 4 });
    expect(r.onItem(S, 1, 1, R, new Uint8Array(5))).toEqual([]);
    expect(r.refused).toBe(1);
    r.onItem(S, 1, 2, R | F, b(1, 2, 3), 0, 2);
    expect(r.onItem(S, 1, 3, R | F, b(4, 5), 1, 2)).toEqual([]);
    expect(r.onItem(S, 1, 1, R, b(1)).map((m) => [...m.data])).toEqual([[1]]);
    expect(r.refused).toBe(3);
    expect(r.bufferedItems).toBe(0);
    expect(r.onItem(S, 1, 3, R | F, b(4, 5), 1, 2)).toEqual([]);
    expect(r.refused).toBe(4);
    expect(r.onItem(S, 4, 4, R, b(4))).toEqual([{ flags: R, data: b(4) }]);
    expect(r.cum).toBe(4);
  });

  it('counts invalid fields as malformed', () => {
    const r = make();
    expect(r.onItem(S, 0, 1, R, b(1))).toEqual([]);
    expect(r.onItem(S, 1, 0, R, b(1))).toEqual([]);
    expect(r.onItem(S, 1, 2, R | F, b(1), 2, 2)).toEqual([]);
    expect(r.onItem(S, 1, 2, R | F, b(1), undefined, 2)).toEqual([]);
    expect(r.malformed).toBe(4);
  });
});
