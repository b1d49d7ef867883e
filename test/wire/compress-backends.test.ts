/**
 * Which zstd backend runs where, and that both speak standard zstd: what one compresses the
 * other decompresses (on runtimes that have both), and both decode the zstd CLI's frames.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { availableZstdBackends, compress, decompress, useZstdBackend, zstdBackendName, type ZstdBackendName } from '../../src/wire/compress';
import { UdpVaultError } from '../../src/errors';
import cli from '../fixtures/zstd-cli-frames.json';

const MiB = 1024 * 1024;
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
/** node:zlib has zstd from Node 22.15 and 23.8 on. */
const runtimeHasZstd = major >= 24 || (major === 23 && minor >= 8) || (major === 22 && minor >= 15);

afterAll(() => useZstdBackend('auto'));

describe('backend selection', () => {
  test(`Node ${process.versions.node}: node:zlib ${runtimeHasZstd ? 'offered' : 'not offered'}, auto picks ${runtimeHasZstd ? 'node:zlib' : 'wasm'}`, () => {
    expect(availableZstdBackends()).toEqual(runtimeHasZstd ? ['node:zlib', 'wasm'] : ['wasm']);
    expect(useZstdBackend('auto')).toBe(runtimeHasZstd ? 'node:zlib' : 'wasm');
    expect(zstdBackendName()).toBe(runtimeHasZstd ? 'node:zlib' : 'wasm');
  });

  test('wasm can always be forced; node:zlib only where the runtime has zstd', () => {
    expect(useZstdBackend('wasm')).toBe('wasm');
    expect(zstdBackendName()).toBe('wasm');
    if (runtimeHasZstd) {
      expect(useZstdBackend('node:zlib')).toBe('node:zlib');
    } else {
      let error: unknown;
      try {
        useZstdBackend('node:zlib');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UdpVaultError);
      expect((error as UdpVaultError).code).toBe('ERR_BAD_ARGUMENT');
      expect((error as Error).message).toBe(`zstd backend node:zlib is not available on Node ${process.versions.node}`);
      expect(zstdBackendName()).toBe('wasm'); // unchanged
    }
  });
});

describe.each(availableZstdBackends())('%s decodes frames of every encoder', (decoder) => {
  const inputs: Array<[string, Buffer]> = [
    ['empty', Buffer.alloc(0)],
    ['text', Buffer.from('udpvault — Grüße, 你好, 🔐. '.repeat(300))],
    ['random 70 000', randomBytes(70_000)],
    ['1 MiB mixed', Buffer.concat([randomBytes(MiB / 2), Buffer.alloc(MiB / 2, 0x41)])],
  ];

  test.each(availableZstdBackends().flatMap((encoder) => inputs.map(([name, data]) => [encoder, name, data] as const)))(
    'compressed by %s: %s',
    (encoder: ZstdBackendName, _name, data) => {
      useZstdBackend(encoder);
      const packed = compress(data, 3);
      const packed16 = compress(data, 16);
      useZstdBackend(decoder);
      expect(Buffer.from(decompress(packed, MiB)).equals(data)).toBe(true);
      expect(Buffer.from(decompress(packed16, MiB)).equals(data)).toBe(true);
    },
  );

  test('the zstd CLI frames', () => {
    useZstdBackend(decoder);
    const text = Buffer.from(cli.frames.textChecksum.base64, 'base64');
    expect(Buffer.from(decompress(text, MiB)).toString()).toBe('udpvault — encrypted UDP peer messaging. Grüße, 你好, 🔐. '.repeat(40));
    const zeros = Buffer.from(cli.frames.zeros4MiBWlog17.base64, 'base64');
    expect(Buffer.from(decompress(zeros, 4 * MiB)).equals(Buffer.alloc(4 * MiB))).toBe(true);
  });
});

// The zstd CLI, where installed, must decode what each backend writes (a third implementation).
const zstdCli = (() => {
  try {
    execFileSync('zstd', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

(zstdCli ? describe.each(availableZstdBackends()) : describe.skip.each(availableZstdBackends()))('zstd CLI decodes what %s writes', (encoder) => {
  test('text and random bytes', () => {
    useZstdBackend(encoder);
    for (const data of [Buffer.from('hello zstd '.repeat(1000)), randomBytes(200_000)]) {
      const out = execFileSync('zstd', ['-d', '-c'], { input: compress(data, 3), maxBuffer: 4 * MiB });
      expect(out.equals(data)).toBe(true);
    }
  });
});
