/**
 * The crypto seam's two backends (src/crypto/sodium.ts): sodium-native and libsodium-wrappers
 * give byte-identical outputs and the same refusals for every primitive; a handshake and a
 * session work with each side on another backend (switched between messages in one process;
 * backend-load.test.ts: as two processes, the lazy load and the fallback).
 */
import * as sodium from '../../src/crypto/sodium';
import { availableCryptoBackends, cryptoBackendName, useCryptoBackend, wasmReady } from '../../src/crypto/sodium';
import { packetCipher } from '../../src/crypto/aead';
import { noiseStaticFromIdentity, type NoiseStatic } from '../../src/crypto/noise/common';
import { IkInitiator, IkResponder, type OwnPayload } from '../../src/crypto/noise/ik';
import { XxInitiator, XxResponder } from '../../src/crypto/noise/xx';
import { tai64nFromMs } from '../../src/crypto/noise/payload';
import { identityFromSeed } from '../../src/crypto/identity';
import { SeededRandom } from '../../src/runtime/random';
import { writeDataHeader } from '../../src/wire/packet';

const hex = (b: Uint8Array | null): string => (b ? Buffer.from(b).toString('hex') : 'null');
const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed * 17 + (i >> 7)) & 0xff);
const payload = (sid: number, ms: number): OwnPayload => ({ timestamp: tai64nFromMs(ms), wallClockMs: ms, sessionId: sid, maxMessageBytes: 1 << 20, streamEpoch: 3, extensions: [] });

beforeAll(async () => {
  await wasmReady();
  await sodium.sodiumReady();
});
afterAll(() => useCryptoBackend('auto'));

test('sodium-native is installed here and chosen by auto; wasm is always available', async () => {
  expect(availableCryptoBackends()).toEqual(['native', 'wasm']);
  expect(await useCryptoBackend('auto')).toBe('native');
  expect(cryptoBackendName()).toBe('native');
  expect(await useCryptoBackend('wasm')).toBe('wasm');
  expect(cryptoBackendName()).toBe('wasm');
});

