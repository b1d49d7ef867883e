/** What the CLI touches of the process (injectable for tests). */
import type { Scheduler } from '../runtime/scheduler';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  env: Readonly<Record<string, string | undefined>>;
  /** Timers of progress lines (default: the system scheduler). */
  scheduler?: Scheduler;
  /** Calls `cb` on SIGINT/SIGTERM; returns the unregistration. */
  onInterrupt(cb: () => void): () => void;
}

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    onInterrupt(cb) {
      process.on('SIGINT', cb);
      process.on('SIGTERM', cb);
      return () => {
        process.off('SIGINT', cb);
        process.off('SIGTERM', cb);
      };
    },
  };
}

/** Writes and waits for the stream to accept more (so a slow reader slows us down, not our memory). */
export function writeOut(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (stream.write(text)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}
