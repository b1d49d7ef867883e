/**
 * Receiving side of reliable mode for one peer: a pure state machine. The node calls onItem()
 * for every reliable payload item of a decrypted frame (with the frame's r = [stream, base]),
 * emits the returned messages in order, and sends ack() when `ackNeeded`.
 *
 * - `cum` = highest seq such that every seq ≤ cum was received and delivered (message
 *   boundaries only); ack ranges list buffered seqs above cum (the lowest 32 runs).
 * - A new stream id (the sender restarted) resets the state and starts at its base; items of
 *   the few previous stream ids are ignored (late packets of an old sender).
 * - base − 1 > cum: the sender gave up on (or had acknowledged) everything below base; cum
 *   moves to base − 1 and buffered items below base are discarded (`skipped`).
 * - Refused (not buffered, not acknowledged, counted in `refused`): seq > cum +
 *   maxBufferedItems, a message with more than maxBufferedItems items or more than
 *   maxMessageBytes. Memory: at most maxBufferedBytes buffered; when full, the highest
 *   buffered seqs are evicted to make room for a lower one (lower seqs are nearer to
 *   delivery, so the message at the head always fits when maxBufferedBytes ≥ maxMessageBytes);
 *   the sender sees them missing from the next ack and retransmits them.
 * - Acknowledged means accepted by the application side: every complete message is offered
 *   to `accept` (the node: size and decompression checks, then a reader or the inbox) before
 *   cum moves past it. 'full' (no reader, inbox full) keeps the message buffered, unacknowledged,
 *   and stops delivery until pump() is called (room was made); 'refused' (decompression
 *   failed) discards it without acknowledging it, like a message over maxMessageBytes: its
 *   items are refused until the sender gives up and its base moves past them.
 * - Flow control (`credit`, delivery/flow.ts): an item is counted when first accepted (buffered
 *   or delivered at once; never a duplicate) and refused past the limits this node granted
 *   (`overCredit`: the sender ignored them; it is neither buffered nor acknowledged, so a
 *   retransmission is accepted once there is room). Counted data is released when its message
 *   reaches the application, unreceived when it leaves otherwise (skipped, evicted, refused); a
 *   new stream starts the count again.
 */
import { FLAG_FRAGMENT, MAX_ACK_RANGES } from '../wire/frame';

export interface ReliableReceiverOptions {
  /** Seqs above cum + maxBufferedItems are refused; must be ≥ the sender's window. */
  maxBufferedItems: number;
  /** Bytes buffered at most (≥ maxMessageBytes). */
  maxBufferedBytes: number;
  maxMessageBytes: number;
  /** Offered every complete message in order (default: always 'delivered'). */
  accept?: (m: ReliableMessage) => AcceptVerdict;
  /** The credit this node grants the sender (delivery/flow.ts ReceiveCredit); none: unlimited. */
  credit?: ReceiverCredit;
}

/** Flow-control bookkeeping of received data (delivery/flow.ts ReceiveCredit satisfies it). */
export interface ReceiverCredit {
  /** Counts new data; false when it goes past the granted limits (nothing counted). */
  onReceived(bytes: number, messages: number): boolean;
  onReleased(bytes: number, messages: number): void;
  onUnreceived(bytes: number, messages: number): void;
  /** A new stream: counting starts again from the initial grant. */
  reset(): void;
}

/** How a buffered item leaves the credit count: released to the application, or back to "never received". */
type Leave = 'release' | 'unreceive';

/** What the application side did with a complete message. */
export type AcceptVerdict = 'delivered' | 'full' | 'refused';

/** A message ready for the application (still compressed when flags has COMPRESSED). */
export interface ReliableMessage {
  /** The message's flags (RELIABLE, COMPRESSED), without FRAGMENT. */
  flags: number;
  data: Uint8Array;
}

/** Control ACK fields: [stream, cum, [start1, end1, …]] (inclusive ranges, at most 32). */
export type ReliableAck = [stream: number, cum: number, ranges: number[]];

interface Buffered {
  flags: number;
  data: Uint8Array;
  index?: number;
  count?: number;
}

const RETIRED_STREAMS = 8;
/** Duplicates below a resumed floor tracked for the credit (more than a sender's window never arrive). */
const MAX_RESUMED_SEEN = 1 << 17;
const isSeq = (x: number): boolean => Number.isSafeInteger(x) && x >= 1;

