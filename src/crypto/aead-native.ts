/**
 * The native packet cipher: ChaCha20-Poly1305-IETF from sodium-native (an optionalDependency,
 * loaded only here, only when asked for). Subkeys live in sodium_malloc'd memory (guard pages,
 * locked where the system allows, never swapped out by choice), 32-byte slots carved from
 * 4 KiB slabs so that 10,000 sessions do not each cost a guarded allocation; a slot is zeroed
 * when its cipher is wiped and reused afterwards.
 */
import { sodiumNative, sodiumNativeError, sodiumNativeRawAead, type RawAead, type SodiumNativeLib } from './native-lib';
import { counterNonce, MAX_SEALED_BYTES, SealBuffer, type CipherPair, type PacketCipher } from './packet-cipher';

type SodiumNative = Pick<SodiumNativeLib, 'sodium_malloc' | 'sodium_memzero' | 'crypto_aead_chacha20poly1305_ietf_encrypt' | 'crypto_aead_chacha20poly1305_ietf_decrypt'>;

const SLAB_BYTES = 4096;
const KEY_BYTES = 32;
const SLOTS_PER_SLAB = SLAB_BYTES / KEY_BYTES;
/** The IETF nonce of a seal/open call: filled and used synchronously, so one for every cipher. */
const NONCE = new Uint8Array(12);

/**
 * 32-byte key slots in sodium_malloc'd slabs. A cipher holds its slot as a number (slab index ×
 * 128 + slot), not a Buffer view of it (pack19: ~97 B per view, two per session); each seal or
 * open copies the key into one 32-byte scratch, itself sodium_malloc'd, and zeroes the scratch
 * right after the call. Free slots are numbers too.
 */
class SecureKeyStore {
  /** The package (the ciphers' checked fallback reads it here: not a field per cipher, issue 12). */
  readonly na: SodiumNative;
  readonly #slabs: Buffer[] = [];
  /** Each slab as 32-bit words (the copy into the scratch: 8 loads and stores, no view per call; signed: small integers, never boxed). */
  readonly #words: Int32Array[] = [];
  readonly #slabIndex = new Map<ArrayBufferLike, number>();
  readonly #free: number[] = [];
  /** The key of the call under way (secure memory; zero between calls). */
  readonly key: Buffer;
  readonly #key32: Int32Array;
  constructor(na: SodiumNative) {
    this.na = na;
    this.key = na.sodium_malloc(KEY_BYTES);
    na.sodium_memzero(this.key);
    this.#key32 = new Int32Array(this.key.buffer, this.key.byteOffset, KEY_BYTES / 4);
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
      this.#words.push(new Int32Array(slab.buffer, slab.byteOffset, SLAB_BYTES / 4));
      this.#slabIndex.set(slab.buffer, s);
      for (let i = SLOTS_PER_SLAB - 1; i > 0; i--) this.#free.push(s * SLOTS_PER_SLAB + i);
      slot = s * SLOTS_PER_SLAB;
    }
    return this.view(slot);
  }
  /** The memory of a slot (a new view). */
  view(slot: number): Buffer {
    const o = (slot % SLOTS_PER_SLAB) * KEY_BYTES;
    return this.#slabs[Math.floor(slot / SLOTS_PER_SLAB)]!.subarray(o, o + KEY_BYTES);
  }
  /** The slot a view from alloc() is, or -1 (not this store's). */
  slotOf(k: Buffer): number {
    const s = this.#slabIndex.get(k.buffer);
    if (s === undefined) return -1;
    const off = k.byteOffset - this.#slabs[s]!.byteOffset;
    return off % KEY_BYTES === 0 ? s * SLOTS_PER_SLAB + off / KEY_BYTES : -1;
  }
  /** Copies a slot's key into `key` (the scratch) for one call; clear() after it. */
  load(slot: number): Buffer {
    const w = this.#words[(slot / SLOTS_PER_SLAB) | 0]!;
    const o = (slot % SLOTS_PER_SLAB) * (KEY_BYTES / 4);
    const d = this.#key32;
    d[0] = w[o]!;
    d[1] = w[o + 1]!;
    d[2] = w[o + 2]!;
    d[3] = w[o + 3]!;
    d[4] = w[o + 4]!;
    d[5] = w[o + 5]!;
    d[6] = w[o + 6]!;
    d[7] = w[o + 7]!;
    return this.key;
  }
  /** Zeroes the scratch (after every call that loaded a key). */
  clear(): void {
    const d = this.#key32;
    d[0] = d[1] = d[2] = d[3] = d[4] = d[5] = d[6] = d[7] = 0;
  }
  release(slot: number): void {
    this.na.sodium_memzero(this.view(slot));
    this.#free.push(slot);
  }
}

