/**
 * libsodium-wrappers (the always-working WebAssembly fallback): the one place it is required,
 * lazily — a process on the native backend never loads it (~10 MiB of idle RSS).
 * `loadWasmSodium()` loads and initialises it once; the other functions need it loaded.
 */
import type * as LibsodiumWrappers from 'libsodium-wrappers';
import { WasmScratch, type RawSodium } from './wasm-heap';

export type WasmSodium = typeof LibsodiumWrappers;

let lib: WasmSodium | undefined;
let loading: Promise<WasmSodium> | undefined;

/** Loads libsodium-wrappers (once) and waits for its wasm module. */
export function loadWasmSodium(): Promise<WasmSodium> {
  if (lib) return Promise.resolve(lib);
  loading ??= (async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const m = require('libsodium-wrappers') as WasmSodium & { default?: WasmSodium };
    const s = m.default ?? m;
    await s.ready;
    lib = s;
    return s;
  })();
  return loading;
}

/** True once loadWasmSodium() has finished. */
export const wasmSodiumLoaded = (): boolean => lib !== undefined;

/** The loaded wrapper; throws when loadWasmSodium() was not awaited. */
export function wasmSodium(): WasmSodium {
  if (!lib) throw new Error('the wasm crypto backend is not loaded (await wasmReady() first)');
  return lib;
}

/** libsodium's emscripten module (its raw `_crypto_*` functions and heap). */
export const rawLibsodium = (): RawSodium => (wasmSodium() as unknown as { libsodium: RawSodium }).libsodium;

// Every wasm call that takes or returns a secret runs on this zeroed-after-use arena of the wasm
// heap (src/crypto/wasm-heap.ts), never through the wrapper's unzeroed malloc copies.
let arena: WasmScratch | null = null;
/** The secret-call arena (exported for the key-hygiene tests and new primitives). */
export function secretArena(): WasmScratch {
  arena ??= new WasmScratch(rawLibsodium());
  return arena;
}
