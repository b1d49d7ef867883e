import { randomBytes } from 'node:crypto';
import * as zstd from 'zstd-napi/binding';
import { compress, decompress } from '../../src/wire/compress';
import { UdpVaultError, type ErrorCode } from '../../src/errors';
import { MAX_MESSAGE_BYTES } from '../../src/constants';

const MiB = 1024 * 1024;

function errorCode(fn: () => unknown): ErrorCode | 'no error' | 'other error' {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return e instanceof UdpVaultError ? e.code : 'other error';
  }
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

interface StreamOptions {
  level?: number;
  /** Writes Frame_Content_Size into the header. */
  pledgedBytes?: number;
  windowLog?: number;
  checksum?: boolean;
}

/**
 * Compresses `times` repetitions of `chunk` with the native streaming API, without ever holding
 * the uncompressed whole. Without `pledgedBytes` the frame header declares no content size.
 */
function streamCompress(chunk: Uint8Array, times: number, opts: StreamOptions = {}): Buffer {
  const cctx = new zstd.CCtx();
  cctx.setParameter(zstd.CParameter.compressionLevel, opts.level ?? 3);
  if (opts.windowLog !== undefined) cctx.setParameter(zstd.CParameter.windowLog, opts.windowLog);
  if (opts.checksum) cctx.setParameter(zstd.CParameter.checksumFlag, 1);
  if (opts.pledgedBytes !== undefined) cctx.setPledgedSrcSize(opts.pledgedBytes);
  else cctx.setParameter(zstd.CParameter.contentSizeFlag, 0);
  const out: Buffer[] = [];
  const buf = Buffer.alloc(zstd.cStreamOutSize());
  const run = (input: Uint8Array, directive: zstd.EndDirective): void => {
    for (;;) {
      const [remaining, produced, consumed] = cctx.compressStream2(buf, input, directive);
      if (produced > 0) out.push(Buffer.from(buf.subarray(0, produced)));
      input = input.subarray(consumed);
      if (directive === zstd.EndDirective.end ? remaining === 0 : input.length === 0) return;
    }
  };
  for (let i = 0; i < times; i++) run(chunk, zstd.EndDirective.continue);
  run(new Uint8Array(0), zstd.EndDirective.end);
  return Buffer.concat(out);
}

/**
 * Hand-built frame: one compressed block with `ns` (≤ 98 047) sequences of 65 539-byte matches.
 * fzstd does not bound a block's output and loops over every match byte (~10 s here).
 */
function sequenceBomb(ns: number): Uint8Array {
  // literals: raw, 0 bytes; ns in the 3-byte form; all three symbol tables RLE (LL 0, OF 0, ML 52)
  const body = [0x00, 0xff, (ns - 0x7f00) & 0xff, (ns - 0x7f00) >> 8, 0x54, 0, 0, 52, 0x01];
  const header = 1 | (2 << 1) | (body.length << 3); // last block, compressed, size
  // magic, FHD = single segment with 1-byte content size 255
  return Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 0xff, header & 0xff, (header >> 8) & 0xff, header >> 16, ...body]);
}

const TEXT = 'udpvault — encrypted UDP peer messaging. Grüße, 你好, 🔐. '.repeat(40);

