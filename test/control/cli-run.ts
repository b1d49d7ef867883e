/** Runs the CLI in-process (main) with captured output, optional fake terminals and a manual scheduler. */
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main';
import type { CliIo } from '../../src/cli/io';
import type { Scheduler } from '../../src/runtime/scheduler';

export interface RunOptions {
  stdin?: string | null;
  stdinTty?: boolean;
  stderrTty?: boolean;
  /** Terminal width of a TTY stderr. */
  stderrColumns?: number;
  scheduler?: Scheduler;
  /** Receives the interrupt callback (what SIGINT would call). */
  onInterrupt?: (cb: () => void) => void;
}

export interface Running {
  out: () => string;
  err: () => string;
  done: Promise<number>;
}

export function startCli(argv: string[], o: RunOptions = {}): Running {
  let out = '';
  let err = '';
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), o.stderrTty ? { isTTY: true, ...(o.stderrColumns !== undefined && { columns: o.stderrColumns }) } : {});
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const stdin = Object.assign(new PassThrough(), o.stdinTty ? { isTTY: true } : {});
  if (!o.stdinTty) stdin.end(o.stdin ?? '');
  const io: CliIo = {
    stdout,
    stderr,
    stdin,
    env: {},
    ...(o.scheduler && { scheduler: o.scheduler }),
    onInterrupt: (cb) => {
      o.onInterrupt?.(cb);
      return () => undefined;
    },
  };
  return { out: () => out, err: () => err, done: main(argv, io) };
}

export async function runCli(argv: string[], o: RunOptions = {}): Promise<{ code: number; out: string; err: string }> {
  const r = startCli(argv, o);
  const code = await r.done;
  return { code, out: r.out(), err: r.err() };
}

/** Polls `cond` every 10 ms (bounded). */
export async function until(cond: () => boolean, what: string, maxMs = 5000): Promise<void> {
  const end = Date.now() + maxMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
