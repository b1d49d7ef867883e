/** `udpvault send <peer> [MESSAGE] [--file F] [--reliable] [--timeout S] [--all]`. */
import { BadInputError } from '../../errors';
import type { ControlClient } from '../../control/client';
import type { PeerJson } from '../../control/views';
import { bool, checkPositionals, parseSeconds, str, UsageError } from '../args';
import { withClient, type CommandContext } from './context';
import { EXIT_OK, exitCodeFor, worst, type ExitCode } from '../exit';
import { readMessage, readStdin } from '../input';
import { Progress } from '../progress';
import { SPECS } from '../specs';
import { bytes } from '../units';

function sizeOf(data: Uint8Array | string): number {
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
}

function isTty(stream: NodeJS.ReadableStream | NodeJS.WritableStream): boolean {
  return (stream as { isTTY?: boolean }).isTTY === true;
}

/** What a send is waiting for, from the peer's state. */
function waitingFor(p: PeerJson | undefined, reliable: boolean): string {
  if (!p) return 'waiting';
  if (p.state === 'new' || p.state === 'handshaking') return `handshake pending with ${p.endpoint}`;
  if (p.state === 'unreachable') return `peer unreachable at ${p.endpoint}, still trying`;
  return reliable ? 'waiting for the acknowledgement' : 'sending';
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
  const timeoutMs = parseSeconds(str(args, 'timeout'), '--timeout');
  if (text === undefined && file === undefined && isTty(io.stdin)) {
    throw new UsageError(spec, 'no message given: pass MESSAGE, --file F, or pipe the message into stdin');
  }
  // Argument and file are read before connecting (bad input is reported even without a daemon);
  // stdin only once the daemon is known to run.
  const early = text !== undefined || file !== undefined ? await readMessage(text, file, io.stdin) : undefined;
  return withClient<ExitCode>(home, async (c) => {
    const data = early ?? (await readStdin(io.stdin));
    if (early === undefined && sizeOf(data) === 0) {
      throw new UsageError(spec, 'no message given: stdin was empty (to send an empty message, pass "" as MESSAGE)');
    }
    const opts = { reliable, ...(timeoutMs !== undefined && { timeoutMs }) };
    if (peer !== undefined) {
      await withProgress(c, io.stderr, peer, sizeOf(data), reliable, io.scheduler, () => c.send(peer, data, opts));
      io.stdout.write(`${reliable ? 'delivered (acknowledged)' : 'sent'} ${sizeOf(data)} bytes to ${peer}\n`);
      return EXIT_OK;
    }
    return sendAll(c, data, opts, io.stdout, io.stderr);
  });
}

/** Runs `op` with a progress line on a terminal stderr, naming what the send waits for. */
async function withProgress<T>(
  c: ControlClient,
  stderr: NodeJS.WritableStream,
  peer: string,
  size: number,
  reliable: boolean,
  scheduler: CommandContext['io']['scheduler'],
  op: () => Promise<T>,
): Promise<T> {
  let progress: Progress | null = null;
  const poll = (): void => {
    void c.peers().then(
      (ps) => progress?.set(waitingFor(ps.find((p) => p.name === peer || p.key === peer || p.endpoint === peer), reliable)),
      () => undefined,
    );
  };
  progress = new Progress(`udpvault send: ${bytes(size)} to ${peer}`, { stream: stderr, ...(scheduler && { scheduler }), onTick: poll });
  if (progress.active) poll(); // what it waits for is then known when the line first shows
  try {
    return await op();
  } finally {
    progress.stop();
  }
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
