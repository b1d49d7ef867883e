/**
 * The packet AEAD seam (src/crypto/aead.ts): both backends produce exactly the bytes of
 * libsodium's XChaCha20-Poly1305-IETF (nonce 16 zero bytes ‖ counter, AD = the data header),
 * through the HChaCha20 subkey; open refuses every tampered byte; wipe zeroes the keys.
 */
import _sodium from 'libsodium-wrappers';
import * as aead from '../../src/crypto/aead';
import { availableAeadBackends, packetCipher, useAeadBackend, aeadBackendName } from '../../src/crypto/aead';
import { SimWorld, messages, text } from '../sim/harness';
import { hchacha20 } from '../../src/crypto/hchacha20';
import { sodiumReady, wasmReady } from '../../src/crypto/sodium';
import { writeDataHeader } from '../../src/wire/packet';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s/g, ''), 'hex'));
const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff);

beforeAll(async () => {
  await sodiumReady();
  await wasmReady();
  await _sodium.ready;
});
afterAll(() => useAeadBackend('auto'));

/** libsodium-wrappers' own XChaCha20-Poly1305 of a data datagram: header ‖ ct ‖ tag. */
function reference(key: Uint8Array, sid: number, counter: number, frame: Uint8Array): Uint8Array {
  const header = new Uint8Array(13);
  writeDataHeader(header, sid, counter);
  const nonce = new Uint8Array(24);
  nonce.set(header.subarray(5, 13), 16);
  const ct = _sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(frame, header, null, nonce, key);
  return Uint8Array.from([...header, ...ct]);
}

