/**
 * vault-v2 body P (SPEC §6): the msgpack map `{v: 2, p: bin, c: bin, g: bin}` with str keys
 * in exactly that order, as py-vault-udp (msgpack-python) writes it. The encoder and the
 * strict parser are hand-written so the bytes are exact: fixmap 0x84, fixstr keys
 * (0xa1 + letter), positive fixint 2, and bin8/bin16/bin32 fields (empty = 0xc4 0x00).
 * Pure: no I/O, no clock; randomness (padding) is injected.
 */
import { DropError, UdpVaultError } from '../errors';

/** Protocol version carried in `v`. */
export const VAULT_V2_VERSION = 2;
/** Effective MTU (the largest body P) = interface MTU − this (py-vault-udp's rule). */
export const VAULT_V2_MTU_OVERHEAD = 107;

/** The three byte fields of a body: payload (zstd frame), control (announcement JSON), padding. */
export interface VaultV2Body {
  readonly p: Uint8Array;
  readonly c: Uint8Array;
  readonly g: Uint8Array;
}

/** Injected randomness: returns `n` fresh random bytes. */
export type RandomBytes = (n: number) => Uint8Array;

const FIXMAP_4 = 0x84;
const FIXSTR_1 = 0xa1;
const BIN8 = 0xc4;
const BIN16 = 0xc5;
const BIN32 = 0xc6;
const KEYS = ['v', 'p', 'c', 'g'] as const;
const MAX_BIN = 0xffffffff;

/** Size of the msgpack bin header for a field of `len` bytes (2, 3 or 5). */
export function binHeaderLength(len: number): number {
  if (len <= 0xff) return 2;
  if (len <= 0xffff) return 3;
  return 5;
}

/** Encoded length of a body with fields of these lengths. */
export function encodedBodyLength(pLen: number, cLen: number, gLen: number): number {
  // fixmap + 4 × fixstr key (2 bytes) + fixint v (1 byte) + three bin fields.
  return 1 + 4 * 2 + 1 + binHeaderLength(pLen) + pLen + binHeaderLength(cLen) + cLen + binHeaderLength(gLen) + gLen;
}

function writeBin(out: Uint8Array, pos: number, data: Uint8Array): number {
  const n = data.length;
  if (n <= 0xff) {
    out[pos++] = BIN8;
    out[pos++] = n;
  } else if (n <= 0xffff) {
    out[pos++] = BIN16;
    out[pos++] = n >>> 8;
    out[pos++] = n & 0xff;
  } else {
    out[pos++] = BIN32;
    new DataView(out.buffer, out.byteOffset, out.byteLength).setUint32(pos, n);
    pos += 4;
  }
  out.set(data, pos);
  return pos + n;
}

/** Encodes a body exactly as the reference does (field order v, p, c, g; all fields bin). */
export function encodeBody(body: VaultV2Body): Uint8Array {
  for (const f of [body.p, body.c, body.g]) {
    if (f.length > MAX_BIN) throw new UdpVaultError('ERR_TOO_LARGE', 'vault-v2 body field exceeds the msgpack bin32 limit');
  }
  const out = new Uint8Array(encodedBodyLength(body.p.length, body.c.length, body.g.length));
  let pos = 0;
  out[pos++] = FIXMAP_4;
  const fields = [null, body.p, body.c, body.g];
  for (let i = 0; i < KEYS.length; i++) {
    out[pos++] = FIXSTR_1;
    out[pos++] = KEYS[i]!.charCodeAt(0);
    const f = fields[i];
    if (f) pos = writeBin(out, pos, f);
    else out[pos++] = VAULT_V2_VERSION; // positive fixint
  }
  return out;
}

const malformed = (what: string): DropError => new DropError('malformed', `vault-v2 body: ${what}`);

/**
 * Parses a body strictly: fixmap of exactly four entries, keys `v`,`p`,`c`,`g` in that order,
 * `v` the fixint 2, `p`/`c`/`g` bin (a str is refused), nothing after the map.
 * The returned fields are views into `bytes` (no copy). Throws DropError('malformed').
 */
export function decodeBody(bytes: Uint8Array): VaultV2Body {
  let pos = 0;
  const need = (n: number, what: string): void => {
    if (pos + n > bytes.length) throw malformed(`truncated ${what}`);
  };
  need(1, 'map header');
  if (bytes[pos++] !== FIXMAP_4) throw malformed('not a 4-entry msgpack map');
  const fields: Uint8Array[] = [];
  for (const key of KEYS) {
    need(2, `key ${key}`);
    if (bytes[pos] !== FIXSTR_1 || bytes[pos + 1] !== key.charCodeAt(0)) throw malformed(`expected key "${key}"`);
    pos += 2;
    if (key === 'v') {
      need(1, 'version');
      if (bytes[pos++] !== VAULT_V2_VERSION) throw malformed('v is not 2');
      continue;
    }
    need(1, `field ${key}`);
    const tag = bytes[pos++];
    const headerLen = tag === BIN8 ? 1 : tag === BIN16 ? 2 : tag === BIN32 ? 4 : -1;
    if (headerLen < 0) throw malformed(`field ${key} is not bin`);
    need(headerLen, `field ${key} length`);
    let len = 0;
    for (let i = 0; i < headerLen; i++) len = len * 256 + bytes[pos++]!;
    need(len, `field ${key}`);
    fields.push(bytes.subarray(pos, pos + len));
    pos += len;
  }
  if (pos !== bytes.length) throw malformed('trailing bytes after the map');
  return { p: fields[0]!, c: fields[1]!, g: fields[2]! };
}

/** The effective MTU: the largest body P that may be sent to a vault-v2 peer at interface MTU `mtu`. */
export function vaultV2BodyLimit(mtu: number): number {
  return mtu - VAULT_V2_MTU_OVERHEAD;
}

/**
 * Padding length `len(g)` for a body whose length with an EMPTY g (header 0xc4 0x00) is
 * `unpaddedLength`: the reference pads by the difference to the effective MTU, so the final
 * body is exactly the effective MTU when g fits bin8 (≤ 255 bytes) and one byte more when
 * g needs the 3-byte bin16 header (three more for bin32). Throws ERR_TOO_LARGE when the
 * unpadded body already exceeds the effective MTU.
 */
export function paddingLength(unpaddedLength: number, mtu: number): number {
  const limit = vaultV2BodyLimit(mtu);
  if (unpaddedLength > limit) {
    throw new UdpVaultError(
      'ERR_TOO_LARGE',
      `message too large for vault-v2 peer: the body needs ${unpaddedLength} bytes, the limit at MTU ${mtu} is ${limit}`,
    );
  }
  return limit - unpaddedLength;
}

/** Builds a padded body as the reference sends it (random padding from `random`). */
export function buildPaddedBody(fields: { p?: Uint8Array; c?: Uint8Array }, mtu: number, random: RandomBytes): Uint8Array {
  const p = fields.p ?? new Uint8Array(0);
  const c = fields.c ?? new Uint8Array(0);
  const gLen = paddingLength(encodedBodyLength(p.length, c.length, 0), mtu);
  const g = random(gLen);
  if (g.length !== gLen) throw new UdpVaultError('ERR_BAD_ARGUMENT', 'random source returned the wrong number of bytes');
  return encodeBody({ p, c, g });
}
