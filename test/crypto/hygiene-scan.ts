/** Helpers of the key-hygiene tests: where bytes occur in the wasm heap, and their string forms. */
import _sodium from 'libsodium-wrappers';

/** libsodium's whole WebAssembly memory, as it is now (re-read: the memory may have grown). */
export function wasmMemory(): Buffer {
  const heap = (_sodium as unknown as { libsodium: { HEAPU8: Uint8Array } }).libsodium.HEAPU8;
  return Buffer.from(heap.buffer, heap.byteOffset, heap.byteLength);
}

/** Offsets of every occurrence of `needle` in `hay`. */
export function occurrences(hay: Buffer, needle: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) out.push(i);
  return out;
}

/** The string forms a key could take in JavaScript: hex (both cases), base64, base64url. */
export function stringForms(bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes);
  const hex = b.toString('hex');
  return [hex, hex.toUpperCase(), b.toString('base64').replace(/=+$/, ''), b.toString('base64url')];
}
