/**
 * HChaCha20 (draft-irtf-cfrg-xchacha §2.2) in plain JavaScript: the subkey step of
 * XChaCha20. Data packets use the nonce 16 zero bytes ‖ counter, so XChaCha20-Poly1305 under a
 * session key k is exactly ChaCha20-Poly1305-IETF under HChaCha20(k, 0^16) with the nonce
 * 0^4 ‖ counter: the subkey is computed once per session and any IETF binding (native or
 * WebAssembly) then produces the same bytes. Computed here rather than in libsodium's wasm build
 * so that neither the key nor the cipher state passes through the wasm heap or stack; the
 * working state is zeroed before returning.
 */

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));

/**
 * (a + b) mod 2^32 as an int32, from 16-bit halves: every intermediate is a small integer, so
 * even unoptimized code boxes no number (a plain `(a + b) | 0` makes a heap number whenever the
 * sum leaves the int32 range, half the time: ~16 KB per call before rekeyalloc17).
 */
const add = (a: number, b: number): number => {
  const lo = (a & 0xffff) + (b & 0xffff);
  return (((a >>> 16) + (b >>> 16) + (lo >>> 16)) << 16) | (lo & 0xffff);
};

/** Int32 words (never a heap number when read, unlike a Uint32Array's words ≥ 2^31). */
function quarter(s: Int32Array, a: number, b: number, c: number, d: number): void {
  s[a] = add(s[a]!, s[b]!);
  s[d] = rotl(s[d]! ^ s[a]!, 16);
  s[c] = add(s[c]!, s[d]!);
  s[b] = rotl(s[b]! ^ s[c]!, 12);
  s[a] = add(s[a]!, s[b]!);
  s[d] = rotl(s[d]! ^ s[a]!, 8);
  s[c] = add(s[c]!, s[d]!);
  s[b] = rotl(s[b]! ^ s[c]!, 7);
}

const word = (b: Uint8Array, o: number): number => b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);

/** The working state: one per process (a call runs synchronously), zeroed before every return. */
const S = new Int32Array(16);

function put(out: Uint8Array, i: number, w: number): void {
  out[4 * i] = w;
  out[4 * i + 1] = w >>> 8;
  out[4 * i + 2] = w >>> 16;
  out[4 * i + 3] = w >>> 24;
}

/** Writes HChaCha20(key, nonce16) into `out` (32 bytes). Allocates nothing. */
export function hchacha20(out: Uint8Array, key: Uint8Array, nonce16: Uint8Array): void {
  if (key.length !== 32 || nonce16.length !== 16 || out.length < 32) throw new RangeError('hchacha20: 32-byte key, 16-byte nonce, 32-byte output');
  const s = S;
  s[0] = 0x61707865;
  s[1] = 0x3320646e;
  s[2] = 0x79622d32;
  s[3] = 0x6b206574;
  for (let i = 0; i < 8; i++) s[4 + i] = word(key, 4 * i);
  for (let i = 0; i < 4; i++) s[12 + i] = word(nonce16, 4 * i);
  for (let r = 0; r < 10; r++) {
    quarter(s, 0, 4, 8, 12);
    quarter(s, 1, 5, 9, 13);
    quarter(s, 2, 6, 10, 14);
    quarter(s, 3, 7, 11, 15);
    quarter(s, 0, 5, 10, 15);
    quarter(s, 1, 6, 11, 12);
    quarter(s, 2, 7, 8, 13);
    quarter(s, 3, 4, 9, 14);
  }
  // words 0..3 and 12..15
  for (let i = 0; i < 4; i++) put(out, i, s[i]!);
  for (let i = 4; i < 8; i++) put(out, i, s[8 + i]!);
  s.fill(0);
}