/** Every primitive's output (or its refusal) on fixed inputs, as text. */
function transcript(): string[] {
  const out: string[] = [];
  const attempt = (name: string, f: () => unknown): void => {
    try {
      const r = f();
      out.push(`${name}: ${r instanceof Uint8Array || r === null ? hex(r) : JSON.stringify(r)}`);
    } catch (e) {
      out.push(`${name}: throws ${(e as Error).constructor.name}`);
    }
  };
  const seed = bytes(32, 1);
  const id = sodium.signSeedKeypair(seed);
  attempt('sign pk', () => id.publicKey);
  attempt('sign sk', () => id.privateKey);
  const msg = bytes(300, 2);
  const sig = sodium.signDetached(msg, id.privateKey);
  attempt('signature', () => sig);
  attempt('verify', () => sodium.verifyDetached(sig, msg, id.publicKey));
  attempt('verify tampered', () => sodium.verifyDetached(sig, bytes(300, 3), id.publicKey));
  attempt('verify short sig', () => sodium.verifyDetached(sig.subarray(0, 63), msg, id.publicKey));
  attempt('sign with a short key', () => sodium.signDetached(msg, id.privateKey.subarray(0, 32)));
  attempt('ed pk → x', () => sodium.ed25519PkToX25519(id.publicKey));
  attempt('ed pk → x, invalid point', () => sodium.ed25519PkToX25519(new Uint8Array(32).fill(0xff)));
  attempt('ed sk → x', () => sodium.ed25519SkToX25519(id.privateKey));
  attempt('ed sk → x, short', () => sodium.ed25519SkToX25519(seed));
  const a = bytes(32, 4);
  const b = bytes(32, 5);
  attempt('base', () => sodium.scalarmultBase(a));
  attempt('x25519 base', () => sodium.x25519Base(a));
  attempt('x25519', () => sodium.x25519(a, sodium.x25519Base(b)));
  attempt('x25519 low order', () => sodium.x25519(a, new Uint8Array(32)));
  attempt('x25519 short', () => sodium.x25519(a, new Uint8Array(31)));
  for (const len of [16, 32, 64]) attempt(`hash ${len}`, () => sodium.genericHash(len, msg));
  attempt('keyed hash', () => sodium.genericHash(32, msg, bytes(32, 6)));
  attempt('hash length 8', () => sodium.genericHash(8, msg));
  attempt('hash key 8', () => sodium.genericHash(32, msg, bytes(8, 6)));
  attempt('blake2b 64', () => sodium.blake2bScrubbed(64, bytes(5000, 7)));
  attempt('blake2b keyed', () => sodium.blake2bScrubbed(16, msg, bytes(64, 8)));
  const k = bytes(32, 9);
  const n24 = bytes(24, 10);
  const ad = bytes(13, 11);
  const x = sodium.aeadEncrypt(msg, ad, n24, k);
  attempt('xchacha', () => x);
  attempt('xchacha empty', () => sodium.aeadEncrypt(new Uint8Array(0), ad, n24, k));
  attempt('xchacha open', () => sodium.aeadDecrypt(x, ad, n24, k));
  attempt('xchacha open, other ad', () => sodium.aeadDecrypt(x, bytes(13, 12), n24, k));
  attempt('xchacha open, short', () => sodium.aeadDecrypt(x.subarray(0, 15), ad, n24, k));
  attempt('xchacha short nonce', () => sodium.aeadEncrypt(msg, ad, n24.subarray(0, 12), k));
  attempt('with header', () => sodium.aeadSealWithHeader(ad, msg, n24, k));
  const n12 = bytes(12, 13);
  const c = sodium.chachaPolyEncrypt(msg, ad, n12, k);
  attempt('chachapoly', () => c);
  attempt('chachapoly big', () => sodium.chachaPolyEncrypt(bytes(5000, 14), ad, n12, k));
  attempt('chachapoly open', () => sodium.chachaPolyDecrypt(c, ad, n12, k));
  c[c.length - 1]! ^= 1;
  attempt('chachapoly open, tampered', () => sodium.chachaPolyDecrypt(c, ad, n12, k));
  attempt('chachapoly open, short', () => sodium.chachaPolyDecrypt(c.subarray(0, 10), ad, n12, k));
  const bob = { publicKey: sodium.x25519Base(b), privateKey: b };
  const box = sodium.boxEasy(msg, n24, bob.publicKey, a);
  attempt('box', () => box);
  attempt('box open', () => sodium.boxOpenEasy(box, n24, sodium.x25519Base(a), b));
  attempt('box open, wrong key', () => sodium.boxOpenEasy(box, n24, sodium.x25519Base(a), a));
  attempt('box to a low-order key', () => sodium.boxEasy(msg, n24, new Uint8Array(32), a));
  attempt('box open from a low-order key', () => sodium.boxOpenEasy(box, n24, new Uint8Array(32), b));
  attempt('equal', () => sodium.constantTimeEqual(a, Uint8Array.from(a)));
  attempt('not equal', () => sodium.constantTimeEqual(a, b));
  attempt('length differs', () => sodium.constantTimeEqual(a, a.subarray(1)));
  attempt('empty', () => sodium.constantTimeEqual(new Uint8Array(0), new Uint8Array(0)));
  const w = Uint8Array.from(a);
  sodium.wipe(w);
  attempt('wipe', () => w);
  attempt('box keypair sizes', () => [sodium.boxKeypair().publicKey.length, sodium.boxKeypair().privateKey.length]);
  attempt('sign keypair sizes', () => [sodium.signKeypair().publicKey.length, sodium.signKeypair().privateKey.length]);
  return out;
}

test('every primitive gives the same bytes and the same refusals on both backends', async () => {
  await useCryptoBackend('native');
  const native = transcript();
  await useCryptoBackend('wasm');
  const wasm = transcript();
  expect(native).toEqual(wasm);
  expect(native).toHaveLength(48);
  // the refusals really are refusals (a transcript of throws on both sides would also be equal)
  expect(native.filter((l) => l.includes('throws'))).toEqual([
    'sign with a short key: throws TypeError',
    'ed pk → x, invalid point: throws Error',
    'ed sk → x, short: throws RangeError',
    'x25519 short: throws RangeError',
    'hash length 8: throws TypeError',
    'hash key 8: throws TypeError',
    'xchacha short nonce: throws TypeError',
    'box to a low-order key: throws Error',
  ]);
  expect(native.filter((l) => l.endsWith(': null') || l.endsWith(': false'))).toEqual([
    'verify tampered: false',
    'verify short sig: false',
    'x25519 low order: null',
    'xchacha open, other ad: null',
    'xchacha open, short: null',
    'chachapoly open, tampered: null',
    'chachapoly open, short: null',
    'box open, wrong key: null',
    'box open from a low-order key: null',
    'not equal: false',
    'length differs: false',
  ]);
});

