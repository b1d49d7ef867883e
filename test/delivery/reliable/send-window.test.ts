/**
 * SendWindow (the reliable sender's items and their counts): every mutation keeps the counts
 * in step with the ring's state bits; the scans the sender delegates to it.
 */
import { SendWindow } from '../../../src/delivery/reliable/send-window';
import { DUE, LIVE, RECOUNT, SACKED, SENT } from '../../../src/delivery/reliable/send-ring';

const b = (n: number): Uint8Array => new Uint8Array(n);
const counts = (w: SendWindow): number[] => [w.base, w.sendNext, w.nextSeq, w.inFlight, w.queued, w.due, w.sacked];

const rejectA = (): void => undefined;
const rejectM = (): void => undefined;

/** Window with message A = seq 1 (10 B) and B = seqs 2–4 (20, 20, 5 B); `sent` first transmissions at 100 ms + seq. */
function make(sent: number): { w: SendWindow } {
  const w = new SendWindow();
  expect(w.add(b(10), 2)).toBe(1); // one item: its data, no array
  w.ring.setMessage(1, 500, 50, () => undefined, rejectA);
  expect(w.add([b(20), b(20), b(5)], 6)).toBe(4);
  w.ring.setMessage(4, 600, 60, () => undefined, rejectM);
  for (let seq = 1; seq <= sent; seq++) {
    w.ring.transmitted(seq, 100 + seq, seq, 1000 + seq);
    w.firstSent();
  }
  return { w };
}

describe('SendWindow', () => {
  it('counts queued, in flight, due and SACKed items as they are sent, SACKed, marked due and forgotten', () => {
    const { w } = make(3);
    expect(counts(w)).toEqual([1, 4, 5, 3, 1, 0, 0]);
    w.sack(2);
    w.markDue(3);
    expect(counts(w)).toEqual([1, 4, 5, 3, 1, 1, 1]);
    expect(w.ring.state(2)).toBe(LIVE | SENT | SACKED);
    w.markDue(2); // a SACKed item made due is no longer SACKed
    expect(counts(w)).toEqual([1, 4, 5, 3, 1, 2, 0]);
    expect(w.nextDue()).toBe(2);
    w.clearDue(2);
    expect(w.nextDue()).toBe(3);
    w.forget(1);
    w.forget(3); // was due
    w.forget(4); // never sent
    expect(counts(w)).toEqual([2, 4, 5, 1, 0, 0, 0]);
    w.forget(2);
    expect(counts(w)).toEqual([5, 4, 5, 0, 0, 0, 0]);
    w.skipAbandoned();
    expect(w.sendNext).toBe(5);
  });

  it('transmit() stamps a held item and clears DUE (counted) and RECOUNT; SACKED stays', () => {
    const { w } = make(3);
    w.markDue(2);
    w.recountSent(); // 1–3 RECOUNT
    w.sack(3);
    expect([w.due, w.ring.state(2), w.ring.state(3)]).toEqual([1, LIVE | SENT | DUE | RECOUNT, LIVE | SENT | SACKED | RECOUNT]);
    w.transmit(2, 500, 9, 1500);
    w.transmit(3, 501, 10, 1501);
    expect([w.due, w.ring.state(2), w.ring.state(3)]).toEqual([0, LIVE | SENT, LIVE | SENT | SACKED]);
    expect([w.ring.transmissions(2), w.ring.sentAt(2), w.ring.txOrder(2), w.ring.rtoAt(2)]).toEqual([2, 500, 9, 1500]);
  });

  it('detectReneging marks due a SACKed item the ack no longer reports, up to the last reported range when truncated', () => {
    const { w } = make(4);
    w.sack(2);
    w.sack(4);
    w.detectReneging([[4, 4]], false, 4);
    expect([w.ring.state(2) & (SACKED | DUE), w.ring.state(4) & (SACKED | DUE)]).toEqual([DUE, SACKED]);
    w.sack(2);
    w.detectReneging([[1, 1]], true, 4); // truncated at 1: 2 and 4 lie beyond what it reports
    expect([w.due, w.sacked]).toEqual([0, 2]);
  });

  it('markTimedOut, earliestRto and markReordered scan only sent items that are neither SACKed nor due', () => {
    const { w } = make(4);
    w.sack(1);
    expect(w.earliestRto(Infinity)).toBe(1002);
    expect(w.markTimedOut(1003, (sentAt) => sentAt >= 103)).toBe(true); // 2 (sent at 102) and 3 (103) time out; 3 is a new round
    expect([w.nextDue(), w.due, w.earliestRto(Infinity)]).toEqual([2, 2, 1004]);
    w.clearDue(2);
    w.clearDue(3);
    w.markReordered(4, 2); // txOrder + 2 ≤ 4: seqs 1 (SACKed) and 2
    expect([w.due, w.nextDue()]).toEqual([1, 2]);
  });

  it('sentOf totals what left of a message (bytes, one message at its first item, whether some item never left); recountSent marks RECOUNT', () => {
    const { w } = make(3);
    expect([1, 2, 3, 4].map((seq) => [w.ring.first(seq), w.ring.last(seq), w.ring.wireFlags(seq), w.startsMessage(seq)])).toEqual([[1, 1, 2, 1], [2, 4, 6, 1], [2, 4, 6, 0], [2, 4, 6, 0]]);
    expect(w.sentOf(2, 4)).toEqual({ bytes: 40, messages: 1, unsent: true });
    expect(w.sentOf(1, 1)).toEqual({ bytes: 10, messages: 1, unsent: false });
    expect(w.recountSent()).toEqual({ bytes: 50, messages: 2, unsent: false });
    expect([w.ring.state(3) & RECOUNT, w.ring.state(4) & RECOUNT]).toEqual([RECOUNT, 0]);
    expect(w.unsettledMessages()).toEqual([{ firstSeq: 1, lastSeq: 1, timeoutMs: 50, reject: rejectA }, { firstSeq: 2, lastSeq: 4, timeoutMs: 60, reject: rejectM }]);
    w.forget(1); // its last item left: settled
    w.forget(2); // not its last: still unsettled
    expect(w.unsettledMessages()).toEqual([{ firstSeq: 2, lastSeq: 4, timeoutMs: 60, reject: rejectM }]);
    w.clear();
    expect(counts(w)).toEqual([5, 5, 5, 0, 0, 0, 0]);
    expect([w.ring.live(3), w.ring.live(4)]).toEqual([false, false]);
  });
});
