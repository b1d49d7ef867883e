/**
 * compress()/decompress() on every zstd backend this runtime has (node:zlib on Node 26,
 * WebAssembly everywhere): each case below runs once per backend.
 */
import { randomBytes } from 'node:crypto';
import { availableZstdBackends, compress, decompress, useZstdBackend, zstdBackendName } from '../../src/wire/compress';
import { scanZstdFrames } from '../../src/wire/zstd-frames';
import { UdpVaultError, type ErrorCode } from '../../src/errors';
import { MAX_MESSAGE_BYTES } from '../../src/constants';
import { rawBlocks, reheader, rleBlocks, zstdFrame } from '../helpers/zstd-frames';
import cli from '../fixtures/zstd-cli-frames.json';

const MiB = 1024 * 1024;

function errorCode(fn: () => unknown): ErrorCode | 'no error' | 'other error' {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return e instanceof UdpVaultError ? e.code : 'other error';
  }
}

function errorMessage(fn: () => unknown): string {
  try {
    fn();
    return 'no error';
  } catch (e) {
    return `${(e as UdpVaultError).code}: ${(e as Error).message}`;
  }
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function fixture(name: keyof typeof cli.frames): Buffer {
  return Buffer.from(cli.frames[name].base64, 'base64');
}

function contentSize(frame: Uint8Array): number | null {
  return scanZstdFrames(frame)[0]!.contentSize;
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

/** Runs `fn`, returning how much rss and arrayBuffers grew (bytes). */
function growth(fn: () => void): { rssBytes: number; arrayBuffersBytes: number } {
  const before = process.memoryUsage();
  fn();
  const after = process.memoryUsage();
  return { rssBytes: after.rss - before.rss, arrayBuffersBytes: after.arrayBuffers - before.arrayBuffers };
}

const TEXT = 'udpvault — encrypted UDP peer messaging. Grüße, 你好, 🔐. '.repeat(40);

describe.each(availableZstdBackends())('zstd backend %s', (backend) => {
  beforeAll(() => {
    expect(useZstdBackend(backend)).toBe(backend);
    // Loads the backend before any memory is measured.
    expect(decompress(compress(Buffer.from(TEXT), 3), MiB).length).toBe(Buffer.byteLength(TEXT));
  });

  test('is the one in use', () => {
    expect(zstdBackendName()).toBe(backend);
  });

  describe('round trip', () => {
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
      expect(contentSize(compress(Buffer.alloc(size, 0x61), 3))).toBe(size);
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
      expect(errorMessage(() => decompress(compress(data, 3), 4095))).toBe('ERR_DECOMPRESS_LIMIT: compressed content declares 4096 bytes, limit is 4095');
    });

    test('exactly maxBytes is accepted, maxBytes + 1 is refused (no declared size, zstd CLI frame)', () => {
      const packed = fixture('abcdefgh256kWlog17'); // 262 144 bytes, streamed: no size in the header
      expect(contentSize(packed)).toBe(null);
      const out = decompress(packed, 262_144);
      expect(Buffer.from(out).toString()).toBe('abcdefgh'.repeat(32_768));
      expect(errorMessage(() => decompress(packed, 262_143))).toBe('ERR_DECOMPRESS_LIMIT: decompressed output exceeds the limit of 262143 bytes');
    });

    test('our own compressed blocks under a header without size: bounded the same way', () => {
      const input = Buffer.from(TEXT.repeat(20));
      const packed = reheader(compress(input, 3), 17);
      expect(contentSize(packed)).toBe(null);
      expect(same(decompress(packed, input.length), input)).toBe(true);
      expect(errorCode(() => decompress(packed, input.length - 1))).toBe('ERR_DECOMPRESS_LIMIT');
    });

    test('several concatenated frames decode to the concatenation', () => {
      const a = Buffer.from('first frame '.repeat(20));
      const b = randomBytes(300);
      const c = Buffer.from(TEXT);
      const packed = Buffer.concat([compress(a, 3), compress(b, 1), fixture('textChecksum')]);
      expect(same(decompress(packed, MAX_MESSAGE_BYTES), Buffer.concat([a, b, c]))).toBe(true);
      // Each frame is within the limit, the sum is not.
      const limit = a.length + b.length + c.length - 1;
      expect(errorCode(() => decompress(packed, limit))).toBe('ERR_DECOMPRESS_LIMIT');
    });

    test('a frame with a content checksum round-trips; a corrupted checksum is malformed', () => {
      const packed = fixture('textChecksum');
      expect(scanZstdFrames(packed)[0]!.checksum).toBe(true);
      expect(Buffer.from(decompress(packed, MiB)).toString()).toBe(TEXT);
      const bad = Buffer.from(packed);
      bad[bad.length - 1]! ^= 0x01;
      expect(errorCode(() => decompress(bad, MiB))).toBe('ERR_MALFORMED');
    });

    test('raw and RLE blocks, with and without a declared size', () => {
      const body = Buffer.concat([Buffer.from(TEXT), Buffer.alloc(200_000, 0x7a)]);
      const blocks = [...rawBlocks(Buffer.from(TEXT)), ...rleBlocks(0x7a, 200_000)];
      expect(same(decompress(zstdFrame(blocks, { contentSize: body.length }), MiB), body)).toBe(true);
      expect(same(decompress(zstdFrame(blocks), MiB), body)).toBe(true);
    });
  });

  describe('decompression bombs', () => {
    test('100 MiB of zeros with a declared size is refused before decoding', () => {
      const bomb = fixture('zeros100MiBDeclared');
      expect(bomb.length).toBeLessThan(10_000);
      expect(contentSize(bomb)).toBe(100 * MiB);
      let message = '';
      const grew = growth(() => {
        message = errorMessage(() => decompress(bomb, MAX_MESSAGE_BYTES));
      });
      expect(message).toBe(`ERR_DECOMPRESS_LIMIT: compressed content declares ${100 * MiB} bytes, limit is ${MAX_MESSAGE_BYTES}`);
      expect(grew.arrayBuffersBytes).toBeLessThan(2 * MiB);
      expect(grew.rssBytes).toBeLessThan(16 * MiB);
    });

    test('100 MiB of zeros without a declared size, small window: stopped at the limit', () => {
      const bomb = fixture('zeros100MiBWlog17');
      expect(contentSize(bomb)).toBe(null);
      let message = '';
      const grew = growth(() => {
        message = errorMessage(() => decompress(bomb, MAX_MESSAGE_BYTES));
      });
      expect(message).toBe(`ERR_DECOMPRESS_LIMIT: decompressed output exceeds the limit of ${MAX_MESSAGE_BYTES} bytes`);
      expect(grew.arrayBuffersBytes).toBeLessThan(4 * MiB);
      expect(grew.rssBytes).toBeLessThan(16 * MiB);
    });

    test('1 GiB of RLE blocks without a declared size: stopped at the limit, quickly', () => {
      const bomb = zstdFrame(rleBlocks(0, 1024 * MiB));
      expect(bomb.length).toBe(6 + 8192 * 4);
      const started = performance.now();
      expect(errorCode(() => decompress(bomb, MAX_MESSAGE_BYTES))).toBe('ERR_DECOMPRESS_LIMIT');
      expect(performance.now() - started).toBeLessThan(1000); // decoding 1 GiB would take seconds
    });

    test('100 MiB of zeros without a declared size, large window: refused by the window limit', () => {
      const bomb = fixture('zeros100MiBWlog27');
      expect(contentSize(bomb)).toBe(null);
      let message = '';
      const grew = growth(() => {
        message = errorMessage(() => decompress(bomb, MAX_MESSAGE_BYTES));
      });
      expect(message).toBe(`ERR_DECOMPRESS_LIMIT: compressed frame needs a larger window than allowed for a limit of ${MAX_MESSAGE_BYTES} bytes`);
      expect(grew.arrayBuffersBytes).toBeLessThan(2 * MiB);
      expect(grew.rssBytes).toBeLessThan(16 * MiB);
    });

    test('window limit: max(8 MiB, next power of two ≥ maxBytes), mantissa included', () => {
      const blocks = rawBlocks(Buffer.from(TEXT));
      const w23 = zstdFrame(blocks, { windowLog: 23 });
      const w23m1 = zstdFrame(blocks, { windowLog: 23, windowMantissa: 1 }); // 9 MiB
      const w24 = zstdFrame(blocks, { windowLog: 24 });
      expect(Buffer.from(decompress(w23, 1000 * 1000)).toString()).toBe(TEXT);
      expect(errorCode(() => decompress(w23m1, MAX_MESSAGE_BYTES))).toBe('ERR_DECOMPRESS_LIMIT');
      expect(errorCode(() => decompress(w24, MAX_MESSAGE_BYTES))).toBe('ERR_DECOMPRESS_LIMIT');
      expect(errorCode(() => decompress(w24, 8 * MiB))).toBe('ERR_DECOMPRESS_LIMIT');
      expect(Buffer.from(decompress(w24, 8 * MiB + 1)).toString()).toBe(TEXT);
      expect(Buffer.from(decompress(w24, 16 * MiB)).toString()).toBe(TEXT);
    });

    test('a frame whose declared size differs from its content is malformed', () => {
      const input = Buffer.alloc(10_000, 1);
      for (const frame of [compress(input, 3), zstdFrame(rawBlocks(input), { contentSize: 10_000 })]) {
        for (const declared of [5_000, 9_999, 10_001, 20_000]) {
          const patched = reheader(frame, 17, declared);
          expect(contentSize(patched)).toBe(declared);
          expect(errorCode(() => decompress(patched, MAX_MESSAGE_BYTES))).toBe('ERR_MALFORMED');
        }
        expect(same(decompress(reheader(frame, 17, 10_000), MAX_MESSAGE_BYTES), input)).toBe(true);
      }
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
      const bomb = fixture('zeros4MiBWlog17');
      expect(errorCode(() => decompress(bomb, 1000))).toBe('ERR_DECOMPRESS_LIMIT');
      expect(same(decompress(bomb, 4 * MiB), Buffer.alloc(4 * MiB))).toBe(true);
      expect(Buffer.from(decompress(compress(Buffer.from(TEXT), 3), 1 * MiB)).toString()).toBe(TEXT);
    });
  });

  describe('malformed input', () => {
    // Made at collection time, by whichever backend is selected then: it is only input here.
    const valid = compress(Buffer.from(TEXT), 3);
    const validStreamed = fixture('textChecksum');

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
      ['dictionary frame', zstdFrame(rawBlocks(Buffer.from(TEXT)), { dictionaryId: 7 })],
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

    test('random bytes inside valid compressed blocks never crash or exceed the limit', () => {
      const outcomes = new Set<string>();
      const packed = Buffer.from(compress(Buffer.from(TEXT.repeat(4)), 3));
      for (let i = 0; i < 2000; i++) {
        const mutated = Buffer.from(packed);
        for (let k = 0; k < 1 + (i % 4); k++) mutated[9 + ((i * 7919 + k * 104_729) % (mutated.length - 9))] = randomBytes(1)[0]!;
        try {
          const out = decompress(mutated, 4096);
          outcomes.add(out.length > 4096 ? 'over limit' : 'decoded');
        } catch (e) {
          outcomes.add(e instanceof UdpVaultError ? e.code : `other: ${String(e)}`);
        }
      }
      for (const o of outcomes) expect(['ERR_MALFORMED', 'ERR_DECOMPRESS_LIMIT', 'decoded']).toContain(o);
      expect(outcomes.has('ERR_MALFORMED')).toBe(true);
    });

    test.each([-1, 1.5, NaN])('maxBytes %p → RangeError', (maxBytes) => {
      expect(() => decompress(valid, maxBytes)).toThrow(RangeError);
    });
  });
});
