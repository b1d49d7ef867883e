/**
 * Ed25519 identity: generation, the public key string form (`udpvault id`, `--key`),
 * and the identity key file (mode 0600; group/world-readable files are refused, like ssh).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BadInputError, UdpVaultError } from '../errors';
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

const FILE_HEADER = 'udpvault-identity-v1';

/** Loads the identity key file, creating it (0600) when missing. */
export function loadOrCreateIdentity(file: string): { identity: Identity; created: boolean } {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    const identity = generateIdentity();
    saveIdentity(file, identity);
    return { identity, created: true };
  }
  if ((st.mode & 0o077) !== 0) {
    throw new UdpVaultError(
      'ERR_KEY_FILE_PERMISSIONS',
      `identity key file ${file} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); fix with: chmod 600 ${file}`,
    );
  }
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  const seed = lines.length === 2 && lines[0] === FILE_HEADER ? Buffer.from(lines[1] ?? '', 'base64') : Buffer.alloc(0);
  if (seed.length !== 32) {
    throw new UdpVaultError('ERR_KEY_FILE_INVALID', `identity key file ${file} is not a udpvault identity (expected "${FILE_HEADER}" and a base64 seed)`);
  }
  const identity = identityFromSeed(new Uint8Array(seed));
  seed.fill(0);
  return { identity, created: false };
}

export function saveIdentity(file: string, identity: Identity): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const seed = Buffer.from(identity.privateKey.subarray(0, 32));
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, `${FILE_HEADER}\n${seed.toString('base64')}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
    seed.fill(0);
  }
  fs.renameSync(tmp, file);
}
