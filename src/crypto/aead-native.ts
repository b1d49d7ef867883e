/**
 * The native packet cipher: ChaCha20-Poly1305-IETF from sodium-native (an optionalDependency,
 * loaded only here, only when asked for). Subkeys live in sodium_malloc'd memory (guard pages,
 * locked where the system allows, never swapped out by choice), 32-byte slots carved from
 * 4 KiB slabs so that 10,000 sessions do not each cost a guarded allocation; a slot is zeroed
 * when its cipher is wiped and reused afterwards.
 */
import { sodiumNative, sodiumNativeError, type SodiumNativeLib } from './native-lib';
import { counterNonce, MAX_SEALED_BYTES, type PacketCipher } from './packet-cipher';

type SodiumNative = Pick<SodiumNativeLib, 'sodium_malloc' | 'sodium_memzero' | 'crypto_aead_chacha20poly1305_ietf_encrypt' | 'crypto_aead_chacha20poly1305_ietf_decrypt'>;

const SLAB_BYTES = 4096;
const KEY_BYTES = 32;

/** 32-byte key slots in sodium_malloc'd slabs. */
class SecureKeyStore {
  readonly #na: SodiumNative;
  readonly #free: Buffer[] = [];
  slabs = 0;
  constructor(na: SodiumNative) {
    this.#na = na;
  }
  alloc(): Buffer {
    let k = this.#free.pop();
    if (!k) {
      const slab = this.#na.sodium_malloc(SLAB_BYTES);
      this.#na.sodium_memzero(slab);
      this.slabs++;
      for (let o = SLAB_BYTES - KEY_BYTES; o > 0; o -= KEY_BYTES) this.#free.push(slab.subarray(o, o + KEY_BYTES));
      k = slab.subarray(0, KEY_BYTES);
    }
    return k;
  }
  release(k: Buffer): void {
    this.#na.sodium_memzero(k);
    this.#free.push(k);
  }
}

export interface NativeAead {
  /** A zeroed 32-byte slot of secure memory for a subkey. */
  allocKey(): Uint8Array;
  /** The cipher over a subkey from allocKey (the slot is zeroed and returned on wipe). */
  cipher(subkey: Uint8Array): PacketCipher;
}

class NativeCipher implements PacketCipher {
  readonly backend = 'native' as const;
  readonly #na: SodiumNative;
  readonly #store: SecureKeyStore;
  #key: Buffer | null;
  readonly #nonce = new Uint8Array(12);

  constructor(na: SodiumNative, store: SecureKeyStore, key: Buffer) {
    this.#na = na;
    this.#store = store;
    this.#key = key;
  }

  seal(buf: Uint8Array, headerBytes: number, plainBytes: number): void {
    const k = this.#key;
    if (!k) throw new Error('packet cipher wiped');
    if (headerBytes > 64 || plainBytes > MAX_SEALED_BYTES) throw new RangeError('packet too large'); // as the wasm cipher
    // Plain Uint8Array views (not Buffer#subarray, whose FastBuffer construction costs ~0.1 µs more per call).
    const { buffer, byteOffset: at } = buf;
    const c = new Uint8Array(buffer, at + headerBytes, plainBytes + 16);
    const m = new Uint8Array(buffer, at + headerBytes, plainBytes);
    this.#na.crypto_aead_chacha20poly1305_ietf_encrypt(c, m, new Uint8Array(buffer, at, headerBytes), null, counterNonce(this.#nonce, buf), k);
  }

  open(datagram: Uint8Array, headerBytes: number, out: Uint8Array): boolean {
    const k = this.#key;
    if (!k || datagram.length < headerBytes + 16) return false;
    try {
      const { buffer, byteOffset: at, length } = datagram;
      const c = new Uint8Array(buffer, at + headerBytes, length - headerBytes);
      this.#na.crypto_aead_chacha20poly1305_ietf_decrypt(out, null, c, new Uint8Array(buffer, at, headerBytes), counterNonce(this.#nonce, datagram), k);
      return true;
    } catch {
      out.fill(0);
      return false;
    }
  }

  wipe(): void {
    if (!this.#key) return;
    this.#store.release(this.#key);
    this.#key = null;
  }
}

/** The native packet ciphers (throws when sodium-native is not installed or its binary does not load). */
export function loadNativeAead(): NativeAead {
  const na = sodiumNative();
  if (!na) throw new Error(sodiumNativeError());
  const store = new SecureKeyStore(na);
  return {
    allocKey: () => store.alloc(),
    cipher: (subkey) => {
      if (!Buffer.isBuffer(subkey) || subkey.length !== KEY_BYTES) throw new RangeError('native cipher: a key from allocKey()');
      return new NativeCipher(na, store, subkey);
    },
  };
}
