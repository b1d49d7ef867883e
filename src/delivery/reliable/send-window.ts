/**
 * The reliable sender's items and their counts (reliable-sender.ts): seqs [base, nextSeq) in
 * the SendRing, the lowest seq never transmitted (sendNext), and how many items are in flight,
 * queued, due for retransmission and SACKed — kept in step with the ring's state bits by the
 * mutations here (the only writers of those bits but SENT and RECOUNT).
 */
import { DUE, RECOUNT, SACKED, SENT, SendRing, type PendingMessage } from './send-ring';

/** Bytes and messages (counted at their first item) of items; `unsent`: some item never left. */
export interface ItemTotals {
  bytes: number;
  messages: number;
  unsent: boolean;
}

export class SendWindow {
  readonly ring = new SendRing();
  #nextSeq = 1;
  /** Lowest live seq, or #nextSeq (advanced as items are forgotten: reading it is a field read). */
  #base = 1;
  /** Lowest seq never transmitted. */
  #sendNext = 1;
  #inFlight = 0;
  #queued = 0;
  #due = 0;
  #sacked = 0;
  /** No item below this seq is due (where the search for the next retransmission starts). */
  #dueFrom = 1;

  get nextSeq(): number { return this.#nextSeq; }
  get sendNext(): number { return this.#sendNext; }
  get inFlight(): number { return this.#inFlight; }
  get queued(): number { return this.#queued; }
  get due(): number { return this.#due; }
  get sacked(): number { return this.#sacked; }

  /** Lowest seq neither cumulatively acknowledged nor abandoned. */
  get base(): number {
    return this.#base;
  }

  /**
   * Queues a message — one item (`data` a Uint8Array: no array per message) or its chunks in
   * order — as seqs nextSeq…; returns its last seq (the message's handle in the ring).
   */
  add(data: Uint8Array | readonly Uint8Array[], wireFlags: number): number {
    const first = this.#nextSeq;
    const ring = this.ring;
    if (data instanceof Uint8Array) {
      ring.ensure(this.base, first);
      ring.add(first, data, first, first, wireFlags);
      this.#nextSeq++;
      this.#queued++;
      return first;
    }
    const n = data.length;
    const last = first + n - 1;
    ring.ensure(this.base, last);
    for (let i = 0; i < n; i++) ring.add(first + i, data[i]!, first, last, wireFlags);
    this.#nextSeq += n;
    this.#queued += n;
    return last;
  }

  /** Item sendNext leaves for the first time. */
  firstSent(): void {
    this.#sendNext++;
    this.#inFlight++;
    this.#queued--;
  }

  /** The lowest due item, or 0. */
  nextDue(): number {
    if (this.#due === 0) return 0;
    for (let seq = Math.max(this.base, this.#dueFrom); seq < this.#sendNext; seq++) {
      if (this.ring.has(seq, DUE)) return (this.#dueFrom = seq);
    }
    return 0;
  }

  markDue(seq: number): void {
    const ring = this.ring;
    if (ring.has(seq, SACKED)) {
      ring.unset(seq, SACKED);
      this.#sacked--;
    }
    if (!ring.has(seq, DUE)) {
      ring.set(seq, DUE);
      this.#due++;
      if (seq < this.#dueFrom) this.#dueFrom = seq;
    }
  }

  clearDue(seq: number): void {
    if (!this.ring.has(seq, DUE)) return;
    this.ring.unset(seq, DUE);
    this.#due--;
  }

  /**
   * A transmission (first or again) of held item seq: stamped sent, no longer due, and no longer
   * RECOUNT (a restarted receiver counts this copy: as new, or as a first-seen duplicate).
   */
  transmit(seq: number, nowMs: number, txOrder: number, rtoAtMs: number): void {
    const ring = this.ring;
    if (ring.has(seq, DUE)) this.#due--;
    ring.unset(seq, RECOUNT | DUE);
    ring.transmitted(seq, nowMs, txOrder, rtoAtMs);
  }

  /** A held, not yet SACKed item was selectively acknowledged. */
  sack(seq: number): void {
    this.ring.set(seq, SACKED);
    this.#sacked++;
    this.clearDue(seq);
  }

  /** Removes a held item (acked or abandoned); `st`: its state bits, when the caller read them. */
  forget(seq: number, st = this.ring.state(seq)): void {
    if ((st & SENT) !== 0) this.#inFlight--;
    else this.#queued--;
    if ((st & SACKED) !== 0) this.#sacked--;
    if ((st & DUE) !== 0) this.#due--;
    const ring = this.ring;
    ring.remove(seq);
    if (seq !== this.#base) return;
    let base = seq + 1;
    while (base < this.#nextSeq && !ring.live(base)) base++;
    this.#base = base;
  }

  /** Moves sendNext past abandoned seqs. */
  skipAbandoned(): void {
    while (this.#sendNext < this.#nextSeq && !this.ring.live(this.#sendNext)) this.#sendNext++;
  }

  /** Forgets every item: nothing in flight or queued, base = sendNext = nextSeq. */
  clear(): void {
    this.ring.clear(this.base, this.#nextSeq);
    this.#inFlight = this.#due = this.#sacked = this.#queued = 0;
    this.#sendNext = this.#base = this.#nextSeq;
  }

  /** SACKed items inside the range the ack reports but absent from it (the receiver dropped them) become due. */
  detectReneging(pairs: Array<[number, number]>, truncated: boolean, highestSent: number): void {
    const ring = this.ring;
    const limit = truncated && pairs.length > 0 ? pairs[pairs.length - 1]![1] : highestSent;
    let k = 0;
    for (let seq = this.base; seq < this.#sendNext && seq <= limit; seq++) {
      if (!ring.live(seq) || !ring.has(seq, SACKED)) continue;
      while (k < pairs.length && pairs[k]![1] < seq) k++;
      if (k >= pairs.length || pairs[k]![0] > seq) this.markDue(seq);
    }
  }

  /** 1 when seq is its message's first item (a message counts against the credit once), else 0. */
  startsMessage(seq: number): number {
    return this.ring.first(seq) === seq ? 1 : 0;
  }

  /**
   * Fast retransmit: marks due the items sent more than `threshold` transmissions before
   * `deliveredTx` (neither SACKed nor due already). Items in seq order were first sent in txOrder
   * order, so the scan stops at the first once-sent item too recent to count as lost.
   */
  markReordered(deliveredTx: number, threshold: number): void {
    const ring = this.ring;
    for (let seq = this.base; seq < this.#sendNext; seq++) {
      if (!ring.live(seq)) continue;
      if (ring.txOrder(seq) + threshold > deliveredTx) {
        if (ring.transmissions(seq) === 1) break;
        continue;
      }
      if (!ring.has(seq, SACKED | DUE)) this.markDue(seq);
    }
  }

  /** Marks due the sent items whose retransmission time passed; true when one belongs to a new RTO round (`newRound` of its send time). */
  markTimedOut(nowMs: number, newRound: (sentAtMs: number) => boolean): boolean {
    const ring = this.ring;
    let backoff = false;
    for (let seq = this.base; seq < this.#sendNext; seq++) {
      if (!ring.live(seq) || ring.has(seq, SACKED | DUE) || ring.rtoAt(seq) > nowMs) continue;
      this.markDue(seq);
      if (newRound(ring.sentAt(seq))) backoff = true;
    }
    return backoff;
  }

  /** The earliest retransmission time of an item waiting for one, if before `d`; else d. */
  earliestRto(d: number): number {
    const ring = this.ring;
    for (let seq = this.base; seq < this.#sendNext; seq++) {
      if (ring.live(seq) && !ring.has(seq, SACKED | DUE) && ring.rtoAt(seq) < d) d = ring.rtoAt(seq);
    }
    return d;
  }

  /** The unsettled messages (last item held), in seq order, read out before the ring forgets them. */
  unsettledMessages(): PendingMessage[] {
    const out: PendingMessage[] = [];
    const ring = this.ring;
    for (let seq = this.base; seq < this.#nextSeq; seq++) {
      if (ring.live(seq) && ring.last(seq) === seq) out.push({ firstSeq: ring.first(seq), lastSeq: seq, timeoutMs: ring.timeout(seq), reject: ring.rejecter(seq) });
    }
    return out;
  }

  /** What of the held items of message [first, last] was transmitted (to refund when it is abandoned). */
  sentOf(first: number, last: number): ItemTotals {
    const t: ItemTotals = { bytes: 0, messages: 0, unsent: false };
    for (let seq = first; seq <= last; seq++) {
      if (!this.ring.live(seq)) continue;
      if (!this.ring.has(seq, SENT)) {
        t.unsent = true;
        continue;
      }
      t.bytes += this.ring.data(seq).byteLength;
      t.messages += this.startsMessage(seq);
    }
    return t;
  }

  /** Marks every transmitted item RECOUNT (the receiver restarted) and totals them. */
  recountSent(): ItemTotals {
    const t: ItemTotals = { bytes: 0, messages: 0, unsent: false };
    for (let seq = this.base; seq < this.#sendNext; seq++) {
      if (!this.ring.has(seq, SENT)) continue;
      this.ring.set(seq, RECOUNT);
      t.bytes += this.ring.data(seq).byteLength;
      t.messages += this.startsMessage(seq);
    }
    return t;
  }
}
