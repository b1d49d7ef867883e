/**
 * Key fingerprints: a short, comparable form of a public key for reading aloud, comparing
 * across machines and showing in tables (`udpvault id --fingerprint`, `peer list`, logs).
 *
 * fingerprint = the first 12 bytes of SHA-256(the 32 raw Ed25519 public key bytes), as six
 * groups of four lowercase hex digits joined by "-": `3f2a-9c01-77de-4b10-e2c5-0a9f` (96 bits:
 * finding another key with the same fingerprint costs about 2^96 hashes). The short form is
 * its first two groups (`3f2a-9c01`): enough to tell peers apart on screen, not to verify one.
 */
import { createHash } from 'node:crypto';

const KEY_STRING_RE = /^[A-Za-z0-9_-]{43}$/;
const FULL_BYTES = 12;
const SHORT_GROUPS = 2;

function groups(hex: string): string[] {
  return hex.match(/.{4}/g) ?? [];
}

/** The fingerprint of a key string (`udpvault id`); throws a RangeError for anything else. */
export function fingerprint(keyString: string): string {
  const raw = KEY_STRING_RE.test(keyString) ? Buffer.from(keyString, 'base64url') : Buffer.alloc(0);
  if (raw.length !== 32) throw new RangeError('fingerprint: not a 43-character udpvault key string');
  return groups(createHash('sha256').update(raw).digest().subarray(0, FULL_BYTES).toString('hex')).join('-');
}

/**
 * The fingerprint (same form) of a raw 32-byte X25519 static, prefixed `x25519:` so that it is
 * never taken for an identity fingerprint: what a refused handshake's sender claimed before any
 * authentication (Noise IK refuses an unknown static before the DH that would prove it).
 */
export function staticFingerprint(x25519: Uint8Array): string {
  return `x25519:${groups(createHash('sha256').update(x25519).digest().subarray(0, FULL_BYTES).toString('hex')).join('-')}`;
}

/** The first two groups of the fingerprint, for tables; null for a peer without a key yet. */
export function shortFingerprint(keyString: string | null): string | null {
  if (keyString === null) return null;
  return fingerprint(keyString).split('-').slice(0, SHORT_GROUPS).join('-');
}
