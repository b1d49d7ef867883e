import { scanZstdFrames, ZstdFormatError, ZSTD_BLOCK_SIZE_MAX } from '../../src/wire/zstd-frames';
import { rawBlocks, rleBlocks, skippableFrame, zstdFrame } from '../helpers/zstd-frames';
import cli from '../fixtures/zstd-cli-frames.json';

const KiB = 1024;
const MiB = 1024 * KiB;

function formatError(data: Uint8Array): string {
  try {
    scanZstdFrames(data);
    return 'no error';
  } catch (e) {
    return e instanceof ZstdFormatError ? e.message : `other: ${String(e)}`;
  }
}

describe('scanZstdFrames', () => {
  test('zstd CLI frames: sizes, windows, checksums and extent as the encoder wrote them', () => {
    const declared = Buffer.from(cli.frames.zeros100MiBDeclared.base64, 'base64');
    const [d] = scanZstdFrames(declared);
    expect(d).toEqual({ offset: 0, length: declared.length, skippable: false, contentSize: 100 * MiB, windowSize: 2 * MiB, hasWindowDescriptor: true, outputBound: 100 * MiB, checksum: true });
    const streamed = Buffer.from(cli.frames.abcdefgh256kWlog17.base64, 'base64');
    const [s] = scanZstdFrames(streamed);
    expect(s!.contentSize).toBe(null);
    expect(s!.windowSize).toBe(128 * KiB);
    expect(s!.length).toBe(streamed.length);
    // Two compressed blocks of at most 128 KiB each.
    expect(s!.outputBound).toBe(256 * KiB);
  });

  test('window size from exponent and mantissa (RFC 8878 §3.1.1.1.2)', () => {
    const blocks = rawBlocks(Uint8Array.of(1, 2, 3));
    expect(scanZstdFrames(zstdFrame(blocks, { windowLog: 10 }))[0]!.windowSize).toBe(1 * KiB);
    expect(scanZstdFrames(zstdFrame(blocks, { windowLog: 20, windowMantissa: 3 }))[0]!.windowSize).toBe(MiB + 3 * (MiB / 8));
    expect(scanZstdFrames(zstdFrame(blocks, { windowLog: 41, windowMantissa: 7 }))[0]!.windowSize).toBe(2 ** 41 + 7 * 2 ** 38);
  });

  test('content size in each field width; single segment uses it as the window', () => {
    for (const size of [0, 255, 256, 65_791, 65_792, 2 ** 32 - 1]) {
      const f = scanZstdFrames(zstdFrame([{ rle: 0, size: 0 }], { contentSize: size, singleSegment: size < 2 ** 32 && size > 0 && size < 256 }))[0]!;
      expect(f.contentSize).toBe(size);
      expect(f.outputBound).toBe(size);
    }
    const big = scanZstdFrames(zstdFrame([{ rle: 0, size: 0 }], { contentSize: 2 ** 40 }))[0]!;
    expect(big.contentSize).toBe(2 ** 40);
    const single = scanZstdFrames(zstdFrame(rawBlocks(Uint8Array.of(9, 9)), { contentSize: 2, singleSegment: true }))[0]!;
    expect(single).toMatchObject({ contentSize: 2, windowSize: 2, hasWindowDescriptor: false });
  });

  test('output bound without a declared size: raw and RLE sizes, compressed blocks at the block maximum', () => {
    const f = scanZstdFrames(zstdFrame([{ raw: new Uint8Array(10) }, { rle: 1, size: 1000 }, { compressed: new Uint8Array(5) }], { windowLog: 12 }))[0]!;
    expect(f.outputBound).toBe(10 + 1000 + 4 * KiB);
    const g = scanZstdFrames(zstdFrame([{ compressed: new Uint8Array(5) }, { compressed: new Uint8Array(5) }], { windowLog: 20 }))[0]!;
    expect(g.outputBound).toBe(2 * ZSTD_BLOCK_SIZE_MAX);
  });

  test('several frames, skippable ones included, each with its offset', () => {
    const a = zstdFrame(rleBlocks(7, 300), { contentSize: 300 });
    const skip = skippableFrame(Uint8Array.of(1, 2, 3, 4, 5), 0xf);
    const b = zstdFrame(rawBlocks(Uint8Array.of(1)));
    const frames = scanZstdFrames(Uint8Array.from([...a, ...skip, ...b]));
    expect(frames.map((f) => [f.offset, f.length, f.skippable, f.outputBound])).toEqual([
      [0, a.length, false, 300],
      [a.length, 13, true, 0],
      [a.length + 13, b.length, false, 1],
    ]);
  });

  test.each([
    ['empty', new Uint8Array(0), 'no zstd frame'],
    ['bad magic', Uint8Array.of(0x28, 0xb5, 0x2f, 0xfc, 0, 0, 1, 0, 0), 'not a zstd frame (bad magic number)'],
    ['magic only', Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd), 'truncated frame header'],
    ['reserved bit', zstdFrame(rawBlocks(Uint8Array.of(1)), { reservedBit: true }), 'reserved frame header bit set'],
    ['dictionary', zstdFrame(rawBlocks(Uint8Array.of(1)), { dictionaryId: 70_000 }), 'frame needs a dictionary'],
    ['reserved block type', Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x10, 0x07, 0x00, 0x00), 'reserved block type'],
    ['block beyond the window', zstdFrame([{ raw: new Uint8Array(1025) }], { windowLog: 10 }), 'block larger than the frame allows'],
    ['block beyond 128 KiB', zstdFrame([{ rle: 0, size: 128 * KiB + 1 }], { windowLog: 20 }), 'block larger than the frame allows'],
    ['block beyond a single segment', zstdFrame([{ raw: new Uint8Array(3) }], { contentSize: 2, singleSegment: true }), 'block larger than the frame allows'],
    ['no last block', zstdFrame(rawBlocks(Uint8Array.of(1))).subarray(0, 6), 'truncated block header'],
    ['truncated raw block', zstdFrame(rawBlocks(Uint8Array.of(1, 2, 3))).subarray(0, 10), 'truncated raw block'],
    ['missing checksum', zstdFrame(rawBlocks(Uint8Array.of(1)), { checksum: Uint8Array.of(1, 2, 3, 4) }).subarray(0, 12), 'truncated content checksum'],
    ['truncated skippable frame', skippableFrame(Uint8Array.of(1, 2, 3)).subarray(0, 10), 'truncated skippable frame'],
    ['trailing byte', Uint8Array.from([...zstdFrame(rawBlocks(Uint8Array.of(1))), 0x28]), 'truncated magic number'],
  ])('%s → ZstdFormatError', (_name, data, message) => {
    expect(formatError(data)).toBe(message);
  });
});
