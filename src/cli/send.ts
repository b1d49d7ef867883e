/** `udpvault send <peer> [MESSAGE] [--file F] [--reliable] [--timeout S] [--all]`. */
import { BadInputError } from '../errors';
import type { ControlClient } from '../control/client';
import { bool, checkPositionals, str } from './args';
import { withClient, type CommandContext } from './commands';
import { EXIT_OK, exitCodeFor, worst, type ExitCode } from './exit';
import { readMessage, readStdin } from './input';
import { SPECS } from './specs';

function parseTimeout(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const s = Number(v);
  if (v.trim() === '' || !Number.isFinite(s) || s <= 0 || s > 86_400) {
    throw new BadInputError('ERR_BAD_ARGUMENT', `--timeout: expected a number of seconds greater than 0 and at most 86400, got "${v.slice(0, 40)}"`);
  }
  return Math.max(1, Math.round(s * 1000));
}

function sizeOf(data: Uint8Array | string): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
}

export async function cmdSend({ home, args, io }: CommandContext): Promise<ExitCode> {
  const spec = SPECS.send;
  const all = bool(args, 'all');
  checkPositionals(spec, args, all ? ['[MESSAGE]'] : spec.args);
  const peer = all ? undefined : args.positionals[0]!;
  if (peer !== undefined && peer.trim() === '') throw new BadInputError('ERR_BAD_ARGUMENT', '<peer>: empty peer reference (a name, key or host:port)');
  const text = all ? args.positionals[0] : args.positionals[1];
  const file = str(args, 'file');
  const reliable = bool(args, 'reliable');
  const timeoutMs = parseTimeout(str(args, 'timeout'));
  // Argument and file are read before connecting (bad input is reported even without a daemon);
  // stdin only once the daemon is known to run.
  const early = text !== undefined || file !== undefined ? await readMessage(text, file, io.stdin) : undefined;
  return withClient<ExitCode>(home, async (c) => {
    const data = early ?? (await readStdin(io.stdin));
    const opts = { reliable, ...(timeoutMs !== undefined && { timeoutMs }) };
    if (peer !== undefined) {
      await c.send(peer, data, opts);
      io.stdout.write(`${reliable ? 'delivered (acknowledged)' : 'sent'} ${sizeOf(data)} bytes to ${peer}\n`);
      return EXIT_OK;
    }
    return sendAll(c, data, opts, io.stdout, io.stderr);
  });
}

async function sendAll(
  c: ControlClient,
  data: Uint8Array | string,
  opts: { reliable: boolean; timeoutMs?: number },
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<ExitCode> {
  const peers = await c.peers();
  if (peers.length === 0) throw new BadInputError('ERR_UNKNOWN_PEER', '--all: there are no peers; add one with: udpvault peer add HOST:PORT --key KEY');
  const refs = peers.map((p) => p.key ?? p.name ?? p.endpoint);
  const results = await Promise.allSettled(refs.map((r) => c.send(r, data, opts)));
  const codes: ExitCode[] = [];
  results.forEach((r, i) => {
    const label = peers[i]!.name ?? refs[i]!;
    if (r.status === 'fulfilled') {
      out.write(`${opts.reliable ? 'delivered (acknowledged)' : 'sent'} ${sizeOf(data)} bytes to ${label}\n`);
      codes.push(EXIT_OK);
    } else {
      const e = r.reason as Error;
      err.write(`udpvault send: ${label}: ${e.message}\n`);
      codes.push(exitCodeFor(e));
    }
  });
  return worst(codes);
}
