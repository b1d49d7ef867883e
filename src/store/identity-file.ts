/**
 * The identity key file (SPEC §5): home/identity.key, mode 0600, two lines:
 *
 *   udpvault-identity-v1
 *   <base64 of the 32-byte Ed25519 seed>
 *
 * The file is read into a Buffer and decoded byte by byte — the seed never becomes a
 * JavaScript string — and both buffers are zeroed once the key pair is derived. A key file
 * readable or writable by group or others is refused, like ssh, with the chmod that fixes it.
 * A new file is created complete and exclusively (temp file fsync'd, linked into place,
 * directory fsync'd): an existing identity is never replaced.
 */
import * as path from 'node:path';
import { UdpVaultError } from '../errors';
import { generateIdentity, identityFromSeed, type Identity } from '../crypto/identity';
import { unlinkQuietly, writeTemp } from './atomic-file';
import { errnoOf, nodeFs, type FileSystem } from './fs';

const SEED_BYTES = 32;
const HEADER = Buffer.from('udpvault-identity-v1\n');
const B64 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/');
const B64_VALUE = new Int16Array(256).fill(-1);
B64.forEach((c, i) => (B64_VALUE[c] = i));
const PAD = 0x3d; // '='

/** Standard base64 with padding, written into bytes (no string holds the secret). */
export function base64EncodeBytes(src: Uint8Array): Buffer {
  const out = Buffer.alloc(Math.ceil(src.length / 3) * 4);
  let o = 0;
  for (let i = 0; i < src.length; i += 3) {
    const n = ((src[i] ?? 0) << 16) | ((src[i + 1] ?? 0) << 8) | (src[i + 2] ?? 0);
    out[o++] = B64[(n >> 18) & 63]!;
    out[o++] = B64[(n >> 12) & 63]!;
    out[o++] = i + 1 < src.length ? B64[(n >> 6) & 63]! : PAD;
    out[o++] = i + 2 < src.length ? B64[n & 63]! : PAD;
  }
  return out;
}

/** Decodes standard padded base64 bytes; null when malformed. The result is a fresh Buffer. */
export function base64DecodeBytes(src: Uint8Array): Buffer | null {
  if (src.length % 4 !== 0) return null;
  const pad = src.length > 0 ? (src[src.length - 1] === PAD ? (src[src.length - 2] === PAD ? 2 : 1) : 0) : 0;
  const out = Buffer.alloc((src.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < src.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = src[i + j]!;
      const last = i + 4 === src.length;
      const v = c === PAD && last && j >= 4 - pad ? 0 : B64_VALUE[c]!;
      if (v < 0) {
        out.fill(0);
        return null;
      }
      n = (n << 6) | v;
    }
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

function permissionError(file: string, mode: number): UdpVaultError {
  return new UdpVaultError(
    'ERR_KEY_FILE_PERMISSIONS',
    `identity key file ${file} is readable by group or others (mode ${(mode & 0o777).toString(8)}); fix with: chmod 600 ${file}`,
  );
}

function invalid(file: string): UdpVaultError {
  return new UdpVaultError('ERR_KEY_FILE_INVALID', `identity key file ${file} is not a udpvault identity (expected "udpvault-identity-v1" and a base64 seed)`);
}

/** The seed's base64 line: the content after the header, without trailing whitespace. */
function seedLine(content: Buffer): Buffer | null {
  if (content.length < HEADER.length || !content.subarray(0, HEADER.length).equals(HEADER)) return null;
  let end = content.length;
  while (end > HEADER.length && (content[end - 1] === 0x0a || content[end - 1] === 0x0d || content[end - 1] === 0x20)) end--;
  return content.subarray(HEADER.length, end);
}

/** Reads the identity key file; throws ERR_KEY_FILE_PERMISSIONS / ERR_KEY_FILE_INVALID, or the fs error (ENOENT …). */
export function readIdentity(file: string, fs: FileSystem = nodeFs): Identity {
  const fd = fs.open(file, 'r');
  let content: Buffer | null = null;
  try {
    const st = fs.fstat(fd);
    if ((st.mode & 0o077) !== 0) throw permissionError(file, st.mode);
    content = fs.readAll(fd);
  } finally {
    fs.close(fd);
  }
  let seed: Buffer | null = null;
  try {
    const line = seedLine(content);
    seed = line ? base64DecodeBytes(line) : null;
    if (!seed || seed.length !== SEED_BYTES) throw invalid(file);
    return identityFromSeed(seed);
  } finally {
    content.fill(0);
    seed?.fill(0);
  }
}

/** Creates the identity key file for `identity` (0600); false when a file is already there (it is left alone). */
export function createIdentityFile(file: string, identity: Identity, fs: FileSystem = nodeFs): boolean {
  fs.mkdir(path.dirname(file), 0o700);
  const seedB64 = base64EncodeBytes(identity.privateKey.subarray(0, SEED_BYTES));
  const content = Buffer.concat([HEADER, seedB64, Buffer.from('\n')]);
  seedB64.fill(0);
  let tmp: string;
  try {
    tmp = writeTemp(file, content, { fs, mode: 0o600 });
  } finally {
    content.fill(0);
  }
  try {
    fs.link(tmp, file);
  } catch (e) {
    if (errnoOf(e) === 'EEXIST') return false;
    throw e;
  } finally {
    unlinkQuietly(fs, tmp);
  }
  fs.fsyncDir(path.dirname(file));
  return true;
}

/** Loads the identity key file, creating it (0600, durably) when missing. */
export function loadOrCreateIdentity(file: string, fs: FileSystem = nodeFs): { identity: Identity; created: boolean } {
  try {
    return { identity: readIdentity(file, fs), created: false };
  } catch (e) {
    if (errnoOf(e) !== 'ENOENT') throw e;
  }
  const identity = generateIdentity();
  if (createIdentityFile(file, identity, fs)) return { identity, created: true };
  identity.privateKey.fill(0);
  return { identity: readIdentity(file, fs), created: false }; // another process created it first
}

/** Writes the identity key file (0600); refuses to replace an existing one. */
export function saveIdentity(file: string, identity: Identity, fs: FileSystem = nodeFs): void {
  if (!createIdentityFile(file, identity, fs)) {
    throw new UdpVaultError('ERR_KEY_FILE_INVALID', `identity key file ${file} already exists; it was left untouched`);
  }
}
