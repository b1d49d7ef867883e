/**
 * The wasm crypto backend (libsodium-wrappers, always available): identities, key exchange,
 * hashing, XChaCha20-Poly1305 and crypto_box on the zeroed-after-use secret arena
 * (wasm-heap.ts); the handshake's primitives are in wasm-noise.ts. Needs `loadWasmSodium()`
 * (wasm-lib.ts) to have finished; importing this file loads nothing.
 */
import type { CryptoPrimitives, KeyPair } from './primitives';
import { arenaBytes, needLength } from './wasm-heap';
import { secretArena, wasmSodium } from './wasm-lib';
import { blake2bScrubbed, chachaPolyDecrypt, chachaPolyEncrypt, ed25519SkToX25519Scrubbed, scrubWasmStack, x25519, x25519Base } from './wasm-noise';

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
    return wasmSodium().crypto_sign_verify_detached(sig, msg, pk);
  } catch {
    return false;
  }
};
export const ed25519PkToX25519 = (pk: Uint8Array): Uint8Array => wasmSodium().crypto_sign_ed25519_pk_to_curve25519(pk);
export const ed25519SkToX25519 = (sk: Uint8Array): Uint8Array => {
  needLength(sk, 64, 'edSk');
  return secretArena().run(arenaBytes(32, 64), (c) => {
    const out = c.alloc(32);
    if (c.call('_crypto_sign_ed25519_sk_to_curve25519', out, c.put(sk)) !== 0) throw new Error('invalid key');
    return c.read(out, 32);
  });
};

// ---- X25519 (crypto_kx: only the key-hygiene tests use these) ----
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

// ---- XChaCha20-Poly1305-IETF (cookie replies) ----
export const aeadEncrypt = (msg: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array => {
  needLength(key, 32, 'key');
  needLength(nonce, 24, 'nonce');
  return secretArena().run(arenaBytes(msg.length + 16, msg.length, ad.length, 24, 32), (c) => {
    const ct = c.alloc(msg.length + 16);
    c.call('_crypto_aead_xchacha20poly1305_ietf_encrypt', ct, 0, c.put(msg), msg.length, 0, c.put(ad), ad.length, 0, 0, c.put(nonce), c.put(key));
    return c.read(ct, msg.length + 16);
  });
};
/** Returns null when authentication fails. */
export const aeadDecrypt = (ct: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array | null => {
  if (ct.length < 16) return null;
  needLength(key, 32, 'key');
  needLength(nonce, 24, 'nonce');
  return secretArena().run(arenaBytes(ct.length, ct.length, ad.length, 24, 32), (c) => {
    const m = c.alloc(ct.length - 16);
    const rc = c.call('_crypto_aead_xchacha20poly1305_ietf_decrypt', m, 0, 0, c.put(ct), ct.length, 0, c.put(ad), ad.length, 0, c.put(nonce), c.put(key));
    return rc === 0 ? c.read(m, ct.length - 16) : null;
  });
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
const orNull = (f: () => Uint8Array | null): Uint8Array | null => {
  try {
    return f();
  } catch {
    return null;
  }
};
export const boxEasy = (msg: Uint8Array, nonce: Uint8Array, pk: Uint8Array, sk: Uint8Array): Uint8Array => boxCall('_crypto_box_easy', false, msg, nonce, [pk, sk])!;
/** Returns null when authentication fails. */
export const boxOpenEasy = (ct: Uint8Array, nonce: Uint8Array, pk: Uint8Array, sk: Uint8Array): Uint8Array | null =>
  orNull(() => boxCall('_crypto_box_open_easy', true, ct, nonce, [pk, sk]));
export const boxBeforenm = (pk: Uint8Array, sk: Uint8Array): Uint8Array => {
  needLength(pk, 32, 'publicKey');
  needLength(sk, 32, 'privateKey');
  return secretArena().run(arenaBytes(32, 32, 32), (c) => {
    const k = c.alloc(32);
    if (c.call('_crypto_box_beforenm', k, c.put(pk), c.put(sk)) !== 0) throw new Error('invalid public key');
    return c.read(k, 32);
  });
};
export const boxEasyAfternm = (msg: Uint8Array, nonce: Uint8Array, k: Uint8Array): Uint8Array => boxCall('_crypto_box_easy_afternm', false, msg, nonce, [k])!;
export const boxOpenEasyAfternm = (ct: Uint8Array, nonce: Uint8Array, k: Uint8Array): Uint8Array | null =>
  orNull(() => boxCall('_crypto_box_open_easy_afternm', true, ct, nonce, [k]));
export const boxKeypair = (): KeyPair => keyPairCall('_crypto_box_keypair', 32, 32);

/** Overwrites a secret in place. */
export const wipe = (buf: Uint8Array): void => {
  wasmSodium().memzero(buf);
};
/** Constant-time comparison of two equal-length byte strings (false when lengths differ). */
export const constantTimeEqual = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && wasmSodium().memcmp(a, b);

/** The wasm backend as the seam's interface. */
export const wasmPrimitives: CryptoPrimitives = {
  name: 'wasm',
  signKeypair,
  signSeedKeypair,
  signDetached,
  verifyDetached,
  ed25519PkToX25519,
  ed25519SkToX25519: ed25519SkToX25519Scrubbed,
  scalarmultBase,
  x25519,
  x25519Base,
  genericHash,
  blake2b: blake2bScrubbed,
  blake2bInto: (out, msg, msgBytes) => {
    const h = blake2bScrubbed(out.length, msgBytes === msg.length ? msg : msg.subarray(0, msgBytes));
    out.set(h);
    h.fill(0);
  },
  aeadEncrypt,
  aeadDecrypt,
  chachaPolyEncrypt,
  chachaPolyDecrypt,
  boxKeypair,
  boxEasy,
  boxOpenEasy,
  wipe,
  constantTimeEqual,
  scrubStack: scrubWasmStack,
};
