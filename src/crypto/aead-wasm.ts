/**
 * The WebAssembly packet cipher (always available): libsodium-wrappers' compiled
 * `crypto_aead_chacha20poly1305_ietf_*` called directly on one scratch area of the wasm heap
 * (allocated once per process), skipping the wrapper's per-call malloc/free and conversions.
 * The subkey and the plaintext are copied in for one call and zeroed there right after it.
 */
import { rawLibsodium } from './wasm-lib';
import type { RawSodium } from './wasm-heap';
import { counterNonce, MAX_SEALED_BYTES, type PacketCipher } from './packet-cipher';

const AD_MAX = 64;
const MSG_BYTES = MAX_SEALED_BYTES + 16;

interface Scratch {
  raw: RawSodium;
  key: number;
  nonce: number;
  ad: number;
  msg: number;
  out: number;
}
let scratch: Scratch | null = null;

function area(): Scratch {
  if (scratch) return scratch;
  const raw = rawLibsodium();
  const base = raw._malloc(32 + 16 + AD_MAX + 2 * MSG_BYTES);
  scratch = { raw, key: base, nonce: base + 32, ad: base + 48, msg: base + 48 + AD_MAX, out: base + 48 + AD_MAX + MSG_BYTES };
  raw.HEAPU8.fill(0, base, base + 32 + 16 + AD_MAX + 2 * MSG_BYTES);
  return scratch;
}

/** The IETF nonce of a seal/open call: filled and copied into the wasm heap synchronously, so one for every cipher (issue 12). */
const NONCE = new Uint8Array(12);

class WasmCipher implements PacketCipher {
  #key: Uint8Array | null;

  constructor(subkey: Uint8Array) {
    this.#key = subkey;
  }

  get backend(): 'wasm' {
    return 'wasm';
  }

  seal(buf: Uint8Array, headerBytes: number, plainBytes: number): void {
    const k = this.#key;
    if (!k) throw new Error('packet cipher wiped');
    if (headerBytes > AD_MAX || plainBytes > MSG_BYTES - 16) throw new RangeError('packet too large');
    const x = area();
    const heap = x.raw.HEAPU8;
    try {
      heap.set(k, x.key);
      heap.set(counterNonce(NONCE, buf), x.nonce);
      heap.set(buf.subarray(0, headerBytes), x.ad);
      heap.set(buf.subarray(headerBytes, headerBytes + plainBytes), x.msg);
      x.raw._crypto_aead_chacha20poly1305_ietf_encrypt!(x.out, 0, x.msg, plainBytes, 0, x.ad, headerBytes, 0, 0, x.nonce, x.key);
      const h = x.raw.HEAPU8; // re-read: the heap may have grown
      buf.set(h.subarray(x.out, x.out + plainBytes + 16), headerBytes);
    } finally {
      const h = x.raw.HEAPU8;
      h.fill(0, x.key, x.key + 32);
      h.fill(0, x.msg, x.msg + plainBytes);
    }
  }

  open(datagram: Uint8Array, headerBytes: number, out: Uint8Array): boolean {
    const k = this.#key;
    const ctBytes = datagram.length - headerBytes;
    if (!k || ctBytes < 16 || headerBytes > AD_MAX || ctBytes > MSG_BYTES) return false;
    const x = area();
    const heap = x.raw.HEAPU8;
    try {
      heap.set(k, x.key);
      heap.set(counterNonce(NONCE, datagram), x.nonce);
      heap.set(datagram.subarray(0, headerBytes), x.ad);
      heap.set(datagram.subarray(headerBytes), x.msg);
      const rc = x.raw._crypto_aead_chacha20poly1305_ietf_decrypt!(x.out, 0, 0, x.msg, ctBytes, 0, x.ad, headerBytes, 0, x.nonce, x.key);
      if (rc !== 0) return false;
      out.set(x.raw.HEAPU8.subarray(x.out, x.out + ctBytes - 16));
      return true;
    } finally {
      const h = x.raw.HEAPU8;
      h.fill(0, x.key, x.key + 32);
      h.fill(0, x.out, x.out + ctBytes);
    }
  }

  keyView(): Uint8Array | null {
    return this.#key;
  }

  wipe(): void {
    this.#key?.fill(0);
    this.#key = null;
  }
}

/** A wasm cipher over `subkey` (the cipher owns it and zeroes it on wipe). */
export function createWasmCipher(subkey: Uint8Array): PacketCipher {
  return new WasmCipher(subkey);
}
