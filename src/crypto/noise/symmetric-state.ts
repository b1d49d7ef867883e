/**
 * Noise rev. 34 §4–§5 for the suite 25519_ChaChaPoly_BLAKE2b: HASH = BLAKE2b-512 (HASHLEN 64,
 * BLOCKLEN 128), HMAC-BLAKE2b, HKDF, CipherState (ChaCha20-Poly1305-IETF, nonce = 0^4 ‖ n as u64
 * little-endian) and SymmetricState (ck, h).
 *
 * Allocation (issue 12): a state's chaining key, handshake hash and cipher key are one 160-byte
 * array, updated in place (a superseded chaining key or cipher key is overwritten by its
 * successor, never left behind). HMAC pads, HKDF temporaries and outputs, the nonce and the
 * mixHash input are module-level scratch areas (the handshake runs synchronously, one call at a
 * time), zeroed after every use that put a secret there. A handshake message costs no array here
 * but its ciphertexts and the split's two keys.
 */
import { blake2bInto, chachaPolyDecrypt, chachaPolyEncrypt, wipe } from '../sodium';

export const HASHLEN = 64;
export const BLOCKLEN = 128;
export const DHLEN = 32;
export const KEYLEN = 32;
export const TAGLEN = 16;
/** Noise reserves n = 2^64 − 1; we stop far earlier (a handshake uses at most a few nonces). */
const MAX_NONCE = Number.MAX_SAFE_INTEGER;

/** HMAC data held in the scratch pad (HKDF's is at most HASHLEN + 1 bytes); longer data gets its own array. */
const MAX_SCRATCH_DATA = 128;
const WORK = new Uint8Array(BLOCKLEN + MAX_SCRATCH_DATA + BLOCKLEN + HASHLEN + 4 * HASHLEN + HASHLEN + 1);
const INNER = WORK.subarray(0, BLOCKLEN + MAX_SCRATCH_DATA);
let at = INNER.length;
const take = (n: number): Uint8Array => WORK.subarray(at, (at += n));
const OUTER = take(BLOCKLEN + HASHLEN);
const IH = take(HASHLEN);
const TEMP = take(HASHLEN);
const OUT1 = take(HASHLEN);
const OUT2 = take(HASHLEN);
/** out1 ‖ 0x02, HKDF's second input. */
const IN2 = take(HASHLEN + 1);
const ONE = Uint8Array.of(1);
/** The 12-byte nonce of the current encrypt/decrypt (not secret). */
const NONCE = new Uint8Array(12);
/** h ‖ data for mixHash (public values only: h, ephemerals, ciphertexts, a cleartext payload); grown on demand. */
let mix = new Uint8Array(HASHLEN + 256);

/** BLAKE2b-512 (a fresh array). */
export function hash(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(HASHLEN);
  blake2bInto(out, data);
  return out;
}

/** HMAC-BLAKE2b (RFC 2104, B = 128) into `out` (64 bytes); `key` ≤ BLOCKLEN bytes. Leaves secrets in WORK: the caller wipes it. */
function hmacInto(out: Uint8Array, key: Uint8Array, data: Uint8Array): void {
  const own = data.length > MAX_SCRATCH_DATA;
  const inner = own ? new Uint8Array(BLOCKLEN + data.length) : INNER;
  for (let i = 0; i < BLOCKLEN; i++) {
    const b = i < key.length ? key[i]! : 0;
    inner[i] = b ^ 0x36;
    OUTER[i] = b ^ 0x5c;
  }
  inner.set(data, BLOCKLEN);
  blake2bInto(IH, inner, BLOCKLEN + data.length); // a prefix of INNER: no view made
  OUTER.set(IH, BLOCKLEN);
  blake2bInto(out, OUTER);
  if (own) wipe(inner);
}

/** HMAC-BLAKE2b (a fresh array; keys longer than BLOCKLEN are hashed first). */
export function hmac(key: Uint8Array, data: Uint8Array): Uint8Array {
  const k = key.length > BLOCKLEN ? hash(key) : key;
  const out = new Uint8Array(HASHLEN);
  hmacInto(out, k, data);
  wipe(WORK);
  if (k !== key) wipe(k);
  return out;
}

/** Noise HKDF(chaining_key, ikm, 2) into OUT1, OUT2 (the caller copies them out and wipes WORK). */
function hkdf2(chainingKey: Uint8Array, ikm: Uint8Array): void {
  hmacInto(TEMP, chainingKey, ikm);
  hmacInto(OUT1, TEMP, ONE);
  IN2.set(OUT1);
  IN2[HASHLEN] = 2;
  hmacInto(OUT2, TEMP, IN2);
}

/** Noise HKDF(chaining_key, ikm, 2): two fresh 64-byte outputs. */
export function hkdf(chainingKey: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  hkdf2(chainingKey, ikm);
  const out: [Uint8Array, Uint8Array] = [OUT1.slice(), OUT2.slice()];
  wipe(WORK);
  return out;
}

