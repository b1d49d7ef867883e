/**
 * Reusable datagram buffers for the send path (issue 12: no per-datagram allocation on the hot
 * path). A datagram up to SLOT_BYTES (every datagram of a 1500-byte MTU path) is sealed into a
 * slot taken here and given back once the transport's send callback ran — the Transport
 * contract: the bytes are the network's until then. Larger ones are allocated as before. The
 * free list is bounded; a slot whose callback never runs (a killed socket) is simply collected.
 * A slot holds only ciphertext between uses: frames are sealed in place.
 */
export const SLOT_BYTES = 2048;
const MAX_FREE = 256;

const free: ArrayBuffer[] = [];
let made = 0;

/** A buffer of exactly `bytes` bytes (contents undefined): a pooled slot when it fits. */
export function takeDatagram(bytes: number): Uint8Array {
  if (bytes > SLOT_BYTES) return Buffer.allocUnsafe(bytes);
  let ab = free.pop();
  if (ab === undefined) {
    ab = new ArrayBuffer(SLOT_BYTES);
    made++;
  }
  return new Uint8Array(ab, 0, bytes);
}

/** Gives a buffer from takeDatagram back (after the transport is done with it). */
export function releaseDatagram(d: Uint8Array): void {
  const ab = d.buffer;
  if (ab.byteLength === SLOT_BYTES && d.byteOffset === 0 && free.length < MAX_FREE && ab instanceof ArrayBuffer) free.push(ab);
}

/** Slots made so far and slots free now (tests, stats). */
export function datagramPoolStats(): { made: number; free: number } {
  return { made, free: free.length };
}
