/**
 * The native crypto backend: the same primitives as primitives-wasm.ts on sodium-native
 * (native-lib.ts). No wasm heap or stack is involved, so nothing is scrubbed there; inputs and
 * outputs are the caller's own arrays. Long-lived secrets (Ed25519 identity secret keys and
 * their X25519 conversion, the node's static) live in sodium_malloc'd memory (guard pages,
 * mlock'd where allowed); short-lived ones (ephemerals, DH results,
 * chaining keys) are fresh zero-filled arrays — sodium_malloc costs a guarded mapping per call —
 * that their owners wipe. Outputs equal the wasm backend's byte for byte.
 */
import type { CryptoPrimitives, KeyPair } from './primitives';
import type { RawAead, RawHash, RawPrimitives, SodiumNativeLib } from './native-lib';
import { needLength } from './wasm-heap';

const SLAB_BYTES = 4096;

/** The addon's own functions, without sodium-native's checking wrappers (native-lib.ts), when they loaded. */
export interface RawNative {
  hash: RawHash | null;
  aead: RawAead | null;
  prims: RawPrimitives | null;
}

export function nativePrimitives(na: SodiumNativeLib, raw: RawNative = { hash: null, aead: null, prims: null }): CryptoPrimitives {
  const rawAead = raw.aead;
  const memzero = raw.prims ? raw.prims.memzero : (b: Uint8Array): void => na.sodium_memzero(b);
  const scalarmult = raw.prims?.scalarmult ?? null;
  // Secure memory in 4 KiB sodium_malloc'd slabs, handed out by a bump pointer: one guarded
  // mapping per slab rather than per key (10,000 nodes in one process would otherwise need
  // 20,000 mappings, near Linux's default vm.max_map_count). A slab is freed when the last key
  // in it is collected; every key is zeroed by its owner (wipe / close) before that.
  let slab: Uint8Array | null = null;
  let at = 0;
  /** A zeroed view of n (≤ 64) bytes of secure memory (a plain Uint8Array: slice() copies, as elsewhere). */
  const secure = (n: number): Uint8Array => {
    if (!slab || at + n > SLAB_BYTES) {
      const b = na.sodium_malloc(SLAB_BYTES);
      na.sodium_memzero(b);
      slab = new Uint8Array(b.buffer, b.byteOffset, SLAB_BYTES);
      at = 0;
    }
    const v = slab.subarray(at, at + n);
    at += Math.ceil(n / 16) * 16;
    return v;
  };
  const signPair = (seed?: Uint8Array): KeyPair => {
    if (seed) needLength(seed, 32, 'seed');
    const publicKey = new Uint8Array(32);
    const privateKey = secure(64);
    if (seed) na.crypto_sign_seed_keypair(publicKey, privateKey, seed);
    else na.crypto_sign_keypair(publicKey, privateKey);
    return { publicKey, privateKey };
  };
  const aead = (encrypt: boolean, input: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array, xchacha: boolean): Uint8Array | null => {
    const out = new Uint8Array(encrypt ? input.length + 16 : input.length - 16);
    if (!xchacha && rawAead !== null && nonce.length === 12 && key.length === 32) {
      // the Noise cipher through the addon itself (its sizes checked here)
      if (encrypt) {
        if (rawAead.seal(out, input, ad, nonce, key) !== out.length) throw new Error('could not encrypt data');
        return out;
      }
      if (rawAead.open(out, input, ad, nonce, key) === out.length) return out;
      memzero(out);
      return null;
    }
    if (encrypt) {
      if (xchacha) na.crypto_aead_xchacha20poly1305_ietf_encrypt(out, input, ad, null, nonce, key);
      else na.crypto_aead_chacha20poly1305_ietf_encrypt(out, input, ad, null, nonce, key);
      return out;
    }
    try {
      if (xchacha) na.crypto_aead_xchacha20poly1305_ietf_decrypt(out, null, input, ad, nonce, key);
      else na.crypto_aead_chacha20poly1305_ietf_decrypt(out, null, input, ad, nonce, key);
      return out;
    } catch {
      na.sodium_memzero(out);
      return null;
    }
  };
  const blake2b = (len: number, msg: Uint8Array, key?: Uint8Array): Uint8Array => {
    const out = new Uint8Array(len);
    na.crypto_generichash(out, msg, key && key.length > 0 ? key : null);
    return out;
  };
  const edSkToX = (sk: Uint8Array): Uint8Array => {
    if (sk.length !== 64) throw new RangeError('Ed25519 secret keys are 64 bytes');
    const out = secure(32);
    na.crypto_sign_ed25519_sk_to_curve25519(out, sk);
    return out;
  };
  const base = (sk: Uint8Array): Uint8Array => {
    const q = new Uint8Array(32);
    na.crypto_scalarmult_base(q, sk);
    return q;
  };

  return {
    name: 'native',
    signKeypair: () => signPair(),
    signSeedKeypair: (seed) => signPair(seed),
    signDetached: (msg, sk) => {
      needLength(sk, 64, 'privateKey');
      const sig = new Uint8Array(64);
      na.crypto_sign_detached(sig, msg, sk);
      return sig;
    },
    verifyDetached: (sig, msg, pk) => {
      try {
        return sig.length === 64 && na.crypto_sign_verify_detached(sig, msg, pk);
      } catch {
        return false;
      }
    },
    ed25519PkToX25519: (pk) => {
      needLength(pk, 32, 'edPk');
      const x = new Uint8Array(32);
      try {
        na.crypto_sign_ed25519_pk_to_curve25519(x, pk);
      } catch {
        throw new Error('invalid Ed25519 public key');
      }
      return x;
    },
    ed25519SkToX25519: edSkToX,
    scalarmultBase: (sk) => {
      needLength(sk, 32, 'privateKey');
      return base(sk);
    },
    x25519: (sk, pk) => {
      if (sk.length !== 32 || pk.length !== 32) throw new RangeError('x25519: 32-byte keys');
      const q = new Uint8Array(32);
      if (scalarmult !== null) {
        if (scalarmult(q, sk, pk) === 0) return q;
        memzero(q);
        return null; // low-order point
      }
      try {
        na.crypto_scalarmult(q, sk, pk);
        return q;
      } catch {
        na.sodium_memzero(q);
        return null; // low-order point: libsodium refuses the all-zero result
      }
    },
    x25519Base: (sk) => {
      if (sk.length !== 32) throw new RangeError('x25519Base: 32-byte key');
      return base(sk);
    },
    genericHash: (len, msg, key) => {
      if (!Number.isInteger(len) || len < 16 || len > 64) throw new TypeError('invalid hash_length');
      if (key && (key.length < 16 || key.length > 64)) throw new TypeError('invalid key length');
      return blake2b(len, msg, key);
    },
    blake2b,
    blake2bInto: raw.hash ?? ((out, msg, msgBytes) => na.crypto_generichash(out, msgBytes === msg.length ? msg : msg.subarray(0, msgBytes), null)),
    aeadEncrypt: (msg, ad, nonce, key) => {
      needLength(key, 32, 'key');
      needLength(nonce, 24, 'nonce');
      return aead(true, msg, ad, nonce, key, true)!;
    },
    aeadDecrypt: (ct, ad, nonce, key) => {
      if (ct.length < 16) return null;
      needLength(key, 32, 'key');
      needLength(nonce, 24, 'nonce');
      return aead(false, ct, ad, nonce, key, true);
    },
    chachaPolyEncrypt: (msg, ad, nonce, key) => aead(true, msg, ad, nonce, key, false)!,
    chachaPolyDecrypt: (ct, ad, nonce, key) => (ct.length < 16 ? null : aead(false, ct, ad, nonce, key, false)),
    boxKeypair: () => {
      const publicKey = new Uint8Array(32);
      const privateKey = new Uint8Array(32);
      na.crypto_box_keypair(publicKey, privateKey);
      return { publicKey, privateKey };
    },
    boxEasy: (msg, nonce, pk, sk) => {
      needLength(nonce, 24, 'nonce');
      needLength(pk, 32, 'key');
      needLength(sk, 32, 'key');
      const c = new Uint8Array(msg.length + 16);
      try {
        na.crypto_box_easy(c, msg, nonce, pk, sk);
      } catch {
        throw new Error('invalid public key');
      }
      return c;
    },
    boxOpenEasy: (ct, nonce, pk, sk) => {
      if (ct.length < 16 || nonce.length !== 24 || pk.length !== 32 || sk.length !== 32) return null;
      const m = new Uint8Array(ct.length - 16);
      try {
        if (na.crypto_box_open_easy(m, ct, nonce, pk, sk)) return m;
      } catch {
        // a weak public key: the same answer as a forgery
      }
      na.sodium_memzero(m);
      return null;
    },
    wipe: memzero,
    constantTimeEqual: (a, b) => a.length === b.length && (a.length === 0 || na.sodium_memcmp(a, b)),
    scrubStack: () => undefined,
  };
}
