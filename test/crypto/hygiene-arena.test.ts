/**
 * The secret-call arena of the wasm heap: every routed libsodium call returns exactly what the
 * wrapper returns, and leaves neither its secret inputs nor its secret outputs anywhere in the
 * wasm memory — after success, after a refused input and after a throw. (The wasm backend's own
 * functions, src/crypto/primitives-wasm.ts; the native backend has no wasm memory.)
 */
import _sodium from 'libsodium-wrappers';
import * as wasmFns from '../../src/crypto/primitives-wasm';
import { secretArena, wasmReady } from '../../src/crypto/sodium';
import { scrubWasmStack } from '../../src/crypto/wasm-noise';
import { occurrences, wasmMemory } from './hygiene-scan';
import { WasmScratch, type RawSodium } from '../../src/crypto/wasm-heap';
import { libsodiumStackLayout, scrubRegion, SCRUB_BYTES, stackLayoutOf } from '../../src/crypto/wasm-stack';

let n = 0;
/** Distinct, recognisable bytes (never all zero), so a hit in the scan is this value. */
function fresh(len: number): Uint8Array {
  n++;
  const out = new Uint8Array(len);
  let x = (0x9e3779b9 ^ (n * 0x85ebca6b)) >>> 0;
  for (let i = 0; i < len; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = (x >>> 24) | 1;
  }
  return out;
}

function expectGone(...secrets: Uint8Array[]): void {
  const mem = wasmMemory();
  for (const s of secrets) expect(occurrences(mem, s)).toEqual([]);
  const { base, bytes } = na.secretArena().region;
  expect(mem.subarray(base, base + bytes).every((b) => b === 0)).toBe(true);
}

const na = { ...wasmFns, secretArena, scrubWasmStack };

beforeAll(async () => {
  await wasmReady();
});

