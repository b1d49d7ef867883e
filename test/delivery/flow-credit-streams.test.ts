/**
 * Flow-control credit as the reliable sender and receiver count it (delivery/flow.ts with
 * reliable-sender.ts / reliable-receiver.ts): both sides count the same items, so the numbers
 * agree after retransmissions, abandoned messages, evictions and new streams.
 */
import { ManualClock } from '../../src/runtime/clock';
import { ReceiveCredit, SendCredit, INITIAL_CREDIT } from '../../src/delivery/flow';
import { ReliableSender } from '../../src/delivery/reliable-sender';
import { ReliableReceiver } from '../../src/delivery/reliable-receiver';
import type { UdpVaultError } from '../../src/errors';

const STREAM = 7;
const bytes = (n: number, fill = 1): Uint8Array => new Uint8Array(n).fill(fill);
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function track(p: Promise<void>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
  const t: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' };
  p.then(
    () => (t.state = 'resolved'),
    (error: unknown) => Object.assign(t, { state: 'rejected', error }),
  );
  return t;
}

describe('ReliableSender with credit', () => {
  it('first transmissions stop at the credit (bytes and messages); retransmissions need none; credit resumes sending', () => {
    const clock = new ManualClock();
    const credit = new SendCredit({ maxBytes: 250, maxMessages: 10 });
    const s = new ReliableSender({ clock, stream: STREAM, window: 64, packetLoss: true, credit });
    for (let i = 0; i < 4; i++) void s.push([bytes(100)], 0, 10_000);
    expect(s.take(10).map((i) => i.seq)).toEqual([1, 2]); // 200 of 250 bytes; the third needs 300
    expect([s.hasWork(), s.peek(), credit.blocked, credit.sentBytes]).toEqual([false, null, true, 200]);
    expect(s.requeue(1)).toBe(true); // lost: goes again although the credit is used up
    expect(s.take(10).map((i) => i.seq)).toEqual([1]);
    expect([credit.sentBytes, s.retransmissions]).toEqual([200, 1]);
    expect(credit.onCredit({ maxBytes: 400, maxMessages: 10 })).toBe(true);
    expect(s.take(10).map((i) => i.seq)).toEqual([3, 4]);
    expect([credit.sentBytes, credit.sentMessages, credit.blocked]).toEqual([400, 4, false]);
  });

  it('a fragmented message counts once, at its first fragment; the message limit holds back the next message only', () => {
    const clock = new ManualClock();
    const credit = new SendCredit({ maxBytes: 10_000, maxMessages: 1 });
    const s = new ReliableSender({ clock, stream: STREAM, window: 64, packetLoss: true, credit });
    void s.push([bytes(10), bytes(10), bytes(10)], 0, 10_000);
    void s.push([bytes(10)], 0, 10_000);
    expect(s.take(10).map((i) => i.seq)).toEqual([1, 2, 3]);
    expect([credit.sentMessages, credit.sentBytes, credit.blocked]).toEqual([1, 30, true]);
  });

  it('an abandoned message refunds what it transmitted; one never sent for lack of credit rejects with ERR_FLOW_CONTROL', async () => {
    const clock = new ManualClock();
    const credit = new SendCredit({ maxBytes: 150, maxMessages: 10 });
    const s = new ReliableSender({ clock, stream: STREAM, window: 64, packetLoss: true, credit });
    const sent = track(s.push([bytes(100)], 0, 1_000));
    const unsent = track(s.push([bytes(100)], 0, 1_000));
    expect(s.take(10).map((i) => i.seq)).toEqual([1]);
    clock.advance(1_000);
    s.tick();
    await flush();
    expect((sent.error as UdpVaultError).code).toBe('ERR_NOT_ACKNOWLEDGED'); // it left: the outcome is unknown
    expect((unsent.error as UdpVaultError).code).toBe('ERR_FLOW_CONTROL');
    expect((unsent.error as Error).message).toBe('not sent within 1000 ms: the peer granted no flow-control credit (its inbox is full)');
    expect([credit.sentBytes, credit.sentMessages]).toEqual([0, 0]); // refunded: the receiver unreceives it when base moves
  });

  it('the receiver restarts: what was in flight is counted on both sides (copies, duplicates below its floor, acks without a copy)', () => {
    const clock = new ManualClock();
    const W = { windowBytes: 1_000, windowMessages: 10 };
    const send = new SendCredit({ maxBytes: 1_000, maxMessages: 10 });
    const s = new ReliableSender({ clock, stream: STREAM, window: 64, packetLoss: true, credit: send });
    for (const n of [40, 30, 20, 10]) void s.push([bytes(n)], 0, 60_000);
    const items = s.take(10); // seqs 1..4, 100 bytes
    // The old receiver delivered 1..3 and recorded cum 3 (journal) but its ack was lost; then it restarted.
    const INIT = { maxBytes: 500, maxMessages: 5 }; // the grant of a new receiver (INITIAL_CREDIT between nodes)
    const recv = new ReceiveCredit(W, INIT);
    const r = new ReliableReceiver({ maxBufferedItems: 64, maxBufferedBytes: 10_000, maxMessageBytes: 10_000, credit: recv });
    r.resume(STREAM, 3);
    send.reset(INIT, s.creditRestarted());
    expect([send.sentBytes, send.sentMessages]).toEqual([100, 4]);
    // Copies of 2 (a duplicate below the floor) and 4 (new) reach it; 1 and 3 are acknowledged without a copy.
    for (const seq of [2, 4]) {
      expect(s.requeue(seq)).toBe(true);
    }
    for (const it of s.take(10)) r.onItem(STREAM, s.base, it.seq, it.flags, it.data);
    r.onItem(STREAM, s.base, 2, items[1]!.flags, items[1]!.data); // a second copy of 2 is not counted again
    const [, cum, ranges] = r.ack()!;
    s.onAck(STREAM, cum, ranges);
    expect([cum, s.pendingMessages]).toEqual([4, 0]);
    // Both sides agree: the sender's room is exactly the receiver's window.
    expect(send.sentBytes).toBe(30 + 10); // 1 and 3 refunded
    expect(recv.limits().maxBytes - send.sentBytes).toBe(W.windowBytes);
    expect(recv.limits().maxMessages - send.sentMessages).toBe(W.windowMessages);
  });
});

