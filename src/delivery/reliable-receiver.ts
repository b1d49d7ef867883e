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
 * - Storage (delivery/reliable/receive-store.ts, receive-ring.ts): a ring indexed by seq; a fragmented message is
 *   written, fragment by fragment, into one buffer of its size and delivered as a view of it
 *   (each fragment copied once). Its fragments must have one length but the last's (1…that
 *   length), as fragment() cuts them; others are malformed.
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
import { MAX_ACK_RANGES } from '../wire/frame';
import { Assembly, messageFlags, type WholeItem } from './reliable/receive-ring';
import { ReceiveStore } from './reliable/receive-store';
import type { AcceptVerdict, ReliableAck, ReliableMessage, ReliableReceiverOptions } from './reliable/receiver-types';

export type { AcceptVerdict, ReceiverCredit, ReliableAck, ReliableMessage, ReliableReceiverOptions } from './reliable/receiver-types';

const RETIRED_STREAMS = 8;
const isSeq = (x: number): boolean => Number.isSafeInteger(x) && x >= 1;
const NONE: readonly ReliableMessage[] = Object.freeze([]);
/** Adds m to a list that is NONE or one made here (mutable). */
function append(out: readonly ReliableMessage[], m: ReliableMessage): readonly ReliableMessage[] {
  if (out === NONE) return [m];
  (out as ReliableMessage[]).push(m);
  return out;
}

export class ReliableReceiver {
  readonly #maxItems: number;
  readonly #maxMessageBytes: number;
  #stream: number | null = null;
  readonly #retired: number[] = [];
  #cum = 0;
  /** Buffered items, their credit and the counters (duplicates, refused, rejected, malformed, skipped). */
  readonly #store: ReceiveStore;
  readonly #ring: ReceiveStore['ring'];
  readonly #counts: ReceiveStore['counts'];
  readonly #credit: ReceiveStore['credit'];
  /** The head message was refused as too large: refuse its items until cum passes this. */
  #refusedUntil = 0;
  /** The refusal up to #refusedUntil was the application side's ('refused': decompression). */
  #refusedByAccept = false;
  #ackNeeded = false;
  /** The head message was offered and found no room: deliver nothing until pump(). */
  #held = false;
  readonly #offer: (flags: number, data: Uint8Array) => AcceptVerdict;
  /** Whether delivered messages are returned (options.collect). */
  readonly #collect: boolean;

  constructor(opts: ReliableReceiverOptions) {
    this.#maxItems = opts.maxBufferedItems;
    this.#maxMessageBytes = opts.maxMessageBytes;
    this.#offer = opts.accept ?? ((): AcceptVerdict => 'delivered');
    this.#collect = opts.collect ?? true;
    this.#store = new ReceiveStore(opts.credit ?? null, opts.maxBufferedBytes, opts.maxMessageBytes);
    this.#ring = this.#store.ring;
    this.#counts = this.#store.counts;
    this.#credit = this.#store.credit;
  }

