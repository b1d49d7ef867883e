/**
 * Key hygiene of real nodes: two nodes handshake, exchange messages, rekey several times and
 * close; then no secret they used is left anywhere we can look.
 *
 * Node a keeps its identity in a key file (home), node b's is derived from the seeded Random.
 * The secrets are captured where they are born — the identity key pair, every X25519 secret,
 * every DH output, every keyed-BLAKE2b output (v3 session keys), every handshake cipher key
 * (Noise) and every key a data packet is sealed or opened with — by wrapping those functions
 * of src/crypto/sodium.ts (the Noise handshake: x25519*,
 * chachaPoly*) alike (keyed BLAKE2b in Noise makes the cookie MACs, which are public); a copy of each value is kept for the search, and the
 * array the node received is kept to check it was zeroed.
 *
 * (a) libsodium's whole WebAssembly memory (heap, stack, static data) holds none of them.
 * (b) A V8 heap snapshot holds none of them as a hex, HEX, base64 or base64url string. A heap
 *     snapshot records objects, their sizes and edges, and the contents of strings; it does
 *     NOT record the contents of ArrayBuffer backing stores (Uint8Array/Buffer bytes live
 *     outside the V8 heap). So (c): every secret-holding array the nodes were given is checked
 *     directly, through the references captured here, to be all zero after close.
 *
 * Run against the old src/crypto/sodium.ts (the plain libsodium-wrappers calls), (a) fails: the
 * identity secret key, ephemeral secrets and session keys are found in freed wasm memory.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as sodium from '../../src/crypto/sodium';
import * as aead from '../../src/crypto/aead';
import * as hchacha from '../../src/crypto/hchacha20';
import { SimWorld, established, messages, text, watch } from '../sim/harness';
import { occurrences, stringForms, wasmMemory } from './hygiene-scan';

interface Secret {
  name: string;
  copy: Uint8Array;
  live: Uint8Array;
}

const A = '127.0.0.2';
const B = '127.0.0.3';
const secrets: Secret[] = [];
const X25519_SECRET = 'X25519 secret (ephemeral or static)';
const DH_OUTPUT = 'DH output (kx rx/tx, X25519 shared secret)';
const DERIVED = 'keyed hash output (session key, chaining key, derived secret)';
const SESSION_KEY = 'AEAD key (session key, cookie key)';
const SUBKEY = 'packet subkey (HChaCha20 of a session key; sodium_malloc memory on the native backend)';
const keep = (name: string, live: Uint8Array): void => {
  secrets.push({ name, copy: Uint8Array.from(live), live });
};
const seen = new WeakSet<Uint8Array>();
/** Keys passed in on every packet: captured once per array. */
const keepOnce = (name: string, live: Uint8Array): void => {
  if (seen.has(live)) return;
  seen.add(live);
  keep(name, live);
};

beforeAll(async () => {
  await sodium.sodiumReady();
  await sodium.wasmReady(); // for the scan of its memory, on the native backend too
  const orig = { ...sodium, packetCipher: aead.packetCipher };
  const origHchacha = hchacha.hchacha20;
  jest.spyOn(sodium, 'signSeedKeypair').mockImplementation((seed) => {
    const k = orig.signSeedKeypair(seed);
    keep('identity secret key', k.privateKey);
    return k;
  });
  jest.spyOn(sodium, 'signKeypair').mockImplementation(() => {
    const k = orig.signKeypair();
    keep('identity secret key', k.privateKey);
    return k;
  });
  jest.spyOn(sodium, 'genericHash').mockImplementation((len, msg, key) => {
    const out = orig.genericHash(len, msg, key);
    if (key) keep(DERIVED, out);
    return out;
  });
  // v4 handshake (Noise): the same categories, so this test holds across the switch
  jest.spyOn(sodium, 'x25519Base').mockImplementation((sk) => {
    keep(X25519_SECRET, sk);
    return orig.x25519Base(sk);
  });
  jest.spyOn(sodium, 'x25519').mockImplementation((sk, pk) => {
    const out = orig.x25519(sk, pk);
    if (out) keep(DH_OUTPUT, out);
    return out;
  });
  jest.spyOn(sodium, 'ed25519SkToX25519Scrubbed').mockImplementation((sk) => {
    const out = orig.ed25519SkToX25519Scrubbed(sk);
    keep(X25519_SECRET, out);
    return out;
  });
  jest.spyOn(sodium, 'chachaPolyEncrypt').mockImplementation((msg, ad, nonce, key) => {
    keepOnce(DERIVED, key); // Noise handshake cipher keys
    return orig.chachaPolyEncrypt(msg, ad, nonce, key);
  });
  jest.spyOn(sodium, 'chachaPolyDecrypt').mockImplementation((ct, ad, nonce, key) => {
    keepOnce(DERIVED, key);
    return orig.chachaPolyDecrypt(ct, ad, nonce, key);
  });
  // The keys data packets are sealed and opened with: each session key as the packet cipher
  // gets it (the cipher zeroes it), and the subkey it derives (held until the session is wiped:
  // in secure memory on the native backend, in a JS array on the wasm one).
  jest.spyOn(aead, 'packetCipher').mockImplementation((key, backend) => {
    keep(SESSION_KEY, key);
    return orig.packetCipher(key, backend);
  });
  jest.spyOn(hchacha, 'hchacha20').mockImplementation((out, key, nonce) => {
    origHchacha(out, key, nonce);
    keep(SUBKEY, out);
  });
  // Cookie keys
  jest.spyOn(sodium, 'aeadEncrypt').mockImplementation((msg, ad, nonce, key) => {
    keepOnce(SESSION_KEY, key);
    return orig.aeadEncrypt(msg, ad, nonce, key);
  });
  jest.spyOn(sodium, 'aeadDecrypt').mockImplementation((ct, ad, nonce, key) => {
    keepOnce(SESSION_KEY, key);
    return orig.aeadDecrypt(ct, ad, nonce, key);
  });
});

