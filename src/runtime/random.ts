/**
 * Randomness injected wherever a choice varies between runs: session ids, jitter, message
 * ids, padding bytes, ephemeral key seeds. SeededRandom makes a run reproducible; it is for
 * tests and simulations only, never for real keys.
 */
import { randomBytes, randomFillSync, randomInt } from 'node:crypto';

export interface Random {
  /** n uniformly random bytes (a new array). */
  bytes(n: number): Uint8Array;
  /** Uniform integer in [min, max). */
  int(min: number, max: number): number;
  /** Uniform float in [0, 1). */
  float(): number;
}

export const systemRandom: Random = {
  bytes: (n) => randomFillSync(new Uint8Array(n)), // no intermediate copy: key seeds come from here
  int: (min, max) => randomInt(min, max),
  // 48 random bits (randomInt cannot span 2 ** 48: its range must stay below it).
  float: () => randomBytes(6).readUIntBE(0, 6) / 2 ** 48,
};

/** sfc32: a small, fast, well-distributed PRNG; deterministic for a given seed. */
export class SeededRandom implements Random {
  #a: number;
  #b: number;
  #c: number;
  #d: number;
  constructor(seed: number) {
    this.#a = 0x9e3779b9;
    this.#b = 0x243f6a88;
    this.#c = 0xb7e15162;
    this.#d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.#next();
  }
  #next(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return t >>> 0;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.#next();
      for (let k = 0; k < 4 && i + k < n; k++) out[i + k] = (v >>> (8 * k)) & 0xff;
    }
    return out;
  }
  int(min: number, max: number): number {
    if (!(max > min)) throw new RangeError(`SeededRandom.int: empty range [${min}, ${max})`);
    return min + Math.floor(this.float() * (max - min));
  }
  float(): number {
    // 53 random bits
    return (this.#next() * 2 ** 21 + (this.#next() >>> 11)) / 2 ** 53;
  }
  /** An independent stream derived from this one (e.g. one per simulated node). */
  fork(): SeededRandom {
    return new SeededRandom(this.#next());
  }
}
