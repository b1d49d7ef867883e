/**
 * Anti-amplification (RFC 9000 §8) for a link's packet path: until a new peer address
 * acknowledges a packet sent to it, no more than 3 × the bytes received from it are sent there.
 */

/** Anti-amplification (RFC 9000 §8): before a new address answered, at most this × what came from it. */
export const AMPLIFICATION_FACTOR = 3;

/** A new peer address not validated yet: what it sent us, what we sent it, our first packet to it. */
export interface Unvalidated {
  received: number;
  sent: number;
  firstPn: number;
  probed: boolean;
}

/** Bytes that may still be sent to an address not validated yet. */
export function amplificationRoomOf(u: Unvalidated): number {
  return Math.max(0, AMPLIFICATION_FACTOR * u.received - u.sent);
}