function nonce12(n: number): Uint8Array {
  let v = n;
  for (let i = 4; i < 12; i++) {
    NONCE[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return NONCE;
}

/** The initial h (= ck) of each protocol name: public, computed once per name (a handful). */
const INITIAL_H = new Map<string, Uint8Array>();

const CK = 0;
const H = HASHLEN;
const K = 2 * HASHLEN;
const STATE_BYTES = 2 * HASHLEN + KEYLEN;

/** Noise SymmetricState: chaining key ck, handshake hash h and the CipherState (k, n), in one array. */
export class SymmetricState {
  /** ck ‖ h ‖ k. */
  readonly #mem: Uint8Array;
  readonly #ck: Uint8Array;
  readonly #h: Uint8Array;
  readonly #k: Uint8Array;
  #hasKey: boolean;
  #n: number;

  private constructor(mem: Uint8Array, hasKey: boolean, n: number) {
    this.#mem = mem;
    this.#ck = mem.subarray(CK, CK + HASHLEN);
    this.#h = mem.subarray(H, H + HASHLEN);
    this.#k = mem.subarray(K, K + KEYLEN);
    this.#hasKey = hasKey;
    this.#n = n;
  }

  /** InitializeSymmetric(protocol_name). */
  static initialize(protocolName: string): SymmetricState {
    const s = new SymmetricState(new Uint8Array(STATE_BYTES), false, 0);
    let h0 = INITIAL_H.get(protocolName);
    if (!h0) {
      const name = new TextEncoder().encode(protocolName);
      h0 = new Uint8Array(HASHLEN);
      if (name.length <= HASHLEN) h0.set(name);
      else blake2bInto(h0, name);
      INITIAL_H.set(protocolName, h0);
    }
    s.#h.set(h0);
    s.#ck.set(h0);
    return s;
  }

  get handshakeHash(): Uint8Array {
    return this.#h.slice();
  }

  hasKey(): boolean {
    return this.#hasKey;
  }

  mixHash(data: Uint8Array): void {
    const n = HASHLEN + data.length;
    if (mix.length < n) mix = new Uint8Array(n);
    mix.set(this.#h);
    mix.set(data, HASHLEN);
    blake2bInto(this.#h, mix, n);
  }

  /** MixKey(ikm): ck, temp_k = HKDF(ck, ikm, 2); the key is the first 32 bytes of temp_k. Both overwrite their predecessors. */
  mixKey(ikm: Uint8Array): void {
    hkdf2(this.#ck, ikm);
    this.#ck.set(OUT1);
    const k = this.#k;
    for (let i = 0; i < KEYLEN; i++) k[i] = OUT2[i]!; // no view of OUT2 made
    wipe(WORK);
    this.#hasKey = true;
    this.#n = 0;
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    let ct: Uint8Array;
    if (!this.#hasKey) ct = plaintext.slice();
    else {
      if (this.#n >= MAX_NONCE) throw new Error('noise: nonce exhausted');
      ct = chachaPolyEncrypt(plaintext, this.#h, nonce12(this.#n), this.#k);
      this.#n++;
    }
    this.mixHash(ct);
    return ct;
  }

  /** Null when authentication fails (h and the nonce are then unchanged). */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array | null {
    let pt: Uint8Array | null;
    if (!this.#hasKey) pt = ciphertext.slice();
    else {
      if (this.#n >= MAX_NONCE) throw new Error('noise: nonce exhausted');
      pt = chachaPolyDecrypt(ciphertext, this.#h, nonce12(this.#n), this.#k);
      if (pt === null) return null;
      this.#n++;
    }
    this.mixHash(ciphertext);
    return pt;
  }

  /** Split(): two 32-byte transport keys [initiator→responder, responder→initiator]. Wipes ck and k. */
  split(): [Uint8Array, Uint8Array] {
    hkdf2(this.#ck, new Uint8Array(0));
    const keys: [Uint8Array, Uint8Array] = [OUT1.slice(0, KEYLEN), OUT2.slice(0, KEYLEN)];
    wipe(WORK);
    wipe(this.#ck);
    wipe(this.#k);
    this.#hasKey = false;
    this.#n = 0;
    return keys;
  }

  clone(): SymmetricState {
    return new SymmetricState(this.#mem.slice(), this.#hasKey, this.#n);
  }

  /** @internal live secret buffers (chaining key, cipher key once there is one), for wipe tests. */
  secretViews(): Uint8Array[] {
    return this.#hasKey ? [this.#ck, this.#k] : [this.#ck];
  }

  /** Wipes ck and k (h, public, stays readable). */
  destroy(): void {
    wipe(this.#ck);
    wipe(this.#k);
    this.#hasKey = false;
    this.#n = 0;
  }
}

/** @internal The handshake scratch areas (all zero between calls), for wipe tests. */
export const noiseWorkView = (): Uint8Array => WORK;
