/**
 * The native packet cipher: ChaCha20-Poly1305-IETF from sodium-native (an optionalDependency,
 * loaded only here, only when asked for). Subkeys live in sodium_malloc'd memory (guard pages,
 * locked where the system allows, never swapped out by choice), 32-byte slots carved from
 * 4 KiB slabs so that 10,000 sessions do not each cost a guarded allocation; a slot is zeroed
 * when its cipher is wiped and reused afterwards.
 */
import { sodiumNative, sodiumNativeError, sodiumNativeRawAead, type RawAead, type SodiumNativeLib } from './native-lib';
import { counterNonce, MAX_SEALED_BYTES, SealBuffer, type PacketCipher } from './packet-cipher';

type SodiumNative = Pick<SodiumNativeLib, 'sodium_malloc' | 'sodium_memzero' | 'crypto_aead_chacha20poly1305_ietf_encrypt' | 'crypto_aead_chacha20poly1305_ietf_decrypt'>;

const SLAB_BYTES = 4096;
const KEY_BYTES = 32;
const SLOTS_PER_SLAB = SLAB_BYTES / KEY_BYTES;
/** The IETF nonce of a seal/open call: filled and used synchronously, so one for every cipher. */
const NONCE = new Uint8Array(12);

/**
 * 32-byte key slots in sodium_malloc'd slabs. Free slots are kept as numbers (slab index × 128 +
 * slot), not as Buffer views: a view is made when a slot is handed out, so a store that once
 * held many keys does not keep a ~100-byte Buffer object per free slot (issue 12).
 */
class SecureKeyStore {
  /** The package (the ciphers' checked fallback reads it here: not a field per cipher, issue 12). */
  readonly na: SodiumNative;
  readonly #slabs: Buffer[] = [];
  readonly #slabIndex = new Map<ArrayBufferLike, number>();
  readonly #free: number[] = [];
  constructor(na: SodiumNative) {
    this.na = na;
  }
  get slabs(): number {
    return this.#slabs.length;
  }
  alloc(): Buffer {
    let slot = this.#free.pop();
    if (slot === undefined) {
      const slab = this.na.sodium_malloc(SLAB_BYTES);
      this.na.sodium_memzero(slab);
      const s = this.#slabs.push(slab) - 1;
      this.#slabIndex.set(slab.buffer, s);
      for (let i = SLOTS_PER_SLAB - 1; i > 0; i--) this.#free.push(s * SLOTS_PER_SLAB + i);
      slot = s * SLOTS_PER_SLAB;
    }
    const o = (slot % SLOTS_PER_SLAB) * KEY_BYTES;
    return this.#slabs[Math.floor(slot / SLOTS_PER_SLAB)]!.subarray(o, o + KEY_BYTES);
  }
  release(k: Buffer): void {
    this.na.sodium_memzero(k);
    const s = this.#slabIndex.get(k.buffer);
    if (s === undefined) return;
    this.#free.push(s * SLOTS_PER_SLAB + (k.byteOffset - this.#slabs[s]!.byteOffset) / KEY_BYTES);
  }
}

export interface NativeAead {
  /** A zeroed 32-byte slot of secure memory for a subkey. */
  allocKey(): Uint8Array;
  /** The cipher over a subkey from allocKey (the slot is zeroed and returned on wipe). */
  cipher(subkey: Uint8Array): PacketCipher;
}

/** The data header's bytes as the AD of an open: copied into one shared array (no view per datagram) when it is the usual 13. */
const AD13 = new Uint8Array(13);
function headerAd(datagram: Uint8Array, headerBytes: number): Uint8Array {
  if (headerBytes !== 13) return new Uint8Array(datagram.buffer, datagram.byteOffset, headerBytes);
  for (let i = 0; i < 13; i++) AD13[i] = datagram[i]!;
  return AD13;
}

/** The addon's unchecked seal and open (native-lib.ts), set when the native ciphers load; null: the package's checked wrappers. */
let raw: RawAead | null = null;

