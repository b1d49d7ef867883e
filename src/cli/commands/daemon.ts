/** `udpvault daemon`: runs the daemon in the foreground (flags → settings; the daemon module loads only here). */
import { str } from '../args';
import type { ExitCode } from '../exit';
import type { CommandContext } from './context';

export async function cmdDaemon({ home, args, io }: CommandContext): Promise<ExitCode> {
  const flags: Record<string, string> = {};
  const port = str(args, 'port');
  const host = str(args, 'host');
  const logLevel = str(args, 'log-level');
  if (port !== undefined) flags.port = port;
  if (host !== undefined) flags.host = host;
  if (logLevel !== undefined) flags.logLevel = logLevel;
  const config = str(args, 'config');
  // Loaded only here: the node and its dependencies would slow down every other command.
  const { runDaemon } = require('../../daemon/daemon') as typeof import('../../daemon/daemon');
  return (await runDaemon({ home, env: io.env, flags, ...(config !== undefined && { config }) })) as ExitCode;
}
