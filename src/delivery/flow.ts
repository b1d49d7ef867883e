/**
 * Flow control for reliable data to/from one peer (QUIC's MAX_DATA, RFC 9000 §4, in two
 * dimensions: bytes and messages). Separate from congestion control and from loss recovery: a
 * sender out of credit pauses, and nothing is counted as lost (docs/DESIGN.md §Flow control).
 *
 * Credit is absolute and only grows: the receiver advertises, in every packet ack, the total
 * reliable bytes (item payload bytes, first transmissions) and messages (counted at a message's
 * first item) the sender may have sent so far on the current stream:
 *   maxBytes    = released bytes    + windowBytes
 *   maxMessages = released messages + windowMessages
 * where "released" is what left the receiver's buffers toward the application (handed to a
 * reader or kept in the inbox), and the window is the receiver's current budget for the peer
 * (its share of the inbox room, at most its reassembly budget). An old or reordered ack can
 * never take credit back, and a lost ack is repaired by the next one. Both sides start a stream
 * with INITIAL_CREDIT, granted implicitly (the sender may use it before any ack).
 *
 * Both sides count the same items, so the numbers agree without a byte offset on the wire:
 * - retransmissions never consume credit (the bytes were counted on first transmission); the
 *   receiver counts an item when it first accepts it (buffered or delivered), never a duplicate;
 * - an abandoned message (the sender's deadline passed) is refunded by the sender for its items
 *   that were transmitted, and "unreceived" by the receiver when the sender's base moves past
 *   what it buffered — as if it had never been sent, on both sides;
 * - an item the receiver evicted (buffer pressure) is unreceived, and counted again when its
 *   retransmission is accepted.
 * One race is left: a message delivered whose acknowledgement the sender never saw before its
 * deadline is released by the receiver and refunded by the sender; the sender then believes it
 * has up to that message's bytes more credit than granted, and the receiver refuses (and
 * counts) items beyond its limit until they are retransmitted. Bounded, rare, and safe.
 *
 * Datagram-mode messages are not flow-controlled: the receiver drops and counts (`inboxFull`)
 * those that do not fit.
 */

import { small } from './reliable/packet-space-record';

/** What both sides assume the receiver granted before its first ack on a stream. */
export const INITIAL_CREDIT: CreditLimits = Object.freeze({ maxBytes: 64 * 1024, maxMessages: 16 });

/**
 * ReceiveCredit.updateDue(nowMs) re-reads the window at least this often while asked (a window
 * that grew without a call telling it is announced on a datagram at most this much later).
 */
export const CREDIT_RECHECK_MS = 25;

export interface CreditLimits {
  readonly maxBytes: number;
  readonly maxMessages: number;
}

export interface CreditWindow {
  windowBytes: number;
  windowMessages: number;
}

const checkWindow = (w: CreditWindow): void => {
  if (!Number.isSafeInteger(w.windowBytes) || w.windowBytes < 1) throw new RangeError('windowBytes must be a positive integer');
  if (!Number.isSafeInteger(w.windowMessages) || w.windowMessages < 1) throw new RangeError('windowMessages must be a positive integer');
};

/** What gives the current window: an object, not a closure per peer (issue 12). */
export interface WindowProvider {
  creditWindow(): CreditWindow;
}

/** A fixed window, or a function or provider giving the current one (it may shrink to 0: nothing advertised shrinks). */
export type WindowSource = CreditWindow | (() => CreditWindow) | WindowProvider;

const isProvider = (w: WindowSource): w is WindowProvider => typeof (w as Partial<WindowProvider>).creditWindow === 'function';

/** `x` rounded down, as a small integer (`| 0`) when it fits one: stored in place, not boxed. */
function whole(x: number): number {
  const f = Math.floor(x);
  return (f | 0) === f ? f | 0 : f;
}

/** Receiver side: what this node can still accept from one peer. */
export class ReceiveCredit {
  #window: WindowSource;
  readonly #initial: CreditLimits;
  #receivedBytes = 0;
  #receivedMessages = 0;
  #releasedBytes = 0;
  #releasedMessages = 0;
  /** The limits last advertised, as two numbers (rest18: not an object per peer, 40 B). */
  #advBytes: number;
  #advMessages: number;
  #violations = 0;
  /**
   * updateDue(nowMs)'s fast path (issue 12: it is asked per datagram sent): below these released
   * totals, with received below the advertised limits, the window last read cannot make an
   * update due; re-read at the latest at #quietUntilMs (a window source may grow unannounced).
   * Null: no fast path (re-read now). Whole numbers rounded down (a stricter fast path, the same
   * answers) and null-first fields, so an idle peer's values are small integers in place, not
   * three boxed doubles (issue 12).
   */
  #quietBytes: number | null = null;
  #quietMessages: number | null = null;
  #quietUntilMs: number | null = null;

