/** Drop reasons: network input that is counted (in `status`, per peer and globally), never raised to a caller. */

/**
 * A network input that is dropped; `reason` is the drop counter it increments. Thrown per junk
 * datagram under floods, so it captures no stack trace (that costs ~10 µs each).
 */
export class DropError extends Error {
  readonly reason: DropReason;
  constructor(reason: DropReason, message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.reason = reason;
    this.name = 'DropError';
  }
}

/** Drop counters (SPEC §5 statistics). */
export const DROP_REASONS = [
  'malformed',
  'unknownSession',
  'unknownPeer',
  'authFailure',
  'replay',
  'stale',
  'rateLimited',
  'tooLarge',
  'unknownVersion',
  'keyChanged',
  'decompress',
  'plaintextRefused',
  /** A datagram-mode message dropped at the sender: no room in the congestion window in time. */
  'congestion',
  'inboxFull',
  /** A reliable item beyond the flow-control credit this node granted (the sender ignored it); not acknowledged. */
  'flowControl',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];
