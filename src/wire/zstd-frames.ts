/**
 * Structure of zstd data (RFC 8878 §3.1), read without decoding anything: where each frame
 * starts and ends, what its header declares (content size, window) and an upper bound of what
 * it can decode to. Both zstd backends are given only data that passed this walk, so limits and
 * structural errors (truncation, trailing bytes, reserved bits, dictionaries) are judged the
 * same way whichever backend decodes.
 */

/** RFC 8878 Block_Maximum_Size ceiling (128 KiB). */
export const ZSTD_BLOCK_SIZE_MAX = 128 * 1024;

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC_MIN = 0x184d2a50;
const SKIPPABLE_MAGIC_MAX = 0x184d2a5f;

/** A structural defect; the message says what (no data bytes). */
export class ZstdFormatError extends Error {
  override readonly name = 'ZstdFormatError';
}

export interface ZstdFrameInfo {
  /** Byte offset of the frame within the scanned data. */
  readonly offset: number;
  /** Bytes the frame occupies, header to checksum. */
  readonly length: number;
  /** Skippable frames (user metadata) decode to nothing. */
  readonly skippable: boolean;
  /** Frame_Content_Size when the header declares it, else null. */
  readonly contentSize: number | null;
  /** Window_Size (for single-segment frames: the content size). */
  readonly windowSize: number;
  /** True when the header has a Window_Descriptor (not single-segment). */
  readonly hasWindowDescriptor: boolean;
  /** At most this many bytes come out of the frame: its content size, else the sum of its block bounds. */
  readonly outputBound: number;
  readonly checksum: boolean;
}

function u32(data: Uint8Array, pos: number): number {
  return (data[pos]! | (data[pos + 1]! << 8) | (data[pos + 2]! << 16)) + data[pos + 3]! * 0x1000000;
}

/** Little-endian unsigned of 1, 2, 4 or 8 bytes (8-byte values above 2^53 lose precision, not magnitude). */
function uintLE(data: Uint8Array, pos: number, bytes: number): number {
  let value = 0;
  for (let i = bytes - 1; i >= 0; i--) value = value * 256 + data[pos + i]!;
  return value;
}

function need(data: Uint8Array, pos: number, bytes: number, what: string): void {
  if (pos + bytes > data.length) throw new ZstdFormatError(`truncated ${what}`);
}

/** One zstd frame at `offset`; throws ZstdFormatError when it is not a complete, valid frame structure. */
function scanFrame(data: Uint8Array, offset: number): ZstdFrameInfo {
  need(data, offset, 4, 'magic number');
  const magic = u32(data, offset);
  if (magic >= SKIPPABLE_MAGIC_MIN && magic <= SKIPPABLE_MAGIC_MAX) {
    need(data, offset + 4, 4, 'skippable frame size');
    const size = u32(data, offset + 4);
    need(data, offset + 8, size, 'skippable frame');
    return { offset, length: 8 + size, skippable: true, contentSize: 0, windowSize: 0, hasWindowDescriptor: false, outputBound: 0, checksum: false };
  }
  if (magic !== FRAME_MAGIC) throw new ZstdFormatError('not a zstd frame (bad magic number)');
  let pos = offset + 4;
  need(data, pos, 1, 'frame header');
  const fhd = data[pos++]!;
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd & 0x20) !== 0;
  if (fhd & 0x08) throw new ZstdFormatError('reserved frame header bit set');
  const checksum = (fhd & 0x04) !== 0;
  const dictIdBytes = [0, 1, 2, 4][fhd & 0x03]!;
  const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
  need(data, pos, (singleSegment ? 0 : 1) + dictIdBytes + fcsBytes, 'frame header');
  let windowSize = 0;
  if (!singleSegment) {
    const wd = data[pos++]!;
    const windowBase = 2 ** (10 + (wd >> 3));
    windowSize = windowBase + (windowBase / 8) * (wd & 0x07);
  }
  const dictId = uintLE(data, pos, dictIdBytes);
  pos += dictIdBytes;
  // udpvault never uses dictionaries; a decoder without the dictionary cannot decode the frame.
  if (dictId !== 0) throw new ZstdFormatError('frame needs a dictionary');
  let contentSize: number | null = null;
  if (fcsBytes > 0) {
    contentSize = uintLE(data, pos, fcsBytes) + (fcsBytes === 2 ? 256 : 0);
    pos += fcsBytes;
  }
  if (singleSegment) windowSize = contentSize!;
  const blockMax = Math.min(windowSize, ZSTD_BLOCK_SIZE_MAX);
  let blockBound = 0;
  for (;;) {
    need(data, pos, 3, 'block header');
    const header = data[pos]! | (data[pos + 1]! << 8) | (data[pos + 2]! << 16);
    pos += 3;
    const last = (header & 1) !== 0;
    const type = (header >> 1) & 3;
    const size = header >>> 3;
    if (type === 3) throw new ZstdFormatError('reserved block type');
    if (size > blockMax) throw new ZstdFormatError('block larger than the frame allows');
    if (type === 1) {
      need(data, pos, 1, 'RLE block');
      pos += 1;
      blockBound += size;
    } else {
      need(data, pos, size, type === 0 ? 'raw block' : 'compressed block');
      pos += size;
      blockBound += type === 0 ? size : blockMax;
    }
    if (last) break;
  }
  if (checksum) {
    need(data, pos, 4, 'content checksum');
    pos += 4;
  }
  return {
    offset,
    length: pos - offset,
    skippable: false,
    contentSize,
    windowSize,
    hasWindowDescriptor: !singleSegment,
    outputBound: contentSize ?? blockBound,
    checksum,
  };
}

/**
 * Every frame of `data`, which must be one or more complete frames and nothing else.
 * Throws ZstdFormatError for empty input, truncation, trailing bytes or a malformed header.
 */
export function scanZstdFrames(data: Uint8Array): ZstdFrameInfo[] {
  if (data.length === 0) throw new ZstdFormatError('no zstd frame');
  const frames: ZstdFrameInfo[] = [];
  let offset = 0;
  while (offset < data.length) {
    const frame = scanFrame(data, offset);
    frames.push(frame);
    offset += frame.length;
  }
  return frames;
}
