/**
 * The crypto seam: every primitive the product uses, from one of two backends with the same
 * API and byte-identical outputs (src/crypto/primitives.ts):
 *
 *   native  sodium-native (an optionalDependency, prebuilt; native-lib.ts), when it loads;
 *   wasm    libsodium-wrappers (always there; wasm-lib.ts), loaded lazily — a process on the
 *           native backend never loads it (about 10 MiB of idle RSS).
 *
 * `useCryptoBackend` (createNode calls it with the `aeadBackend` setting) chooses, process-wide,
 * for these functions and for the data-packet ciphers (src/crypto/aead.ts). `sodiumReady()` makes
 * sure a backend is ready ('auto' unless one was chosen): await it once before calling anything.
 */
import { useAeadBackend } from './aead';
import { sodiumNative, sodiumNativeError, sodiumNativeRawAead, sodiumNativeRawHash, sodiumNativeRawPrimitives } from './native-lib';
import { nativePrimitives } from './primitives-native';
import type { CryptoBackendName, CryptoPrimitives, KeyPair } from './primitives';
import { wasmPrimitives } from './primitives-wasm';
import { loadWasmSodium } from './wasm-lib';

export type { CryptoBackendName, KeyPair } from './primitives';
export { secretArena, rawLibsodium } from './wasm-lib';
export { noiseScratchView, wasmHeapView } from './wasm-noise';

let impl: CryptoPrimitives | null = null;
let nativeImpl: CryptoPrimitives | null = null;

/** The backends this process can use, preferred first. */
export function availableCryptoBackends(): CryptoBackendName[] {
  return sodiumNative() ? ['native', 'wasm'] : ['wasm'];
}

/** Loads libsodium-wrappers without choosing it (tests comparing the backends). */
export async function wasmReady(): Promise<void> {
  await loadWasmSodium();
}

/**
 * Chooses the backend of every primitive and of every packet cipher made afterwards
 * (process-wide; existing keys and sessions stay valid: keys are plain bytes on both).
 * 'auto' = native when sodium-native loads, else wasm; 'native' throws when it cannot be loaded.
 */
export async function useCryptoBackend(name: CryptoBackendName | 'auto'): Promise<CryptoBackendName> {
  const na = sodiumNative();
  if (name === 'native' && !na) throw new Error(`aeadBackend 'native': sodium-native could not be loaded (${sodiumNativeError()})`);
  const chosen: CryptoBackendName = name === 'auto' ? (na ? 'native' : 'wasm') : name;
  if (chosen === 'native') {
    nativeImpl ??= nativePrimitives(na!, { hash: sodiumNativeRawHash(), aead: sodiumNativeRawAead(), prims: sodiumNativeRawPrimitives() });
    impl = nativeImpl;
  } else {
    await loadWasmSodium();
    impl = wasmPrimitives;
  }
  useAeadBackend(chosen);
  return chosen;
}

/** The backend in use; null before sodiumReady() / useCryptoBackend(). */
export const cryptoBackendName = (): CryptoBackendName | null => impl?.name ?? null;

/** Readies the chosen backend ('auto' when none was chosen yet). */
export async function sodiumReady(): Promise<void> {
  if (!impl) await useCryptoBackend('auto');
}

function p(): CryptoPrimitives {
  if (!impl) throw new Error('sodiumReady() was not awaited');
  return impl;
}

