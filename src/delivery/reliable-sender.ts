/**
 * Sending side of reliable mode for one peer: a pure state machine (no sockets, no timers).
 * The node pushes messages (already compressed and fragmented), calls take() to fill frames,
 * feeds acks to onAck(), and calls tick() at/after nextDeadline().
 *
 * - Every item (a whole message or one fragment) gets its own seq; a message's fragments
 *   have consecutive seqs; seqs start at 1 and are never reused within the stream.
 * - Window: a new seq s is sent only while s < base + window, so never more than `window`
 *   items are unacknowledged in flight. A message needs at most `window` items (push()
 *   rejects larger ones with ERR_TOO_LARGE: it could never complete), and the receiver's
 *   maxBufferedItems must be ≥ window.
 * - A message is delivered (push() resolves) only when the cumulative ack covers its last
 *   seq. SACK ranges only suppress retransmission; a SACKed item missing from a later ack
 *   that covers its range (the receiver reneged, e.g. restarted) is retransmitted.
 * - Retransmission: RTO per RFC 6298 (SRTT/RTTVAR, samples only from items sent once —
 *   Karn), doubled on timeout at most once per RTO round, capped at rtoMaxMs; plus
 *   fast retransmit of an item when one sent ≥ 3 transmissions after it was acknowledged.
 * - With `packetLoss` (the node: packet-level loss detection in delivery/reliable/ drives
 *   retransmission through requeue()), fast retransmit is off and the RTO is only a backstop
 *   (at least rtoMinMs, default 1 s) for items the packet layer saw acknowledged but the
 *   receiver did not accept.
 * - State: SendWindow over a SendRing (slots by seq, a typed array per field; a message lives in
 *   its items' slots: no object per message); DeadlineQueue; the ack's walks in sender-acks.ts.
 * - At its deadline a message is abandoned: push() rejects with ERR_NOT_ACKNOWLEDGED and its
 *   seqs leave the window, so `base` (sent in every frame with reliable items) moves past them.
 * - Flow control (`credit`, delivery/flow.ts): a first transmission needs the receiver's credit
 *   (item bytes; a message counts at its first item); retransmissions never do. Out of credit,
 *   new items simply wait — no loss, no backoff. An abandoned message's transmitted items are
 *   refunded; one that never fully left because credit ran out rejects with ERR_FLOW_CONTROL
 *   (it was not delivered: the peer's inbox stayed full).
 */
import type { Clock } from '../runtime/clock';
import { BadInputError, DeliveryError } from '../errors';
import { FLAG_FRAGMENT, FLAG_RELIABLE, type PayloadItem } from '../wire/frame';
import { DUE, SACKED, SENT, messagePromise, resolvers, type SendRing } from './reliable/send-ring';
import { SendWindow } from './reliable/send-window';
import { ItemRto } from './reliable/item-rto';
import { DeadlineQueue } from './reliable/deadline-queue';
import { AckWalk } from './reliable/sender-acks';
import { PACKET_MODE_RTO_MIN_MS, RTO_INITIAL_MS, RTO_MAX_MS, RTO_MIN_MS, reliableItem, type ReliableItem, type ReliableSenderOptions, type SenderCredit } from './reliable/sender-options';

export { RTO_INITIAL_MS, RTO_MIN_MS, RTO_MAX_MS, PACKET_MODE_RTO_MIN_MS, REORDER_THRESHOLD } from './reliable/sender-options';
export type { ReliableItem, ReliableSenderOptions, SenderCredit } from './reliable/sender-options';

export class ReliableSender {
  readonly #clock: Clock;
  readonly #stream: number;
  readonly #window: number;
  readonly #packetLoss: boolean;
  readonly #onSettled: () => void;
  readonly #rejection: (err: Error, timeoutMs: number) => Error;
  readonly #credit: SenderCredit | null;
  /** Items neither cumulatively acked nor abandoned (seqs [base, nextSeq)) and their counts. */
  readonly #w = new SendWindow();
  readonly #ring: SendRing = this.#w.ring;
  #pending = 0;
  #txCounter = 0;
  #retransmissions = 0;
  readonly #rto: ItemRto;
  /** The delivery acks' walks over the window (sender-acks.ts). */
  readonly #acks: AckWalk;
  /** Messages by deadline (settled ones are skipped lazily). */
  #byDeadline = new DeadlineQueue(this.#ring);
  /** The frame item peekItem() built for #peekSeq (takeItem() hands out the same object). */
  #peeked: PayloadItem | null = null;
  #peekSeq = 0;

