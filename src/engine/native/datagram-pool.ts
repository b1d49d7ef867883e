/**
 * Reusable datagram buffers for the send path (issue 12: no per-datagram allocation on the hot
 * path). A datagram up to SLOT_BYTES (every datagram of a 1500-byte MTU path) is sealed into a
 * slot taken here and given back once the transport's send callback ran — the Transport
 * contract: the bytes are the network's until then. Larger ones are allocated as before. The
 * free list is bounded; a slot whose callback never runs (a killed socket) is simply collected.
 * A slot holds only ciphertext between uses: frames are sealed in place.
 *
 * A free slot is kept as its last view (a SealBuffer, which also keeps the views the native
 * seal needs): taken again for the same length — every datagram of a steady flow of one size —
 * it is handed out as it is, with no new view.
 */
import { SealBuffer } from '../../crypto/packet-cipher';

export const SLOT_BYTES = 2048;
const MAX_FREE = 256;

const free: SealBuffer[] = [];
let made = 0;

/** A buffer of exactly `bytes` bytes (contents undefined): a pooled slot when it fits. */
export function takeDatagram(bytes: number): Uint8Array {
  if (bytes > SLOT_BYTES) return Buffer.allocUnsafe(bytes);
  const v = free.pop();
  if (v === undefined) {
    made++;
    return new SealBuffer(new ArrayBuffer(SLOT_BYTES), 0, bytes);
  }
  return v.length === bytes ? v : new SealBuffer(v.buffer, 0, bytes);
}

/** Gives a buffer from takeDatagram back (after the transport is done with it). */
export function releaseDatagram(d: Uint8Array): void {
  if (d instanceof SealBuffer && d.byteOffset === 0 && d.buffer.byteLength === SLOT_BYTES && free.length < MAX_FREE) free.push(d);
}

/** Slots made so far and slots free now (tests, stats). */
export function datagramPoolStats(): { made: number; free: number } {
  return { made, free: free.length };
}
