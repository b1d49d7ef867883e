/**
 * Padding policy (SPEC §4): how long a datagram is made, inside the encryption, so that its
 * size reveals less about the message.
 *
 * - 'none'   → the datagram keeps its length.
 * - 'mtu'    → every datagram is padded to the largest allowed size (as py-vault-udp does).
 * - 'bucket' → padded up to the smallest of PADDING_BUCKETS_BYTES (128, 256, 512, 1024 bytes)
 *              that holds it; longer datagrams (or when a bucket would exceed the maximum) are
 *              padded to the maximum. With a 1500-byte MTU the sizes on the wire are thus
 *              128, 256, 512, 1024 and 1472 (IPv4) / 1452 (IPv6) bytes of UDP payload.
 */
import type { PaddingPolicy } from '../settings';

/** Bucket sizes of the 'bucket' policy, ascending; the maximum datagram size is the last bucket. */
export const PADDING_BUCKETS_BYTES: readonly number[] = Object.freeze([128, 256, 512, 1024]);

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
      for (const bucket of PADDING_BUCKETS_BYTES) {
        if (bucket > maxBytes) break;
        if (bucket >= lenBytes) return bucket;
      }
      return maxBytes;
    default:
      throw new RangeError(`unknown padding policy ${String(policy satisfies never)}`);
  }
}
