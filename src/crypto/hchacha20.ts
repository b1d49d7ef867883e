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

function quarter(s: Uint32Array, a: number, b: number, c: number, d: number): void {
  s[a] = (s[a]! + s[b]!) | 0;
  s[d] = rotl(s[d]! ^ s[a]!, 16);
  s[c] = (s[c]! + s[d]!) | 0;
  s[b] = rotl(s[b]! ^ s[c]!, 12);
  s[a] = (s[a]! + s[b]!) | 0;
  s[d] = rotl(s[d]! ^ s[a]!, 8);
  s[c] = (s[c]! + s[d]!) | 0;
  s[b] = rotl(s[b]! ^ s[c]!, 7);
}

const word = (b: Uint8Array, o: number): number => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;

/** Writes HChaCha20(key, nonce16) into `out` (32 bytes). */
export function hchacha20(out: Uint8Array, key: Uint8Array, nonce16: Uint8Array): void {
  if (key.length !== 32 || nonce16.length !== 16 || out.length < 32) throw new RangeError('hchacha20: 32-byte key, 16-byte nonce, 32-byte output');
  const s = new Uint32Array(16);
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
  const words = [0, 1, 2, 3, 12, 13, 14, 15];
  for (let i = 0; i < 8; i++) {
    const w = s[words[i]!]!;
    out[4 * i] = w;
    out[4 * i + 1] = w >>> 8;
    out[4 * i + 2] = w >>> 16;
    out[4 * i + 3] = w >>> 24;
  }
  s.fill(0);
}