  /**
   * `initial`: the limits the sender may use before our first ack (INITIAL_CREDIT between nodes);
   * without it, the window itself (tests, the congestion model).
   */
  constructor(window: WindowSource, initial?: CreditLimits) {
    this.#window = ReceiveCredit.#source(window);
    const w = initial ? null : this.#current();
    // A frozen grant (INITIAL_CREDIT) is shared, not copied per peer (issue 12).
    this.#initial = w ? { maxBytes: w.windowBytes, maxMessages: w.windowMessages } : Object.isFrozen(initial) ? initial! : { ...initial! };
    this.#advBytes = this.#initial.maxBytes;
    this.#advMessages = this.#initial.maxMessages;
  }

  #current(): CreditWindow {
    const src = this.#window;
    const w = typeof src === 'function' ? src() : isProvider(src) ? src.creditWindow() : src;
    return { windowBytes: Math.max(0, Math.floor(w.windowBytes)), windowMessages: Math.max(0, Math.floor(w.windowMessages)) };
  }

  /** Current limits (never below anything advertised before). */
  limits(w: CreditWindow = this.#current()): CreditLimits {
    return {
      maxBytes: Math.max(this.#releasedBytes + w.windowBytes, this.#advBytes),
      maxMessages: Math.max(this.#releasedMessages + w.windowMessages, this.#advMessages),
    };
  }

  /** Bytes and messages counted on the current stream (what the sender's sentBytes/sentMessages should equal once nothing is in flight). */
  get receivedBytes(): number { return this.#receivedBytes; }
  get receivedMessages(): number { return this.#receivedMessages; }
  /** Bytes and messages held (received, not yet released). */
  get bufferedBytes(): number { return this.#receivedBytes - this.#releasedBytes; }
  get bufferedMessages(): number { return this.#receivedMessages - this.#releasedMessages; }
  /** Data refused because it went past the limits (a broken or hostile sender). */
  get violations(): number { return this.#violations; }
  /** The limits last put in an ack (or the initial grant). */
  get advertised(): CreditLimits { return { maxBytes: this.#advBytes, maxMessages: this.#advMessages }; }

  /** Changes the budget (e.g. the total reassembly budget is shared). Advertised credit is never retracted. */
  setWindow(window: WindowSource): void {
    this.#window = ReceiveCredit.#source(window);
    this.#quietUntilMs = null;
  }

  static #source(window: WindowSource): WindowSource {
    if (typeof window === 'function' || isProvider(window)) return window;
    checkWindow(window);
    return { ...window };
  }

  /**
   * New data arrived (`messages` = 1 for the first item seen of a message, else 0). Returns
   * false when it goes past the current limits: the caller drops it (counted here).
   */
  onReceived(bytes: number, messages: number): boolean {
    const b = this.#receivedBytes + bytes;
    const m = this.#receivedMessages + messages;
    // Within what was advertised (all a compliant sender knows of): no need to read the window.
    if (b > this.#advBytes || m > this.#advMessages) {
      const l = this.limits();
      if (b > l.maxBytes || m > l.maxMessages) {
        this.#violations++;
        return false;
      }
    }
    this.#receivedBytes += bytes;
    this.#receivedMessages += messages;
    return true;
  }

  /** Data left the buffers toward the application (a reader or the inbox took it). */
  onReleased(bytes: number, messages: number): void {
    this.#releasedBytes = Math.min(this.#receivedBytes, this.#releasedBytes + bytes);
    this.#releasedMessages = Math.min(this.#receivedMessages, this.#releasedMessages + messages);
  }

  /**
   * Data counted by onReceived left the buffers without reaching the application (the sender
   * abandoned it, it was evicted, or refused after assembly): the sender refunds it too.
   */
  onUnreceived(bytes: number, messages: number): void {
    this.#receivedBytes = Math.max(this.#releasedBytes, this.#receivedBytes - bytes);
    this.#receivedMessages = Math.max(this.#releasedMessages, this.#receivedMessages - messages);
  }

  /** The peer started a new stream (a new sender: restart, re-add): counting starts again from the initial grant. */
  reset(): void {
    this.#receivedBytes = this.#receivedMessages = this.#releasedBytes = this.#releasedMessages = 0;
    this.#advBytes = this.#initial.maxBytes;
    this.#advMessages = this.#initial.maxMessages;
    this.#quietUntilMs = null;
  }

  /**
   * Whether a window update should be sent without waiting for the next ack: the limits grew
   * by half a window in either dimension, or the sender had used all it was given and now
   * has room again.
   *
   * With `nowMs` (the per-datagram question, PacketSpace.ackToSend) the answer is O(1) and reads
   * no window while nothing can have changed it: the window last read stays the reference until
   * released data reaches the point where it would grow the limits by half of it, received data
   * reaches the advertised limits, the limits are advertised again (takeLimits), the window is
   * replaced or the stream restarts — or CREDIT_RECHECK_MS passed (a window source may grow
   * without telling: another peer's data stopped waiting for the inbox). Without `nowMs` (room
   * was made: reliable.ts resume) the window is read now.
   */
  updateDue(nowMs?: number): boolean {
    const aBytes = this.#advBytes;
    const aMessages = this.#advMessages;
    if (
      nowMs !== undefined &&
      this.#quietUntilMs !== null &&
      nowMs < this.#quietUntilMs &&
      this.#releasedBytes < (this.#quietBytes ?? 0) &&
      this.#releasedMessages < (this.#quietMessages ?? 0) &&
      this.#receivedBytes < aBytes &&
      this.#receivedMessages < aMessages
    ) return false;
    const w = this.#current();
    const grewBytes = Math.max(this.#releasedBytes + w.windowBytes, aBytes) - aBytes;
    const grewMessages = Math.max(this.#releasedMessages + w.windowMessages, aMessages) - aMessages;
    let due = false;
    if (grewBytes > 0 || grewMessages > 0) {
      due = (w.windowBytes > 0 && grewBytes >= w.windowBytes / 2) || (w.windowMessages > 0 && grewMessages >= w.windowMessages / 2) || this.#receivedBytes >= aBytes || this.#receivedMessages >= aMessages;
    }
    if (due || nowMs === undefined) {
      this.#quietUntilMs = null;
      return due;
    }
    // Not due with this window: it stays so while released < advertised − window / 2 (per
    // dimension; a dimension with an empty window never grows the limits by itself) and
    // received < advertised (an exhausted sender with room again is due at once).
    this.#quietBytes = w.windowBytes > 0 ? whole(aBytes - w.windowBytes / 2) : Infinity;
    this.#quietMessages = w.windowMessages > 0 ? whole(aMessages - w.windowMessages / 2) : Infinity;
    this.#quietUntilMs = whole(nowMs + CREDIT_RECHECK_MS);
    return false;
  }

  /**
   * Writes the initial grant and the limits advertised at r[at…] (RECV_SLOTS; packet-space-record.ts)
   * when the record can stand for this object: its window source is `window`, updateDue's fast
   * path has expired at `nowMs` (it is made again then: the same answers), and nothing was
   * received on the stream (no reliable data: counts and violations 0). false: it cannot.
   */
  writeRecord(r: number[], at: number, window: WindowSource, nowMs: number): boolean {
    if (this.#window !== window || (this.#quietUntilMs !== null && nowMs < this.#quietUntilMs)) return false;
    if (this.#receivedBytes !== 0 || this.#receivedMessages !== 0 || this.#releasedBytes !== 0 || this.#releasedMessages !== 0 || this.#violations !== 0) return false;
    r[at] = this.#initial.maxBytes;
    r[at + 1] = this.#initial.maxMessages;
    r[at + 2] = this.#advBytes;
    r[at + 3] = this.#advMessages;
    return true;
  }

  /** The ReceiveCredit writeRecord wrote at r[at…], reading `window` (the same source). */
  static fromRecord(window: WindowSource, r: readonly number[], at: number): ReceiveCredit {
    const b = small(r[at]!);
    const m = small(r[at + 1]!);
    const c = new ReceiveCredit(window, b === INITIAL_CREDIT.maxBytes && m === INITIAL_CREDIT.maxMessages ? INITIAL_CREDIT : Object.freeze({ maxBytes: b, maxMessages: m }));
    c.#advBytes = small(r[at + 2]!);
    c.#advMessages = small(r[at + 3]!);
    return c;
  }

  /** The limits to put in the ack being built (records them as advertised). */
  takeLimits(): CreditLimits {
    const l = this.limits();
    this.#advBytes = l.maxBytes;
    this.#advMessages = l.maxMessages;
    this.#quietUntilMs = null;
    return l;
  }
}

/** Sender side: what the peer allows. */
export class SendCredit {
  #maxBytes: number;
  #maxMessages: number;
  #sentBytes = 0;
  #sentMessages = 0;
  #blocked = false;
  #blockedEpisodes = 0;

  /** `initial` is the peer's window before its first ack (from the handshake, or a default). */
  constructor(initial: CreditLimits) {
    this.#maxBytes = initial.maxBytes;
    this.#maxMessages = initial.maxMessages;
  }

  get sentBytes(): number { return this.#sentBytes; }
  get sentMessages(): number { return this.#sentMessages; }
  get limits(): CreditLimits { return { maxBytes: this.#maxBytes, maxMessages: this.#maxMessages }; }
  /** Bytes that may still be sent. */
  get availableBytes(): number { return Math.max(0, this.#maxBytes - this.#sentBytes); }
  get availableMessages(): number { return Math.max(0, this.#maxMessages - this.#sentMessages); }
  /** Waiting for credit now. */
  get blocked(): boolean { return this.#blocked; }
  /** How many times the sender ran out of credit (a stat, not a loss). */
  get blockedEpisodes(): number { return this.#blockedEpisodes; }

  /** Credit from an ack (stale or reordered credit changes nothing); true when it grew for a blocked sender. */
  onCredit(l: CreditLimits): boolean {
    let grew = false;
    if (l.maxBytes > this.#maxBytes) [this.#maxBytes, grew] = [l.maxBytes, true];
    if (l.maxMessages > this.#maxMessages) [this.#maxMessages, grew] = [l.maxMessages, true];
    if (this.#blocked && grew) {
      this.#blocked = false;
      return true;
    }
    return false;
  }

  /** Whether `bytes` of new data (starting `messages` new messages) fit; marks the sender blocked if not. */
  canSend(bytes: number, messages: number): boolean {
    if (this.#sentBytes + bytes <= this.#maxBytes && this.#sentMessages + messages <= this.#maxMessages) return true;
    if (!this.#blocked) {
      this.#blocked = true;
      this.#blockedEpisodes++;
    }
    return false;
  }

  /** First transmission of new data (never for retransmissions). */
  onSent(bytes: number, messages: number): void {
    this.#sentBytes += bytes;
    this.#sentMessages += messages;
  }

  /** Transmitted data of an abandoned message: the receiver unreceives it when our base moves past it. */
  refund(bytes: number, messages: number): void {
    this.#sentBytes = Math.max(0, this.#sentBytes - bytes);
    this.#sentMessages = Math.max(0, this.#sentMessages - messages);
  }

  /**
   * Writes the limits at r[at…] (SEND_SLOTS; packet-space-record.ts) when nothing was sent on the
   * stream (no reliable data: counts 0, never blocked); false: it was (no record).
   */
  writeRecord(r: number[], at: number): boolean {
    if (this.#sentBytes !== 0 || this.#sentMessages !== 0 || this.#blocked || this.#blockedEpisodes !== 0) return false;
    r[at] = this.#maxBytes;
    r[at + 1] = this.#maxMessages;
    return true;
  }

  /** The SendCredit writeRecord wrote at r[at…]. */
  static fromRecord(r: readonly number[], at: number): SendCredit {
    const c = new SendCredit(INITIAL_CREDIT);
    c.#maxBytes = small(r[at]!);
    c.#maxMessages = small(r[at + 1]!);
    return c;
  }

  /**
   * The peer restarted (a new instance: its receiver counts from zero with the initial grant).
   * `outstanding`: what we transmitted and it has not acknowledged, which it will count when
   * the retransmissions arrive.
   */
  reset(initial: CreditLimits, outstanding: { bytes: number; messages: number }): void {
    this.#maxBytes = initial.maxBytes;
    this.#maxMessages = initial.maxMessages;
    this.#sentBytes = outstanding.bytes;
    this.#sentMessages = outstanding.messages;
    this.#blocked = false;
  }
}
