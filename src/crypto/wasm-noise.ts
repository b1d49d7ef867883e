/**
 * The wasm backend's handshake primitives: X25519, ChaCha20-Poly1305-IETF and BLAKE2b on
 * libsodium's compiled functions with scrubbed wasm memory.
 *
 * libsodium-wrappers copies every argument into the wasm heap and frees it without zeroing, so
 * chaining keys, DH secrets and HMAC pads would linger there. These functions call libsodium's
 * compiled functions on a dedicated scratch area (allocated once) and zero every byte they used
 * before returning. Inputs larger than the area fall back to the wrappers (a handshake never does).
 * Not used on the native backend.
 */
import { rawLibsodium, secretArena, wasmSodium } from './wasm-lib';

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
    const r = rawLibsodium() as unknown as RawNoise;
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
export const wasmHeapView = (): Uint8Array => rawLibsodium().HEAPU8;

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
  return r ?? wasmSodium().crypto_generichash(len, msg, key ?? null);
};
/** ChaCha20-Poly1305 (IETF, 96-bit nonce): ciphertext ‖ tag. */
export const chachaPolyEncrypt = (msg: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array => {
  const r = scrubbed([msg, ad, nonce, key], msg.length + 16, (raw, [m, a, n, k], c) => {
    raw._crypto_aead_chacha20poly1305_ietf_encrypt(c, 0, m!, msg.length, 0, a!, ad.length, 0, 0, n!, k!);
    return raw.HEAPU8.slice(c, c + msg.length + 16);
  });
  return r ?? wasmSodium().crypto_aead_chacha20poly1305_ietf_encrypt(msg, ad, null, nonce, key);
};
/** Returns null when authentication fails. */
export const chachaPolyDecrypt = (ct: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null => {
  if (ct.length < 16) return null;
  const r = scrubbed([ct, ad, nonce, key], ct.length - 16, (raw, [c, a, n, k], m) =>
    raw._crypto_aead_chacha20poly1305_ietf_decrypt(m, 0, 0, c!, ct.length, 0, a!, ad.length, 0, n!, k!) === 0 ? raw.HEAPU8.slice(m, m + ct.length - 16) : null,
  );
  if (r !== undefined) return r;
  try {
    return wasmSodium().crypto_aead_chacha20poly1305_ietf_decrypt(null, ct, ad, nonce, key);
  } catch {
    return null;
  }
};
