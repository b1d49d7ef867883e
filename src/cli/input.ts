/** Where `send` takes its message from: the argument, --file, or stdin when neither. */
import * as fs from 'node:fs';
import { BadInputError } from '../errors';

/** Read at most this much (the daemon's own limit, maxMessageBytes, is at most 64 MiB). */
export const READ_LIMIT = 64 * 1024 * 1024;

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
};

export async function readFileArg(file: string): Promise<Uint8Array> {
  try {
    const st = await fs.promises.stat(file);
    if (st.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    if (st.size > READ_LIMIT) throw new BadInputError('ERR_TOO_LARGE', `--file ${file}: ${st.size} bytes is more than any message can be (${READ_LIMIT} bytes)`);
    return new Uint8Array(await fs.promises.readFile(file));
  } catch (e) {
    if (e instanceof BadInputError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new BadInputError('ERR_BAD_ARGUMENT', `--file ${file}: cannot read it (${REASONS[code] ?? code})`);
  }
}

export async function readStdin(stdin: NodeJS.ReadableStream): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stdin) {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += b.length;
    if (total > READ_LIMIT) throw new BadInputError('ERR_TOO_LARGE', `stdin: more than ${READ_LIMIT} bytes, more than any message can be`);
    chunks.push(b);
  }
  return new Uint8Array(Buffer.concat(chunks, total));
}

/** The message to send, as text (argument) or bytes (file, stdin). */
export async function readMessage(arg: string | undefined, file: string | undefined, stdin: NodeJS.ReadableStream): Promise<Uint8Array | string> {
  if (arg !== undefined && file !== undefined) {
    throw new BadInputError('ERR_BAD_ARGUMENT', 'give the message either as the MESSAGE argument or with --file, not both (see: udpvault send --help)');
  }
  if (arg !== undefined) return arg;
  if (file !== undefined) return readFileArg(file);
  return readStdin(stdin);
}
