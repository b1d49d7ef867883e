/**
 * Ed25519 identity: generation and the public key string form (`udpvault id`, `--key`).
 * The identity key file is src/store/identity-file.ts.
 */
import { BadInputError } from '../errors';
import { PUBLIC_KEY_BYTES } from '../constants';
import { signKeypair, signSeedKeypair, type KeyPair } from './sodium';

export interface Identity {
  readonly publicKey: Uint8Array;
  /** 64-byte libsodium Ed25519 secret key (seed ‖ public key). Never logged. */
  readonly privateKey: Uint8Array;
  readonly keyString: string;
}

const KEY_STRING_RE = /^[A-Za-z0-9_-]{43}$/;

/** The public key string: unpadded base64url of the 32-byte Ed25519 public key (43 characters). */
export function encodeKey(pk: Uint8Array): string {
  return Buffer.from(pk.buffer, pk.byteOffset, pk.byteLength).toString('base64url');
}

export function isKeyString(s: string): boolean {
  return KEY_STRING_RE.test(s) && Buffer.from(s, 'base64url').length === PUBLIC_KEY_BYTES;
}

export function decodeKey(s: string): Uint8Array {
  if (!isKeyString(s)) {
    throw new BadInputError('ERR_BAD_ARGUMENT', `invalid key "${s.slice(0, 60)}": expected the 43-character string printed by "udpvault id"`);
  }
  return new Uint8Array(Buffer.from(s, 'base64url'));
}

function fromKeyPair(k: KeyPair): Identity {
  return { publicKey: k.publicKey, privateKey: k.privateKey, keyString: encodeKey(k.publicKey) };
}

export const generateIdentity = (): Identity => fromKeyPair(signKeypair());
export const identityFromSeed = (seed: Uint8Array): Identity => fromKeyPair(signSeedKeypair(seed));

/**
 * The identity key file moved to src/store/identity-file.ts (read into a zeroed Buffer, never a
 * string). Re-exported here until its importers use the new path; the re-export is a getter,
 * so the import cycle store/identity-file ↔ crypto/identity is safe at load time.
 */
