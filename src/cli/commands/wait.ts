/**
 * `udpvault wait [--timeout S]`: blocks until the daemon of the home answers a `hello` on its
 * control socket (exit 0), or exits 3 at the timeout naming the home and how to start it.
 * For scripts and service managers (ExecStartPost=udpvault wait), instead of sleeping.
 */
import { UdpVaultError } from '../../errors';
import { connect } from '../../control/client';
import { homePaths } from '../../store/home';
import { parseSeconds, str } from '../args';
import type { CommandContext } from './context';
import { EXIT_NO_DAEMON, EXIT_OK, type ExitCode } from '../exit';
import { Progress } from '../progress';

export const DEFAULT_WAIT_SECONDS = 30;
/** Pause between attempts while nothing answers. */
export const RETRY_MS = 100;

export async function cmdWait({ home, args, io }: CommandContext): Promise<ExitCode> {
  const timeoutMs = parseSeconds(str(args, 'timeout'), '--timeout', true) ?? DEFAULT_WAIT_SECONDS * 1000;
  const progress = new Progress(`udpvault wait: waiting for the daemon of home ${home}`, { stream: io.stderr, ...(io.scheduler && { scheduler: io.scheduler }) });
  let answered: boolean;
  try {
    answered = await answersWithin(home, Date.now() + timeoutMs);
  } finally {
    progress.stop();
  }
  if (answered) return EXIT_OK;
  io.stderr.write(
    `udpvault wait: no udpvault daemon answered for home ${home} within ${timeoutMs / 1000} s (control socket ${homePaths(home).control}); start one with: udpvault daemon --home ${home}\n`,
  );
  return EXIT_NO_DAEMON;
}

/** Tries `hello` until it is answered (true) or the deadline passes (false). */
async function answersWithin(home: string, deadline: number): Promise<boolean> {
  for (;;) {
    const left = deadline - Date.now();
    try {
      const c = await connect({ home, requestTimeoutMs: Math.max(left, RETRY_MS) });
      c.close();
      return true;
    } catch (e) {
      // Nothing listens yet (or the daemon is still starting): try again; anything else is an answer.
      const retry = e instanceof UdpVaultError && (e.code === 'ERR_DAEMON_NOT_RUNNING' || e.code === 'ERR_CONTROL_PROTOCOL');
      if (!retry) throw e;
    }
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, Math.min(RETRY_MS, Math.max(0, deadline - Date.now()))));
  }
}
