/**
 * Padding policy (SPEC §4): how long a datagram is made, inside the encryption, so that its
 * size reveals less about the message.
 *
 * - 'none'   → the datagram keeps its length.
 * - 'mtu'    → every datagram is padded to the largest allowed size (as py-vault-udp does).
 * - 'bucket' → padded up to the next bucket that holds it, or to the maximum when that bucket
 *              would exceed it. Buckets are the powers of two from SMALLEST_BUCKET_BYTES up to
 *              FINE_BUCKETS_FROM_BYTES (128, 256, 512, 1024); above that each doubling is cut
 *              into BUCKET_STEPS_PER_DOUBLING equal steps (1024 + 32·k up to 2048, 2048 + 64·k up
 *              to 4096, …). Small datagrams thus hide their size within a power of two, and
 *              larger ones (bulk data, 1 KiB messages) pay at most 1/32 (3.1%) of padding instead
 *              of up to 100%: a 1 KiB message travels in a 1088-byte datagram, not a 1472-byte
 *              one. Buckets grow with the MTU, and above the smallest bucket a datagram is never
 *              padded to twice its length or more.
 */
import type { PaddingPolicy } from '../config/schema';

/** The smallest bucket of the 'bucket' policy. */
export const SMALLEST_BUCKET_BYTES = 128;
/** Up to this size buckets are powers of two; above it they are finer. */
export const FINE_BUCKETS_FROM_BYTES = 1024;
/** Above FINE_BUCKETS_FROM_BYTES, each doubling is split into this many equal steps. */
export const BUCKET_STEPS_PER_DOUBLING = 32;

/** The smallest bucket of the 'bucket' policy that holds `lenBytes` (no maximum applied). */
function bucketFor(lenBytes: number): number {
  if (lenBytes <= FINE_BUCKETS_FROM_BYTES) {
    let bucket = SMALLEST_BUCKET_BYTES;
    while (bucket < lenBytes) bucket *= 2;
    return bucket;
  }
  let low = FINE_BUCKETS_FROM_BYTES;
  while (low * 2 < lenBytes) low *= 2;
  const step = low / BUCKET_STEPS_PER_DOUBLING;
  return Math.ceil(lenBytes / step) * step;
}

/** Every size the 'bucket' policy produces for this maximum datagram, ascending. */
export function paddingBuckets(maxBytes: number): number[] {
  const out: number[] = [];
  for (let b = SMALLEST_BUCKET_BYTES; b < maxBytes; b = bucketFor(b + 1)) out.push(b);
  out.push(maxBytes);
  return out;
}

/**
 * The datagram length after padding. `lenBytes` is the datagram length without padding,
 * `maxBytes` the largest allowed datagram. Throws RangeError when `lenBytes` > `maxBytes`
 * or either is not a non-negative integer.
 */
export function paddedSize(lenBytes: number, maxBytes: number, policy: PaddingPolicy): number {
  if (!Number.isSafeInteger(lenBytes) || lenBytes < 0) throw new RangeError(`length must be a non-negative integer, got ${lenBytes}`);
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maximum must be a non-negative integer, got ${maxBytes}`);
  if (lenBytes > maxBytes) throw new RangeError(`datagram of ${lenBytes} bytes exceeds the maximum of ${maxBytes} bytes`);
  switch (policy) {
    case 'none':
      return lenBytes;
    case 'mtu':
      return maxBytes;
    case 'bucket':
      return Math.min(bucketFor(lenBytes), maxBytes);
    default:
      throw new RangeError(`unknown padding policy ${String(policy satisfies never)}`);
  }
}