afterAll(() => {
  jest.restoreAllMocks();
  void sodium.useCryptoBackend('auto');
});

/** Every place in `hay` (a snapshot's text) where one of the secrets appears as a string. */
function stringHits(hay: Buffer, list: Secret[]): string[] {
  const hits: string[] = [];
  for (const s of list) {
    for (const form of new Set(stringForms(s.copy))) if (hay.indexOf(form, 0, 'latin1') >= 0) hits.push(`${s.name} as "${form.slice(0, 8)}…"`);
  }
  return hits;
}

describe.each(sodium.availableCryptoBackends())('key hygiene of two nodes after messages, rekeys and close (%s crypto backend)', (backend) => {
  test('no identity, ephemeral or session secret remains in wasm memory, in V8 strings or in the arrays the nodes held', async () => {
    secrets.length = 0;
    const w = new SimWorld(1234);
    w.net.link(A, B, { latencyMs: 10 });
    const fast = { settings: { rekeyAfterMs: 2_000, sessionGraceMs: 500, aeadBackend: backend } };
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'udpvault-hygiene-home-')); // a's identity goes through the key file
    const a = await w.node(A, { ...fast, home });
    const b = await w.node(B, fast);
    await w.pair(a, b);
    const atB = messages(b);
    const atA = messages(a);
    const reliable: Array<ReturnType<typeof watch>> = [];
    for (let i = 0; i < 80; i++) {
      await a.send('b', `to b ${i}`);
      if (i % 10 === 0) reliable.push(watch(b.send('a', `to a ${i}`, { reliable: true })));
      else await b.send('a', `to a ${i}`);
      await w.scheduler.advance(100);
    }
    await w.scheduler.advance(500);
    expect(reliable.map((r) => r.state)).toEqual(Array(8).fill('resolved'));
    expect(atB.map(text)).toEqual(Array.from({ length: 80 }, (_, i) => `to b ${i}`));
    expect(atA).toHaveLength(80);
    expect(established(a, 'b') && established(b, 'a')).toBe(true);
    await w.closeAll();
    const again = await w.node('127.0.0.4', { home, settings: { aeadBackend: backend } }); // reads a's identity back from its key file
    expect(again.publicKey).toBe(a.publicKey);
    await w.closeAll();
    fs.rmSync(home, { recursive: true, force: true });
    expect(sodium.cryptoBackendName()).toBe(backend);

    const count = (name: string): number => secrets.filter((s) => s.name === name).length;
    expect(count('identity secret key')).toBe(3); // a's, created into its key file and read back; b's, from the seeded Random
    expect(count(X25519_SECRET)).toBeGreaterThanOrEqual(8); // 8 s at one rekey per 2 s, both sides' key pairs
    expect(count(DH_OUTPUT)).toBeGreaterThanOrEqual(8);
    expect(count(DERIVED)).toBeGreaterThanOrEqual(16);
    expect(count(SESSION_KEY)).toBeGreaterThanOrEqual(16); // send and receive key of each session, both sides
    expect(count(SUBKEY)).toBeGreaterThanOrEqual(16); // one per packet cipher
    for (const s of secrets) expect(s.copy.some((x) => x !== 0)).toBe(true);
    const all: Secret[] = [...secrets, ...secrets.filter((s) => s.copy.length === 64).map((s) => ({ ...s, name: `${s.name} (seed half)`, copy: s.copy.subarray(0, 32) }))];

    // (a) the whole wasm memory
    const mem = wasmMemory();
    const inWasm = all.filter((s) => occurrences(mem, s.copy).length > 0).map((s) => s.name);
    expect(inWasm).toEqual([]);

    // (c) backing stores are not in a heap snapshot: the arrays the nodes held are zero
    const notWiped = secrets.filter((s) => s.live.some((x) => x !== 0)).map((s) => s.name);
    expect(notWiped).toEqual([]);

    // (b) V8 heap snapshot: no string form of any secret. Control: a value we do hold as a
    // hex string is found, so the search would see a key that leaked into a string.
    const control = Buffer.from(sodium.genericHash(32, new TextEncoder().encode('hygiene control'))).toString('hex');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'udpvault-hygiene-')), 'heap.heapsnapshot');
    try {
      v8.writeHeapSnapshot(file);
      const snap = fs.readFileSync(file);
      expect(snap.indexOf(control, 0, 'latin1')).toBeGreaterThanOrEqual(0);
      expect(stringHits(snap, all)).toEqual([]);
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
    expect(control).toHaveLength(64);
  }, 120_000);
});