describe('HChaCha20', () => {
  test('the test vector of draft-irtf-cfrg-xchacha §2.2.1', () => {
    const out = new Uint8Array(32);
    hchacha20(out, unhex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'), unhex('000000090000004a0000000031415927'));
    expect(hex(out)).toBe('82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc');
  });

  test('XChaCha20-Poly1305(k, n16 ‖ n8) = ChaCha20-Poly1305-IETF(HChaCha20(k, n16), 0^4 ‖ n8), for random and zero n16', () => {
    for (let i = 0; i < 20; i++) {
      const key = _sodium.randombytes_buf(32);
      const n16 = i % 2 === 0 ? new Uint8Array(16) : _sodium.randombytes_buf(16);
      const n8 = _sodium.randombytes_buf(8);
      const m = _sodium.randombytes_buf(i * 37);
      const ad = _sodium.randombytes_buf(13);
      const sub = new Uint8Array(32);
      hchacha20(sub, key, n16);
      const x = _sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(m, ad, null, Uint8Array.from([...n16, ...n8]), key);
      const y = _sodium.crypto_aead_chacha20poly1305_ietf_encrypt(m, ad, null, Uint8Array.from([0, 0, 0, 0, ...n8]), sub);
      expect(hex(y)).toBe(hex(x));
    }
  });

  test('refuses wrong lengths', () => {
    expect(() => hchacha20(new Uint8Array(32), new Uint8Array(31), new Uint8Array(16))).toThrow(RangeError);
    expect(() => hchacha20(new Uint8Array(32), new Uint8Array(32), new Uint8Array(24))).toThrow(RangeError);
  });
});

describe('backend choice', () => {
  test('wasm is always available; auto prefers native when sodium-native loads (it is installed here)', () => {
    expect(availableAeadBackends()).toContain('wasm');
    expect(availableAeadBackends()).toEqual(['native', 'wasm']);
    expect(useAeadBackend('auto')).toBe('native');
    expect(useAeadBackend('wasm')).toBe('wasm');
    expect(aeadBackendName()).toBe('wasm');
    expect(packetCipher(new Uint8Array(32).fill(1)).backend).toBe('wasm');
    expect(useAeadBackend('native')).toBe('native');
    expect(packetCipher(new Uint8Array(32).fill(1)).backend).toBe('native');
  });
});

describe('without sodium-native (its binary missing or not loadable)', () => {
  test('auto falls back to wasm, native is refused with the reason, and the wasm cipher still works', async () => {
    await jest.isolateModulesAsync(async () => {
      jest.doMock('sodium-native', () => {
        throw new Error('No native build was found for platform=test');
      });
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const fresh = require('../../src/crypto/aead') as typeof import('../../src/crypto/aead');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      await (require('../../src/crypto/sodium') as typeof import('../../src/crypto/sodium')).sodiumReady();
      expect(fresh.availableAeadBackends()).toEqual(['wasm']);
      expect(fresh.aeadBackendName()).toBe('wasm');
      expect(() => fresh.useAeadBackend('native')).toThrow("aeadBackend 'native': sodium-native could not be loaded (No native build was found for platform=test)");
      expect(fresh.useAeadBackend('auto')).toBe('wasm');
      const c = fresh.packetCipher(bytes(32, 1));
      expect(c.backend).toBe('wasm');
      const buf = new Uint8Array(13 + 5 + 16);
      writeDataHeader(buf, 1, 2);
      buf.set(bytes(5, 2), 13);
      c.seal(buf, 13, 5);
      expect(hex(buf)).toBe(hex(reference(bytes(32, 1), 1, 2, bytes(5, 2))));
    });
    jest.dontMock('sodium-native');
  });
});

describe.each(['native', 'wasm'] as const)('%s packet cipher', (backend) => {
  const SIZES = [0, 1, 15, 16, 17, 64, 1024, 1091, 1443, 8000, 65535 - 29];

  test('seals in place exactly the bytes libsodium’s XChaCha20-Poly1305 gives, and opens them', () => {
    const key = bytes(32, 5);
    for (const [k, size] of SIZES.entries()) {
      const counter = k === 0 ? 0 : 2 ** 40 + k * 1_000_003;
      const frame = bytes(size, k);
      const want = reference(key, 0x0a0b0c0d, counter, frame);
      const sealer = packetCipher(Uint8Array.from(key), backend);
      const buf = new Uint8Array(13 + size + 16 + 7).fill(0xee); // room to spare: nothing written past the tag
      writeDataHeader(buf, 0x0a0b0c0d, counter);
      buf.set(frame, 13);
      sealer.seal(buf, 13, size);
      expect(hex(buf.subarray(0, 13 + size + 16))).toBe(hex(want));
      expect(buf.subarray(13 + size + 16)).toEqual(new Uint8Array(7).fill(0xee));
      const opener = packetCipher(Uint8Array.from(key), backend);
      const out = new Uint8Array(size);
      expect(opener.open(want, 13, out)).toBe(true);
      expect(hex(out)).toBe(hex(frame));
    }
  });

  test('open refuses a flipped bit anywhere (header, ciphertext, tag), a short datagram and the wrong key', () => {
    const key = bytes(32, 9);
    const frame = bytes(100, 3);
    const good = reference(key, 7, 3, frame);
    const c = packetCipher(Uint8Array.from(key), backend);
    for (const at of [0, 5, 12, 13, 60, 112, good.length - 1]) {
      const bad = Uint8Array.from(good);
      bad[at]! ^= 0x10;
      expect(c.open(bad, 13, new Uint8Array(100))).toBe(false);
    }
    expect(c.open(good.subarray(0, 28), 13, new Uint8Array(0))).toBe(false);
    expect(packetCipher(bytes(32, 10), backend).open(good, 13, new Uint8Array(100))).toBe(false);
    expect(c.open(good, 13, new Uint8Array(100))).toBe(true);
  });

  test('the session key is zeroed once the cipher exists; wipe makes it refuse to work', () => {
    const key = bytes(32, 11);
    const c = packetCipher(key, backend);
    expect(key).toEqual(new Uint8Array(32));
    expect(c.backend).toBe(backend);
    c.wipe();
    c.wipe(); // idempotent
    const buf = new Uint8Array(13 + 10 + 16);
    expect(() => c.seal(buf, 13, 10)).toThrow('wiped');
    expect(c.open(reference(bytes(32, 11), 1, 1, new Uint8Array(10)), 13, new Uint8Array(10))).toBe(false);
  });
});

describe('the aeadBackend setting', () => {
  test('createNode applies it to the sessions made afterwards; two nodes talk over either backend', async () => {
    const spy = jest.spyOn(aead, 'packetCipher');
    for (const backend of ['wasm', 'native'] as const) {
      const w = new SimWorld(3);
      w.net.link('127.0.0.2', '127.0.0.3', { latencyMs: 2 });
      const a = await w.node('127.0.0.2', { settings: { aeadBackend: backend } });
      const b = await w.node('127.0.0.3', { settings: { aeadBackend: backend } });
      expect(aeadBackendName()).toBe(backend);
      spy.mockClear();
      await w.pair(a, b);
      const made = spy.mock.results.map((r) => (r.value as { backend: string }).backend);
      expect(made.length).toBeGreaterThanOrEqual(4); // send and receive cipher of a session on each side
      expect(new Set(made)).toEqual(new Set([backend]));
      const got = messages(b);
      await a.send('b', `over ${backend}`);
      await w.scheduler.advance(20);
      expect(got.map(text)).toEqual([`over ${backend}`]);
      await w.closeAll();
    }
    spy.mockRestore();
  });
});
