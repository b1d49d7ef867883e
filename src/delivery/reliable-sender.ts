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
import { FLAG_FRAGMENT, FLAG_RELIABLE, MAX_ACK_RANGES } from '../wire/frame';

export const RTO_INITIAL_MS = 200;
export const RTO_MIN_MS = 100;
export const RTO_MAX_MS = 5_000;
/** Backstop RTO floor when packet-level loss detection does the retransmitting. */
export const PACKET_MODE_RTO_MIN_MS = 1_000;
/** An item is presumed lost when one sent this many transmissions later was acknowledged. */
export const REORDER_THRESHOLD = 3;
const CLOCK_GRANULARITY_MS = 1;

/** One item to put in a frame: [flags, data, seq] or [flags, data, seq, index, count]. */
export interface ReliableItem {
  seq: number;
  /** Wire flags: the message's flags | RELIABLE (| FRAGMENT when index/count are present). */
  flags: number;
  data: Uint8Array;
  index?: number;
  count?: number;
}

export interface ReliableSenderOptions {
  clock: Clock;
  /** Random u32 identifying this sender instance (new on every start). */
  stream: number;
  /** Maximum seq span in flight (≥ fragments of the largest message). */
  window: number;
  rtoInitialMs?: number;
  rtoMinMs?: number;
  rtoMaxMs?: number;
  /** Loss is detected at the packet level (requeue()): no fast retransmit. */
  packetLoss?: boolean;
  /** The peer's flow-control credit (first transmissions only); none: unlimited. */
  credit?: SenderCredit;
}

/** The flow-control gate for first transmissions (delivery/flow.ts SendCredit satisfies it). */
export interface SenderCredit {
  /** Waiting for credit now. */
  readonly blocked: boolean;
  /** Whether `bytes` of new data starting `messages` new messages fit (marks it blocked if not). */
  canSend(bytes: number, messages: number): boolean;
  onSent(bytes: number, messages: number): void;
  refund(bytes: number, messages: number): void;
}

interface Message {
  settled: boolean;
  readonly lastSeq: number;
  readonly firstSeq: number;
  readonly deadlineMs: number;
  readonly timeoutMs: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

interface Item extends ReliableItem {
  transmissions: number;
  sentAtMs: number;
  txOrder: number;
  rtoAtMs: number;
  sacked: boolean;
  due: boolean;
  /** Counted in the credit of a restarted receiver that has not seen it (see creditRestarted). */
  recount?: boolean;
}

export class ReliableSender {
  readonly #clock: Clock;
  readonly #stream: number;
  readonly #window: number;
  readonly #rtoMinMs: number;
  readonly #rtoMaxMs: number;
  readonly #packetLoss: boolean;
  readonly #credit: SenderCredit | null;
  /** Items neither cumulatively acked nor abandoned, in seq order. */
  readonly #items = new Map<number, Item>();
  /** Unsettled messages by last seq, in seq order. */
  readonly #messages = new Map<number, Message>();
  #nextSeq = 1;
  /** Lowest seq in #items, or #nextSeq (advanced lazily). */
  #base = 1;
  /** Lowest seq never transmitted. */
  #sendNext = 1;
  #cumAcked = 0;
  #inFlight = 0;
  #due = 0;
  #sacked = 0;
  #txCounter = 0;
  #highestDeliveredTx = 0;
  #retransmissions = 0;
  #srttMs: number | null = null;
  #rttvarMs = 0;
  #rtoMs: number;
  #lastBackoffAtMs = -Infinity;
  /** Messages by deadline (settled ones are skipped lazily from #deadlineHead). */
  #byDeadline: Message[] = [];
  #deadlineHead = 0;

  constructor(opts: ReliableSenderOptions) {
    if (!Number.isSafeInteger(opts.window) || opts.window < 1) throw new BadInputError('ERR_BAD_ARGUMENT', 'window must be a positive integer');
    this.#clock = opts.clock;
    this.#stream = opts.stream;
    this.#window = opts.window;
    this.#packetLoss = opts.packetLoss ?? false;
    this.#credit = opts.credit ?? null;
    this.#rtoMinMs = opts.rtoMinMs ?? (this.#packetLoss ? PACKET_MODE_RTO_MIN_MS : RTO_MIN_MS);
    this.#rtoMaxMs = Math.max(this.#rtoMinMs, opts.rtoMaxMs ?? RTO_MAX_MS);
    this.#rtoMs = this.#clampRto(opts.rtoInitialMs ?? RTO_INITIAL_MS);
  }