export interface NativeAead {
  /** A zeroed 32-byte slot of secure memory for a subkey. */
  allocKey(): Uint8Array;
  /** The cipher over a subkey from allocKey (the slot is zeroed and returned on wipe). */
  cipher(subkey: Uint8Array): PacketCipher;
  /** @internal The per-call key scratch (zero between calls), for tests. */
  scratch(): Uint8Array;
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

/** Seals with the key in `slot` (PacketCipher.seal). */
function sealWith(store: SecureKeyStore, slot: number, buf: Uint8Array, headerBytes: number, plainBytes: number): void {
  if (slot < 0) throw new Error('packet cipher wiped');
  if (headerBytes > 64 || plainBytes > MAX_SEALED_BYTES) throw new RangeError('packet too large'); // as the wasm cipher
  if (buf instanceof SealBuffer) {
    // A pooled slot: its views, made once per split (no allocation per datagram).
    if (buf.viewHeaderBytes !== headerBytes || buf.viewPlainBytes !== plainBytes) sealViews(buf, headerBytes, plainBytes);
    encrypt(store, slot, buf.sealed!, buf.plain!, buf.ad!, counterNonce(NONCE, buf));
    return;
  }
  // Plain Uint8Array views (not Buffer#subarray, whose FastBuffer construction costs ~0.1 µs more per call).
  const { buffer, byteOffset: at } = buf;
  const c = new Uint8Array(buffer, at + headerBytes, plainBytes + 16);
  const m = new Uint8Array(buffer, at + headerBytes, plainBytes);
  encrypt(store, slot, c, m, new Uint8Array(buffer, at, headerBytes), counterNonce(NONCE, buf));
}

/** c = m's ciphertext ‖ tag: views made above with c.length === m.length + 16 (what the addon trusts), a 12-byte nonce, the key's slot. */
function encrypt(store: SecureKeyStore, slot: number, c: Uint8Array, m: Uint8Array, ad: Uint8Array, nonce: Uint8Array): void {
  const k = store.load(slot);
  let n: number;
  try {
    if (raw === null) {
      store.na.crypto_aead_chacha20poly1305_ietf_encrypt(c, m, ad, null, nonce, k);
      return;
    }
    n = raw.seal(c, m, ad, nonce, k);
  } finally {
    store.clear();
  }
  if (n !== c.length) throw new Error('could not encrypt data');
}

/** Opens with the key in `slot` (PacketCipher.open). */
function openWith(store: SecureKeyStore, slot: number, datagram: Uint8Array, headerBytes: number, out: Uint8Array): boolean {
  const { buffer, byteOffset: at, length } = datagram;
  const cBytes = length - headerBytes;
  if (slot < 0 || headerBytes < 0 || cBytes < 16) return false;
  // The addon's open without the package's wrapper (native-lib.ts): every length it would check is checked here.
  if (out.byteLength !== cBytes - 16 || cBytes - 16 > MAX_SEALED_BYTES) {
    out.fill(0);
    return false;
  }
  const c = new Uint8Array(buffer, at + headerBytes, cBytes);
  const k = store.load(slot);
  try {
    if (raw !== null) {
      if (raw.open(out, c, headerAd(datagram, headerBytes), counterNonce(NONCE, datagram), k) === cBytes - 16) return true;
    } else {
      store.na.crypto_aead_chacha20poly1305_ietf_decrypt(out, null, c, headerAd(datagram, headerBytes), counterNonce(NONCE, datagram), k);
      return true;
    }
  } catch {
    // refused below
  } finally {
    store.clear();
  }
  out.fill(0);
  return false;
}

/**
 * One direction's cipher: two fields (issue 12: the backend name is a getter and the package is
 * read from the key store — 64 → 40 B); the key is its slot's number (pack19: not a Buffer view).
 */
class NativeCipher implements PacketCipher {
  readonly #store: SecureKeyStore;
  /** The key's slot in the store (-1: wiped). */
  #slot: number;

