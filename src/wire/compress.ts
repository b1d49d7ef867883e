/**
 * The zstd seam. Compression: zstd-napi (native libzstd, built from source at install; fzstd
 * cannot compress and Node 20 has no zstd). Decompression: fzstd, streamed and counted so that
 * output beyond `maxBytes` aborts instead of being allocated (decompression bombs).
 */
import { Compressor } from 'zstd-napi';
import { Decompress } from 'fzstd';
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

const ZSTD_MAGIC = 0xfd2fb528;

/** Frame_Content_Size from a zstd frame header, when present (RFC 8878 §3.1.1.1). */
function declaredContentSize(data: Uint8Array): number | null {
  if (data.length < 6) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint32(0, true) !== ZSTD_MAGIC) return null;
  const fhd = data[4]!;
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const dictIdFlag = fhd & 3;
  let pos = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][dictIdFlag]!;
  const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
  if (fcsBytes === 0 || pos + fcsBytes > data.length) return null;
  if (fcsBytes === 1) return data[pos]!;
  if (fcsBytes === 2) return view.getUint16(pos, true) + 256;
  if (fcsBytes === 4) return view.getUint32(pos, true);
  pos += 0;
  return Number(view.getBigUint64(pos, true));
}

/** Decompresses one or more zstd frames; throws ERR_DECOMPRESS_LIMIT past `maxBytes` of output. */
export function decompress(data: Uint8Array, maxBytes: number): Uint8Array {
  const declared = declaredContentSize(data);
  if (declared !== null && declared > maxBytes) {
    throw new UdpVaultError('ERR_DECOMPRESS_LIMIT', `compressed content declares ${declared} bytes, limit is ${maxBytes}`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  const stream = new Decompress((chunk) => {
    total += chunk.length;
    if (total > maxBytes) throw new UdpVaultError('ERR_DECOMPRESS_LIMIT', `decompressed output exceeds the limit of ${maxBytes} bytes`);
    chunks.push(chunk);
  });
  try {
    // Feed in slices so a bomb is stopped after at most one block of output per slice.
    const SLICE = 4096;
    for (let off = 0; off < data.length; off += SLICE) {
      stream.push(data.subarray(off, Math.min(off + SLICE, data.length)), off + SLICE >= data.length);
    }
  } catch (e) {
    if (e instanceof UdpVaultError) throw e;
    throw new UdpVaultError('ERR_MALFORMED', 'invalid zstd data');
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