describe('compress / decompress round trip', () => {
  test.each([1, 3, 16, 19, -5])('text at level %i: exact, and smaller', (level) => {
    const input = Buffer.from(TEXT, 'utf8');
    const packed = compress(input, level);
    expect(packed.length).toBeLessThan(input.length / 4);
    const out = decompress(packed, MAX_MESSAGE_BYTES);
    expect(out.length).toBe(input.length);
    expect(Buffer.from(out).toString('utf8')).toBe(TEXT);
  });

  test.each([0, 1, 64, 1024, 1472, 65_536, 1_000_000])('random bytes (%i): exact', (size) => {
    const input = randomBytes(size);
    for (const level of [1, 3]) {
      const out = decompress(compress(input, level), MAX_MESSAGE_BYTES);
      expect(out.length).toBe(size);
      expect(same(out, input)).toBe(true);
    }
  });

  test.each([0, 1, 1000, 1_000_000])('compress() always declares the content size (%i bytes)', (size) => {
    expect(zstd.getFrameContentSize(compress(Buffer.alloc(size, 0x61), 3))).toBe(size);
  });

  test('input given as a subarray of a larger buffer', () => {
    const big = Buffer.concat([randomBytes(100), Buffer.from(TEXT), randomBytes(100)]);
    const view = new Uint8Array(big.buffer, big.byteOffset + 100, Buffer.byteLength(TEXT));
    const packed = compress(view, 3);
    const framed = new Uint8Array(packed.length + 20);
    framed.set(packed, 10);
    expect(Buffer.from(decompress(framed.subarray(10, 10 + packed.length), 1 * MiB)).toString()).toBe(TEXT);
  });

  test('exactly maxBytes is accepted, maxBytes + 1 is refused (declared size)', () => {
    const data = Buffer.alloc(4096, 7);
    expect(decompress(compress(data, 3), 4096).length).toBe(4096);
    expect(errorCode(() => decompress(compress(data, 3), 4095))).toBe('ERR_DECOMPRESS_LIMIT');
  });

  test('exactly maxBytes is accepted, maxBytes + 1 is refused (no declared size)', () => {
    const chunk = Buffer.from('abcdefgh'.repeat(512)); // 4096 bytes
    const packed = streamCompress(chunk, 64, { windowLog: 17 }); // 262 144 bytes
    expect(zstd.getFrameContentSize(packed)).toBe(null);
    const out = decompress(packed, 262_144);
    expect(out.length).toBe(262_144);
    expect(same(out, Buffer.concat(Array.from({ length: 64 }, () => chunk)))).toBe(true);
    expect(errorCode(() => decompress(packed, 262_143))).toBe('ERR_DECOMPRESS_LIMIT');
  });

  test('several concatenated frames decode to the concatenation', () => {
    const a = Buffer.from('first frame '.repeat(20));
    const b = randomBytes(300);
    const c = Buffer.from('third, streamed without size '.repeat(20));
    const packed = Buffer.concat([compress(a, 3), compress(b, 1), streamCompress(c, 1)]);
    expect(same(decompress(packed, MAX_MESSAGE_BYTES), Buffer.concat([a, b, c]))).toBe(true);
    // Each frame is within the limit, the sum is not.
    const limit = a.length + b.length + c.length - 1;
    expect(errorCode(() => decompress(packed, limit))).toBe('ERR_DECOMPRESS_LIMIT');
  });

  test('a frame with a content checksum round-trips; a corrupted checksum is malformed', () => {
    const data = Buffer.from(TEXT);
    const packed = streamCompress(data, 1, { checksum: true, pledgedBytes: data.length });
    expect(Buffer.from(decompress(packed, MiB)).toString()).toBe(TEXT);
    const bad = Buffer.from(packed);
    bad[bad.length - 1]! ^= 0x01;
    expect(errorCode(() => decompress(bad, MiB))).toBe('ERR_MALFORMED');
  });
});

