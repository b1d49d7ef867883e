/**
 * Splitting a message (already compressed, when it is) into chunks that each fit one payload
 * item. Every chunk but the last has exactly `maxChunkBytes`; the last has 1..maxChunkBytes
 * (0 only when the whole message is empty: one empty chunk). Receivers rely on this shape
 * (the reassembler checks it to reject implausible fragment claims early).
 */
import { BadInputError } from '../errors';

/** Number of chunks `fragment()` produces for a message of `byteLength` bytes. */
export function fragmentCount(byteLength: number, maxChunkBytes: number): number {
  checkChunkBytes(maxChunkBytes);
  return byteLength === 0 ? 1 : Math.ceil(byteLength / maxChunkBytes);
}

/**
 * Splits `data` into chunks of `maxChunkBytes` (the last may be shorter). The chunks are
 * subarray views of `data` (no copy). Always at least one chunk, even for empty data.
 */
export function fragment(data: Uint8Array, maxChunkBytes: number): Uint8Array[] {
  const n = fragmentCount(data.byteLength, maxChunkBytes);
  const chunks = new Array<Uint8Array>(n);
  for (let i = 0; i < n; i++) chunks[i] = data.subarray(i * maxChunkBytes, Math.min(data.byteLength, (i + 1) * maxChunkBytes));
  return chunks;
}

/** The most fragments a message of at most `maxMessageBytes` needs at `maxChunkBytes` per chunk. */
export function maxFragments(maxMessageBytes: number, maxChunkBytes: number): number {
  return fragmentCount(maxMessageBytes, maxChunkBytes);
}

/** Concatenates chunks into one new buffer (a single chunk is returned as is). */
export function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let total = 0;
  for (const c of chunks) total += c.byteLength;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

function checkChunkBytes(maxChunkBytes: number): void {
  if (!Number.isSafeInteger(maxChunkBytes) || maxChunkBytes < 1) {
    throw new BadInputError('ERR_BAD_ARGUMENT', `maxChunkBytes must be a positive integer (got ${String(maxChunkBytes)})`);
  }
}
