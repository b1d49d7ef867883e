/** `udpvault peer add | list | remove`, through the control client. */
import { BadInputError } from '../../errors';
import type { AddPeerRequest } from '../../control/protocol';
import { checkCompat, checkKey, checkName, parseEndpoint } from '../../control/validate';
import { bool, str } from '../args';
import { EXIT_OK, type ExitCode } from '../exit';
import { peerSummary } from '../format';
import { peerDetails, peerTable } from '../format-peers';
import { json, withClient, type CommandContext } from './context';

export async function cmdPeerAdd({ home, args, io }: CommandContext): Promise<ExitCode> {
  const endpoint = args.positionals[0]!;
  parseEndpoint(endpoint, '<host:port>');
  const key = str(args, 'key');
  const name = str(args, 'name');
  const compat = str(args, 'compat');
  const allowPlaintext = bool(args, 'allow-plaintext');
  const replaceKey = bool(args, 'replace-key');
  if (key !== undefined) checkKey(key, '--key');
  if (name !== undefined) checkName(name, '--name');
  if (compat !== undefined) checkCompat(compat, '--compat');
  if (allowPlaintext && compat === undefined) {
    throw new BadInputError('ERR_BAD_ARGUMENT', '--allow-plaintext: only for vault-v2 peers (add --compat vault-v2); native peers never send plaintext');
  }
  if (replaceKey && key === undefined) throw new BadInputError('ERR_BAD_ARGUMENT', '--replace-key: give the new key with --key KEY');
  const opts: AddPeerRequest = {
    endpoint,
    ...(key !== undefined && { key }),
    ...(name !== undefined && { name }),
    ...(compat !== undefined && { compat: 'vault-v2' as const }),
    ...(allowPlaintext && { allowPlaintext }),
    ...(replaceKey && { replaceKey }),
  };
  return withClient<ExitCode>(home, async (c) => {
    const before = await c.peers();
    const existed = before.some((p) => (key !== undefined && p.key === key) || (name !== undefined && p.name === name) || p.endpoint === endpoint);
    const peer = await c.addPeer(opts);
    io.stdout.write(`${peerSummary(existed ? 'updated' : 'added', peer)}\n`);
    return EXIT_OK;
  });
}

export async function cmdPeerList({ home, args, io }: CommandContext): Promise<ExitCode> {
  return withClient<ExitCode>(home, async (c) => {
    const peers = await c.peers();
    const now = Date.now();
    io.stdout.write(bool(args, 'json') ? json(peers) : `${bool(args, 'verbose') ? peerDetails(peers, now) : peerTable(peers, now)}\n`);
    return EXIT_OK;
  });
}

export async function cmdPeerRemove({ home, args, io }: CommandContext): Promise<ExitCode> {
  const ref = args.positionals[0]!;
  if (ref.trim() === '') throw new BadInputError('ERR_BAD_ARGUMENT', '<name|key|host:port>: empty peer reference');
  return withClient<ExitCode>(home, async (c) => {
    const p = await c.removePeer(ref);
    io.stdout.write(`removed peer ${p.name ? `${p.name} (${p.endpoint})` : p.endpoint}${p.key ? ` key ${p.key}` : ''}\n`);
    return EXIT_OK;
  });
}
