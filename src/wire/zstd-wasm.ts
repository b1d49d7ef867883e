/**
 * zstd from libzstd compiled to WebAssembly (the `@bokuweb/zstd-wasm` package: MIT, no install
 * script, no native code). Used where node:zlib has no zstd (Node 20).
 *
 * The package's own `init()` is asynchronous; its Emscripten glue also accepts an
 * `instantiateWasm` hook, through which the module is compiled and instantiated synchronously
 * here, on first use. The package exports only its entry point, so the glue and the .wasm file
 * are loaded by absolute path next to it (the version is pinned exactly in package.json).
 *
 * Decoding is one-shot into a buffer of exactly the capacity: libzstd stops with
 * dstSize_tooSmall as soon as the output would pass it, so the work and memory of a call are
 * bounded by the capacity whatever the frame claims (one-shot decoding needs no window buffer).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { OVERFLOW, type ZstdBackend } from './zstd-backend';

/** The Emscripten module object of the package (only what is used here). */
interface ZstdWasmModule {
  HEAPU8: Uint8Array;
  instantiateWasm?: (imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance) => void) => WebAssembly.Exports;
  init(): unknown;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _ZSTD_isError(code: number): number;
  _ZSTD_compressBound(bytes: number): number;
  _ZSTD_createCCtx(): number;
  _ZSTD_createDCtx(): number;
  _ZSTD_compress_usingDict(cctx: number, dst: number, dstCapacity: number, src: number, srcSize: number, dict: number, dictSize: number, level: number): number;
  _ZSTD_decompress_usingDict(dctx: number, dst: number, dstCapacity: number, src: number, srcSize: number, dict: number, dictSize: number): number;
}

/** ZSTD_error_dstSize_tooSmall (zstd_errors.h). */
const DST_SIZE_TOO_SMALL = 70;

function loadModule(): ZstdWasmModule {
  const dir = dirname(require.resolve('@bokuweb/zstd-wasm'));
  const glue = require(join(dir, 'module.js')) as { Module: ZstdWasmModule };
  const m = glue.Module;
  if (m.HEAPU8 === undefined) {
    // Not instantiated yet (the _ZSTD_* wrappers exist from the start and bind on first call).
    const wasm = new WebAssembly.Module(readFileSync(join(dir, 'zstd.wasm')));
    m.instantiateWasm = (imports, receive) => {
      const instance = new WebAssembly.Instance(wasm, imports);
      receive(instance);
      return instance.exports;
    };
    m.init();
  }
  if (m.HEAPU8 === undefined || m.HEAPU8.length === 0) throw new Error('zstd WebAssembly module did not initialise');
  return m;
}

/** Copies `data` into the WebAssembly heap; the caller frees the pointer. */
function copyIn(m: ZstdWasmModule, data: Uint8Array): number {
  const ptr = m._malloc(Math.max(1, data.length));
  if (ptr === 0) throw new RangeError(`zstd WebAssembly heap cannot hold ${data.length} bytes`);
  m.HEAPU8.set(data, ptr); // HEAPU8 is read after malloc: the heap may have grown
  return ptr;
}

function allocate(m: ZstdWasmModule, bytes: number): number {
  const ptr = m._malloc(Math.max(1, bytes));
  if (ptr === 0) throw new RangeError(`zstd WebAssembly heap cannot hold ${bytes} bytes`);
  return ptr;
}

export function createWasmZstd(): ZstdBackend {
  const m = loadModule();
  const cctx = m._ZSTD_createCCtx();
  const dctx = m._ZSTD_createDCtx();
  if (cctx === 0 || dctx === 0) throw new Error('zstd WebAssembly contexts could not be created');
  return {
    name: 'wasm',
    compress(data, level) {
      const bound = m._ZSTD_compressBound(data.length) >>> 0;
      const src = copyIn(m, data);
      let dst = 0;
      try {
        dst = allocate(m, bound);
        const r = m._ZSTD_compress_usingDict(cctx, dst, bound, src, data.length, 0, 0, level);
        if (m._ZSTD_isError(r)) throw new Error(`zstd compression failed (code ${-r})`);
        return Buffer.from(m.HEAPU8.subarray(dst, dst + (r >>> 0)));
      } finally {
        m._free(src);
        if (dst !== 0) m._free(dst);
      }
    },
    decompress(data, capacity) {
      // The window limit needs no enforcing here: one-shot decoding keeps no window.
      const src = copyIn(m, data);
      let dst = 0;
      try {
        dst = allocate(m, capacity);
        const r = m._ZSTD_decompress_usingDict(dctx, dst, capacity, src, data.length, 0, 0);
        if (m._ZSTD_isError(r)) {
          if (-r === DST_SIZE_TOO_SMALL) return OVERFLOW;
          throw new Error(`zstd decompression failed (code ${-r})`);
        }
        return Buffer.from(m.HEAPU8.subarray(dst, dst + (r >>> 0)));
      } finally {
        m._free(src);
        if (dst !== 0) m._free(dst);
      }
    },
  };
}