  constructor(store: SecureKeyStore, slot: number) {
    this.#store = store;
    this.#slot = slot;
  }

  get backend(): 'native' {
    return 'native';
  }

  seal(buf: Uint8Array, headerBytes: number, plainBytes: number): void {
    sealWith(this.#store, this.#slot, buf, headerBytes, plainBytes);
  }

  open(datagram: Uint8Array, headerBytes: number, out: Uint8Array): boolean {
    return openWith(this.#store, this.#slot, datagram, headerBytes, out);
  }

  keyView(): Uint8Array | null {
    return this.#slot < 0 ? null : this.#store.view(this.#slot);
  }

  wipe(): void {
    if (this.#slot < 0) return;
    this.#store.release(this.#slot);
    this.#slot = -1;
  }

  /**
   * Both directions of a session in one object (pack19: one 48-byte object, not two): the
   * ciphers' slots move to it (both are unusable afterwards); null unless both are this store's.
   */
  static pair(send: PacketCipher, recv: PacketCipher): CipherPair | null {
    if (!(send instanceof NativeCipher) || !(recv instanceof NativeCipher) || send.#store !== recv.#store || send.#slot < 0 || recv.#slot < 0) return null;
    const p = new NativeCipherPair(send.#store, send.#slot, recv.#slot);
    send.#slot = recv.#slot = -1; // moved, not released
    return p;
  }
}

/** A session's two directions: the send key's slot seals, the receive key's opens. */
class NativeCipherPair implements CipherPair {
  readonly #store: SecureKeyStore;
  #send: number;
  #recv: number;

  constructor(store: SecureKeyStore, send: number, recv: number) {
    this.#store = store;
    this.#send = send;
    this.#recv = recv;
  }

  seal(buf: Uint8Array, headerBytes: number, plainBytes: number): void {
    sealWith(this.#store, this.#send, buf, headerBytes, plainBytes);
  }

  open(datagram: Uint8Array, headerBytes: number, out: Uint8Array): boolean {
    return openWith(this.#store, this.#recv, datagram, headerBytes, out);
  }

  keyViews(): Uint8Array[] {
    const views: Uint8Array[] = [];
    if (this.#send >= 0) views.push(this.#store.view(this.#send));
    if (this.#recv >= 0) views.push(this.#store.view(this.#recv));
    return views;
  }

  wipe(): void {
    if (this.#send >= 0) this.#store.release(this.#send);
    if (this.#recv >= 0) this.#store.release(this.#recv);
    this.#send = this.#recv = -1;
  }
}

/** Both directions as one object when both are native ciphers of one store (NativeCipher.pair), else null. */
export const nativePair = (send: PacketCipher, recv: PacketCipher): CipherPair | null => NativeCipher.pair(send, recv);

/** The native packet ciphers (throws when sodium-native is not installed or its binary does not load). */
export function loadNativeAead(): NativeAead {
  const na = sodiumNative();
  if (!na) throw new Error(sodiumNativeError());
  const store = new SecureKeyStore(na);
  raw = sodiumNativeRawAead();
  return {
    allocKey: () => store.alloc(),
    scratch: () => store.key,
    cipher: (subkey) => {
      const slot = Buffer.isBuffer(subkey) && subkey.length === KEY_BYTES ? store.slotOf(subkey) : -1;
      if (slot < 0) throw new RangeError('native cipher: a key from allocKey()');
      return new NativeCipher(store, slot);
    },
  };
}