  /**
   * Resumes a stream recorded before (a restart, the peer re-added): every seq ≤ cum of
   * `stream` was delivered, so its retransmissions are duplicates (acknowledged, not delivered).
   */
  resume(stream: number, cum: number): void {
    if (this.#stream !== null) return;
    this.#stream = stream;
    this.#cum = cum;
    this.#credit.resume(cum);
  }

  /** Whether a complete message waits for room (the inbox was full). */
  get held(): boolean { return this.#held; }

  /** Room was made: offers the held messages again; returns those now delivered. */
  pump(): readonly ReliableMessage[] {
    if (!this.#held) return NONE;
    this.#held = false;
    return this.#deliver(NONE);
  }

  get stream(): number | null { return this.#stream; }
  get cum(): number { return this.#cum; }
  /** Whether an ack should be sent (something was received since the last ack()). */
  get ackNeeded(): boolean { return this.#ackNeeded; }
  get bufferedItems(): number { return this.#ring.items; }
  get bufferedBytes(): number { return this.#ring.bytes; }
  /** Items received again (already delivered or buffered). */
  get duplicates(): number { return this.#counts.duplicates; }
  /** Items refused (beyond the buffer, too large, no room). */
  get refused(): number { return this.#counts.refused; }
  /** Items of messages the application side refused (decompression failed), incl. their retransmissions. */
  get rejected(): number { return this.#counts.rejected; }
  /** Items with invalid fields, or of a previous stream. */
  get malformed(): number { return this.#counts.malformed; }
  /** Buffered or arriving items discarded because the sender's base moved past them. */
  get skipped(): number { return this.#counts.skipped; }
  /** Items refused because they went past the flow-control credit this node granted. */
  get overCredit(): number { return this.#credit.overCredit; }

  /**
   * Processes one reliable item of a frame whose r = [stream, base]; returns the messages now
   * deliverable in order (possibly several, possibly none).
   */
  onItem(stream: number, base: number, seq: number, flags: number, data: Uint8Array, index?: number, count?: number): readonly ReliableMessage[] {
    if (!Number.isSafeInteger(stream) || !isSeq(base) || !isSeq(seq)) {
      this.#counts.malformed++;
      return NONE;
    }
    if (stream !== this.#stream) {
      if (this.#retired.includes(stream)) {
        this.#counts.malformed++;
        return NONE;
      }
      if (this.#stream !== null) this.#retired.push(this.#stream);
      if (this.#retired.length > RETIRED_STREAMS) this.#retired.shift();
      this.#stream = stream;
      this.#cum = base - 1;
      this.#ring.clear();
      this.#refusedUntil = 0;
      this.#held = false;
      this.#ackNeeded = true;
      this.#credit.reset();
    }
    let progress = false;
    if (base - 1 > this.#cum) {
      this.#skipTo(base - 1);
      progress = true;
    }
    const len = data.byteLength;
    const fast = seq === this.#cum + 1 && count === undefined && len <= this.#maxMessageBytes && !this.#held && seq > this.#refusedUntil && this.#ring.get(seq) === undefined;
    if (fast && !this.#credit.charge(len, 1)) return progress ? this.#deliver(NONE) : NONE;
    const verdict = fast ? this.#offer(messageFlags(flags), data) : null; // no message object per item
    let out = NONE;
    if (verdict === 'delivered') {
      this.#credit.release(len, 1);
      if (this.#collect) out = [{ flags: messageFlags(flags), data }]; // in order, whole: no buffering, no copy
      this.#cum = seq;
      this.#ackNeeded = true;
      progress = true;
    } else if (verdict === 'refused') {
      this.#credit.unreceive(len, 1);
      this.#counts.rejected++;
      this.#refusedUntil = seq;
      this.#refusedByAccept = true;
    } else if (verdict === 'full') {
      this.#held = this.#accept(seq, flags, data, index, count, true); // buffered, unacknowledged (SACKed only)
    } else if (this.#accept(seq, flags, data, index, count)) {
      progress = true;
    }
    return progress && this.#ring.items > 0 ? this.#deliver(out) : out; // nothing buffered (in order): nothing more to deliver
  }

  /** The ack to send now (clears ackNeeded); null before any item was received. */
  ack(): ReliableAck | null {
    if (this.#stream === null) return null;
    this.#ackNeeded = false;
    return [this.#stream, this.#cum, this.#ring.ranges(this.#cum, MAX_ACK_RANGES)];
  }

  /** Buffers an item; false when it is a duplicate or refused. `charged`: already counted against the credit. */
  #accept(seq: number, flags: number, data: Uint8Array, index: number | undefined, count: number | undefined, charged = false): boolean {
    const ring = this.#ring;
    if (seq <= this.#cum || ring.has(seq)) {
      this.#counts.duplicates++;
      this.#ackNeeded = true;
      this.#credit.countResumedDuplicate(seq, data.byteLength, index);
      return false;
    }
    if (count !== undefined) {
      if (index === undefined || !Number.isSafeInteger(index) || !Number.isSafeInteger(count) || index < 0 || index >= count) {
        this.#counts.malformed++;
        return false;
      }
      if (seq - index <= this.#cum) {
        this.#counts.skipped++; // the rest of a message whose start was skipped
        return false;
      }
    }
    const len = data.byteLength;
    if (seq <= this.#refusedUntil && this.#refusedByAccept) {
      this.#counts.rejected++;
      return false;
    }
    if (seq > this.#cum + this.#maxItems || (count ?? 1) > this.#maxItems || len > this.#maxMessageBytes || seq <= this.#refusedUntil) {
      this.#counts.refused++;
      return false;
    }
    const store = this.#store;
    if (count === undefined ? !store.putWhole(this.#cum, seq, flags, data, charged) : !store.addFragment(this.#cum, seq, flags, data, index!, count)) return false;
    this.#ackNeeded = true;
    return true;
  }

  /** Moves messages from the buffer head to `out` while complete; returns `out` (a new array once anything is added). */
  #deliver(given: readonly ReliableMessage[]): readonly ReliableMessage[] {
    const ring = this.#ring;
    let out = given;
    while (!this.#held) {
      const head = this.#cum + 1;
      const slot = ring.get(head);
      if (slot === undefined) break;
      if (!(slot instanceof Assembly)) {
        if (!ring.has(head)) break;
        const w: WholeItem = slot;
        const v = this.#offer(messageFlags(w.flags), w.data);
        if (v === 'full') {
          this.#held = true;
          break;
        }
        this.#store.remove(head, v === 'refused' ? 'unreceive' : 'release');
        if (v === 'refused') {
          this.#refuse(head, 1, true);
          break;
        }
        if (this.#collect) out = append(out, { flags: messageFlags(w.flags), data: w.data });
        this.#cum = head;
        this.#ackNeeded = true;
        continue;
      }
      if (slot.firstSeq !== head || !slot.complete) break;
      const end = slot.lastSeq;
      if (slot.oversize || slot.total > this.#maxMessageBytes) {
        this.#store.remove(head, 'unreceive');
        this.#counts.refused += slot.count;
        this.#refusedUntil = end;
        this.#refusedByAccept = false;
        break;
      }
      const data = slot.message();
      const v = this.#offer(slot.flags, data);
      if (v === 'full') {
        this.#held = true;
        break;
      }
      this.#store.remove(head, v === 'refused' ? 'unreceive' : 'release');
      if (v === 'refused') {
        this.#refuse(end, slot.count, true);
        break;
      }
      if (this.#collect) out = append(out, { flags: slot.flags, data });
      this.#cum = end;
      this.#ackNeeded = true;
    }
    return out;
  }

  #refuse(until: number, items: number, byAccept: boolean): void {
    this.#counts.rejected += items;
    this.#refusedUntil = until;
    this.#refusedByAccept = byAccept;
  }

  /** Everything up to `cum` is abandoned by the sender: discards what is buffered there. */
  #skipTo(cum: number): void {
    const ring = this.#ring;
    const top = Math.min(cum, ring.highest);
    for (let seq = this.#cum + 1; seq <= top && ring.items > 0; seq++) {
      if (ring.get(seq) !== undefined) this.#counts.skipped += this.#store.remove(seq, 'unreceive');
    }
    this.#cum = cum;
    this.#ackNeeded = true;
  }
}
