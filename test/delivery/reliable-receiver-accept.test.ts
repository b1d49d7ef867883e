/**
 * ReliableReceiver's `accept` verdicts (acknowledged = accepted by a reader or the inbox) and
 * resume() (a restarted receiver continues a recorded stream).
 */
import { ReliableReceiver, type AcceptVerdict, type ReliableMessage, type ReliableReceiverOptions } from '../../src/delivery/reliable-receiver';

const S = 77;
const R = 2; // RELIABLE
const F = 4; // FRAGMENT
const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs);

function make(accept: (m: ReliableMessage) => AcceptVerdict, over: Partial<ReliableReceiverOptions> = {}): ReliableReceiver {
  return new ReliableReceiver({ maxBufferedItems: 64, maxBufferedBytes: 1 << 20, maxMessageBytes: 1 << 16, accept: (flags, data) => accept({ flags, data }), ...over });
}

describe('ReliableReceiver accept', () => {
  it("'full' holds the message unacknowledged (SACKed only), later items wait behind it; pump() delivers all in order", () => {
    let room = 1;
    const got: number[] = [];
    const r = make((m) => {
      if (room === 0) return 'full';
      room--;
      got.push(m.data[0]!);
      return 'delivered';
    });
    expect(r.onItem(S, 1, 1, R, b(1)).map((m) => m.data[0])).toEqual([1]);
    expect(r.onItem(S, 1, 2, R, b(2))).toEqual([]); // no room
    expect(r.held).toBe(true);
    expect(r.onItem(S, 1, 3, R, b(3))).toEqual([]); // behind the held one
    expect(r.ack()).toEqual([S, 1, [2, 3]]); // cum stays: 2 and 3 are not acknowledged
    expect(r.bufferedItems).toBe(2);
    expect(r.pump()).toEqual([]); // still no room: stays held
    expect(r.held).toBe(true);
    room = 10;
    expect(r.pump().map((m) => m.data[0])).toEqual([2, 3]);
    expect(r.held).toBe(false);
    expect(r.ack()).toEqual([S, 3, []]);
    expect(got).toEqual([1, 2, 3]);
    expect(r.bufferedItems).toBe(0);
  });

  it("'full' for a fragmented message keeps its fragments until pump()", () => {
    let full = true;
    const r = make(() => (full ? 'full' : 'delivered'));
    expect(r.onItem(S, 1, 1, R | F, b(1), 0, 2)).toEqual([]);
    expect(r.onItem(S, 1, 2, R | F, b(2), 1, 2)).toEqual([]);
    expect(r.held).toBe(true);
    expect(r.ack()).toEqual([S, 0, [1, 2]]);
    full = false;
    expect(r.pump()).toEqual([{ flags: R, data: b(1, 2) }]);
    expect(r.ack()).toEqual([S, 2, []]);
  });

  it("'refused' (decompression failed) drops the message without acknowledging it; its retransmissions are refused until base passes it", () => {
    const r = make((m) => (m.data[0] === 9 ? 'refused' : 'delivered'));
    expect(r.onItem(S, 1, 1, R, b(9))).toEqual([]);
    expect([r.rejected, r.refused]).toEqual([1, 0]); // the application side's refusal, not a buffer limit
    expect(r.cum).toBe(0);
    expect(r.onItem(S, 1, 1, R, b(9))).toEqual([]); // retransmitted: refused again, not offered
    expect([r.rejected, r.refused]).toEqual([2, 0]);
    expect(r.onItem(S, 1, 2, R, b(2))).toEqual([]); // waits behind it (in order)
    expect(r.ack()).toEqual([S, 0, [2, 2]]);
    expect(r.onItem(S, 2, 3, R, b(3)).map((m) => m.data[0])).toEqual([2, 3]); // the sender gave up on 1: base 2
    expect(r.ack()).toEqual([S, 3, []]);
  });

  it('resume(): a restarted receiver treats what it delivered before as duplicates and acknowledges them', () => {
    const got: number[] = [];
    const r = make((m) => {
      got.push(m.data[0]!);
      return 'delivered';
    });
    r.resume(S, 5);
    expect(r.onItem(S, 5, 5, R, b(5))).toEqual([]); // lost ack: retransmitted
    expect(r.duplicates).toBe(1);
    expect(r.ack()).toEqual([S, 5, []]);
    expect(r.onItem(S, 5, 6, R, b(6)).map((m) => m.data[0])).toEqual([6]);
    expect(got).toEqual([6]);
    r.resume(S + 1, 100); // ignored once a stream is known
    expect(r.stream).toBe(S);
  });

  it('a new epoch after resume() starts its own stream at base − 1', () => {
    const r = make(() => 'delivered');
    r.resume(S, 5);
    expect(r.onItem(S + 1, 1, 1, R, b(1)).map((m) => m.data[0])).toEqual([1]);
    expect(r.ack()).toEqual([S + 1, 1, []]);
    expect(r.onItem(S, 5, 6, R, b(6))).toEqual([]); // the old epoch is retired
    expect(r.malformed).toBe(1);
  });
  it('collect: false returns no lists but delivers through accept in order, acknowledges the same, and sets ackNeeded on delivery', () => {
    const got: number[] = [];
    const r = make((m) => {
      got.push(m.data[0]!);
      return 'delivered';
    }, { collect: false });
    const none = r.onItem(S, 1, 1, R, b(1)); // the in-order fast path
    expect(none).toEqual([]);
    expect(r.ackNeeded).toBe(true);
    expect(r.ack()).toEqual([S, 1, []]);
    expect(r.ackNeeded).toBe(false);
    expect(r.onItem(S, 1, 3, R, b(3))).toEqual([]); // buffered out of order
    expect(r.onItem(S, 1, 5, R | F, b(5, 5), 0, 2)).toEqual([]); // first fragment of 5–6
    expect(r.ack()).toEqual([S, 1, [3, 3, 5, 5]]);
    expect(r.onItem(S, 1, 2, R, b(2))).toEqual([]); // delivers 2 then the buffered 3 (#deliver)
    expect(r.ackNeeded).toBe(true);
    expect(r.ack()).toEqual([S, 3, [5, 5]]);
    expect(r.onItem(S, 1, 4, R, b(4))).toEqual([]);
    expect(r.onItem(S, 1, 6, R | F, b(6), 1, 2)).toEqual([]); // completes the fragmented message
    expect(got).toEqual([1, 2, 3, 4, 5]);
    expect(r.ack()).toEqual([S, 6, []]);
    expect(r.bufferedItems).toBe(0);
  });
});
