/** `udpvault status [--json] [--verbose]`. */
import { bool } from '../args';
import { EXIT_OK, type ExitCode } from '../exit';
import { statusText } from '../format-status';
import { json, withClient, type CommandContext } from './context';

export async function cmdStatus({ home, args, io }: CommandContext): Promise<ExitCode> {
  return withClient<ExitCode>(home, async (c) => {
    const s = await c.status();
    if (bool(args, 'json')) {
      io.stdout.write(json(s));
    } else {
      const peers = await c.peers();
      io.stdout.write(`${statusText(s, peers, Date.now(), bool(args, 'verbose'))}\n`);
    }
    return EXIT_OK;
  });
}
