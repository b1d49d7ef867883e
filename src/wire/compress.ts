/**
 * The zstd seam. Both directions use zstd-napi (native libzstd, built from source at install;
 * Node 20 has no zstd).
 *
 * Decompression is bounded by `maxBytes` (decompression bombs are refused, not allocated):
 * - a frame whose header declares more than `maxBytes` of content is refused before decoding;
 * - a frame whose window exceeds max(8 MiB, next power of two ≥ `maxBytes`) is refused (libzstd
 *   `windowLogMax`). 8 MiB is what RFC 8878 §3.1.1.1.2 recommends every decoder to support
 *   (streaming encoders that do not know the size use 2–8 MiB windows); the one shared decoder
 *   context never holds more than that;
 * - frames that do not declare their size are decoded in bounded output chunks and stopped as
 *   soon as the output passes `maxBytes`.
 *
 * fzstd (pure JS) is deliberately not used for untrusted input: its streaming decoder allocates
 * whatever window the header asks for (up to 2 GB), copies the whole window once per block, and
 * does not bound a block's output: a 17-byte frame (one compressed block of 10 000 sequences of
 * 65 539-byte matches) kept it busy for 3.8 s; libzstd rejects it in under 1 ms.
 */
import { Compressor } from 'zstd-napi';
import * as zstd from 'zstd-napi/binding';
import { UdpVaultError } from '../errors';

const compressors = new Map<number, Compressor>();

export function compress(data: Uint8Array, level: number): Uint8Array {
  let c = compressors.get(level);
  if (!c) {
    c = new Compressor();
    c.setParameters({ compressionLevel: level });
    compressors.set(level, c);
  }
  return c.compress(data);
}

/** Output chunk size for frames without a declared content size (libzstd's ZSTD_DStreamOutSize). */
const STREAM_CHUNK_BYTES = 128 * 1024;
/** Windows up to 2^23 = 8 MiB are always accepted (RFC 8878 recommendation). */
const WINDOW_LOG_FLOOR = 23;
/** libzstd's upper bound for windowLogMax on 64-bit builds. */
const WINDOW_LOG_MAX = 31;
/** ZSTD_getErrorName(ZSTD_error_frameParameter_windowTooLarge). */
const WINDOW_TOO_LARGE = 'Frame requires too much memory for decoding';

let dctx: zstd.DCtx | null = null;
let dctxWindowLog = -1;

function limitError(message: string): UdpVaultError {
  return new UdpVaultError('ERR_DECOMPRESS_LIMIT', message);
}

function malformed(): UdpVaultError {
  return new UdpVaultError('ERR_MALFORMED', 'invalid zstd data');
}

/** A reset decompression context whose window limit fits `maxBytes`. */
function contextFor(maxBytes: number): zstd.DCtx {
  const windowLog = Math.min(WINDOW_LOG_MAX, Math.max(WINDOW_LOG_FLOOR, Math.ceil(Math.log2(Math.max(1, maxBytes)))));
  if (dctx === null) dctx = new zstd.DCtx();
  // A previous call may have stopped mid-frame (limit or error): start clean.
  dctx.reset(zstd.ResetDirective.sessionOnly);
  if (windowLog !== dctxWindowLog) {
    dctx.setParameter(zstd.DParameter.windowLogMax, windowLog);
    dctxWindowLog = windowLog;
  }
  return dctx;
}

/**
 * Decompresses one or more concatenated zstd frames. Throws UdpVaultError ERR_DECOMPRESS_LIMIT
 * when the output would exceed `maxBytes`, ERR_MALFORMED for anything that is not valid zstd
 * (including empty input, truncation and trailing bytes).
 */
export function decompress(data: Uint8Array, maxBytes: number): Uint8Array {
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
  if (data.length === 0) throw malformed();
  try {
    const ctx = contextFor(maxBytes);
    const single = singleFrameContentSize(data);
    if (single !== null) {
      if (single > maxBytes) throw limitError(`compressed content declares ${single} bytes, limit is ${maxBytes}`);
      // One frame of known size: decode straight into an exactly sized buffer. libzstd fails
      // (rather than overruns) when the content does not match the declared size.
      const out = Buffer.allocUnsafe(single);
      const written = ctx.decompress(out, data);
      if (written !== single) throw malformed();
      return out;
    }
    return decompressStreaming(ctx, data, maxBytes);
  } catch (e) {
    if (e instanceof UdpVaultError) throw e;
    // Native errors may come from another realm (jest's vm contexts): compare the message only.
    if (typeof e === 'object' && e !== null && (e as { message?: unknown }).message === WINDOW_TOO_LARGE) {
      throw limitError(`compressed frame needs a larger window than allowed for a limit of ${maxBytes} bytes`);
    }
    throw malformed();
  }
}

/** Content size when `data` is exactly one frame that declares it; null otherwise. Throws on a bad header. */
function singleFrameContentSize(data: Uint8Array): number | null {
  const size = zstd.getFrameContentSize(data);
  if (size === null) return null;
  // Also the check that the frame is complete; a second frame (or garbage) follows otherwise.
  if (zstd.findFrameCompressedSize(data) !== data.length) return null;
  return size;
}

/** Streams `data` through `ctx` into chunks, never holding more than maxBytes + 1 bytes of output. */
function decompressStreaming(ctx: zstd.DCtx, data: Uint8Array, maxBytes: number): Uint8Array {
  const chunks: Buffer[] = [];
  let totalBytes = 0;
  let input = data;
  let chunk: Buffer | null = null;
  let used = 0;
  let pending = 1; // libzstd's hint: 0 exactly when a frame is complete and flushed
  while (input.length > 0 || pending !== 0) {
    if (chunk === null || used === chunk.length) {
      if (chunk !== null) chunks.push(chunk);
      // Room for one byte past the limit, which is how an overrun is detected.
      chunk = Buffer.allocUnsafe(Math.min(STREAM_CHUNK_BYTES, maxBytes + 1 - totalBytes));
      used = 0;
    }
    const [hint, produced, consumed] = ctx.decompressStream(chunk.subarray(used), input);
    if (produced === 0 && consumed === 0) throw malformed(); // truncated: no progress possible
    pending = hint;
    used += produced;
    totalBytes += produced;
    input = input.subarray(consumed);
    if (totalBytes > maxBytes) throw limitError(`decompressed output exceeds the limit of ${maxBytes} bytes`);
  }
  if (chunk !== null && used > 0) chunks.push(chunk.subarray(0, used));
  if (chunks.length === 1) return chunks[0]!;
  return Buffer.concat(chunks, totalBytes);
}
