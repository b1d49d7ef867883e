/**
 * Flow control for reliable data to/from one peer (QUIC's MAX_DATA, RFC 9000 §4, in two
 * dimensions: bytes and messages). Separate from congestion control and from loss recovery: a
 * sender out of credit pauses, and nothing is counted as lost.
 *
 * Credit is absolute and only grows: the receiver advertises, in every ack, the total reliable
 * bytes (item payload bytes, first transmissions) and messages the sender may have sent so far:
 *   maxBytes    = released bytes    + windowBytes
 *   maxMessages = released messages + windowMessages
 * where "released" is what left the receiver's buffers (handed to a reader, or dropped). An
 * old or reordered ack can therefore never take credit back, and a lost ack is repaired by the
 * next one. The window is the receiver's budget (inbox and reassembly room for this peer); it
 * must be ≥ maxMessageBytes, else a message could never complete (reading frees credit only
 * once a whole message was delivered).
 *
 * Retransmissions do not consume credit (the bytes were counted on first transmission).
 * Datagram-mode messages are not flow-controlled: the receiver drops and counts those that
 * do not fit.
 */

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

/** Receiver side: what this node can still accept from one peer. */
export class ReceiveCredit {
  #window: CreditWindow;
  #receivedBytes = 0;
  #receivedMessages = 0;
  #releasedBytes = 0;
  #releasedMessages = 0;
  #advertised: CreditLimits;
  #violations = 0;

  /** The initial window counts as advertised: the peer starts with it (handshake or default). */
  constructor(window: CreditWindow) {
    checkWindow(window);
    this.#window = { ...window };
    this.#advertised = { maxBytes: window.windowBytes, maxMessages: window.windowMessages };
  }

  /** Current limits (never below anything advertised before). */
  limits(): CreditLimits {
    return {
      maxBytes: Math.max(this.#releasedBytes + this.#window.windowBytes, this.#advertised.maxBytes),
      maxMessages: Math.max(this.#releasedMessages + this.#window.windowMessages, this.#advertised.maxMessages),
    };
  }

  /** Bytes and messages held (received, not yet released). */
  get bufferedBytes(): number { return this.#receivedBytes - this.#releasedBytes; }
  get bufferedMessages(): number { return this.#receivedMessages - this.#releasedMessages; }
  /** Data refused because it went past the limits (a broken or hostile sender). */
  get violations(): number { return this.#violations; }

  /** Changes the budget (e.g. the total reassembly budget is shared). Advertised credit is never retracted. */
  setWindow(window: CreditWindow): void {
    checkWindow(window);
    this.#window = { ...window };
  }

  /**
   * New data arrived (`messages` = 1 for the first item seen of a message, else 0). Returns
   * false when it goes past the current limits: the caller drops it (counted here).
   */
  onReceived(bytes: number, messages: number): boolean {
    const l = this.limits();
    if (this.#receivedBytes + bytes > l.maxBytes || this.#receivedMessages + messages > l.maxMessages) {
      this.#violations++;
      return false;
    }
    this.#receivedBytes += bytes;
    this.#receivedMessages += messages;
    return true;
  }

  /** Data left the buffers (read by the application, or dropped). */
  onReleased(bytes: number, messages: number): void {
    this.#releasedBytes = Math.min(this.#receivedBytes, this.#releasedBytes + bytes);
    this.#releasedMessages = Math.min(this.#receivedMessages, this.#releasedMessages + messages);
  }

  /**
   * Whether a window update should be sent without waiting for the next ack: the limits grew
   * by half a window in either dimension, or the sender had used all it was given and now
   * has room again.
   */
  updateDue(): boolean {
    const l = this.limits();
    const a = this.#advertised;
    const grewBytes = l.maxBytes - a.maxBytes;
    const grewMessages = l.maxMessages - a.maxMessages;
    if (grewBytes <= 0 && grewMessages <= 0) return false;
    if (grewBytes >= this.#window.windowBytes / 2 || grewMessages >= this.#window.windowMessages / 2) return true;
    return this.#receivedBytes >= a.maxBytes || this.#receivedMessages >= a.maxMessages;
  }

  /** The limits to put in the ack being built (records them as advertised). */
  takeLimits(): CreditLimits {
    this.#advertised = this.limits();
    return this.#advertised;
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
}
