/**
 * The ONE error table (SPEC §1 exit codes, docs/CONTROL.md error kinds): every code udpvault
 * raises → its class/kind → the CLI exit code → the control-protocol kind → whether the
 * outcome of the operation is unknown (the message may still arrive). Exit codes and kinds are
 * derived from here and nowhere else; `createError` builds the right class for a code (the
 * model is ws's receiver.js `createError`, which attaches code and consequence in one place).
 *
 * Messages never contain key material or payload bytes; the underlying error goes in `cause`.
 */

export const EXIT_OK = 0;
/** The operation failed (peer unreachable, not acknowledged, timeout, daemon cannot start). */
export const EXIT_FAILED = 1;
/** Bad usage or bad input; the message names the argument and why. */
export const EXIT_USAGE = 2;
/** No daemon runs for the home / the control socket is unreachable. */
export const EXIT_NO_DAEMON = 3;
export type ExitCode = typeof EXIT_OK | typeof EXIT_FAILED | typeof EXIT_USAGE | typeof EXIT_NO_DAEMON;

/**
 * The error's kind, which is also its class and its `kind` on the control protocol:
 * 'bad-input' → BadInputError, 'delivery' → DeliveryError, 'error' → UdpVaultError.
 */
export type ErrorKind = 'bad-input' | 'delivery' | 'error';

export interface ErrorRow {
  readonly kind: ErrorKind;
  readonly exit: ExitCode;
  /** True when the operation may have taken effect although it failed (a retry may duplicate). */
  readonly outcomeUnknown: boolean;
  /** What the code means, for docs and `--help` texts. */
  readonly meaning: string;
}

const bad = (meaning: string): ErrorRow => ({ kind: 'bad-input', exit: EXIT_USAGE, outcomeUnknown: false, meaning });
const failed = (meaning: string, outcomeUnknown = false): ErrorRow => ({ kind: 'delivery', exit: EXIT_FAILED, outcomeUnknown, meaning });
const error = (meaning: string, outcomeUnknown = false, exit: ExitCode = EXIT_FAILED): ErrorRow => ({ kind: 'error', exit, outcomeUnknown, meaning });

export const ERROR_TABLE = {
  // bad usage or bad input (exit 2): the message names the argument or setting and why
  ERR_BAD_ARGUMENT: bad('an argument is invalid'),
  ERR_BAD_CONFIG: bad('a setting is invalid (file, environment, flag or createNode option)'),
  ERR_UNKNOWN_PEER: bad('no such peer (name, key or host:port)'),
  ERR_PEER_EXISTS: bad('the peer exists already'),
  ERR_KEY_CONFLICT: bad('the peer is pinned to another key; use --replace-key to change it'),
  ERR_NAME_CONFLICT: bad('the name belongs to another peer'),
  ERR_KEY_ALIAS: bad("the key converts to the same X25519 handshake key as another peer's key or this node's own (a distinct Ed25519 encoding of the same identity)"),
  ERR_TOO_LARGE: bad('the message is larger than maxMessageBytes'),
  ERR_PEER_LIMIT_TOO_SMALL: bad('a per-peer limit (reliable window, reassembly or queue budget) is too small for the message; the message names the setting'),
  ERR_RELIABLE_UNSUPPORTED: bad('reliable delivery is not available for this peer (vault-v2)'),
  ERR_BAD_JSON: bad('control request is not valid JSON'),
  ERR_BAD_REQUEST: bad('control request has a missing or invalid field'),
  ERR_UNKNOWN_OP: bad('control request names an unknown operation'),
  ERR_LINE_TOO_LONG: bad('control request line is too long'),
  ERR_UNSUPPORTED_VERSION: bad('the control protocol version of the request (or of the daemon) is not supported'),
  // the operation was valid but failed (exit 1)
  ERR_QUEUE_FULL: failed('the pre-session queue of the peer is full; the message was not sent'),
  ERR_HANDSHAKE_TIMEOUT: failed('no session with the peer within the timeout; the message was not sent'),
  ERR_NO_SESSION: failed('no session with the peer; the message was not sent'),
  ERR_CONGESTION: failed('the congestion window stayed full for datagramWindowWaitMs; the datagram was not sent'),
  ERR_FLOW_CONTROL: failed('the receiver granted no credit in time; the message was not sent'),
  ERR_INBOX_FULL: failed('the receiving inbox is full; the message was refused'),
  ERR_PEER_UNREACHABLE: failed('the peer does not answer; the message was not sent'),
  ERR_NOT_ACKNOWLEDGED: failed('the reliable message was not acknowledged in time; it may still arrive', true),
  // failures of udpvault itself, its home or the daemon
  ERR_CLOSED: error('the node or client is closed; a message in flight may still arrive', true),
  ERR_KEY_FILE_PERMISSIONS: error('the identity key file is readable by group or others'),
  ERR_KEY_FILE_INVALID: error('the identity key file is not a valid key'),
  ERR_STORE_CORRUPT: error('the peer store is torn or corrupt'),
  ERR_HOME_LOCKED: error('another process uses the home'),
  ERR_DAEMON_NOT_RUNNING: error('no daemon answers on the control socket of the home', false, EXIT_NO_DAEMON),
  ERR_CONTROL_PROTOCOL: error('the daemon broke the control protocol or did not answer; the operation may have taken effect', true),
  ERR_TOO_MANY_CONNECTIONS: error('the daemon refuses more control connections (maxControlConnections)'),
  ERR_TOO_MANY_SUBSCRIPTIONS: error('the control connection holds maxSubscriptionsPerConnection subscriptions already; the subscription was refused'),
  ERR_INTERNAL: error('an internal error; the operation may have taken effect', true),
  ERR_DECOMPRESS_LIMIT: error('a compressed payload expands beyond the limit'),
  ERR_MALFORMED: error('malformed input from the network'),
} as const satisfies Record<string, ErrorRow>;

