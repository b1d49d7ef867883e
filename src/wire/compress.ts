/**
 * The zstd seam. Two interchangeable backends produce and accept standard zstd frames:
 * `node:zlib` where the runtime has zstd (Node ≥ 22.15 / 23.8, so Node 26), and libzstd
 * compiled to WebAssembly otherwise (Node 20). Neither needs a compiler at install.
 * `useZstdBackend()` picks one explicitly (tests run every case on both).
 *
 * Decompression is bounded by `maxBytes` (decompression bombs are refused, not allocated). The
 * frames are first walked without decoding (zstd-frames.ts), so every limit below is judged the
 * same way on both backends, before any output is allocated:
 * - content whose headers declare more than `maxBytes` in total is refused;
 * - a frame whose window exceeds max(8 MiB, next power of two ≥ `maxBytes`) is refused. 8 MiB is
 *   what RFC 8878 §3.1.1.1.2 recommends every decoder to support (streaming encoders that do not
 *   know the size use 2–8 MiB windows);
 * - the decoder then gets a capacity of min(`maxBytes`, what the frames can at most produce:
 *   declared sizes, else the sum of their block bounds) and stops as soon as the output passes
 *   it, so frames that do not declare their size are bounded as well.
 *
 * fzstd (pure JS) is deliberately not used for untrusted input: its streaming decoder allocates
 * whatever window the header asks for (up to 2 GB), copies the whole window once per block, and
 * does not bound a block's output: a 17-byte frame (one compressed block of 10 000 sequences of
 * 65 539-byte matches) kept it busy for 3.8 s; libzstd rejects it in under 1 ms.
 */
import { UdpVaultError } from '../errors';
import { OVERFLOW, type ZstdBackend, type ZstdBackendName } from './zstd-backend';
import { scanZstdFrames, type ZstdFrameInfo } from './zstd-frames';
import { createWasmZstd } from './zstd-wasm';
import { createZlibZstd, zlibHasZstd } from './zstd-zlib';

export type { ZstdBackendName } from './zstd-backend';

/** Windows up to 2^23 = 8 MiB are always accepted (RFC 8878 recommendation). */
const WINDOW_LOG_FLOOR = 23;
/** libzstd's upper bound for windowLogMax on 64-bit builds. */
const WINDOW_LOG_MAX = 31;

const backends = new Map<ZstdBackendName, ZstdBackend>();
let selected: ZstdBackendName | null = null;

/** The backends this runtime offers, preferred first. */
export function availableZstdBackends(): ZstdBackendName[] {
  return zlibHasZstd() ? ['node:zlib', 'wasm'] : ['wasm'];
}

/**
 * Selects the backend for every later call: 'auto' (node:zlib when the runtime has zstd, else
 * wasm), or one by name. Throws when node:zlib is asked for on a runtime without zstd.
 * Returns the backend now in use.
 */
export function useZstdBackend(name: ZstdBackendName | 'auto'): ZstdBackendName {
  const choice = name === 'auto' ? availableZstdBackends()[0]! : name;
  if (!availableZstdBackends().includes(choice)) {
    throw new UdpVaultError('ERR_BAD_ARGUMENT', `zstd backend ${choice} is not available on Node ${process.versions.node}`);
  }
  selected = choice;
  return choice;
}

/** The backend in use (selecting 'auto' on first call). */
export function zstdBackendName(): ZstdBackendName {
  return selected ?? useZstdBackend('auto');
}

function backend(): ZstdBackend {
  const name = zstdBackendName();
  let b = backends.get(name);
  if (b === undefined) {
    b = name === 'node:zlib' ? createZlibZstd()! : createWasmZstd();
    backends.set(name, b);
  }
  return b;
}

/** One zstd frame of `data` (content size declared, no checksum). */
export function compress(data: Uint8Array, level: number): Uint8Array {
  return backend().compress(data, level);
}

function limitError(message: string): UdpVaultError {
  return new UdpVaultError('ERR_DECOMPRESS_LIMIT', message);
}

function malformed(): UdpVaultError {
  return new UdpVaultError('ERR_MALFORMED', 'invalid zstd data');
}

function windowLogFor(maxBytes: number): number {
  return Math.min(WINDOW_LOG_MAX, Math.max(WINDOW_LOG_FLOOR, Math.ceil(Math.log2(Math.max(1, maxBytes)))));
}

/**
 * Decompresses one or more concatenated zstd frames. Throws UdpVaultError ERR_DECOMPRESS_LIMIT
 * when the output would exceed `maxBytes`, ERR_MALFORMED for anything that is not valid zstd
 * (including empty input, truncation and trailing bytes).
 */
export function decompress(data: Uint8Array, maxBytes: number): Uint8Array {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
  let frames: ZstdFrameInfo[];
  try {
    frames = scanZstdFrames(data);
  } catch {
    throw malformed();
  }
  let declared = 0;
  let allDeclared = true;
  let bound = 0;
  const windowLog = windowLogFor(maxBytes);
  for (const f of frames) {
    if (f.contentSize === null) allDeclared = false;
    else declared += f.contentSize;
    bound += f.outputBound;
    if (f.hasWindowDescriptor && f.windowSize > 2 ** windowLog) {
      throw limitError(`compressed frame needs a larger window than allowed for a limit of ${maxBytes} bytes`);
    }
  }
  if (declared > maxBytes) throw limitError(`compressed content declares ${declared} bytes, limit is ${maxBytes}`);
  const capacity = Math.min(bound, maxBytes);
  let out: Uint8Array | typeof OVERFLOW;
  try {
    out = backend().decompress(data, capacity, windowLog);
  } catch {
    throw malformed();
  }
  if (out === OVERFLOW) {
    // Past maxBytes is the limit; past the frames' own bound (a declared size) the data lies.
    if (capacity < bound) throw limitError(`decompressed output exceeds the limit of ${maxBytes} bytes`);
    throw malformed();
  }
  if (allDeclared && out.length !== declared) throw malformed();
  return out;
}