describe('ReliableReceiver with credit', () => {
  it('counts an item once (never duplicates), releases delivered messages, refuses items past the limits', () => {
    const credit = new ReceiveCredit({ windowBytes: 100, windowMessages: 10 });
    const r = new ReliableReceiver({ maxBufferedItems: 64, maxBufferedBytes: 10_000, maxMessageBytes: 10_000, credit });
    expect(r.onItem(STREAM, 1, 2, 2, bytes(60))).toEqual([]); // out of order: buffered, counted
    expect(r.onItem(STREAM, 1, 2, 2, bytes(60))).toEqual([]); // duplicate: not counted again
    expect([credit.bufferedBytes, r.duplicates]).toEqual([60, 1]);
    expect(r.onItem(STREAM, 1, 3, 2, bytes(50))).toEqual([]); // 110 > 100: refused
    expect([r.overCredit, credit.violations, r.bufferedItems]).toEqual([1, 1, 1]);
    expect(r.onItem(STREAM, 1, 1, 2, bytes(40)).length).toBe(2); // fills the gap: 1 and 2 delivered
    expect([credit.bufferedBytes, credit.limits().maxBytes]).toEqual([0, 200]);
    expect(r.ack()).toEqual([STREAM, 2, []]); // the refused item 3 is not acknowledged
    expect(r.onItem(STREAM, 1, 3, 2, bytes(50)).length).toBe(1); // its retransmission fits now
  });

  it('an abandoned message the sender refunded is unreceived when base moves past it: both sides agree', () => {
    const clock = new ManualClock();
    const send = new SendCredit({ maxBytes: 1_000, maxMessages: 10 });
    const recv = new ReceiveCredit({ windowBytes: 1_000, windowMessages: 10 });
    const s = new ReliableSender({ clock, stream: STREAM, window: 64, packetLoss: true, credit: send });
    const r = new ReliableReceiver({ maxBufferedItems: 64, maxBufferedBytes: 10_000, maxMessageBytes: 10_000, credit: recv });
    void s.push([bytes(100), bytes(100)], 0, 1_000).catch(() => undefined); // its second fragment will be lost
    void s.push([bytes(10)], 0, 60_000);
    const items = s.take(10);
    r.onItem(STREAM, s.base, items[0]!.seq, items[0]!.flags, items[0]!.data, items[0]!.index, items[0]!.count);
    r.onItem(STREAM, s.base, items[2]!.seq, items[2]!.flags, items[2]!.data);
    expect([recv.bufferedBytes, send.sentBytes]).toEqual([110, 210]);
    clock.advance(1_000);
    s.tick(); // abandoned: 200 bytes refunded
    expect(send.sentBytes).toBe(10);
    expect(r.onItem(STREAM, s.base, 3, items[2]!.flags, items[2]!.data).length).toBe(1); // the new base skips 1..2
    expect([recv.bufferedBytes, recv.limits().maxBytes - send.sentBytes]).toEqual([0, 1_000]); // the sender's room = the window
  });

  it('an evicted item is unreceived and counted again when its retransmission arrives', () => {
    const credit = new ReceiveCredit({ windowBytes: 10_000, windowMessages: 100 });
    const r = new ReliableReceiver({ maxBufferedItems: 64, maxBufferedBytes: 100, maxMessageBytes: 100, credit });
    r.onItem(STREAM, 1, 3, 2, bytes(60));
    r.onItem(STREAM, 1, 2, 2, bytes(60)); // evicts 3 (higher) to make room
    expect([r.bufferedItems, credit.bufferedBytes]).toEqual([1, 60]);
    r.onItem(STREAM, 1, 1, 2, bytes(10));
    r.onItem(STREAM, 1, 3, 2, bytes(60));
    expect([r.cum, credit.bufferedBytes, credit.limits().maxBytes]).toEqual([3, 0, 10_130]);
  });

  it('a new stream (the sender restarted) starts the count again from the initial credit', () => {
    const credit = new ReceiveCredit(() => ({ windowBytes: 0, windowMessages: 0 }), INITIAL_CREDIT);
    const r = new ReliableReceiver({ maxBufferedItems: 64, maxBufferedBytes: 1 << 20, maxMessageBytes: 1 << 20, credit, accept: () => 'full' });
    for (let seq = 1; seq <= 16; seq++) r.onItem(STREAM, 1, seq, 2, bytes(100));
    expect(r.onItem(STREAM, 1, 17, 2, bytes(100))).toEqual([]); // 17 messages > 16 granted
    expect([credit.bufferedMessages, r.overCredit]).toEqual([16, 1]);
    r.onItem(STREAM + 1, 1, 1, 2, bytes(100));
    expect([credit.bufferedMessages, credit.bufferedBytes, credit.advertised]).toEqual([1, 100, INITIAL_CREDIT]);
  });
});
