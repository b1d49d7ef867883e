/** The reliable receiver's options and results (delivery/reliable-receiver.ts). */

export interface ReliableReceiverOptions {
  /** Seqs above cum + maxBufferedItems are refused; must be ≥ the sender's window. */
  maxBufferedItems: number;
  /** Bytes buffered at most (≥ maxMessageBytes). */
  maxBufferedBytes: number;
  maxMessageBytes: number;
  /**
   * Offered every complete message in order, as its message flags (RELIABLE, COMPRESSED; no
   * FRAGMENT) and data — no object per message (default: always 'delivered').
   */
  accept?: (flags: number, data: Uint8Array) => AcceptVerdict;
  /** The credit this node grants the sender (delivery/flow.ts ReceiveCredit); none: unlimited. */
  credit?: ReceiverCredit;
  /**
   * Whether onItem()/pump() return the messages they delivered (default true). False when
   * `accept` already hands each message on (the node): they return an empty list, no array
   * per delivered message.
   */
  collect?: boolean;
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
