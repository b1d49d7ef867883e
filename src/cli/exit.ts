/** The one place where errors become exit codes (SPEC §1). */
import { BadInputError, DeliveryError, UdpVaultError, type ErrorCode } from '../errors';

export const EXIT_OK = 0;
/** The operation failed (peer unreachable, not acknowledged, timeout, daemon cannot start). */
export const EXIT_FAILED = 1;
/** Bad usage or bad input; the message names the argument and why. */
export const EXIT_USAGE = 2;
/** No daemon runs for the home / the control socket is unreachable. */
export const EXIT_NO_DAEMON = 3;

export type ExitCode = typeof EXIT_OK | typeof EXIT_FAILED | typeof EXIT_USAGE | typeof EXIT_NO_DAEMON;

const BY_CODE: Partial<Record<ErrorCode, ExitCode>> = {
  ERR_BAD_ARGUMENT: EXIT_USAGE,
  ERR_BAD_CONFIG: EXIT_USAGE,
  ERR_UNKNOWN_PEER: EXIT_USAGE,
  ERR_PEER_EXISTS: EXIT_USAGE,
  ERR_TOO_LARGE: EXIT_USAGE,
  ERR_RELIABLE_UNSUPPORTED: EXIT_USAGE,
  ERR_BAD_JSON: EXIT_USAGE,
  ERR_BAD_REQUEST: EXIT_USAGE,
  ERR_UNKNOWN_OP: EXIT_USAGE,
  ERR_LINE_TOO_LONG: EXIT_USAGE,
  ERR_HANDSHAKE_TIMEOUT: EXIT_FAILED,
  ERR_NOT_ACKNOWLEDGED: EXIT_FAILED,
  ERR_PEER_UNREACHABLE: EXIT_FAILED,
  ERR_QUEUE_FULL: EXIT_FAILED,
  ERR_CLOSED: EXIT_FAILED,
  ERR_KEY_FILE_PERMISSIONS: EXIT_FAILED,
  ERR_KEY_FILE_INVALID: EXIT_FAILED,
  ERR_STORE_CORRUPT: EXIT_FAILED,
  ERR_HOME_LOCKED: EXIT_FAILED,
  ERR_CONTROL_PROTOCOL: EXIT_FAILED,
  ERR_UNSUPPORTED_VERSION: EXIT_FAILED,
  ERR_TOO_MANY_CONNECTIONS: EXIT_FAILED,
  ERR_INTERNAL: EXIT_FAILED,
  ERR_DAEMON_NOT_RUNNING: EXIT_NO_DAEMON,
};

export function exitCodeFor(e: unknown): ExitCode {
  if (e instanceof UdpVaultError) {
    const byCode = BY_CODE[e.code];
    if (byCode !== undefined) return byCode;
    if (e instanceof BadInputError) return EXIT_USAGE;
    if (e instanceof DeliveryError) return EXIT_FAILED;
  }
  return EXIT_FAILED;
}

/** The worst of several outcomes (send --all): no daemon > bad input > failed > ok. */
export function worst(codes: readonly ExitCode[]): ExitCode {
  const rank: Record<ExitCode, number> = { 0: 0, 1: 1, 2: 2, 3: 3 };
  return codes.reduce<ExitCode>((a, b) => (rank[b] > rank[a] ? b : a), EXIT_OK);
}