  constructor(opts: ReliableSenderOptions) {
    if (!Number.isSafeInteger(opts.window) || opts.window < 1) throw new BadInputError('ERR_BAD_ARGUMENT', 'window must be a positive integer');
    this.#clock = opts.clock;
    this.#stream = opts.stream;
    this.#window = opts.window;
    this.#packetLoss = opts.packetLoss ?? false;
    this.#onSettled = opts.onSettled ?? ((): void => undefined);
    this.#rejection = opts.rejection ?? ((err: Error): Error => err);
    this.#credit = opts.credit ?? null;
    this.#rto = new ItemRto(opts.rtoInitialMs ?? RTO_INITIAL_MS, opts.rtoMinMs ?? (this.#packetLoss ? PACKET_MODE_RTO_MIN_MS : RTO_MIN_MS), opts.rtoMaxMs ?? RTO_MAX_MS);
    this.#acks = new AckWalk(this.#w, this.#rto, this.#credit, this.#packetLoss, {
      forget: (seq, st) => this.#forget(seq, st),
      delivered: (resolve) => (this.#settle(), resolve()),
    });
  }

  get stream(): number { return this.#stream; }
  get window(): number { return this.#window; }
  /** Lowest seq not cumulatively acknowledged nor abandoned (the frame's `base`). */
  get base(): number { return this.#w.base; }
  /** Smoothed RTT, null before the first sample. */
  get rttMs(): number | null { return this.#rto.srttMs; }
  /** Current retransmission timeout (with backoff). */
  get rtoMs(): number { return this.#rto.rtoMs; }
  /** Items transmitted and not yet cumulatively acknowledged nor abandoned. */
  get inFlight(): number { return this.#w.inFlight; }
  /** Items never transmitted yet. */
  get queued(): number { return this.#w.queued; }
  /** Messages whose push() has not settled. */
  get pendingMessages(): number { return this.#pending; }
  /** Item retransmissions so far. */
  get retransmissions(): number { return this.#retransmissions; }
  /** Slots of the ring holding the items (it grows with the span from base to the newest seq). */
  get ringSlots(): number { return this.#ring.capacity; }

  /**
   * Queues one message (its data as one item, or its chunks in order; nothing allocated but the
   * promise) with the message flags (e.g. COMPRESSED). Resolves when the cumulative ack covers its
   * last seq; rejects with ERR_NOT_ACKNOWLEDGED at `deadlineMs` (monotonic clock); `timeoutMs`
   * (default: from now to the deadline) is what the error says.
   */
  push(chunks: Uint8Array | readonly Uint8Array[], flags: number, deadlineMs: number, timeoutMs = Math.max(0, Math.round(deadlineMs - this.#clock.monotonic()))): Promise<void> {
    const n = chunks instanceof Uint8Array ? 1 : chunks.length;
    if (n === 0 || n > this.#window) {
      this.#onSettled();
      const err = n === 0 ? new BadInputError('ERR_BAD_ARGUMENT', 'a reliable message needs at least one chunk') : new DeliveryError('ERR_TOO_LARGE', `message needs ${n} fragments, more than the reliable window (${this.#window})`);
      return Promise.reject(this.#rejection(err, timeoutMs));
    }
    const promise = messagePromise();
    const wireFlags = (flags & ~(FLAG_RELIABLE | FLAG_FRAGMENT)) | FLAG_RELIABLE | (n > 1 ? FLAG_FRAGMENT : 0);
    const last = this.#w.add(chunks, wireFlags);
    this.#ring.setMessage(last, deadlineMs, timeoutMs, resolvers.resolve, resolvers.reject);
    resolvers.clear();
    this.#pending++;
    this.#byDeadline.push(last, deadlineMs);
    return promise;
  }

  /** Whether take() would return items now. */
  hasWork(): boolean {
    const w = this.#w;
    if (w.due > 0 || this.#peekedNext()) return true;
    return w.sendNext < w.nextSeq && w.sendNext < w.base + this.#window && this.#creditAllows(w.sendNext);
  }

  /** The peek is sendNext's: chosen under a window and credit that only grow until takePeeked or creditRestarted drop it (no second check). */
  #peekedNext(): boolean {
    return this.#peeked !== null && this.#peekSeq === this.#w.sendNext;
  }

  /** The seq take(1) would return next (not marked sent), or 0: nothing to send. */
  #nextToSend(): number {
    const w = this.#w;
    const due = w.nextDue();
    if (due !== 0) return due;
    w.skipAbandoned();
    const seq = w.sendNext;
    if (this.#peekedNext()) return seq;
    return seq < w.nextSeq && seq < w.base + this.#window && this.#creditAllows(seq) ? seq : 0;
  }

  /** Whether flow control lets new item `seq` go now (canSend marks the credit blocked if not). */
  #creditAllows(seq: number): boolean {
    if (this.#credit === null || !this.#ring.live(seq)) return true;
    return this.#credit.canSend(this.#ring.data(seq).byteLength, this.#w.startsMessage(seq));
  }

  /** The frame item takeItem() would return (built once; not marked sent), or null: nothing to send. */
  peekItem(): PayloadItem | null {
    const seq = this.#nextToSend();
    if (seq === 0) return null;
    if (this.#peeked === null || this.#peekSeq !== seq) {
      const ring = this.#ring;
      const first = ring.first(seq);
      const last = ring.last(seq);
      const data = ring.data(seq);
      this.#peeked = last === first ? { flags: ring.wireFlags(seq), data, id: seq } : { flags: ring.wireFlags(seq), data, id: seq, index: seq - first, count: last - first + 1 };
      this.#peekSeq = seq;
    }
    return this.#peeked;
  }

  /**
   * Transmits the next item (a due retransmission first, then a new one within the window): its
   * frame item, or null. `nowMs`: the send time when the caller read the clock already (the pump).
   */
  takeItem(nowMs?: number): PayloadItem | null {
    return this.peekItem() === null ? null : this.takePeeked(nowMs ?? this.#clock.monotonic());
  }

  /** Transmits (and returns) the item peekItem() just returned, not choosing it again (the packer peeks, sizes, takes). */
  takePeeked(nowMs: number): PayloadItem {
    const item = this.#peeked;
    if (item === null) throw new Error('takePeeked() without an item from peekItem()');
    this.#peeked = null;
    const seq = this.#peekSeq;
    if (seq === this.#w.sendNext) {
      this.#credit?.onSent(item.data.byteLength, this.#w.startsMessage(seq)); // nextToSend checked canSend
      this.#w.firstSent();
    } else {
      this.#retransmissions++;
    }
    this.#w.transmit(seq, nowMs, ++this.#txCounter, nowMs + this.#rto.rtoMs);
    return item;
  }

  /** Items to transmit now: due retransmissions first (seq order), then new items within the window. */
  take(maxItems: number): ReliableItem[] {
    const out: ReliableItem[] = [];
    while (out.length < maxItems) {
      const it = this.takeItem();
      if (it === null) break;
      out.push(reliableItem(it));
    }
    this.#w.skipAbandoned();
    return out;
  }

  /** The item take(1) would return next (not marked sent), or null: nothing to send. */
  peek(): Readonly<ReliableItem> | null {
    const it = this.peekItem();
    return it === null ? null : reliableItem(it);
  }

  /** Processes an ack [stream, cum, ranges] from the receiver; acks of other streams are ignored. */
  onAck(stream: number, cum: number, ranges: readonly number[]): void {
    if (stream !== this.#stream || !Number.isSafeInteger(cum)) return;
    this.#acks.onAck(cum, ranges, this.#clock.monotonic());
  }

  /**
   * The packet carrying item `seq` was declared lost: send it again (unless it was acknowledged,
   * abandoned, never sent, or is already due). Returns whether it was requeued.
   */
  requeue(seq: number): boolean {
    const ring = this.#ring;
    if (seq < this.base || seq >= this.#w.sendNext || !ring.live(seq) || !ring.has(seq, SENT) || ring.has(seq, SACKED | DUE)) return false;
    this.#w.markDue(seq);
    return true;
  }

  /** Call at/after nextDeadline(): fails expired messages, marks timed-out items for retransmission. */
  tick(): void {
    const now = this.#clock.monotonic();
    for (let last = this.#byDeadline.first(); last !== 0 && this.#ring.deadline(last) <= now; last = this.#byDeadline.first()) this.#abandon(last);
    this.#w.skipAbandoned();
    this.#acks.announceBase();
    if (this.#w.markTimedOut(now, (sentAtMs) => this.#rto.newRound(sentAtMs))) this.#rto.backoff(now);
  }

  /** Monotonic time at which tick() has something to do, or null (nothing pending). */
  nextDeadline(): number | null {
    const d = this.#w.earliestRto(this.#byDeadline.firstDeadline());
    return d === Infinity ? null : d;
  }

  /**
   * Rejects every pending message and abandons all their seqs: with `err`, or — when given —
   * with `unsentErr` those of which no item was ever transmitted (never delivered, where `err`
   * may mean "outcome unknown").
   */
  failAll(err: Error, unsentErr?: Error): void {
    const messages = this.#w.unsettledMessages();
    const sentBelow = this.#w.sendNext;
    this.#w.clear();
    this.#pending = 0;
    this.#byDeadline = new DeadlineQueue(this.#ring);
    this.#peeked = null;
    for (const m of messages) {
      this.#onSettled();
      m.reject(this.#rejection(unsentErr && m.firstSeq >= sentBelow ? unsentErr : err, m.timeoutMs));
    }
  }

  /** Removes a held item (acked or abandoned); `st`: its state bits, when the caller read them. */
  #forget(seq: number, st?: number): void {
    if (this.#peekSeq === seq) this.#peeked = null; // let its data go
    this.#w.forget(seq, st);
  }

  #settle(): void {
    this.#pending--;
    this.#onSettled();
  }

  /** At its deadline (`last`: its last seq, held): the transmitted, unacknowledged items are refunded; ERR_FLOW_CONTROL when some item never left for want of credit. */
  #abandon(last: number): void {
    const ring = this.#ring;
    const first = ring.first(last);
    const timeoutMs = ring.timeout(last);
    const reject = ring.rejecter(last);
    const { bytes, messages, unsent } = this.#w.sentOf(first, last);
    if (this.#credit && (bytes > 0 || messages > 0)) this.#credit.refund(bytes, messages);
    for (let seq = first; seq <= last; seq++) if (seq >= this.base && ring.live(seq)) this.#forget(seq);
    this.#settle();
    if (unsent && this.#credit?.blocked) {
      reject(this.#rejection(new DeliveryError('ERR_FLOW_CONTROL', `not sent within ${timeoutMs} ms: the peer granted no flow-control credit (its inbox is full)`), timeoutMs));
      return;
    }
    reject(this.#rejection(new DeliveryError('ERR_NOT_ACKNOWLEDGED', `not acknowledged within ${timeoutMs} ms`), timeoutMs));
  }

  /**
   * The receiver restarted (its credit counts from zero): returns what was transmitted and is
   * not cumulatively acknowledged — bytes, and messages whose first item left — to count as
   * sent toward it. The restarted receiver counts each of these when its next copy arrives
   * (ReliableReceiver counts a first-seen duplicate below its resumed floor too); one it
   * acknowledges without having seen a copy (delivered before the restart) is refunded then.
   */
  creditRestarted(): { bytes: number; messages: number } {
    this.#peeked = null; // chosen under the old credit: choose again
    const { bytes, messages } = this.#w.recountSent();
    return { bytes, messages };
  }
}