/** Makes a SealBuffer's views for one split (header ‖ plaintext, the tag after it). */
function sealViews(buf: SealBuffer, headerBytes: number, plainBytes: number): void {
  const { buffer, byteOffset: at } = buf;
  buf.ad = new Uint8Array(buffer, at, headerBytes);
  buf.plain = new Uint8Array(buffer, at + headerBytes, plainBytes);
  buf.sealed = new Uint8Array(buffer, at + headerBytes, plainBytes + 16);
  buf.viewHeaderBytes = headerBytes;
  buf.viewPlainBytes = plainBytes;
}

/**
 * Two fields per cipher, two ciphers per session (issue 12: the backend name is a getter and the
 * package is read from the key store, not three more fields per cipher — 64 → 40 B each).
 */
class NativeCipher implements PacketCipher {
  readonly #store: SecureKeyStore;
  #key: Buffer | null;

  constructor(store: SecureKeyStore, key: Buffer) {
    this.#store = store;
    this.#key = key;
  }

  get backend(): 'native' {
    return 'native';
  }

  seal(buf: Uint8Array, headerBytes: number, plainBytes: number): void {
    const k = this.#key;
    if (!k) throw new Error('packet cipher wiped');
    if (headerBytes > 64 || plainBytes > MAX_SEALED_BYTES) throw new RangeError('packet too large'); // as the wasm cipher
    if (buf instanceof SealBuffer) {
      // A pooled slot: its views, made once per split (no allocation per datagram).
      if (buf.viewHeaderBytes !== headerBytes || buf.viewPlainBytes !== plainBytes) sealViews(buf, headerBytes, plainBytes);
      this.#encrypt(buf.sealed!, buf.plain!, buf.ad!, counterNonce(NONCE, buf), k);
      return;
    }
    // Plain Uint8Array views (not Buffer#subarray, whose FastBuffer construction costs ~0.1 µs more per call).
    const { buffer, byteOffset: at } = buf;
    const c = new Uint8Array(buffer, at + headerBytes, plainBytes + 16);
    const m = new Uint8Array(buffer, at + headerBytes, plainBytes);
    this.#encrypt(c, m, new Uint8Array(buffer, at, headerBytes), counterNonce(NONCE, buf), k);
  }

  /** c = m's ciphertext ‖ tag: views made above with c.length === m.length + 16 (what the addon trusts), a 12-byte nonce, a 32-byte key. */
  #encrypt(c: Uint8Array, m: Uint8Array, ad: Uint8Array, nonce: Uint8Array, k: Buffer): void {
    if (raw !== null) {
      if (raw.seal(c, m, ad, nonce, k) !== c.length) throw new Error('could not encrypt data');
    } else {
      this.#store.na.crypto_aead_chacha20poly1305_ietf_encrypt(c, m, ad, null, nonce, k);
    }
  }

  open(datagram: Uint8Array, headerBytes: number, out: Uint8Array): boolean {
    const k = this.#key;
    const { buffer, byteOffset: at, length } = datagram;
    const cBytes = length - headerBytes;
    if (!k || headerBytes < 0 || cBytes < 16) return false;
    // The addon's open without the package's wrapper (native-lib.ts): every length it would check is checked here.
    if (out.byteLength !== cBytes - 16 || cBytes - 16 > MAX_SEALED_BYTES) {
      out.fill(0);
      return false;
    }
    const c = new Uint8Array(buffer, at + headerBytes, cBytes);
    try {
      if (raw !== null) {
        if (raw.open(out, c, headerAd(datagram, headerBytes), counterNonce(NONCE, datagram), k) === cBytes - 16) return true;
      } else {
        this.#store.na.crypto_aead_chacha20poly1305_ietf_decrypt(out, null, c, headerAd(datagram, headerBytes), counterNonce(NONCE, datagram), k);
        return true;
      }
    } catch {
      // refused below
    }
    out.fill(0);
    return false;
  }

  keyView(): Uint8Array | null {
    return this.#key;
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
  raw = sodiumNativeRawAead();
  return {
    allocKey: () => store.alloc(),
    cipher: (subkey) => {
      if (!Buffer.isBuffer(subkey) || subkey.length !== KEY_BYTES) throw new RangeError('native cipher: a key from allocKey()');
      return new NativeCipher(store, subkey);
    },
  };
}
