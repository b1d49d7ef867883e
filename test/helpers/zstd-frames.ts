/**
 * Hand-built zstd frames (RFC 8878) for tests: raw and RLE blocks under any header, so limits,
 * windows and malformed structures can be produced exactly, without any encoder.
 */

export type Block = { raw: Uint8Array } | { rle: number; size: number } | { compressed: Uint8Array };

export interface FrameOptions {
  /** Frame_Content_Size to declare (omitted: no size). */
  contentSize?: number;
  /** Window_Descriptor byte = (windowLog − 10) << 3 | mantissa; ignored for single-segment frames. */
  windowLog?: number;
  windowMantissa?: number;
  /** Single_Segment_flag (needs contentSize): the window is the content size. */
  singleSegment?: boolean;
  dictionaryId?: number;
  /** Sets the reserved header bit. */
  reservedBit?: boolean;
  /** Appends these 4 bytes as Content_Checksum (and sets the flag). */
  checksum?: Uint8Array;
}

function le(value: number, bytes: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < bytes; i++) {
    out.push(value % 256);
    value = Math.floor(value / 256);
  }
  return out;
}

export function zstdFrame(blocks: Block[], opts: FrameOptions = {}): Uint8Array {
  const single = opts.singleSegment === true;
  const size = opts.contentSize;
  let fcsFlag = 0;
  let fcs: number[] = [];
  if (size !== undefined) {
    if (single && size < 256) fcs = le(size, 1);
    else if (size >= 256 && size < 65_536 + 256) [fcsFlag, fcs] = [1, le(size - 256, 2)];
    else if (size < 2 ** 32) [fcsFlag, fcs] = [2, le(size, 4)];
    else [fcsFlag, fcs] = [3, le(size, 8)];
  }
  const dictId = opts.dictionaryId ?? 0;
  const dictFlag = dictId === 0 ? 0 : dictId < 256 ? 1 : dictId < 65_536 ? 2 : 3;
  const fhd = (fcsFlag << 6) | (single ? 0x20 : 0) | (opts.reservedBit ? 0x08 : 0) | (opts.checksum ? 0x04 : 0) | dictFlag;
  const header = [0x28, 0xb5, 0x2f, 0xfd, fhd];
  if (!single) header.push((((opts.windowLog ?? 17) - 10) << 3) | (opts.windowMantissa ?? 0));
  header.push(...le(dictId, [0, 1, 2, 4][dictFlag]!), ...fcs);
  const parts: number[] = [...header];
  blocks.forEach((b, i) => {
    const last = i === blocks.length - 1 ? 1 : 0;
    if ('raw' in b) parts.push(...le(last | (0 << 1) | (b.raw.length << 3), 3), ...b.raw);
    else if ('rle' in b) parts.push(...le(last | (1 << 1) | (b.size << 3), 3), b.rle);
    else parts.push(...le(last | (2 << 1) | (b.compressed.length << 3), 3), ...b.compressed);
  });
  if (opts.checksum) parts.push(...opts.checksum);
  return Uint8Array.from(parts);
}

/** `total` bytes of `byte` as RLE blocks of at most `blockBytes`. */
export function rleBlocks(byte: number, total: number, blockBytes = 128 * 1024): Block[] {
  const blocks: Block[] = [];
  for (let left = total; left > 0; left -= blockBytes) blocks.push({ rle: byte, size: Math.min(blockBytes, left) });
  if (blocks.length === 0) blocks.push({ raw: new Uint8Array(0) });
  return blocks;
}

/** `data` as raw blocks of at most `blockBytes`. */
export function rawBlocks(data: Uint8Array, blockBytes = 128 * 1024): Block[] {
  const blocks: Block[] = [];
  for (let at = 0; at < data.length; at += blockBytes) blocks.push({ raw: data.subarray(at, at + blockBytes) });
  if (blocks.length === 0) blocks.push({ raw: new Uint8Array(0) });
  return blocks;
}

/** A skippable frame (magic 0x184D2A5n) around `data`. */
export function skippableFrame(data: Uint8Array, nibble = 0): Uint8Array {
  return Uint8Array.from([0x50 | nibble, 0x2a, 0x4d, 0x18, ...le(data.length, 4), ...data]);
}

/**
 * The same frame under a rewritten header: no single-segment flag, window 2^windowLog (which
 * must cover the content), Frame_Content_Size `contentSize` (4 bytes) or none; the blocks and
 * the checksum are kept byte for byte.
 */
export function reheader(frame: Uint8Array, windowLog: number, contentSize?: number): Uint8Array {
  const fhd = frame[4]!;
  const single = (fhd & 0x20) !== 0;
  const fcsBytes = fhd >> 6 === 0 ? (single ? 1 : 0) : [0, 2, 4, 8][fhd >> 6]!;
  const dictBytes = [0, 1, 2, 4][fhd & 3]!;
  const headerEnd = 5 + (single ? 0 : 1) + dictBytes + fcsBytes;
  const fcs = contentSize === undefined ? [] : le(contentSize, 4);
  const newFhd = (contentSize === undefined ? 0 : 2 << 6) | (fhd & 0x04); // keep the checksum flag
  return Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, newFhd, (windowLog - 10) << 3, ...fcs, ...frame.subarray(headerEnd)]);
}