// ---- Ed25519 identities ----
export const signKeypair = (): KeyPair => p().signKeypair();
export const signSeedKeypair = (seed: Uint8Array): KeyPair => p().signSeedKeypair(seed);
export const signDetached = (msg: Uint8Array, sk: Uint8Array): Uint8Array => p().signDetached(msg, sk);
export const verifyDetached = (sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean => p().verifyDetached(sig, msg, pk);
export const ed25519PkToX25519 = (pk: Uint8Array): Uint8Array => p().ed25519PkToX25519(pk);
export const ed25519SkToX25519 = (sk: Uint8Array): Uint8Array => p().ed25519SkToX25519(sk);
/** Ed25519 secret key (64 bytes) → X25519 secret (wasm: without leaving either in the wasm heap). */
export const ed25519SkToX25519Scrubbed = ed25519SkToX25519;

// ---- X25519 ----
export const scalarmultBase = (sk: Uint8Array): Uint8Array => p().scalarmultBase(sk);
/** X25519(sk, pk). Null for a low-order public key (all-zero shared secret). */
export const x25519 = (sk: Uint8Array, pk: Uint8Array): Uint8Array | null => p().x25519(sk, pk);
/** X25519(sk, 9): the public key of a secret. */
export const x25519Base = (sk: Uint8Array): Uint8Array => p().x25519Base(sk);

// ---- hashing ----
export const genericHash = (len: number, msg: Uint8Array, key?: Uint8Array): Uint8Array => p().genericHash(len, msg, key);
/** BLAKE2b (keyed when `key` is given, ≤ 64 bytes); wasm: with scrubbed wasm memory. */
export const blake2bScrubbed = (len: number, msg: Uint8Array, key?: Uint8Array): Uint8Array => p().blake2b(len, msg, key);
/** Unkeyed BLAKE2b of msg's first `msgBytes` bytes (all by default) into `out` (out.length bytes, 16..64; the handshake's scratch areas: no allocation on native). */
export const blake2bInto = (out: Uint8Array, msg: Uint8Array, msgBytes: number = msg.length): void => {
  if (out.length < 16 || out.length > 64 || msgBytes < 0 || msgBytes > msg.length) throw new RangeError('blake2bInto: 16..64 output bytes, a prefix of msg');
  p().blake2bInto(out, msg, msgBytes);
};

// ---- AEAD ----
/** XChaCha20-Poly1305-IETF: ciphertext ‖ tag. */
export const aeadEncrypt = (msg: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array => p().aeadEncrypt(msg, ad, nonce, key);
/** Encrypts with AD = header and returns one buffer header ‖ ciphertext ‖ tag (a whole datagram). */
export const aeadSealWithHeader = (header: Uint8Array, msg: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer => {
  const ct = p().aeadEncrypt(msg, header, nonce, key);
  const out = Buffer.allocUnsafe(header.length + ct.length);
  out.set(header, 0);
  out.set(ct, header.length);
  return out;
};
/** Returns null when authentication fails. */
export const aeadDecrypt = (ct: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null => p().aeadDecrypt(ct, ad, nonce, key);
/** ChaCha20-Poly1305 (IETF, 96-bit nonce): ciphertext ‖ tag. */
export const chachaPolyEncrypt = (msg: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array => p().chachaPolyEncrypt(msg, ad, nonce, key);
/** Returns null when authentication fails. */
export const chachaPolyDecrypt = (ct: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null => p().chachaPolyDecrypt(ct, ad, nonce, key);

// ---- box (vault-v2 envelope) ----
export const boxKeypair = (): KeyPair => p().boxKeypair();
export const boxEasy = (msg: Uint8Array, nonce: Uint8Array, pk: Uint8Array, sk: Uint8Array): Uint8Array => p().boxEasy(msg, nonce, pk, sk);
/** Returns null when authentication fails. */
export const boxOpenEasy = (ct: Uint8Array, nonce: Uint8Array, pk: Uint8Array, sk: Uint8Array): Uint8Array | null => p().boxOpenEasy(ct, nonce, pk, sk);

// ---- memory ----
/** Overwrites a secret in place. */
export const wipe = (buf: Uint8Array): void => (impl ? impl.wipe(buf) : buf.fill(0), undefined);
/** Constant-time comparison of two equal-length byte strings (false when lengths differ). */
export const constantTimeEqual = (a: Uint8Array, b: Uint8Array): boolean => p().constantTimeEqual(a, b);
/**
 * Clears what libsodium's wasm calls left on the wasm stack ('hash': after hashing and AEAD;
 * 'full': after DH too). A no-op on the native backend (no wasm memory involved).
 */
export const scrubWasmStack = (level: 'hash' | 'full'): void => p().scrubStack(level);
