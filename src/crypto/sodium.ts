/**
 * The libsodium-wrappers seam: the only file that imports it. Call `sodiumReady()` once
 * (createNode does) before any other function here.
 */
import _sodium from 'libsodium-wrappers';
import { arenaBytes, needLength, WasmScratch, type RawSodium } from './wasm-heap';

let lib: typeof _sodium | undefined;

export async function sodiumReady(): Promise<void> {
  if (lib) return;
  await _sodium.ready;
  lib = _sodium;
}

function s(): typeof _sodium {
  if (!lib) throw new Error('sodiumReady() was not awaited');
  return lib;
}

/** libsodium's emscripten module (its raw `_crypto_*` functions and heap), for src/crypto/aead-wasm.ts. */
export const rawLibsodium = (): RawSodium => (s() as unknown as { libsodium: RawSodium }).libsodium;

// Every call below that takes or returns a secret runs on this zeroed-after-use arena of the
// wasm heap (src/crypto/wasm-heap.ts), never through the wrapper's unzeroed malloc copies.
let arena: WasmScratch | null = null;
/** The secret-call arena (exported for the key-hygiene tests and new primitives). */
export function secretArena(): WasmScratch {
  arena ??= new WasmScratch((s() as unknown as { libsodium: RawSodium }).libsodium);
  return arena;
}

function keyPairCall(fn: `_crypto_${string}`, pkBytes: number, skBytes: number, seed?: Uint8Array): KeyPair {
  if (seed) needLength(seed, 32, 'seed');
  return secretArena().run(arenaBytes(pkBytes, skBytes, 32), (c) => {
    const pk = c.alloc(pkBytes);
    const sk = c.alloc(skBytes);
    const rc = seed ? c.call(fn, pk, sk, c.put(seed)) : c.call(fn, pk, sk);
    if (rc !== 0) throw new Error('key generation failed');
    return { publicKey: c.read(pk, pkBytes), privateKey: c.read(sk, skBytes) };
  });
}

