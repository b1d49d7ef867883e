/** The reliable sender's options, item form and constants (reliable-sender.ts). */
import type { Clock } from '../../runtime/clock';
import type { PayloadItem } from '../../wire/frame';

export const RTO_INITIAL_MS = 200;
export const RTO_MIN_MS = 100;
export const RTO_MAX_MS = 5_000;
/** Backstop RTO floor when packet-level loss detection does the retransmitting. */
export const PACKET_MODE_RTO_MIN_MS = 1_000;
/** An item is presumed lost when one sent this many transmissions later was acknowledged. */
export const REORDER_THRESHOLD = 3;

/** One item to put in a frame: [flags, data, seq] or [flags, data, seq, index, count]. */
export interface ReliableItem {
  seq: number;
  /** Wire flags: the message's flags | RELIABLE (| FRAGMENT when index/count are present). */
  flags: number;
  data: Uint8Array;
  index?: number;
  count?: number;
}

/** A frame item as a ReliableItem (take() and peek(), for callers outside the node). */
export const reliableItem = (it: PayloadItem): ReliableItem =>
  it.index === undefined ? { seq: it.id!, flags: it.flags, data: it.data } : { seq: it.id!, flags: it.flags, data: it.data, index: it.index, count: it.count! };

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
  /** Called as each message settles (acknowledged, abandoned, failed), before its promise settles. */
  onSettled?: () => void;
  /** The error a message's promise rejects with, made from the sender's (e.g. naming the peer); `timeoutMs` as pushed. */
  rejection?: (err: Error, timeoutMs: number) => Error;
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
