/**
 * `udpvault subscribe [--json] [--peer P] [--backlog]`: streams received messages. Exits 0 only
 * when the user stops it (SIGINT/SIGTERM, or the reader of stdout goes away); 3 when the
 * daemon stops or the connection to it is lost, so a supervisor can tell.
 */
import { BadInputError, UdpVaultError } from '../../errors';
import { openControlSocket } from '../../control/client';
import { Subscription } from '../../control/subscription';
import { homePaths } from '../../store/home';
import { bool, str } from '../args';
import type { CommandContext } from './context';
import { EXIT_OK, type ExitCode } from '../exit';
import { messageJson, messageLine } from '../format';
import { writeOut } from '../io';

export async function cmdSubscribe({ home, args, io }: CommandContext): Promise<ExitCode> {
  const peer = str(args, 'peer');
  if (peer !== undefined && peer.trim() === '') throw new BadInputError('ERR_BAD_ARGUMENT', '--peer: empty peer reference (a name, key or host:port)');
  const asJson = bool(args, 'json');
  const backlog = bool(args, 'backlog');
  const socketPath = homePaths(home).control;
  // One connection, the subscription's own: status then counts this subscriber as one connection.
  const sub = new Subscription(() => openControlSocket(home, socketPath), home, {
    ...(peer !== undefined && { peer }),
    ...(backlog && { backlog }),
    onLost: (n) => io.stderr.write(`udpvault subscribe: ${n} message(s) lost: this subscriber read too slowly and the daemon's buffer for it was full\n`),
  });
  let stopped = false;
  const stop = (): void => {
    stopped = true;
    sub.close();
  };
  const unregister = io.onInterrupt(stop);
  // A reader that went away (e.g. `| head -1`) ends the stream quietly.
  io.stdout.once('error', stop);
  try {
    await sub.ready();
    io.stderr.write(`udpvault subscribe: receiving messages${peer !== undefined ? ` from ${peer}` : ''} (home ${home}); Ctrl-C to stop\n`);
    for await (const m of sub) {
      await writeOut(io.stdout, `${asJson ? messageJson(m) : messageLine(m)}\n`);
    }
  } catch (e) {
    if (!stopped) throw e;
  } finally {
    unregister();
    io.stdout.off('error', stop);
    sub.close();
  }
  if (stopped) return EXIT_OK;
  throw new UdpVaultError(
    'ERR_DAEMON_NOT_RUNNING',
    `the daemon of home ${home} ended the stream (${sub.endReason ?? 'connection closed'}); start it again with: udpvault daemon --home ${home}`,
  );
}
