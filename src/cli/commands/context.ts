/** What every subcommand gets, and the connection helper of those that talk to the daemon. */
import { connect, type ControlClient } from '../../control/client';
import type { ParsedArgs } from '../args';
import type { CliIo } from '../io';

export interface CommandContext {
  home: string;
  args: ParsedArgs;
  io: CliIo;
}

/** Connects to the daemon of the home, runs `fn`, closes. */
export async function withClient<T>(home: string, fn: (c: ControlClient) => Promise<T>): Promise<T> {
  const client = await connect({ home });
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** Pretty JSON, one trailing newline (the --json outputs). */
export function json(v: unknown): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}
