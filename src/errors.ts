/** Every error udpvault raises has a stable `code`; messages never contain key material or payload bytes. */
export type ErrorCode =
  | 'ERR_BAD_ARGUMENT'
  | 'ERR_BAD_CONFIG'
  | 'ERR_UNKNOWN_PEER'
  | 'ERR_PEER_EXISTS'
  | 'ERR_KEY_CONFLICT'
  | 'ERR_NAME_CONFLICT'
  | 'ERR_TOO_LARGE'
  | 'ERR_QUEUE_FULL'
  | 'ERR_HANDSHAKE_TIMEOUT'
  | 'ERR_NOT_ACKNOWLEDGED'
  | 'ERR_PEER_UNREACHABLE'
  | 'ERR_RELIABLE_UNSUPPORTED'
  | 'ERR_CLOSED'
  | 'ERR_KEY_FILE_PERMISSIONS'
  | 'ERR_KEY_FILE_INVALID'
  | 'ERR_STORE_CORRUPT'
  | 'ERR_HOME_LOCKED'
  | 'ERR_DAEMON_NOT_RUNNING'
  | 'ERR_CONTROL_PROTOCOL'
  // control socket (docs/CONTROL.md)
  | 'ERR_BAD_JSON'
  | 'ERR_BAD_REQUEST'
  | 'ERR_UNKNOWN_OP'
  | 'ERR_LINE_TOO_LONG'
  | 'ERR_UNSUPPORTED_VERSION'
  | 'ERR_TOO_MANY_CONNECTIONS'
  | 'ERR_INTERNAL'
  | 'ERR_DECOMPRESS_LIMIT'
  | 'ERR_MALFORMED';

export class UdpVaultError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = 'UdpVaultError';
  }
}

/** Wrong input from a user or program (CLI exit code 2). */
export class BadInputError extends UdpVaultError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = 'BadInputError';
  }
}

/** An operation that was valid but failed (peer unreachable, not acknowledged; CLI exit code 1). */
export class DeliveryError extends UdpVaultError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
    this.name = 'DeliveryError';
  }
}

/** A network input that is dropped; `reason` is the drop counter it increments. */
export class DropError extends Error {
  readonly reason: DropReason;
  constructor(reason: DropReason, message: string) {
    super(message);
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
] as const;
export type DropReason = (typeof DROP_REASONS)[number];
