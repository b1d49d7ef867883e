/** `udpvault subscribe [--json] [--peer P] [--backlog]`: streams received messages until interrupted. */
import { BadInputError } from '../errors';
import { bool, str } from './args';
import { withClient, type CommandContext } from './commands';
import { EXIT_OK, type ExitCode } from './exit';
import { messageJson, messageLine } from './format';
import { writeOut } from './io';

export async function cmdSubscribe({ home, args, io }: CommandContext): Promise<ExitCode> {
  const peer = str(args, 'peer');
  if (peer !== undefined && peer.trim() === '') throw new BadInputError('ERR_BAD_ARGUMENT', '--peer: empty peer reference (a name, key or host:port)');
  const asJson = bool(args, 'json');
  const backlog = bool(args, 'backlog');
  return withClient<ExitCode>(home, async (c) => {
    const sub = c.subscribe({
      ...(peer !== undefined && { peer }),
      ...(backlog && { backlog: true }),
      onLost: (n) => io.stderr.write(`udpvault subscribe: ${n} message(s) lost: this subscriber read too slowly and the daemon's buffer for it was full\n`),
    });
    let interrupted = false;
    const stop = (): void => {
      interrupted = true;
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
      if (!interrupted) throw e;
    } finally {
      unregister();
      io.stdout.off('error', stop);
    }
    if (!interrupted && sub.endReason !== null) io.stderr.write(`udpvault subscribe: the daemon ended the stream (${sub.endReason})\n`);
    return EXIT_OK;
  });
}
