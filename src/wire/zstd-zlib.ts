/**
 * zstd from `node:zlib` (Node ≥ 22.15 / 23.8: native libzstd shipped with the runtime).
 * Node 20 has none; `createZlibZstd()` returns null there.
 */
import * as zlib from 'node:zlib';
import { OVERFLOW, type ZstdBackend } from './zstd-backend';

interface ZstdOptions {
  params?: Record<number, number>;
  maxOutputLength?: number;
  chunkSize?: number;
}

/** The part of node:zlib this backend uses (absent from Node 20 and its type definitions). */
interface ZlibWithZstd {
  zstdCompressSync(data: Uint8Array, options?: ZstdOptions): Buffer;
  zstdDecompressSync(data: Uint8Array, options?: ZstdOptions): Buffer;
  constants: Record<string, number>;
}

/**
 * Largest output chunk the sync decoder allocates at a time (one chunk holds a whole default-size
 * message: fewer native calls and no concatenation).
 */
const MAX_CHUNK_BYTES = 1024 * 1024 + 1;

function zstdZlib(): ZlibWithZstd | null {
  const z = zlib as unknown as Partial<ZlibWithZstd>;
  if (typeof z.zstdCompressSync !== 'function' || typeof z.zstdDecompressSync !== 'function') return null;
  const c = z.constants;
  if (!c || c.ZSTD_c_compressionLevel === undefined || c.ZSTD_d_windowLogMax === undefined) return null;
  return z as ZlibWithZstd;
}

/** True when this runtime's node:zlib has zstd. */
export function zlibHasZstd(): boolean {
  return zstdZlib() !== null;
}

export function createZlibZstd(): ZstdBackend | null {
  const z = zstdZlib();
  if (z === null) return null;
  const C = z.constants;
  const level = C.ZSTD_c_compressionLevel!;
  const contentSizeFlag = C.ZSTD_c_contentSizeFlag!;
  const checksumFlag = C.ZSTD_c_checksumFlag!;
  const windowLogMax = C.ZSTD_d_windowLogMax!;
  return {
    name: 'node:zlib',
    compress(data, lvl) {
      // The whole input in one end-of-stream call: libzstd writes the content size in the header.
      return z.zstdCompressSync(data, { params: { [level]: lvl, [contentSizeFlag]: 1, [checksumFlag]: 0 } });
    },
    decompress(data, capacity, wlog) {
      // maxOutputLength is checked after every chunk, so at most one chunk past the capacity is
      // ever held; one spare byte lets an exact fit finish in a single chunk.
      const chunkSize = Math.max(64, Math.min(capacity + 1, MAX_CHUNK_BYTES));
      try {
        const out = z.zstdDecompressSync(data, { maxOutputLength: Math.max(1, capacity), chunkSize, params: { [windowLogMax]: wlog } });
        return out.length > capacity ? OVERFLOW : out;
      } catch (e) {
        // Native errors can come from another realm (jest's vm contexts): compare the code only.
        if (typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') return OVERFLOW;
        throw e;
      }
    },
  };
}