export class ReliableReceiver {
  readonly #maxItems: number;
  readonly #maxBytes: number;
  readonly #maxMessageBytes: number;
  #stream: number | null = null;
  readonly #retired: number[] = [];
  #cum = 0;
  readonly #buffer = new Map<number, Buffered>();
  #bytes = 0;
  /** Highest buffered seq (0 when the buffer is empty). */
  #highest = 0;
  /** A seq the last delivery attempt found missing (skip rescans until it arrives). */
  #missing = 0;
  /** The head message was refused as too large: refuse its items until cum passes this. */
  #refusedUntil = 0;
  /** The refusal up to #refusedUntil was the application side's ('refused': decompression). */
  #refusedByAccept = false;
  #rejected = 0;
  #ackNeeded = false;
  /** The head message was offered and found no room: deliver nothing until pump(). */
  #held = false;
  readonly #offer: (m: ReliableMessage) => AcceptVerdict;
  readonly #credit: ReceiverCredit | null;
  #overCredit = 0;
  /** The floor resume() started from, and the duplicates at or below it counted since (credit). */
  #resumedCum = 0;
  #resumedSeen = new Set<number>();
  #duplicates = 0;
  #refused = 0;
  #malformed = 0;
  #skipped = 0;

  constructor(opts: ReliableReceiverOptions) {
    this.#maxItems = opts.maxBufferedItems;
    this.#maxBytes = opts.maxBufferedBytes;
    this.#maxMessageBytes = opts.maxMessageBytes;
    this.#offer = opts.accept ?? ((): AcceptVerdict => 'delivered');
    this.#credit = opts.credit ?? null;
  }

