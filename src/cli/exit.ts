/** Exit codes (SPEC §1). The code of an error comes from the error table in src/api/errors.ts. */
import { EXIT_FAILED, EXIT_NO_DAEMON, EXIT_OK, EXIT_USAGE, exitCodeOf, type ExitCode } from '../api/errors';

export { EXIT_FAILED, EXIT_NO_DAEMON, EXIT_OK, EXIT_USAGE, type ExitCode };

/** The exit code of a thrown value: the table's for udpvault errors, 1 for anything else. */
export function exitCodeFor(e: unknown): ExitCode {
  return exitCodeOf(e);
}

/** The worst of several outcomes (send --all): no daemon > bad input > failed > ok. */
export function worst(codes: readonly ExitCode[]): ExitCode {
  const rank: Record<ExitCode, number> = { 0: 0, 1: 1, 2: 2, 3: 3 };
  return codes.reduce<ExitCode>((a, b) => (rank[b] > rank[a] ? b : a), EXIT_OK);
}