export type ErrorCode = keyof typeof ERROR_TABLE;
export const ERROR_CODES = Object.freeze(Object.keys(ERROR_TABLE) as ErrorCode[]);

export function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_TABLE, code);
}

/**
 * The row of a code. A code this build does not know (from a newer daemon over the control
 * socket) gets the consequences of its kind: bad-input → exit 2, otherwise exit 1, outcome unknown
 * unless the kind is bad-input.
 */
export function errorRow(code: string, kind: ErrorKind = 'error'): ErrorRow {
  if (isErrorCode(code)) return ERROR_TABLE[code];
  return kind === 'bad-input' ? bad('unknown code') : { kind, exit: EXIT_FAILED, outcomeUnknown: true, meaning: 'unknown code' };
}

export interface UdpVaultErrorOptions {
  /** The underlying error (ES2022 `cause`); logged with its stack, never shown to a peer. */
  cause?: unknown;
}

/** Every error udpvault raises has a stable `code`; kind, exit code and outcome come from the table. */
export class UdpVaultError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: UdpVaultErrorOptions) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.code = code;
    this.name = 'UdpVaultError';
  }

  /** The kind of the code (from the table, whatever class was constructed). */
  get kind(): ErrorKind {
    return errorRow(this.code, classKind(this)).kind;
  }

  get exitCode(): ExitCode {
    return errorRow(this.code, classKind(this)).exit;
  }

  /** True when the failed operation may still have taken effect (e.g. ERR_NOT_ACKNOWLEDGED). */
  get outcomeUnknown(): boolean {
    return errorRow(this.code, classKind(this)).outcomeUnknown;
  }
}

/** Wrong input from a user or program (CLI exit code 2). */
export class BadInputError extends UdpVaultError {
  constructor(code: ErrorCode, message: string, options?: UdpVaultErrorOptions) {
    super(code, message, options);
    this.name = 'BadInputError';
  }
}

/** An operation that was valid but failed (peer unreachable, not acknowledged; CLI exit code 1). */
export class DeliveryError extends UdpVaultError {
  constructor(code: ErrorCode, message: string, options?: UdpVaultErrorOptions) {
    super(code, message, options);
    this.name = 'DeliveryError';
  }
}

/** The kind implied by the class alone (used only for codes missing from the table). */
function classKind(e: UdpVaultError): ErrorKind {
  return e instanceof BadInputError ? 'bad-input' : e instanceof DeliveryError ? 'delivery' : 'error';
}

const CLASS_OF_KIND: Record<ErrorKind, new (code: ErrorCode, message: string, options?: UdpVaultErrorOptions) => UdpVaultError> = {
  'bad-input': BadInputError,
  delivery: DeliveryError,
  error: UdpVaultError,
};

/** Builds the error of the table's class for `code`. */
export function createError(code: ErrorCode, message: string, options?: UdpVaultErrorOptions): UdpVaultError {
  return new CLASS_OF_KIND[ERROR_TABLE[code].kind](code, message, options);
}

/**
 * Rebuilds an error received as {code, message, kind} (control protocol, client side). A code
 * this build does not know keeps its text and gets the class of the given kind.
 */
export function reviveError(code: string, message: string, kind: ErrorKind): UdpVaultError {
  if (isErrorCode(code)) return createError(code, message);
  const Ctor = CLASS_OF_KIND[kind] ?? UdpVaultError;
  return new Ctor(code as ErrorCode, message);
}

/** The CLI exit code of any thrown value (SPEC §1): from the table for udpvault errors, else 1. */
export function exitCodeOf(e: unknown): ExitCode {
  return e instanceof UdpVaultError ? e.exitCode : EXIT_FAILED;
}