export interface KeyPair {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

// ---- Ed25519 identities ----
export const signKeypair = (): KeyPair => keyPairCall('_crypto_sign_keypair', 32, 64);
export const signSeedKeypair = (seed: Uint8Array): KeyPair => keyPairCall('_crypto_sign_seed_keypair', 32, 64, seed);
export const signDetached = (msg: Uint8Array, sk: Uint8Array): Uint8Array => {
  needLength(sk, 64, 'privateKey');
  return secretArena().run(arenaBytes(64, msg.length, 64), (c) => {
    const sig = c.alloc(64);
    if (c.call('_crypto_sign_detached', sig, 0, c.put(msg), msg.length, 0, c.put(sk)) !== 0) throw new Error('signature failed');
    return c.read(sig, 64);
  });
};
export const verifyDetached = (sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean => {
  try {
    return s().crypto_sign_verify_detached(sig, msg, pk);
  } catch {
    return false;
  }
};
export const ed25519PkToX25519 = (pk: Uint8Array): Uint8Array => s().crypto_sign_ed25519_pk_to_curve25519(pk);
export const ed25519SkToX25519 = (sk: Uint8Array): Uint8Array => {
  needLength(sk, 64, 'edSk');
  return secretArena().run(arenaBytes(32, 64), (c) => {
    const out = c.alloc(32);
    if (c.call('_crypto_sign_ed25519_sk_to_curve25519', out, c.put(sk)) !== 0) throw new Error('invalid key');
    return c.read(out, 32);
  });
};

// ---- X25519 ephemeral key exchange ----
export const kxKeypair = (): KeyPair => keyPairCall('_crypto_kx_keypair', 32, 32);
export const kxSeedKeypair = (seed: Uint8Array): KeyPair => keyPairCall('_crypto_kx_seed_keypair', 32, 32, seed);

function kxSessionKeys(fn: `_crypto_${string}`, ownPk: Uint8Array, ownSk: Uint8Array, otherPk: Uint8Array): [Uint8Array, Uint8Array] {
  needLength(ownPk, 32, 'publicKey');
  needLength(ownSk, 32, 'privateKey');
  needLength(otherPk, 32, 'publicKey');
  return secretArena().run(arenaBytes(32, 32, 32, 32, 32), (c) => {
    const rx = c.alloc(32);
    const tx = c.alloc(32);
    if (c.call(fn, rx, tx, c.put(ownPk), c.put(ownSk), c.put(otherPk)) !== 0) throw new Error('invalid public key');
    return [c.read(rx, 32), c.read(tx, 32)];
  });
}
/** Returns [rx, tx] for the initiator (client). Throws on a weak public key. */
export const kxClientKeys = (clientPk: Uint8Array, clientSk: Uint8Array, serverPk: Uint8Array): [Uint8Array, Uint8Array] =>
  kxSessionKeys('_crypto_kx_client_session_keys', clientPk, clientSk, serverPk);
/** Returns [rx, tx] for the responder (server). Throws on a weak public key. */
export const kxServerKeys = (serverPk: Uint8Array, serverSk: Uint8Array, clientPk: Uint8Array): [Uint8Array, Uint8Array] =>
  kxSessionKeys('_crypto_kx_server_session_keys', serverPk, serverSk, clientPk);
export const scalarmultBase = (sk: Uint8Array): Uint8Array => {
  needLength(sk, 32, 'privateKey');
  return secretArena().run(arenaBytes(32, 32), (c) => {
    const q = c.alloc(32);
    if (c.call('_crypto_scalarmult_base', q, c.put(sk)) !== 0) throw new Error('invalid key');
    return c.read(q, 32);
  });
};

// ---- hashing ----
export const genericHash = (len: number, msg: Uint8Array, key?: Uint8Array): Uint8Array => {
  if (!Number.isInteger(len) || len < 16 || len > 64) throw new TypeError('invalid hash_length');
  if (key && (key.length < 16 || key.length > 64)) throw new TypeError('invalid key length');
  return secretArena().run(arenaBytes(len, msg.length, key?.length ?? 0), (c) => {
    const out = c.alloc(len);
    const k = key ? c.put(key) : 0;
    if (c.call('_crypto_generichash', out, len, c.put(msg), msg.length, 0, k, key?.length ?? 0) !== 0) throw new Error('hash failed');
    return c.read(out, len);
  });
};

// ---- AEAD: XChaCha20-Poly1305-IETF (native data packets) ----
// The per-packet hot path calls libsodium's own compiled functions on one scratch area of the
// wasm heap (allocated once), skipping the wrapper's per-call malloc/free and conversions.
// Key, nonce and message bytes in the scratch area are zeroed after every call.
const SCRATCH_MSG_BYTES = 65536 + 64;
let scratch: { raw: RawSodium; key: number; nonce: number; ad: number; msg: number; out: number } | null = null;

function raw(): NonNullable<typeof scratch> {
  if (scratch) return scratch;
  const r = (s() as unknown as { libsodium: RawSodium }).libsodium;
  const base = r._malloc(32 + 24 + 64 + 2 * SCRATCH_MSG_BYTES);
  scratch = { raw: r, key: base, nonce: base + 32, ad: base + 56, msg: base + 120, out: base + 120 + SCRATCH_MSG_BYTES };
  return scratch;
}

/** Encrypts msg with AD `ad`; the result is `prefix ‖ ciphertext ‖ tag` in one buffer. */
function seal(prefix: Uint8Array, msg: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer {
  needLength(key, 32, 'key');
  needLength(nonce, 24, 'nonce');
  if (msg.length > SCRATCH_MSG_BYTES - 16 || ad.length > 64) {
    // Larger than the hot-path area: the secret arena (grown once), zeroed after the call.
    return secretArena().run(arenaBytes(msg.length + 16, msg.length, ad.length, 24, 32), (c) => {
      const ct = c.alloc(msg.length + 16);
      const m = c.put(msg);
      c.call('_crypto_aead_xchacha20poly1305_ietf_encrypt', ct, 0, m, msg.length, 0, c.put(ad), ad.length, 0, 0, c.put(nonce), c.put(key));
      return Buffer.concat([prefix, c.read(ct, msg.length + 16)]);
    });
  }
  const x = raw();
  const heap = x.raw.HEAPU8;
  try {
    heap.set(key, x.key);
    heap.set(nonce, x.nonce);
    heap.set(ad, x.ad);
    heap.set(msg, x.msg);
    x.raw._crypto_aead_xchacha20poly1305_ietf_encrypt(x.out, 0, x.msg, msg.length, 0, x.ad, ad.length, 0, 0, x.nonce, x.key);
    const h = x.raw.HEAPU8; // re-read: the heap may have grown
    const out = Buffer.allocUnsafe(prefix.length + msg.length + 16);
    out.set(prefix, 0);
    out.set(h.subarray(x.out, x.out + msg.length + 16), prefix.length);
    return out;
  } finally {
    const h = x.raw.HEAPU8;
    h.fill(0, x.key, x.key + 32);
    h.fill(0, x.msg, x.msg + msg.length);
  }
}

const NO_PREFIX = new Uint8Array(0);
export const aeadEncrypt = (msg: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array =>
  seal(NO_PREFIX, msg, ad, nonce, key);

/** Encrypts with AD = header and returns one buffer header ‖ ciphertext ‖ tag (a whole datagram). */
export const aeadSealWithHeader = (header: Uint8Array, msg: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer =>
  seal(header, msg, header, nonce, key);

/** Returns null when authentication fails. */
export const aeadDecrypt = (ct: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null => {
  if (ct.length < 16) return null;
  needLength(key, 32, 'key');
  needLength(nonce, 24, 'nonce');
  if (ct.length > SCRATCH_MSG_BYTES || ad.length > 64) {
    return secretArena().run(arenaBytes(ct.length, ct.length, ad.length, 24, 32), (c) => {
      const m = c.alloc(ct.length - 16);
      const rc = c.call('_crypto_aead_xchacha20poly1305_ietf_decrypt', m, 0, 0, c.put(ct), ct.length, 0, c.put(ad), ad.length, 0, c.put(nonce), c.put(key));
      return rc === 0 ? c.read(m, ct.length - 16) : null;
    });
  }
  const x = raw();
  const heap = x.raw.HEAPU8;
  try {
    heap.set(key, x.key);
    heap.set(nonce, x.nonce);
    heap.set(ad, x.ad);
    heap.set(ct, x.msg);
    const rc = x.raw._crypto_aead_xchacha20poly1305_ietf_decrypt(x.out, 0, 0, x.msg, ct.length, 0, x.ad, ad.length, 0, x.nonce, x.key);
    return rc === 0 ? x.raw.HEAPU8.slice(x.out, x.out + ct.length - 16) : null;
  } finally {
    const h = x.raw.HEAPU8;
    h.fill(0, x.key, x.key + 32);
    h.fill(0, x.out, x.out + ct.length - 16);
  }
};

// ---- box (vault-v2 envelope) ----
/**
 * crypto_box family: `keys` are (pk, sk) or the beforenm key. `open` returns null when
 * authentication fails; `seal` throws (weak public key).
 */
function boxCall(fn: `_crypto_${string}`, open: boolean, input: Uint8Array, nonce: Uint8Array, keys: Uint8Array[]): Uint8Array | null {
  needLength(nonce, 24, 'nonce');
  for (const k of keys) needLength(k, 32, 'key');
  if (open && input.length < 16) return null;
  const outLen = open ? input.length - 16 : input.length + 16;
  return secretArena().run(arenaBytes(outLen, input.length, 24, ...keys.map((k) => k.length)), (c) => {
    const out = c.alloc(outLen);
    const args = [out, c.put(input), input.length, 0, c.put(nonce), ...keys.map((k) => c.put(k))];
    if (c.call(fn, ...args) !== 0) {
      if (open) return null;
      throw new Error('invalid public key');
    }
    return c.read(out, outLen);
  });
}
export const boxEasy = (msg: Uint8Array, nonce: Uint8Array, pk: Uint8Array, sk: Uint8Array): Uint8Array =>
  boxCall('_crypto_box_easy', false, msg, nonce, [pk, sk])!;
/** Returns null when authentication fails. */
export const boxOpenEasy = (ct: Uint8Array, nonce: Uint8Array, pk: Uint8Array, sk: Uint8Array): Uint8Array | null => {
  try {
    return boxCall('_crypto_box_open_easy', true, ct, nonce, [pk, sk]);
  } catch {
    return null;
  }
};
export const boxBeforenm = (pk: Uint8Array, sk: Uint8Array): Uint8Array => {
  needLength(pk, 32, 'publicKey');
  needLength(sk, 32, 'privateKey');
  return secretArena().run(arenaBytes(32, 32, 32), (c) => {
    const k = c.alloc(32);
    if (c.call('_crypto_box_beforenm', k, c.put(pk), c.put(sk)) !== 0) throw new Error('invalid public key');
    return c.read(k, 32);
  });
};
export const boxEasyAfternm = (msg: Uint8Array, nonce: Uint8Array, k: Uint8Array): Uint8Array =>
  boxCall('_crypto_box_easy_afternm', false, msg, nonce, [k])!;
export const boxOpenEasyAfternm = (ct: Uint8Array, nonce: Uint8Array, k: Uint8Array): Uint8Array | null => {
  try {
    return boxCall('_crypto_box_open_easy_afternm', true, ct, nonce, [k]);
  } catch {
    return null;
  }
};
export const boxKeypair = (): KeyPair => keyPairCall('_crypto_box_keypair', 32, 32);

/** Overwrites a secret in place. */
export const wipe = (buf: Uint8Array): void => {
  s().memzero(buf);
};

// ---- Noise (handshake v4): X25519, ChaCha20-Poly1305-IETF, BLAKE2b with scrubbed wasm memory ----
// libsodium-wrappers copies every argument into the wasm heap and frees it without zeroing, so
// chaining keys, DH secrets and HMAC pads would linger there. These functions call libsodium's
// compiled functions on a dedicated scratch area (allocated once) and zero every byte they used
// before returning. Inputs larger than the area fall back to the wrappers (a handshake never does).
interface RawNoise {
  HEAPU8: Uint8Array;
  _malloc(n: number): number;
  _crypto_scalarmult(q: number, n: number, p: number): number;
  _crypto_scalarmult_base(q: number, n: number): number;
  _crypto_generichash(out: number, outLen: number, msg: number, msgLenLo: number, msgLenHi: number, key: number, keyLen: number): number;
  _crypto_aead_chacha20poly1305_ietf_encrypt(...args: number[]): number;
  _crypto_aead_chacha20poly1305_ietf_decrypt(...args: number[]): number;
  _crypto_sign_ed25519_sk_to_curve25519(out: number, sk: number): number;
}
const NOISE_SCRATCH_BYTES = 4096;
let noiseScratch: { raw: RawNoise; base: number } | null = null;

/** Runs `f` with the inputs copied into the scratch area; zeroes the area used afterwards. */
function scrubbed<T>(inputs: Uint8Array[], outBytes: number, f: (raw: RawNoise, ptrs: number[], out: number) => T): T | undefined {
  const total = inputs.reduce((n, b) => n + b.length, 0) + outBytes;
  if (total > NOISE_SCRATCH_BYTES) return undefined;
  if (!noiseScratch) {
    const r = (s() as unknown as { libsodium: RawNoise }).libsodium;
    noiseScratch = { raw: r, base: r._malloc(NOISE_SCRATCH_BYTES) };
    r.HEAPU8.fill(0, noiseScratch.base, noiseScratch.base + NOISE_SCRATCH_BYTES); // malloc does not zero: freed wrapper copies may be there
  }
  const { raw: r, base } = noiseScratch;
  const ptrs: number[] = [];
  let o = base;
  for (const b of inputs) {
    r.HEAPU8.set(b, o);
    ptrs.push(o);
    o += b.length;
  }
  try {
    return f(r, ptrs, o);
  } finally {
    r.HEAPU8.fill(0, base, base + total); // HEAPU8 re-read: the heap may have grown
  }
}

/**
 * libsodium leaves intermediate values on the wasm stack (the BLAKE2b state holding the last
 * output, the clamped X25519 scalar, the ChaCha20 state holding the key). Every top-level call
 * starts at the same stack pointer, so running the same functions on zero inputs overwrites those
 * frames. 'hash' replays BLAKE2b and ChaCha20-Poly1305 (a few µs); 'full' also both scalar
 * multiplications and the Ed25519→X25519 conversion (about two DH). When wasm-stack.ts has located
 * the stack (libsodium's own binary), its top 16 KiB are zeroed directly instead.
 */
export function scrubWasmStack(level: 'hash' | 'full'): void {
  if (secretArena().scrubStack()) return; // the stack's location is known: zero it directly (µs, not two DH)
  const zeros = new Uint8Array(320);
  scrubbed([zeros], 64 + 336, (r, [z], out) => {
    r._crypto_generichash(out, 64, z!, 256, 0, z!, 64);
    r._crypto_generichash(out, 64, z!, 256, 0, 0, 0);
    r._crypto_aead_chacha20poly1305_ietf_encrypt(out, 0, z!, 300, 0, z!, 64, 0, 0, z!, z!);
    r._crypto_aead_chacha20poly1305_ietf_decrypt(z!, 0, 0, out, 316, 0, z! + 300, 0, 0, z!, z!);
    if (level === 'full') {
      const nine = out + 336;
      r.HEAPU8.fill(0, nine, nine + 32);
      r.HEAPU8[nine] = 9;
      r._crypto_scalarmult(out, z!, nine);
      r._crypto_scalarmult_base(out, z!);
      r._crypto_sign_ed25519_sk_to_curve25519(out, z!);
    }
  });
}

/** The scratch area's bytes (all zero between calls), for wipe tests. */
export const noiseScratchView = (): Uint8Array | null => (noiseScratch ? noiseScratch.raw.HEAPU8.subarray(noiseScratch.base, noiseScratch.base + NOISE_SCRATCH_BYTES) : null);
/** The whole wasm heap, for tests that search it for secrets. */
export const wasmHeapView = (): Uint8Array => (s() as unknown as { libsodium: RawNoise }).libsodium.HEAPU8;

/** X25519(sk, pk). Null for a low-order public key (all-zero shared secret). */
export const x25519 = (sk: Uint8Array, pk: Uint8Array): Uint8Array | null => {
  if (sk.length !== 32 || pk.length !== 32) throw new RangeError('x25519: 32-byte keys');
  return scrubbed([sk, pk], 32, (r, [n, p], q) => (r._crypto_scalarmult(q, n!, p!) === 0 ? r.HEAPU8.slice(q, q + 32) : null))!;
};
/** X25519(sk, 9): the public key of a secret. */
export const x25519Base = (sk: Uint8Array): Uint8Array => {
  if (sk.length !== 32) throw new RangeError('x25519Base: 32-byte key');
  return scrubbed([sk], 32, (r, [n], q) => (r._crypto_scalarmult_base(q, n!), r.HEAPU8.slice(q, q + 32)))!;
};
/** Ed25519 secret key (64 bytes) → X25519 secret, without leaving either in the wasm heap. */
export const ed25519SkToX25519Scrubbed = (sk: Uint8Array): Uint8Array => {
  if (sk.length !== 64) throw new RangeError('Ed25519 secret keys are 64 bytes');
  return scrubbed([sk], 32, (r, [k], q) => (r._crypto_sign_ed25519_sk_to_curve25519(q, k!), r.HEAPU8.slice(q, q + 32)))!;
};
/** BLAKE2b (keyed when `key` is given, ≤ 64 bytes) with scrubbed wasm memory. */
export const blake2bScrubbed = (len: number, msg: Uint8Array, key?: Uint8Array): Uint8Array => {
  const k = key ?? new Uint8Array(0);
  const r = scrubbed([msg, k], len, (raw, [m, kp], out) => {
    raw._crypto_generichash(out, len, m!, msg.length, 0, k.length ? kp! : 0, k.length);
    return raw.HEAPU8.slice(out, out + len);
  });
  return r ?? s().crypto_generichash(len, msg, key ?? null);
};
/** ChaCha20-Poly1305 (IETF, 96-bit nonce): ciphertext ‖ tag. */
export const chachaPolyEncrypt = (msg: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array => {
  const r = scrubbed([msg, ad, nonce, key], msg.length + 16, (raw, [m, a, n, k], c) => {
    raw._crypto_aead_chacha20poly1305_ietf_encrypt(c, 0, m!, msg.length, 0, a!, ad.length, 0, 0, n!, k!);
    return raw.HEAPU8.slice(c, c + msg.length + 16);
  });
  return r ?? s().crypto_aead_chacha20poly1305_ietf_encrypt(msg, ad, null, nonce, key);
};
/** Returns null when authentication fails. */
export const chachaPolyDecrypt = (ct: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null => {
  if (ct.length < 16) return null;
  const r = scrubbed([ct, ad, nonce, key], ct.length - 16, (raw, [c, a, n, k], m) =>
    raw._crypto_aead_chacha20poly1305_ietf_decrypt(m, 0, 0, c!, ct.length, 0, a!, ad.length, 0, n!, k!) === 0 ? raw.HEAPU8.slice(m, m + ct.length - 16) : null,
  );
  if (r !== undefined) return r;
  try {
    return s().crypto_aead_chacha20poly1305_ietf_decrypt(null, ct, ad, nonce, key);
  } catch {
    return null;
  }
};
/** Constant-time comparison of two equal-length byte strings (false when lengths differ). */
export const constantTimeEqual = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && s().memcmp(a, b);