describe('decompression bombs', () => {
  /** Runs `fn`, returning how much rss and arrayBuffers grew (bytes). */
  function growth(fn: () => void): { rssBytes: number; arrayBuffersBytes: number } {
    const before = process.memoryUsage();
    fn();
    const after = process.memoryUsage();
    return { rssBytes: after.rss - before.rss, arrayBuffersBytes: after.arrayBuffers - before.arrayBuffers };
  }

  const zeros = Buffer.alloc(MiB);

  test('100 MiB of zeros with a declared size is refused before decoding', () => {
    const bomb = streamCompress(zeros, 100, { pledgedBytes: 100 * MiB });
    expect(bomb.length).toBeLessThan(10_000);
    expect(zstd.getFrameContentSize(bomb)).toBe(100 * MiB);
    let code: string = '';
    const grew = growth(() => {
      code = errorCode(() => decompress(bomb, MAX_MESSAGE_BYTES));
    });
    expect(code).toBe('ERR_DECOMPRESS_LIMIT');
    expect(grew.arrayBuffersBytes).toBeLessThan(2 * MiB);
    expect(grew.rssBytes).toBeLessThan(16 * MiB);
  });

  test('100 MiB of zeros without a declared size, small window: stopped at the limit by counting', () => {
    const bomb = streamCompress(zeros, 100, { windowLog: 17 });
    expect(zstd.getFrameContentSize(bomb)).toBe(null);
    let message = '';
    const grew = growth(() => {
      try {
        decompress(bomb, MAX_MESSAGE_BYTES);
      } catch (e) {
        expect((e as UdpVaultError).code).toBe('ERR_DECOMPRESS_LIMIT');
        message = (e as Error).message;
      }
    });
    expect(message).toBe(`decompressed output exceeds the limit of ${MAX_MESSAGE_BYTES} bytes`);
    expect(grew.arrayBuffersBytes).toBeLessThan(4 * MiB);
    expect(grew.rssBytes).toBeLessThan(16 * MiB);
  });

  test('100 MiB of zeros without a declared size, large window: refused by the window limit', () => {
    const bomb = streamCompress(zeros, 100, { windowLog: 27 });
    expect(zstd.getFrameContentSize(bomb)).toBe(null);
    let message = '';
    const grew = growth(() => {
      try {
        decompress(bomb, MAX_MESSAGE_BYTES);
      } catch (e) {
        expect((e as UdpVaultError).code).toBe('ERR_DECOMPRESS_LIMIT');
        message = (e as Error).message;
      }
    });
    expect(message).toBe(`compressed frame needs a larger window than allowed for a limit of ${MAX_MESSAGE_BYTES} bytes`);
    expect(grew.arrayBuffersBytes).toBeLessThan(2 * MiB);
    expect(grew.rssBytes).toBeLessThan(16 * MiB);
  });

  test('window limit: max(8 MiB, next power of two ≥ maxBytes)', () => {
    const small = Buffer.from(TEXT);
    const w23 = streamCompress(small, 1, { windowLog: 23 });
    const w24 = streamCompress(small, 1, { windowLog: 24 });
    expect(Buffer.from(decompress(w23, 1000 * 1000)).toString()).toBe(TEXT);
    expect(errorCode(() => decompress(w24, MAX_MESSAGE_BYTES))).toBe('ERR_DECOMPRESS_LIMIT');
    expect(errorCode(() => decompress(w24, 8 * MiB))).toBe('ERR_DECOMPRESS_LIMIT');
    expect(Buffer.from(decompress(w24, 8 * MiB + 1)).toString()).toBe(TEXT);
    expect(Buffer.from(decompress(w24, 16 * MiB)).toString()).toBe(TEXT);
  });

  test('a frame whose declared size differs from its content is malformed', () => {
    const packed = Buffer.from(compress(Buffer.alloc(10_000, 1), 3));
    const fhd = packed[4]!;
    expect(fhd >> 6).toBe(1); // 2-byte Frame_Content_Size (value − 256)
    const pos = 5 + ((fhd >> 5) & 1 ? 0 : 1) + [0, 1, 2, 4][fhd & 3]!;
    for (const declared of [5_000, 9_999, 10_001, 20_000]) {
      const patched = Buffer.from(packed);
      patched.writeUInt16LE(declared - 256, pos);
      expect(zstd.getFrameContentSize(patched)).toBe(declared);
      expect(errorCode(() => decompress(patched, MAX_MESSAGE_BYTES))).toBe('ERR_MALFORMED');
    }
    expect(decompress(packed, MAX_MESSAGE_BYTES).length).toBe(10_000);
  });

  test('the fzstd CPU bomb (18 bytes, 6.4e9 bytes of matches) is refused quickly', () => {
    const bomb = sequenceBomb(98_047);
    expect(bomb.length).toBe(18);
    const started = performance.now();
    expect(errorCode(() => decompress(bomb, MAX_MESSAGE_BYTES))).toBe('ERR_MALFORMED');
    // Generous DoS guard (fzstd takes tens of seconds here; libzstd well under 1 ms).
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test('the decoder is usable again after a refused bomb, with a different limit', () => {
    const bomb = streamCompress(zeros, 4, { windowLog: 17 });
    expect(errorCode(() => decompress(bomb, 1000))).toBe('ERR_DECOMPRESS_LIMIT');
    expect(decompress(bomb, 4 * MiB).length).toBe(4 * MiB);
    expect(Buffer.from(decompress(compress(Buffer.from(TEXT), 3), 1 * MiB)).toString()).toBe(TEXT);
  });
});

describe('malformed input', () => {
  const valid = compress(Buffer.from(TEXT), 3);
  const validStreamed = streamCompress(Buffer.from(TEXT), 1);

  test.each([
    ['empty', new Uint8Array(0)],
    ['plain text', Buffer.from('hello, not zstd')],
    ['one byte', Uint8Array.of(0x28)],
    ['magic only', Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd)],
    ['wrong magic', Uint8Array.of(0x28, 0xb5, 0x2f, 0xfe, ...valid.subarray(4))],
    ['reserved header bit', Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, valid[4]! | 0x08, ...valid.subarray(5))],
    ['trailing garbage', Buffer.concat([valid, Buffer.from('xyz')])],
    ['trailing partial frame', Buffer.concat([valid, valid.subarray(0, 6)])],
    ['reserved block type', Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x10, 0x07, 0x00, 0x00)],
  ])('%s → ERR_MALFORMED', (_name, input) => {
    expect(errorCode(() => decompress(input, MAX_MESSAGE_BYTES))).toBe('ERR_MALFORMED');
  });

  test('every truncation of a valid frame → ERR_MALFORMED', () => {
    for (const frame of [valid, validStreamed]) {
      const codes = new Set<string>();
      for (let len = 0; len < frame.length; len++) codes.add(errorCode(() => decompress(frame.subarray(0, len), MAX_MESSAGE_BYTES)));
      expect([...codes]).toEqual(['ERR_MALFORMED']);
    }
  });

  test('random bytes behind a valid magic never crash or exceed the limit', () => {
    const outcomes = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const input = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), randomBytes(1 + (i % 200))]);
      try {
        const out = decompress(input, 64 * 1024);
        if (out.length > 64 * 1024) outcomes.add('over limit');
      } catch (e) {
        outcomes.add(e instanceof UdpVaultError ? e.code : `other: ${String(e)}`);
      }
    }
    for (const o of outcomes) expect(['ERR_MALFORMED', 'ERR_DECOMPRESS_LIMIT']).toContain(o);
    expect(outcomes.has('ERR_MALFORMED')).toBe(true);
  });

  test.each([-1, 1.5, NaN])('maxBytes %p → RangeError', (maxBytes) => {
    expect(() => decompress(valid, maxBytes)).toThrow(RangeError);
  });
});