describe('secret-bearing libsodium calls on the zeroed arena', () => {
  test('control: the plain wrapper leaves a secret key in freed wasm memory (why this arena exists)', () => {
    const key = fresh(32);
    _sodium.crypto_generichash(32, fresh(40), key);
    expect(occurrences(wasmMemory(), key).length).toBeGreaterThan(0);
  });

  test('Ed25519: seed key pair and signature equal the wrapper\'s; seed, secret key and nothing else remain', () => {
    const seed = fresh(32);
    const kp = na.signSeedKeypair(seed);
    const ref = _sodium.crypto_sign_seed_keypair(seed);
    expect(Buffer.from(kp.privateKey)).toEqual(Buffer.from(ref.privateKey));
    expect(Buffer.from(kp.publicKey)).toEqual(Buffer.from(ref.publicKey));
    const msg = fresh(300);
    const sig = na.signDetached(msg, kp.privateKey);
    expect(Buffer.from(sig)).toEqual(Buffer.from(_sodium.crypto_sign_detached(msg, ref.privateKey)));
    const x = na.ed25519SkToX25519(kp.privateKey);
    expect(Buffer.from(x)).toEqual(Buffer.from(_sodium.crypto_sign_ed25519_sk_to_curve25519(ref.privateKey)));
    ref.privateKey.fill(0);
    // the wrapper calls above leaked their own copies: wipe them out of the picture by checking
    // only what ours produced that the wrapper never saw
    const own = na.signKeypair();
    na.signDetached(msg, own.privateKey);
    expect(na.verifyDetached(na.signDetached(msg, own.privateKey), msg, own.publicKey)).toBe(true);
    expectGone(own.privateKey, own.privateKey.subarray(0, 32), na.ed25519SkToX25519(own.privateKey));
  });

  test('kx: seed key pair and both session key directions equal the wrapper\'s, and none remains', () => {
    const cs = fresh(32);
    const ss = fresh(32);
    const c = na.kxSeedKeypair(cs);
    const sv = na.kxSeedKeypair(ss);
    const [crx, ctx] = na.kxClientKeys(c.publicKey, c.privateKey, sv.publicKey);
    const [srx, stx] = na.kxServerKeys(sv.publicKey, sv.privateKey, c.publicKey);
    expect([Buffer.from(crx), Buffer.from(ctx)]).toEqual([Buffer.from(stx), Buffer.from(srx)]);
    expectGone(cs, ss, c.privateKey, sv.privateKey, crx, ctx);
    const ref = _sodium.crypto_kx_client_session_keys(c.publicKey, c.privateKey, sv.publicKey);
    expect([Buffer.from(crx), Buffer.from(ctx)]).toEqual([Buffer.from(ref.sharedRx), Buffer.from(ref.sharedTx)]);
    const refKp = _sodium.crypto_kx_seed_keypair(cs);
    expect(Buffer.from(c.privateKey)).toEqual(Buffer.from(refKp.privateKey));
  });

  test('a refused weak key throws and still leaves the secret key nowhere', () => {
    const c = na.kxKeypair();
    expect(() => na.kxClientKeys(c.publicKey, c.privateKey, new Uint8Array(32))).toThrow('invalid public key');
    expect(() => na.kxServerKeys(c.publicKey, c.privateKey, new Uint8Array(32))).toThrow('invalid public key');
    const b = na.boxKeypair();
    expect(() => na.boxBeforenm(new Uint8Array(32), b.privateKey)).toThrow('invalid public key');
    expectGone(c.privateKey, b.privateKey);
  });

  test('wrong lengths are refused before anything is copied into the heap', () => {
    const sk = fresh(63);
    expect(() => na.signDetached(fresh(10), sk)).toThrow(TypeError);
    expect(() => na.scalarmultBase(fresh(31))).toThrow(TypeError);
    expect(() => na.genericHash(32, fresh(10), fresh(8))).toThrow(TypeError);
    expect(() => na.genericHash(8, fresh(10))).toThrow(TypeError);
    expectGone(sk);
  });

  test('keyed BLAKE2b and scalarmult_base equal the wrapper\'s; key and output remain nowhere', () => {
    const key = fresh(32);
    const msg = fresh(77);
    const h = na.genericHash(32, msg, key);
    const sk = na.genericHash(32, msg, fresh(32));
    const pk = na.scalarmultBase(sk);
    expectGone(key, h, sk);
    expect(Buffer.from(h)).toEqual(Buffer.from(_sodium.crypto_generichash(32, msg, key)));
    expect(Buffer.from(pk)).toEqual(Buffer.from(_sodium.crypto_scalarmult_base(sk)));
    expect(Buffer.from(na.genericHash(64, msg))).toEqual(Buffer.from(_sodium.crypto_generichash(64, msg, null)));
  });

  test('box (vault-v2): seal/open, beforenm and afternm equal the wrapper\'s; keys and plaintext remain nowhere', () => {
    const a = na.boxKeypair();
    const b = na.boxKeypair();
    const nonce = fresh(24);
    const msg = fresh(200);
    const ct = na.boxEasy(msg, nonce, b.publicKey, a.privateKey);
    expect(Buffer.from(na.boxOpenEasy(ct, nonce, a.publicKey, b.privateKey)!)).toEqual(Buffer.from(msg));
    const k = na.boxBeforenm(b.publicKey, a.privateKey);
    expect(Buffer.from(na.boxEasyAfternm(msg, nonce, k))).toEqual(Buffer.from(ct));
    expect(Buffer.from(na.boxOpenEasyAfternm(ct, nonce, k)!)).toEqual(Buffer.from(msg));
    const forged = Uint8Array.from(ct);
    forged[20]! ^= 1;
    expect(na.boxOpenEasy(forged, nonce, a.publicKey, b.privateKey)).toBeNull();
    expect(na.boxOpenEasyAfternm(forged, nonce, k)).toBeNull();
    expect(na.boxOpenEasy(ct.subarray(0, 15), nonce, a.publicKey, b.privateKey)).toBeNull();
    expectGone(a.privateKey, b.privateKey, k, msg);
    expect(Buffer.from(ct)).toEqual(Buffer.from(_sodium.crypto_box_easy(msg, nonce, b.publicKey, a.privateKey)));
  });

  test('AEAD beyond the hot-path area (grown arena) equals the wrapper\'s; key and plaintext remain nowhere', () => {
    const key = fresh(32);
    const nonce = fresh(24);
    const ad = fresh(13);
    const msg = fresh(200_000);
    const ct = na.aeadEncrypt(msg, ad, nonce, key);
    expect(Buffer.from(na.aeadDecrypt(ct, ad, nonce, key)!)).toEqual(Buffer.from(msg));
    const bad = Uint8Array.from(ct);
    bad[0]! ^= 1;
    expect(na.aeadDecrypt(bad, ad, nonce, key)).toBeNull();
    const small = fresh(500);
    const sct = na.aeadEncrypt(small, ad, nonce, key);
    expect(Buffer.from(na.aeadDecrypt(sct, ad, nonce, key)!)).toEqual(Buffer.from(small));
    expectGone(key, msg.subarray(0, 64), msg.subarray(150_000, 150_064), small.subarray(0, 64));
    expect(na.secretArena().region.bytes).toBeGreaterThanOrEqual(400_000);
    expect(Buffer.from(ct)).toEqual(Buffer.from(_sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(msg, ad, null, nonce, key)));
  });

  test('the wasm stack is located from libsodium\'s own binary and scrubbed after every secret call', () => {
    const layout = libsodiumStackLayout();
    expect(layout).toEqual({ top: 107152, dataEnd: 40213 }); // libsodium 0.8.4: a new build must be re-checked
    na.kxKeypair(); // the arena exists
    expect(na.secretArena().stackScrub).toEqual({ from: 107152 - SCRUB_BYTES, to: 107152 });
    // BLAKE2b's final block stays on the stack: without the scrub, kx keys were found right there
    const c = na.kxKeypair();
    const s = na.kxKeypair();
    const below = (): Buffer => Buffer.from(wasmMemory().subarray(layout!.top - 64 * 1024, layout!.top - SCRUB_BYTES));
    const before = below();
    const [rx, tx] = na.kxClientKeys(c.publicKey, c.privateKey, s.publicKey);
    const id = na.signKeypair();
    na.signDetached(fresh(5000), id.privateKey);
    na.genericHash(64, fresh(3000), fresh(64));
    na.boxOpenEasyAfternm(na.boxEasyAfternm(fresh(100), fresh(24), na.boxBeforenm(s.publicKey, c.privateKey)), fresh(24), fresh(32));
    na.ed25519SkToX25519(id.privateKey);
    // no routed call reaches below the scrubbed part of the stack
    expect(below().equals(before)).toBe(true);
    const stack = wasmMemory().subarray(layout!.top - SCRUB_BYTES, layout!.top);
    expect(stack.every((b) => b === 0)).toBe(true);
    expectGone(rx, tx, c.privateKey, id.privateKey);
  });

  test('control: an arena without the stack scrub leaves the kx session keys on the wasm stack', () => {
    const raw = (_sodium as unknown as { libsodium: RawSodium }).libsodium;
    const bare = new WasmScratch(raw, null);
    const c = na.kxKeypair();
    const s = na.kxKeypair();
    const [rx, tx] = bare.run(1024, (x) => {
      const r = x.alloc(32);
      const t = x.alloc(32);
      expect(x.call('_crypto_kx_client_session_keys', r, t, x.put(c.publicKey), x.put(c.privateKey), x.put(s.publicKey))).toBe(0);
      return [x.read(r, 32), x.read(t, 32)];
    });
    expect(bare.stackScrub).toBeNull();
    const mem = wasmMemory();
    const hit = occurrences(mem, Buffer.concat([rx!, tx!])); // BLAKE2b's output block, rx ‖ tx
    expect(hit).toHaveLength(1);
    expect(hit[0]).toBeGreaterThan(107152 - SCRUB_BYTES);
    expect(hit[0]).toBeLessThan(107152);
    na.kxKeypair(); // any routed call scrubs it
    expect(occurrences(wasmMemory(), rx!)).toEqual([]);
  });

  test('scrubStack() zeroes what a wrapper call left on the stack (used by the Noise handshake\'s scrubWasmStack)', () => {
    // only the stack is looked at: the wrapper also leaves its own copies in freed heap blocks
    const stack = (): Buffer => wasmMemory().subarray(107152 - SCRUB_BYTES, 107152);
    const out = _sodium.crypto_generichash(64, fresh(100), null);
    expect(occurrences(stack(), out).length).toBeGreaterThan(0);
    expect(na.secretArena().scrubStack()).toBe(true);
    expect(occurrences(stack(), out)).toEqual([]);
    const out2 = _sodium.crypto_generichash(64, fresh(100), null);
    expect(occurrences(stack(), out2).length).toBeGreaterThan(0);
    na.scrubWasmStack('full');
    expect(occurrences(stack(), out2)).toEqual([]);
    expect(stack().every((b) => b === 0)).toBe(true);
  });

  test('the layout reader: stack top from the first global, data end from active segments; anything else is not scrubbed', () => {
    const header = [0, 0x61, 0x73, 0x6d, 1, 0, 0, 0];
    const globals = [6, 8, 1, 0x7f, 1, 0x41, 0x80, 0xa3, 0x04, 0x0b]; // mutable i32 = i32.const 70016
    const data = [11, 10, 1, 0, 0x41, 0x80, 0x08, 0x0b, 3, 1, 2, 3]; // active segment: 3 bytes at 1024
    const layout = stackLayoutOf(Uint8Array.from([...header, ...globals, ...data]));
    expect(layout).toEqual({ top: 70016, dataEnd: 1027 });
    expect(scrubRegion(layout, 70032)).toEqual({ from: 70016 - SCRUB_BYTES, to: 70016 });
    expect(scrubRegion(layout, 60000)).toBeNull(); // heap below the stack top: not this layout
    expect(scrubRegion({ top: 70016, dataEnd: 20000 }, 80000)).toBeNull(); // static data inside the 64 KiB below the top
    expect(stackLayoutOf(Uint8Array.from([1, 2, 3]))).toBeNull();
    expect(stackLayoutOf(Uint8Array.from([...header, ...globals.slice(0, 6)]))).toBeNull(); // truncated
  });
});
