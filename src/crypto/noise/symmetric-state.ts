/**
 * Noise rev. 34 §4–§5 for the suite 25519_ChaChaPoly_BLAKE2b: HASH = BLAKE2b-512 (HASHLEN 64,
 * BLOCKLEN 128), HMAC-BLAKE2b, HKDF, CipherState (ChaCha20-Poly1305-IETF, nonce = 0^4 ‖ n as u64
 * little-endian) and SymmetricState (ck, h). Every superseded secret (old chaining key, old cipher
 * key, HMAC pads and temporaries) is wiped as soon as it is replaced; `destroy()` wipes the rest.
 */
import { blake2bScrubbed, chachaPolyDecrypt, chachaPolyEncrypt, wipe } from '../sodium';

export const HASHLEN = 64;
export const BLOCKLEN = 128;
export const DHLEN = 32;
export const KEYLEN = 32;
export const TAGLEN = 16;
/** Noise reserves n = 2^64 − 1; we stop far earlier (a handshake uses at most a few nonces). */
const MAX_NONCE = Number.MAX_SAFE_INTEGER;

export const hash = (data: Uint8Array): Uint8Array => blake2bScrubbed(HASHLEN, data);

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** HMAC-BLAKE2b (RFC 2104 with B = 128); keys longer than BLOCKLEN are hashed first. */
export function hmac(key: Uint8Array, data: Uint8Array): Uint8Array {
  const k = key.length > BLOCKLEN ? hash(key) : key;
  const inner = new Uint8Array(BLOCKLEN + data.length);
  const outer = new Uint8Array(BLOCKLEN + HASHLEN);
  for (let i = 0; i < BLOCKLEN; i++) {
    const b = i < k.length ? k[i]! : 0;
    inner[i] = b ^ 0x36;
    outer[i] = b ^ 0x5c;
  }
  inner.set(data, BLOCKLEN);
  const ih = hash(inner);
  outer.set(ih, BLOCKLEN);
  const out = hash(outer);
  wipe(inner);
  wipe(outer);
  wipe(ih);
  if (k !== key) wipe(k);
  return out;
}

/** Noise HKDF(chaining_key, ikm, n) with n = 2 or 3 outputs of HASHLEN bytes. */
export function hkdf(chainingKey: Uint8Array, ikm: Uint8Array, n: 2 | 3): Uint8Array[] {
  const temp = hmac(chainingKey, ikm);
  const out1 = hmac(temp, Uint8Array.of(1));
  const in2 = concat(out1, Uint8Array.of(2));
  const out2 = hmac(temp, in2);
  wipe(in2);
  if (n === 2) {
    wipe(temp);
    return [out1, out2];
  }
  const in3 = concat(out2, Uint8Array.of(3));
  const out3 = hmac(temp, in3);
  wipe(in3);
  wipe(temp);
  return [out1, out2, out3];
}

function nonce12(n: number): Uint8Array {
  const b = new Uint8Array(12);
  let v = n;
  for (let i = 4; i < 12; i++) {
    b[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return b;
}

/** Noise CipherState: a 32-byte key (or none) and a 64-bit counter. */
export class CipherState {
  #k: Uint8Array | null = null;
  #n = 0;

  /** Takes ownership of `key` (32 bytes); the previous key is wiped. */
  initializeKey(key: Uint8Array | null): void {
    if (this.#k) wipe(this.#k);
    this.#k = key;
    this.#n = 0;
  }

  hasKey(): boolean {
    return this.#k !== null;
  }

  get nonce(): number {
    return this.#n;
  }

  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (!this.#k) return plaintext.slice();
    if (this.#n >= MAX_NONCE) throw new Error('noise: nonce exhausted');
    const ct = chachaPolyEncrypt(plaintext, ad, nonce12(this.#n), this.#k);
    this.#n++;
    return ct;
  }

  /** Null when authentication fails (the nonce is not advanced). */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array | null {
    if (!this.#k) return ciphertext.slice();
    if (this.#n >= MAX_NONCE) throw new Error('noise: nonce exhausted');
    const pt = chachaPolyDecrypt(ciphertext, ad, nonce12(this.#n), this.#k);
    if (pt !== null) this.#n++;
    return pt;
  }

  /** Copy (for a transactional read: a refused message leaves the original untouched). */
  clone(): CipherState {
    const c = new CipherState();
    c.#k = this.#k ? this.#k.slice() : null;
    c.#n = this.#n;
    return c;
  }

  /** @internal live secret buffer, for wipe tests. */
  secretViews(): Uint8Array[] {
    return this.#k ? [this.#k] : [];
  }

  destroy(): void {
    if (this.#k) wipe(this.#k);
    this.#k = null;
    this.#n = 0;
  }
}

/** Noise SymmetricState: chaining key ck, handshake hash h and a CipherState. */
export class SymmetricState {
  #ck: Uint8Array;
  #h: Uint8Array;
  #cs: CipherState;

  private constructor(ck: Uint8Array, h: Uint8Array, cs: CipherState) {
    this.#ck = ck;
    this.#h = h;
    this.#cs = cs;
  }

  /** InitializeSymmetric(protocol_name). */
  static initialize(protocolName: string): SymmetricState {
    const name = new TextEncoder().encode(protocolName);
    let h: Uint8Array;
    if (name.length <= HASHLEN) {
      h = new Uint8Array(HASHLEN);
      h.set(name);
    } else {
      h = hash(name);
    }
    return new SymmetricState(h.slice(), h, new CipherState());
  }

  get handshakeHash(): Uint8Array {
    return this.#h.slice();
  }

  hasKey(): boolean {
    return this.#cs.hasKey();
  }

  mixHash(data: Uint8Array): void {
    const next = hash(concat(this.#h, data));
    this.#h = next;
  }

  /** MixKey(ikm): ck, temp_k = HKDF(ck, ikm, 2); the key is the first 32 bytes of temp_k. */
  mixKey(ikm: Uint8Array): void {
    const [ck, tempK] = hkdf(this.#ck, ikm, 2) as [Uint8Array, Uint8Array];
    wipe(this.#ck);
    this.#ck = ck;
    this.#cs.initializeKey(tempK.slice(0, KEYLEN));
    wipe(tempK);
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ct = this.#cs.encryptWithAd(this.#h, plaintext);
    this.mixHash(ct);
    return ct;
  }

  /** Null when authentication fails (h and the nonce are then unchanged). */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array | null {
    const pt = this.#cs.decryptWithAd(this.#h, ciphertext);
    if (pt === null) return null;
    this.mixHash(ciphertext);
    return pt;
  }

  /** Split(): two 32-byte transport keys [initiator→responder, responder→initiator]. Wipes ck. */
  split(): [Uint8Array, Uint8Array] {
    const [t1, t2] = hkdf(this.#ck, new Uint8Array(0), 2) as [Uint8Array, Uint8Array];
    const k1 = t1.slice(0, KEYLEN);
    const k2 = t2.slice(0, KEYLEN);
    wipe(t1);
    wipe(t2);
    wipe(this.#ck);
    this.#cs.destroy();
    return [k1, k2];
  }

  clone(): SymmetricState {
    return new SymmetricState(this.#ck.slice(), this.#h.slice(), this.#cs.clone());
  }

  /** @internal live secret buffers (chaining key, cipher key), for wipe tests. */
  secretViews(): Uint8Array[] {
    return [this.#ck, ...this.#cs.secretViews()];
  }

  destroy(): void {
    wipe(this.#ck);
    this.#cs.destroy();
  }
}