describe('a handshake with each side on another backend (the backend switched between messages)', () => {
  let alice: NoiseStatic;
  let bob: NoiseStatic;
  beforeAll(async () => {
    await useCryptoBackend('native');
    alice = noiseStaticFromIdentity(identityFromSeed(new Uint8Array(32).fill(1)));
    await useCryptoBackend('wasm');
    bob = noiseStaticFromIdentity(identityFromSeed(new Uint8Array(32).fill(2)));
  });

  test.each([
    ['native', 'wasm'],
    ['wasm', 'native'],
  ] as const)('IK: initiator on %s, responder on %s; the same bytes as on one backend; data packets cross', async (ib, rb) => {
    const run = async (init: 'native' | 'wasm', resp: 'native' | 'wasm'): Promise<string[]> => {
      const random = new SeededRandom(7);
      await useCryptoBackend(init);
      const i = IkInitiator.start({ local: alice, remoteIdentity: bob.identity, payload: payload(0x11, 1000), random });
      await useCryptoBackend(resp);
      const r = IkResponder.readInit({ local: bob, message: i.message, random });
      const { message, result: rr } = r.respond(payload(0x22, 2000));
      await useCryptoBackend(init);
      const ir = i.consumeResponse(message);
      expect(hex(ir.sendKey)).toBe(hex(rr.recvKey));
      expect(hex(ir.recvKey)).toBe(hex(rr.sendKey));
      // a data packet sealed by the initiator's backend opens on the responder's, and back
      const frame = bytes(100, 20);
      const buf = new Uint8Array(13 + 100 + 16);
      writeDataHeader(buf, 0x22, 5);
      buf.set(frame, 13);
      const keys = [hex(i.message), hex(message), hex(ir.sendKey), hex(ir.recvKey)];
      const seal = packetCipher(ir.sendKey, init);
      const open = packetCipher(rr.recvKey, resp);
      seal.seal(buf, 13, 100);
      const got = new Uint8Array(100);
      expect(open.open(buf, 13, got)).toBe(true);
      expect(hex(got)).toBe(hex(frame));
      return [...keys, hex(buf)];
    };
    const mixed = await run(ib, rb);
    expect(mixed).toEqual(await run('native', 'native'));
    expect(mixed).toEqual(await run('wasm', 'wasm'));
  });

  test('XX: three messages alternating backends agree on the keys', async () => {
    const random = new SeededRandom(9);
    await useCryptoBackend('native');
    const i = XxInitiator.start({ local: alice, sessionId: 0x55, random });
    await useCryptoBackend('wasm');
    const r = XxResponder.readMessage1({ local: bob, message: i.message, random });
    const m2 = r.writeMessage2(payload(0x33, 3000));
    await useCryptoBackend('native');
    const { message: m3, result: ir } = i.consumeMessage2(m2, payload(0x55, 4000));
    await useCryptoBackend('wasm');
    const rr = r.consumeMessage3(m3);
    expect(hex(ir.sendKey)).toBe(hex(rr.recvKey));
    expect(hex(rr.sendKey)).toBe(hex(ir.recvKey));
    expect(hex(rr.remoteIdentity)).toBe(hex(alice.identity));
  });
});

test('native: identity and static secret keys live in 4 KiB sodium_malloc slabs (not one mapping each); wasm: plain arrays', async () => {
  await useCryptoBackend('native');
  const buffers = new Set<ArrayBufferLike>();
  const keys: Uint8Array[] = [];
  for (let i = 0; i < 100; i++) {
    const id = sodium.signSeedKeypair(bytes(32, i));
    const x = sodium.ed25519SkToX25519(id.privateKey);
    expect([id.privateKey.length, x.length, id.publicKey.buffer.byteLength]).toEqual([64, 32, 32]);
    keys.push(id.privateKey, x);
    buffers.add(id.privateKey.buffer);
    buffers.add(x.buffer);
  }
  for (const b of buffers) expect(b.byteLength).toBe(4096);
  expect(buffers.size).toBe(Math.ceil((100 * 96) / 4096)); // 64 + 32 bytes per identity, packed
  // no two keys overlap, and wiping one leaves its neighbours alone
  const before = keys.map((k) => hex(k));
  sodium.wipe(keys[10]!);
  expect(keys.map((k) => hex(k))).toEqual(before.map((h, i) => (i === 10 ? '00'.repeat(64) : h)));
  await useCryptoBackend('wasm');
  const w = sodium.signSeedKeypair(bytes(32, 1));
  expect(w.privateKey.buffer.byteLength).toBe(64);
});
