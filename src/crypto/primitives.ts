/**
 * The crypto seam's interface: every primitive the product uses, implemented twice —
 * src/crypto/primitives-native.ts (sodium-native) and src/crypto/primitives-wasm.ts with
 * src/crypto/wasm-noise.ts (libsodium-wrappers). Same arguments, same errors, byte-identical
 * outputs (the tests run both on the same vectors). src/crypto/sodium.ts picks one.
 *
 * Secret outputs are fresh arrays the caller owns and wipes with `wipe()`; on the native
 * backend the long-lived ones (identity and static secret keys) are views of sodium_malloc'd
 * memory.
 */
export type CryptoBackendName = 'native' | 'wasm';

export interface KeyPair {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

export interface CryptoPrimitives {
  readonly name: CryptoBackendName;
  // Ed25519 identities
  signKeypair(): KeyPair;
  signSeedKeypair(seed: Uint8Array): KeyPair;
  signDetached(msg: Uint8Array, sk: Uint8Array): Uint8Array;
  /** False for a bad signature or malformed input (never throws). */
  verifyDetached(sig: Uint8Array, msg: Uint8Array, pk: Uint8Array): boolean;
  /** Throws for a key that is not a valid Ed25519 point. */
  ed25519PkToX25519(pk: Uint8Array): Uint8Array;
  ed25519SkToX25519(sk: Uint8Array): Uint8Array;
  // X25519
  scalarmultBase(sk: Uint8Array): Uint8Array;
  /** X25519(sk, pk); null for a low-order public key (all-zero shared secret). */
  x25519(sk: Uint8Array, pk: Uint8Array): Uint8Array | null;
  x25519Base(sk: Uint8Array): Uint8Array;
  // BLAKE2b (16..64 output bytes, key 16..64 bytes when given)
  genericHash(len: number, msg: Uint8Array, key?: Uint8Array): Uint8Array;
  /** BLAKE2b for the handshake (no length checks; wasm: on the scrubbed handshake scratch area). */
  blake2b(len: number, msg: Uint8Array, key?: Uint8Array): Uint8Array;
  /** Unkeyed BLAKE2b of `msg`'s first `msgBytes` bytes into `out` (its length is the output length, 16..64): no allocation on native. */
  blake2bInto(out: Uint8Array, msg: Uint8Array, msgBytes: number): void;
  // AEAD
  /** XChaCha20-Poly1305-IETF: ciphertext ‖ tag. */
  aeadEncrypt(msg: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array;
  /** Null when authentication fails. */
  aeadDecrypt(ct: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null;
  /** ChaCha20-Poly1305-IETF (96-bit nonce), the Noise cipher: ciphertext ‖ tag. */
  chachaPolyEncrypt(msg: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array;
  /** Null when authentication fails. */
  chachaPolyDecrypt(ct: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null;
  // crypto_box (vault-v2 envelope)
  boxKeypair(): KeyPair;
  /** Throws for a weak public key. */
  boxEasy(msg: Uint8Array, nonce: Uint8Array, pk: Uint8Array, sk: Uint8Array): Uint8Array;
  /** Null when authentication fails. */
  boxOpenEasy(ct: Uint8Array, nonce: Uint8Array, pk: Uint8Array, sk: Uint8Array): Uint8Array | null;
  // memory
  wipe(buf: Uint8Array): void;
  /** Constant-time comparison (false when lengths differ). */
  constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean;
  /** Clears what the backend's own calls may have left behind (the wasm stack); a no-op on native. */
  scrubStack(level: 'hash' | 'full'): void;
}
