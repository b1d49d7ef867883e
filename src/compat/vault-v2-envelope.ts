/**
 * vault-v2 encrypted datagram (SPEC §6, PyNaCl `Box.encrypt` layout):
 *
 *   24-byte nonce ‖ crypto_box_easy(inner, nonce, receiver X25519 pk, sender X25519 sk)
 *   inner = 16-byte random inner nonce ‖ 8-byte big-endian IEEE double (unix seconds) ‖ body P
 *
 * Pure: time and randomness are injected. Requires `sodiumReady()` to have been awaited.
 */
import type { Clock } from '../runtime/clock';
import { boxEasy, boxOpenEasy } from '../crypto/sodium';
import { DropError, UdpVaultError } from '../errors';
import { decodeBody, type RandomBytes, type VaultV2Body } from './vault-v2-body';
import { VAULT_V2_INNER_NONCE_BYTES, type VaultV2NonceCache } from './vault-v2-nonce-cache';

export const VAULT_V2_BOX_NONCE_BYTES = 24;
export const VAULT_V2_BOX_MAC_BYTES = 16;
export const VAULT_V2_TIMESTAMP_BYTES = 8;
/** Bytes an encrypted datagram adds to the body P (24 + 16 + 16 + 8 = 64). */
export const VAULT_V2_ENVELOPE_OVERHEAD =
  VAULT_V2_BOX_NONCE_BYTES + VAULT_V2_BOX_MAC_BYTES + VAULT_V2_INNER_NONCE_BYTES + VAULT_V2_TIMESTAMP_BYTES;
/** Smallest valid body: {v:2, p:'', c:'', g:''}. */
const MIN_BODY_BYTES = 16;
export const VAULT_V2_MIN_ENVELOPE_BYTES = VAULT_V2_ENVELOPE_OVERHEAD + MIN_BODY_BYTES;

export interface SealOptions {
  /** The receiver's X25519 public key (from its announcement). */
  receiverEncPk: Uint8Array;
  /** Our X25519 secret key. */
  senderEncSk: Uint8Array;
  clock: Clock;
  random: RandomBytes;
}

export interface OpenOptions {
  /** The sender's X25519 public key (from its announcement). */
  senderEncPk: Uint8Array;
  /** Our X25519 secret key. */
  receiverEncSk: Uint8Array;
  clock: Clock;
  /** Replay cache; its `windowMs` is the freshness window. One per receiving node or per peer. */
  seen: VaultV2NonceCache;
}

function randomExact(random: RandomBytes, n: number): Uint8Array {
  const r = random(n);
  if (r.length !== n) throw new UdpVaultError('ERR_BAD_ARGUMENT', 'random source returned the wrong number of bytes');
  return r;
}

/** Encrypts body P for a vault-v2 peer; the timestamp is `clock.now()` in seconds. */
export function sealEnvelope(body: Uint8Array, opts: SealOptions): Uint8Array {
  const nonce = randomExact(opts.random, VAULT_V2_BOX_NONCE_BYTES);
  const inner = new Uint8Array(VAULT_V2_INNER_NONCE_BYTES + VAULT_V2_TIMESTAMP_BYTES + body.length);
  inner.set(randomExact(opts.random, VAULT_V2_INNER_NONCE_BYTES), 0);
  new DataView(inner.buffer).setFloat64(VAULT_V2_INNER_NONCE_BYTES, opts.clock.now() / 1000, false);
  inner.set(body, VAULT_V2_INNER_NONCE_BYTES + VAULT_V2_TIMESTAMP_BYTES);
  const boxed = boxEasy(inner, nonce, opts.receiverEncPk, opts.senderEncSk);
  inner.fill(0);
  const out = new Uint8Array(nonce.length + boxed.length);
  out.set(nonce, 0);
  out.set(boxed, nonce.length);
  return out;
}

/**
 * Decrypts and checks an encrypted datagram; returns body P (not yet parsed).
 * Refusals (DropError): `malformed` too short; `authFailure` wrong key or any tampering;
 * `stale` timestamp not within 0 ≤ now − ts ≤ window (or older than the replay cache
 * remembers); `replay` inner nonce seen before. The inner nonce is recorded only when the
 * datagram authenticates and is fresh, so trying the keys of several peers is safe.
 */
export function openEnvelope(datagram: Uint8Array, opts: OpenOptions): Uint8Array {
  if (datagram.length < VAULT_V2_MIN_ENVELOPE_BYTES) throw new DropError('malformed', 'vault-v2 encrypted datagram too short');
  const nonce = datagram.subarray(0, VAULT_V2_BOX_NONCE_BYTES);
  const inner = boxOpenEasy(datagram.subarray(VAULT_V2_BOX_NONCE_BYTES), nonce, opts.senderEncPk, opts.receiverEncSk);
  if (!inner) throw new DropError('authFailure', 'vault-v2 datagram does not authenticate with this key');
  const tsSeconds = new DataView(inner.buffer, inner.byteOffset, inner.byteLength).getFloat64(VAULT_V2_INNER_NONCE_BYTES, false);
  const tsMs = tsSeconds * 1000;
  const nowMs = opts.clock.now();
  const ageMs = nowMs - tsMs;
  if (!(ageMs >= 0 && ageMs <= opts.seen.windowMs)) {
    throw new DropError('stale', `vault-v2 datagram timestamp outside the ${opts.seen.windowMs} ms freshness window`);
  }
  opts.seen.admit(inner.subarray(0, VAULT_V2_INNER_NONCE_BYTES), tsMs, nowMs);
  return inner.subarray(VAULT_V2_INNER_NONCE_BYTES + VAULT_V2_TIMESTAMP_BYTES);
}

export type VaultV2Datagram = { kind: 'plaintext'; body: VaultV2Body } | { kind: 'encrypted' };

/**
 * Tells a plaintext body (starts with 0x84 and parses strictly) from an encrypted envelope
 * (anything else long enough; only opening it proves it). Throws DropError('malformed')
 * when it is neither.
 */
export function classify(datagram: Uint8Array): VaultV2Datagram {
  if (datagram[0] === 0x84) {
    try {
      return { kind: 'plaintext', body: decodeBody(datagram) };
    } catch (e) {
      if (!(e instanceof DropError)) throw e;
      // A random envelope nonce starts with 0x84 once in 256: fall through.
    }
  }
  if (datagram.length < VAULT_V2_MIN_ENVELOPE_BYTES) throw new DropError('malformed', 'vault-v2 datagram is neither a body nor an envelope');
  return { kind: 'encrypted' };
}
