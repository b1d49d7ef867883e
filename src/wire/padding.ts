/**
 * Padding policy (SPEC §4): how long a datagram is made, inside the encryption, so that its
 * size reveals less about the message.
 *
 * - 'none'   → the datagram keeps its length.
 * - 'mtu'    → every datagram is padded to the largest allowed size (as py-vault-udp does).
 * - 'bucket' → padded up to the next power of two from SMALLEST_BUCKET_BYTES (128, 256, 512,
 *              1024, 2048, …) that holds it, or to the maximum when that power of two would
 *              exceed it. Buckets thus grow with the MTU, and above the smallest bucket a
 *              datagram is never padded to twice its length or more (a 1000-byte message on a
 *              9000-byte MTU stays a 1024-byte datagram). With a 1500-byte MTU the sizes on the
 *              wire are 128, 256, 512, 1024 and 1472 (IPv4) / 1452 (IPv6) bytes of UDP payload.
 */
import type { PaddingPolicy } from '../config/schema';

/** The smallest bucket of the 'bucket' policy; the next ones double up to the maximum datagram. */
export const SMALLEST_BUCKET_BYTES = 128;

/** Every size the 'bucket' policy produces for this maximum datagram, ascending. */
export function paddingBuckets(maxBytes: number): number[] {
  const out: number[] = [];
  for (let b = SMALLEST_BUCKET_BYTES; b < maxBytes; b *= 2) out.push(b);
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
    case 'bucket': {
      let bucket = SMALLEST_BUCKET_BYTES;
      while (bucket < lenBytes) bucket *= 2;
      return Math.min(bucket, maxBytes);
    }
    default:
      throw new RangeError(`unknown padding policy ${String(policy satisfies never)}`);
  }
}