  get stream(): number { return this.#stream; }
  get window(): number { return this.#window; }
  /** Lowest seq not cumulatively acknowledged nor abandoned (the frame's `base`). */
  get base(): number {
    while (this.#base < this.#nextSeq && !this.#items.has(this.#base)) this.#base++;
    return this.#base;
  }
  /** Smoothed RTT, null before the first sample. */
  get rttMs(): number | null { return this.#srttMs; }
  /** Current retransmission timeout (with backoff). */
  get rtoMs(): number { return this.#rtoMs; }
  /** Items transmitted and not yet cumulatively acknowledged nor abandoned. */
  get inFlight(): number { return this.#inFlight; }
  /** Items never transmitted yet. */
  get queued(): number { return this.#items.size - this.#inFlight; }
  /** Messages whose push() has not settled. */
  get pendingMessages(): number { return this.#messages.size; }
  /** Item retransmissions so far. */
  get retransmissions(): number { return this.#retransmissions; }

  /**
   * Queues one message (its chunks, in order) with the message flags (e.g. COMPRESSED).
   * Resolves when the cumulative ack covers its last seq; rejects with ERR_NOT_ACKNOWLEDGED
   * at `deadlineMs` (monotonic clock).
   */
  push(chunks: readonly Uint8Array[], flags: number, deadlineMs: number): Promise<void> {
    const n = chunks.length;
    if (n === 0) return Promise.reject(new BadInputError('ERR_BAD_ARGUMENT', 'a reliable message needs at least one chunk'));
    if (n > this.#window) {
      return Promise.reject(new DeliveryError('ERR_TOO_LARGE', `message needs ${n} fragments, more than the reliable window (${this.#window})`));
    }
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<void>((res, rej) => ([resolve, reject] = [res, rej]));
    const firstSeq = this.#nextSeq;
    const msg: Message = { settled: false, firstSeq, lastSeq: firstSeq + n - 1, deadlineMs, timeoutMs: Math.max(0, Math.round(deadlineMs - this.#clock.monotonic())), resolve, reject };
    const wireFlags = (flags & ~(FLAG_RELIABLE | FLAG_FRAGMENT)) | FLAG_RELIABLE | (n > 1 ? FLAG_FRAGMENT : 0);
    for (let i = 0; i < n; i++) {
      const item: Item = { seq: firstSeq + i, flags: wireFlags, data: chunks[i]!, transmissions: 0, sentAtMs: -1, txOrder: 0, rtoAtMs: Infinity, sacked: false, due: false };
      if (n > 1) Object.assign(item, { index: i, count: n });
      this.#items.set(item.seq, item);
    }
    this.#nextSeq += n;
    this.#messages.set(msg.lastSeq, msg);
    let at = this.#byDeadline.length; // sorted insert; usually an append
    while (at > this.#deadlineHead && this.#byDeadline[at - 1]!.deadlineMs > deadlineMs) at--;
    this.#byDeadline.splice(at, 0, msg);
    return promise;
  }

  /** Whether take() would return items now. */
  hasWork(): boolean {
    return this.#due > 0 || (this.#sendNext < this.#nextSeq && this.#sendNext < this.base + this.#window && this.#creditAllows(this.#items.get(this.#sendNext)));
  }

  /** Items to transmit now: due retransmissions first (seq order), then new items within the window. */
  take(maxItems: number): ReliableItem[] {
    const out: ReliableItem[] = [];
    const now = this.#clock.monotonic();
    for (let seq = this.base; this.#due > 0 && out.length < maxItems && seq < this.#sendNext; seq++) {
      const it = this.#items.get(seq);
      if (!it?.due) continue;
      this.#retransmissions++;
      out.push(this.#transmit(it, now));
    }
    const limit = this.base + this.#window;
    while (out.length < maxItems && this.#sendNext < this.#nextSeq && this.#sendNext < limit) {
      const it = this.#items.get(this.#sendNext);
      if (it && !this.#takeCredit(it)) break; // out of credit: wait for the receiver's next ack
      this.#sendNext++;
      if (!it) continue; // abandoned before it was ever sent
      this.#inFlight++;
      out.push(this.#transmit(it, now));
    }
    this.#skipAbandoned();
    return out;
  }

  /** Processes an ack [stream, cum, ranges] from the receiver; acks of other streams are ignored. */
  onAck(stream: number, cum: number, ranges: readonly number[]): void {
    if (stream !== this.#stream || !Number.isSafeInteger(cum)) return;
    const now = this.#clock.monotonic();
    const highestSent = this.#sendNext - 1;
    let sampleSentAtMs = -1;
    let deliveredTx = 0;
    const observe = (it: Item): void => {
      if (it.transmissions === 1 && it.sentAtMs > sampleSentAtMs) sampleSentAtMs = it.sentAtMs;
      if (it.txOrder > deliveredTx) deliveredTx = it.txOrder;
    };
    const c = Math.min(cum, highestSent);
    const fresh = cum >= this.#cumAcked;
    if (c > this.#cumAcked) {
      for (let seq = Math.max(this.#cumAcked + 1, this.base); seq <= c; seq++) {
        const it = this.#items.get(seq);
        if (!it) continue;
        if (it.recount) this.#credit?.refund(it.data.byteLength, startsMessage(it)); // delivered before the restart: never counted there
        if (!it.sacked) observe(it);
        this.#forget(it);
        const m = this.#messages.get(seq);
        if (m) {
          this.#settle(m);
          m.resolve();
        }
      }
      this.#cumAcked = c;
    }
    const pairs = sanitizeRanges(ranges, this.base, highestSent);
    for (const [s, e] of pairs) {
      for (let seq = s; seq <= e; seq++) {
        const it = this.#items.get(seq);
        if (!it || it.sacked) continue;
        observe(it);
        it.sacked = true;
        this.#sacked++;
        this.#clearDue(it);
      }
    }
    if (fresh && this.#sacked > 0) this.#detectReneging(pairs, ranges.length >= 2 * MAX_ACK_RANGES, highestSent);
    if (sampleSentAtMs >= 0) this.#rttSample(now - sampleSentAtMs);
    if (deliveredTx > this.#highestDeliveredTx && !this.#packetLoss) {
      this.#highestDeliveredTx = deliveredTx;
      // Fast retransmit. Items in seq order were first sent in txOrder order, so the scan stops
      // at the first once-sent item too recent to count as lost (O(candidates), not O(window)).
      for (const it of this.#inFlightItems()) {
        if (it.txOrder + REORDER_THRESHOLD > deliveredTx) {
          if (it.transmissions === 1) break;
          continue;
        }
        if (!it.sacked && !it.due) this.#markDue(it);
      }
    }
    this.#announceBase();
  }

  /**
   * The packet carrying item `seq` was declared lost: send it again (unless it was acknowledged,
   * abandoned, never sent, or is already due). Returns whether it was requeued.
   */
  requeue(seq: number): boolean {
    const it = this.#items.get(seq);
    if (!it || it.transmissions === 0 || it.sacked || it.due) return false;
    this.#markDue(it);
    return true;
  }

  /** The item take(1) would return next (not marked sent), or null: nothing to send. */
  peek(): Readonly<ReliableItem> | null {
    if (this.#due > 0) {
      for (let seq = this.base; seq < this.#sendNext; seq++) {
        const it = this.#items.get(seq);
        if (it?.due) return it;
      }
    }
    const limit = this.base + this.#window;
    for (let seq = this.#sendNext; seq < this.#nextSeq && seq < limit; seq++) {
      const it = this.#items.get(seq);
      if (it) return this.#creditAllows(it) ? it : null;
    }
    return null;
  }

  /** Call at/after nextDeadline(): fails expired messages, marks timed-out items for retransmission. */
  tick(): void {
    const now = this.#clock.monotonic();
    for (let m = this.#firstByDeadline(); m && m.deadlineMs <= now; m = this.#firstByDeadline()) this.#abandon(m);
    this.#skipAbandoned();
    this.#announceBase();
    let backoff = false;
    for (const it of this.#inFlightItems()) {
      if (it.sacked || it.due || it.rtoAtMs > now) continue;
      this.#markDue(it);
      if (it.sentAtMs >= this.#lastBackoffAtMs) backoff = true;
    }
    if (backoff) {
      this.#rtoMs = Math.min(this.#rtoMs * 2, this.#rtoMaxMs);
      this.#lastBackoffAtMs = now;
    }
  }

  /** Monotonic time at which tick() has something to do, or null (nothing pending). */
  nextDeadline(): number | null {
    let d = this.#firstByDeadline()?.deadlineMs ?? Infinity;
    for (const it of this.#inFlightItems()) {
      if (!it.sacked && !it.due && it.rtoAtMs < d) d = it.rtoAtMs;
    }
    return d === Infinity ? null : d;
  }

  /**
   * Rejects every pending message and abandons all their seqs: with `err`, or — when given —
   * with `unsentErr` those of which no item was ever transmitted (never delivered, where `err`
   * may mean "outcome unknown").
   */
  failAll(err: Error, unsentErr?: Error): void {
    const messages = [...this.#messages.values()];
    const sentBelow = this.#sendNext;
    this.#items.clear();
    this.#messages.clear();
    this.#inFlight = this.#due = this.#sacked = 0;
    this.#sendNext = this.#nextSeq;
    this.#byDeadline = [];
    this.#deadlineHead = 0;
    for (const m of messages) m.reject(unsentErr && m.firstSeq >= sentBelow ? unsentErr : err);
  }

  /** Transmitted items not yet acked nor abandoned, in seq order (span < window). */
  *#inFlightItems(): Generator<Item> {
    for (let seq = this.base; seq < this.#sendNext; seq++) {
      const it = this.#items.get(seq);
      if (it) yield it;
    }
  }

  /** The unsettled message with the earliest deadline. */
  #firstByDeadline(): Message | undefined {
    const q = this.#byDeadline;
    while (this.#deadlineHead < q.length && q[this.#deadlineHead]!.settled) this.#deadlineHead++;
    if (this.#deadlineHead > 1024 && this.#deadlineHead * 2 > q.length) {
      this.#byDeadline = q.slice(this.#deadlineHead).filter((m) => !m.settled);
      this.#deadlineHead = 0;
    }
    return this.#byDeadline[this.#deadlineHead];
  }

  /**
   * When base is above what the receiver acknowledged (seqs were abandoned), some item must
   * carry the new base to it even if everything in flight was SACKed: resend the item at base
   * (its retransmission timer then repeats it until acknowledged).
   */
  #announceBase(): void {
    const first = this.#items.get(this.base);
    if (this.base > this.#cumAcked + 1 && first?.sacked) this.#markDue(first);
  }

  #transmit(it: Item, now: number): ReliableItem {
    it.recount = false; // the restarted receiver counts this copy (as new, or as a first-seen duplicate)
    it.transmissions++;
    it.sentAtMs = now;
    it.txOrder = ++this.#txCounter;
    it.rtoAtMs = now + this.#rtoMs;
    this.#clearDue(it);
    const { seq, flags, data, index, count } = it;
    return count === undefined ? { seq, flags, data } : { seq, flags, data, index, count };
  }

  #markDue(it: Item): void {
    if (it.sacked) {
      it.sacked = false;
      this.#sacked--;
    }
    it.due = true;
    this.#due++;
  }

  #clearDue(it: Item): void {
    if (it.due) this.#due--;
    it.due = false;
  }

  /** Removes an item (acked or abandoned). */
  #forget(it: Item): void {
    this.#items.delete(it.seq);
    if (it.transmissions > 0) this.#inFlight--;
    if (it.sacked) this.#sacked--;
    if (it.due) this.#due--;
  }

  #settle(m: Message): void {
    this.#messages.delete(m.lastSeq);
    m.settled = true;
  }

  #abandon(m: Message): void {
    const unsent = this.#refund(m);
    for (let seq = m.firstSeq; seq <= m.lastSeq; seq++) {
      const it = this.#items.get(seq);
      if (it) this.#forget(it);
    }
    this.#settle(m);
    if (unsent && this.#credit?.blocked) {
      m.reject(new DeliveryError('ERR_FLOW_CONTROL', `not sent within ${m.timeoutMs} ms: the peer granted no flow-control credit (its inbox is full)`));
      return;
    }
    m.reject(new DeliveryError('ERR_NOT_ACKNOWLEDGED', `not acknowledged within ${m.timeoutMs} ms`));
  }

  /** Whether flow control lets item `it` go now (always for a retransmission or an abandoned seq). */
  #creditAllows(it: Item | undefined): boolean {
    if (!this.#credit || !it || it.transmissions > 0) return true;
    return this.#credit.canSend(it.data.byteLength, startsMessage(it));
  }

  /** Charges a first transmission of `it` to the credit; false (nothing charged) when it does not fit. */
  #takeCredit(it: Item): boolean {
    if (!this.#credit || it.transmissions > 0) return true;
    const bytes = it.data.byteLength;
    const messages = startsMessage(it);
    if (!this.#credit.canSend(bytes, messages)) return false;
    this.#credit.onSent(bytes, messages);
    return true;
  }

  /** Refunds the transmitted, unacknowledged items of an abandoned message; true when some item never left. */
  #refund(m: Message): boolean {
    let bytes = 0;
    let messages = 0;
    let unsent = false;
    for (let seq = m.firstSeq; seq <= m.lastSeq; seq++) {
      const it = this.#items.get(seq);
      if (!it) continue;
      if (it.transmissions === 0) {
        unsent = true;
        continue;
      }
      bytes += it.data.byteLength;
      messages += startsMessage(it);
    }
    if (this.#credit && (bytes > 0 || messages > 0)) this.#credit.refund(bytes, messages);
    return unsent;
  }

  /**
   * The receiver restarted (its credit counts from zero): returns what was transmitted and is
   * not cumulatively acknowledged — bytes, and messages whose first item left — to count as
   * sent toward it. The restarted receiver counts each of these when its next copy arrives
   * (ReliableReceiver counts a first-seen duplicate below its resumed floor too); one it
   * acknowledges without having seen a copy (delivered before the restart) is refunded then.
   */
  creditRestarted(): { bytes: number; messages: number } {
    let bytes = 0;
    let messages = 0;
    for (const it of this.#inFlightItems()) {
      if (it.transmissions === 0) continue;
      it.recount = true;
      bytes += it.data.byteLength;
      messages += startsMessage(it);
    }
    return { bytes, messages };
  }

  #skipAbandoned(): void {
    while (this.#sendNext < this.#nextSeq && !this.#items.has(this.#sendNext)) this.#sendNext++;
  }

  /** SACKed items inside the range the ack reports but absent from it: the receiver dropped them. */
  #detectReneging(pairs: Array<[number, number]>, truncated: boolean, highestSent: number): void {
    const limit = truncated && pairs.length > 0 ? pairs[pairs.length - 1]![1] : highestSent;
    let k = 0;
    for (const it of this.#inFlightItems()) {
      if (it.seq > limit) break;
      if (!it.sacked) continue;
      while (k < pairs.length && pairs[k]![1] < it.seq) k++;
      if (k >= pairs.length || pairs[k]![0] > it.seq) this.#markDue(it);
    }
  }

  #rttSample(r: number): void {
    if (this.#srttMs === null) {
      this.#srttMs = r;
      this.#rttvarMs = r / 2;
    } else {
      this.#rttvarMs = 0.75 * this.#rttvarMs + 0.25 * Math.abs(this.#srttMs - r);
      this.#srttMs = 0.875 * this.#srttMs + 0.125 * r;
    }
    this.#rtoMs = this.#clampRto(this.#srttMs + Math.max(CLOCK_GRANULARITY_MS, 4 * this.#rttvarMs));
  }

  #clampRto(ms: number): number {
    return Math.min(this.#rtoMaxMs, Math.max(this.#rtoMinMs, ms));
  }
}

/** 1 when the item is a message's first (a message counts against the credit once), else 0. */
const startsMessage = (it: ReliableItem): number => (it.index === undefined || it.index === 0 ? 1 : 0);

/** Valid ranges clamped to [lo, hi], sorted by start (at most MAX_ACK_RANGES are read). */
function sanitizeRanges(flat: readonly number[], lo: number, hi: number): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  const n = Math.min(flat.length >> 1, MAX_ACK_RANGES);
  for (let k = 0; k < n; k++) {
    const [s, e] = [flat[2 * k]!, flat[2 * k + 1]!];
    const [a, b] = [Math.max(s, lo), Math.min(e, hi)];
    if (Number.isSafeInteger(s) && Number.isSafeInteger(e) && a <= b) pairs.push([a, b]);
  }
  return pairs.sort((x, y) => x[0] - y[0]);
}
