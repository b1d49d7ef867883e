/**
 * vault-v2 keys (SPEC §6): this node's vault-v2 key pair, and what it has learned about each
 * vault-v2 peer from its announcements (with the pinned/TOFU identity rule).
 *
 * - Sign key: the node's Ed25519 identity, so the key string a vault-v2 peer is pinned with
 *   (`--key`) is the same form as `udpvault id`.
 * - Encryption key: a static X25519 key pair derived from the identity seed with a keyed
 *   BLAKE2b (domain-separated, not the Ed25519 key reused as X25519), so it is stable across
 *   restarts without being stored.
 * - A peer's learned X25519 key is forgotten 60 s after its last accepted announcement (as the
 *   reference does); its Ed25519 key is its identity (`peer.key`) and is kept (persisted).
 */
import { genericHash, scalarmultBase } from '../crypto/sodium';
import type { Identity } from '../crypto/identity';
import { buildAnnouncement } from './vault-v2-announce';

/** A peer's keys are forgotten this long after its last accepted announcement (reference: 60 s). */
export const VAULT_V2_KEY_LIFETIME_MS = 60_000;
/**
 * While we hold a peer's keys we re-announce this often: the reference forgets keys 60 s after
 * the last announcement, and a peer that restarted and lost our key learns it again within this.
 */
export const VAULT_V2_REANNOUNCE_MS = 5_000;
/**
 * While we do NOT hold a peer's keys we announce only this often (longer than the reference's
 * 60 s key lifetime plus its longest 20 s announcement interval). A reference peer that knows our
 * key announces itself only encrypted, which we cannot open without its key; announcing every
 * 10 s would keep it in that state forever. Staying quiet lets it forget our key and fall back to
 * a plaintext announcement, which we answer at once.
 */
export const VAULT_V2_PROBE_MS = 90_000;

const ENC_KEY_CONTEXT = new TextEncoder().encode('udpvault/vault-v2/x25519-static-key/v1');

/** This node's vault-v2 keys. The secret is never logged. */
export interface VaultV2OwnKeys {
  encPk: Uint8Array;
  encSk: Uint8Array;
  /** Our announcement (control field `c`), built once: Ed25519 signatures are deterministic. */
  announcement: Uint8Array;
}

/** Derives our X25519 key pair from the identity seed and builds our announcement for `port`. */
export function deriveOwnKeys(identity: Identity, port: number): VaultV2OwnKeys {
  const seed = identity.privateKey.subarray(0, 32);
  const encSk = genericHash(32, ENC_KEY_CONTEXT, seed);
  const encPk = scalarmultBase(encSk);
  const announcement = buildAnnouncement({ encPk, signPk: identity.publicKey, signSk: identity.privateKey, port });
  return { encPk, encSk, announcement };
}