  /**
   * Resumes a stream recorded before (a restart, the peer re-added): every seq ≤ cum of
   * `stream` was delivered, so its retransmissions are duplicates (acknowledged, not delivered).
   */
  resume(stream: number, cum: number): void {
    if (this.#stream !== null) return;
    this.#stream = stream;
    this.#cum = cum;
    this.#resumedCum = cum;
  }

  /** Whether a complete message waits for room (the inbox was full). */
  get held(): boolean { return this.#held; }

  /** Room was made: offers the held messages again; returns those now delivered. */
  pump(): ReliableMessage[] {
    const out: ReliableMessage[] = [];
    if (!this.#held) return out;
    this.#held = false;
    this.#deliver(out);
    return out;
  }

  get stream(): number | null { return this.#stream; }
  get cum(): number { return this.#cum; }
  /** Whether an ack should be sent (something was received since the last ack()). */
  get ackNeeded(): boolean { return this.#ackNeeded; }
  get bufferedItems(): number {
    return this.#buffer.size;
  }
  get bufferedBytes(): number { return this.#bytes; }
  /** Items received again (already delivered or buffered). */
  get duplicates(): number { return this.#duplicates; }
  /** Items refused (beyond the buffer, too large, no room). */
  get refused(): number { return this.#refused; }
  /** Items of messages the application side refused (decompression failed), incl. their retransmissions. */
  get rejected(): number { return this.#rejected; }
  /** Items with invalid fields, or of a previous stream. */
  get malformed(): number { return this.#malformed; }
  /** Buffered or arriving items discarded because the sender's base moved past them. */
  get skipped(): number { return this.#skipped; }
  /** Items refused because they went past the flow-control credit this node granted. */
  get overCredit(): number { return this.#overCredit; }

  /**
   * Processes one reliable item of a frame whose r = [stream, base]; returns the messages now
   * deliverable in order (possibly several, possibly none).
   */
  onItem(stream: number, base: number, seq: number, flags: number, data: Uint8Array, index?: number, count?: number): ReliableMessage[] {
    if (!Number.isSafeInteger(stream) || !isSeq(base) || !isSeq(seq)) {
      this.#malformed++;
      return [];
    }
    if (stream !== this.#stream) {
      if (this.#retired.includes(stream)) {
        this.#malformed++;
        return [];
      }
      if (this.#stream !== null) this.#retired.push(this.#stream);
      if (this.#retired.length > RETIRED_STREAMS) this.#retired.shift();
      this.#stream = stream;
      this.#cum = base - 1;
      this.#buffer.clear();
      this.#bytes = this.#highest = this.#missing = this.#refusedUntil = 0;
      this.#held = false;
      this.#ackNeeded = true;
      this.#resumedCum = 0;
      this.#resumedSeen.clear();
      this.#credit?.reset();
    }
    let progress = false;
    if (base - 1 > this.#cum) {
      this.#skipTo(base - 1);
      progress = true;
    }
    const out: ReliableMessage[] = [];
    const len = data.byteLength;
    const fast = seq === this.#cum + 1 && count === undefined && len <= this.#maxMessageBytes && !this.#buffer.has(seq) && !this.#held && seq > this.#refusedUntil;
    if (fast && !this.#charge(len, 1)) {
      if (progress) this.#deliver(out);
      return out;
    }
    const verdict = fast ? this.#offer({ flags: flags & ~FLAG_FRAGMENT, data }) : null;
    if (verdict === 'delivered') {
      this.#credit?.onReleased(len, 1);
      out.push({ flags: flags & ~FLAG_FRAGMENT, data }); // in order, whole: no buffering, no copy
      this.#cum = seq;
      this.#ackNeeded = true;
      progress = true;
    } else if (verdict === 'refused') {
      this.#credit?.onUnreceived(len, 1);
      this.#rejected++;
      this.#refusedUntil = seq;
      this.#refusedByAccept = true;
    } else if (verdict === 'full') {
      this.#held = this.#accept(seq, flags, data, index, count, true); // buffered, unacknowledged (SACKed only)
    } else if (this.#accept(seq, flags, data, index, count)) {
      progress = true;
    }
    if (progress) this.#deliver(out);
    return out;
  }

  /** The ack to send now (clears ackNeeded); null before any item was received. */
  ack(): ReliableAck | null {
    if (this.#stream === null) return null;
    this.#ackNeeded = false;
    const ranges: number[] = [];
    let start = 0;
    for (let seq = this.#cum + 1; seq <= this.#highest && ranges.length < 2 * MAX_ACK_RANGES; seq++) {
      const has = this.#buffer.has(seq);
      if (has && start === 0) start = seq;
      else if (!has && start !== 0) {
        ranges.push(start, seq - 1);
        start = 0;
      }
    }
    if (start !== 0 && ranges.length < 2 * MAX_ACK_RANGES) ranges.push(start, this.#highest);
    return [this.#stream, this.#cum, ranges];
  }

  /**
   * A copy of an item delivered before this receiver resumed (a restart): the sender counted
   * it toward us again (ReliableSender.creditRestarted), so it is counted — and released at
   * once — the first time it is seen.
   */
  #countResumedDuplicate(seq: number, bytes: number, index: number | undefined): void {
    if (!this.#credit || this.#resumedSeen.has(seq) || this.#resumedSeen.size >= MAX_RESUMED_SEEN) return;
    this.#resumedSeen.add(seq);
    const first = index === undefined || index === 0 ? 1 : 0;
    if (this.#credit.onReceived(bytes, first)) this.#credit.onReleased(bytes, first);
  }

  /** Counts new data against the credit; false (counted in overCredit) when it goes past it. */
  #charge(bytes: number, messages: number): boolean {
    if (!this.#credit || this.#credit.onReceived(bytes, messages)) return true;
    this.#overCredit++;
    return false;
  }

  /** Buffers an item; false when it is a duplicate or refused. `charged`: already counted against the credit. */
  #accept(seq: number, flags: number, data: Uint8Array, index: number | undefined, count: number | undefined, charged = false): boolean {
    if (seq <= this.#cum || this.#buffer.has(seq)) {
      this.#duplicates++;
      this.#ackNeeded = true;
      if (seq <= this.#resumedCum) this.#countResumedDuplicate(seq, data.byteLength, index);
      return false;
    }
    if (count !== undefined) {
      if (index === undefined || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || index < 0 || index >= count) {
        this.#malformed++;
        return false;
      }
      if (seq - index <= this.#cum) {
        this.#skipped++; // the rest of a message whose start was skipped
        return false;
      }
    }
    const len = data.byteLength;
    if (seq <= this.#refusedUntil && this.#refusedByAccept) {
      this.#rejected++;
      return false;
    }
    if (seq > this.#cum + this.#maxItems || (count ?? 1) > this.#maxItems || len > this.#maxMessageBytes || seq <= this.#refusedUntil) {
      this.#refused++;
      return false;
    }
    const first = index === undefined || index === 0 ? 1 : 0;
    if (!charged && !this.#charge(len, first)) return false;
    while (this.#bytes + len > this.#maxBytes) {
      if (this.#highest <= seq) {
        this.#credit?.onUnreceived(len, first);
        this.#refused++;
        return false;
      }
      this.#remove(this.#highest, 'unreceive');
    }
    const item: Buffered = { flags, data: new Uint8Array(data) }; // copy: never retain the datagram
    if (count !== undefined) {
      item.index = index;
      item.count = count;
    }
    this.#buffer.set(seq, item);
    this.#bytes += len;
    if (seq > this.#highest) this.#highest = seq;
    this.#ackNeeded = true;
    return true;
  }

  /** Moves messages from the buffer head to `out` while complete. */
  #deliver(out: ReliableMessage[]): void {
    while (!this.#held) {
      const head = this.#cum + 1;
      const first = this.#buffer.get(head);
      if (!first) break;
      if (first.count === undefined) {
        const m = { flags: first.flags & ~FLAG_FRAGMENT, data: first.data };
        const v = this.#offer(m);
        if (v === 'full') {
          this.#held = true;
          break;
        }
        this.#remove(head, v === 'refused' ? 'unreceive' : 'release');
        if (v === 'refused') {
          this.#rejected++;
          this.#refusedUntil = head;
          this.#refusedByAccept = true;
          break;
        }
        out.push(m);
        this.#cum = head;
        continue;
      }
      const end = head + first.count - 1;
      if (first.index !== 0 || (this.#missing > head && this.#missing <= end && !this.#buffer.has(this.#missing))) break;
      const parts: Uint8Array[] = [];
      let total = 0;
      for (let seq = head; seq <= end; seq++) {
        const p = this.#buffer.get(seq);
        if (!p) this.#missing = seq;
        if (!p || p.index !== seq - head || p.count !== first.count) break;
        parts.push(p.data);
        total += p.data.byteLength;
      }
      if (parts.length < first.count) break; // incomplete (or inconsistent: wait for base)
      if (total > this.#maxMessageBytes) {
        for (let seq = head; seq <= end; seq++) this.#remove(seq, 'unreceive');
        this.#refused += first.count;
        this.#refusedUntil = end;
        this.#refusedByAccept = false;
        break;
      }
      const data = new Uint8Array(total);
      let offset = 0;
      for (const p of parts) {
        data.set(p, offset);
        offset += p.byteLength;
      }
      const m = { flags: first.flags & ~FLAG_FRAGMENT, data };
      const v = this.#offer(m);
      if (v === 'full') {
        this.#held = true;
        break;
      }
      for (let seq = head; seq <= end; seq++) this.#remove(seq, v === 'refused' ? 'unreceive' : 'release');
      if (v === 'refused') {
        this.#rejected += first.count;
        this.#refusedUntil = end;
        this.#refusedByAccept = true;
        break;
      }
      out.push(m);
      this.#cum = end;
    }
    if (out.length > 0) this.#ackNeeded = true;
  }

  #skipTo(cum: number): void {
    for (const seq of [...this.#buffer.keys()]) {
      if (seq > cum) continue;
      this.#remove(seq, 'unreceive');
      this.#skipped++;
    }
    this.#cum = cum;
    this.#ackNeeded = true;
  }

  #remove(seq: number, leave: Leave): void {
    const it = this.#buffer.get(seq);
    if (!it) return;
    if (this.#credit) {
      const first = it.index === undefined || it.index === 0 ? 1 : 0;
      if (leave === 'release') this.#credit.onReleased(it.data.byteLength, first);
      else this.#credit.onUnreceived(it.data.byteLength, first);
    }
    this.#buffer.delete(seq);
    this.#bytes -= it.data.byteLength;
    if (this.#buffer.size === 0) this.#highest = 0;
    else if (seq === this.#highest) {
      let s = seq - 1;
      while (!this.#buffer.has(s)) s--;
      this.#highest = s;
    }
  }
}
