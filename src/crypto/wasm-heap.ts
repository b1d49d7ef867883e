/**
 * Secret-safe calls into libsodium's WebAssembly build.
 *
 * libsodium-wrappers copies every argument into the wasm heap with malloc, runs the function and
 * frees the copies without zeroing them, so secret keys, shared secrets and session keys stay
 * readable in freed wasm memory. Calls that take or return a secret go through here instead: they
 * use libsodium's raw exported `_crypto_*` functions on one scratch arena of the wasm heap,
 * allocated once (grown, zeroed before being freed, only when a call needs more room), and every
 * byte a call used is zeroed afterwards — on success, on a refused input and on a throw. Secret
 * outputs are copied out into fresh Uint8Arrays that the caller owns (and wipes).
 *
 * The wasm stack is scrubbed too (see wasm-stack.ts: BLAKE2b leaves its output on it).
 *
 * The heap view is re-read after every call: a call may grow the wasm memory, which detaches the
 * previous `HEAPU8`.
 */

/** The part of libsodium's emscripten module this file uses. */
export interface RawSodium {
  readonly HEAPU8: Uint8Array;
  _malloc(n: number): number;
  _free(ptr: number): void;
  [fn: `_crypto_${string}`]: (...args: number[]) => number;
}

import { libsodiumStackLayout, scrubRegion, type StackLayout } from './wasm-stack';

/** Bytes of the arena allocated at first use: room for every fixed-size call and a 64 KiB message. */
export const ARENA_INITIAL_BYTES = 96 * 1024;
const ALIGN = 16;

const align = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

/** One call's view of the arena: place inputs, reserve outputs, call, copy results out. */
export class ScratchCall {
  readonly #raw: RawSodium;
  readonly #base: number;
  readonly #cap: number;
  #used = 0;

  constructor(raw: RawSodium, base: number, cap: number) {
    this.#raw = raw;
    this.#base = base;
    this.#cap = cap;
  }

  /** Bytes of the arena this call touched (zeroed when the call ends). */
  get used(): number {
    return this.#used;
  }

  /** Reserves n bytes (zeroed) and returns their address. */
  alloc(n: number): number {
    const ptr = this.#base + this.#used;
    const size = align(Math.max(n, 1));
    if (this.#used + size > this.#cap) throw new RangeError('wasm scratch arena too small for this call');
    this.#used += size;
    return ptr;
  }

  /** Copies bytes into the arena and returns their address. */
  put(bytes: Uint8Array): number {
    const ptr = this.alloc(bytes.length);
    this.#raw.HEAPU8.set(bytes, ptr);
    return ptr;
  }

  /** A fresh copy of n bytes at ptr (the caller owns it). */
  read(ptr: number, n: number): Uint8Array {
    return this.#raw.HEAPU8.slice(ptr, ptr + n);
  }

  /** Calls a raw libsodium function by name; returns its int result. */
  call(fn: `_crypto_${string}`, ...args: number[]): number {
    const f = this.#raw[fn];
    if (typeof f !== 'function') throw new Error(`libsodium build does not export ${fn}`);
    return f(...args);
  }
}

/** Arena bytes needed for these buffers (and extra output sizes), with alignment. */
export const arenaBytes = (...sizes: number[]): number => sizes.reduce((n, s) => n + align(Math.max(s, 1)), 0);

/** The arena: one region of the wasm heap, reused by every secret-bearing call. */
export class WasmScratch {
  readonly #raw: RawSodium;
  #base = 0;
  #cap = 0;
  #busy = false;
  readonly #layout: StackLayout | null;
  #stack: { from: number; to: number } | null = null;

  /** `layout`: the wasm binary's stack layout (default: read from libsodium's own binary). */
  constructor(raw: RawSodium, layout: StackLayout | null = libsodiumStackLayout()) {
    this.#raw = raw;
    this.#layout = layout;
  }

  /** The stack region zeroed after every call, or null when the layout was not recognised. */
  get stackScrub(): { from: number; to: number } | null {
    return this.#stack;
  }

  /** Where the arena currently lives (tests). */
  get region(): { base: number; bytes: number } {
    return { base: this.#base, bytes: this.#cap };
  }

  /**
   * Runs `fn` on a region of at least `bytes` bytes; every byte it used is zeroed afterwards,
   * whether it returns or throws. Not re-entrant (libsodium calls are synchronous).
   */
  run<T>(bytes: number, fn: (c: ScratchCall) => T): T {
    if (this.#busy) throw new Error('wasm scratch arena is already in use');
    this.#ensure(bytes);
    this.#busy = true;
    const c = new ScratchCall(this.#raw, this.#base, this.#cap);
    try {
      return fn(c);
    } finally {
      const heap = this.#raw.HEAPU8;
      heap.fill(0, this.#base, this.#base + c.used);
      if (this.#stack) heap.fill(0, this.#stack.from, this.#stack.to);
      this.#busy = false;
    }
  }

  /**
   * Zeroes the top of the wasm stack now (no wasm frame is live between calls); false when the
   * stack layout was not recognised (then nothing is written).
   */
  scrubStack(): boolean {
    if (this.#busy) throw new Error('wasm scratch arena is in use');
    this.#ensure(1);
    if (!this.#stack) return false;
    this.#raw.HEAPU8.fill(0, this.#stack.from, this.#stack.to);
    return true;
  }

  #ensure(bytes: number): void {
    if (bytes <= this.#cap) return;
    const cap = Math.max(ARENA_INITIAL_BYTES, align(bytes));
    const base = this.#raw._malloc(cap);
    if (!base) throw new RangeError(`wasm heap: cannot allocate ${cap} bytes`);
    if (this.#cap > 0) {
      this.#raw.HEAPU8.fill(0, this.#base, this.#base + this.#cap);
      this.#raw._free(this.#base);
    }
    this.#base = base;
    this.#cap = cap;
    this.#raw.HEAPU8.fill(0, base, base + cap);
    this.#stack ??= scrubRegion(this.#layout, base);
  }
}

/** Throws the wrapper's kind of error when a buffer has the wrong length. */
export function needLength(buf: Uint8Array, len: number, name: string): void {
  if (!(buf instanceof Uint8Array) || buf.length !== len) throw new TypeError(`invalid ${name} length`);
}
