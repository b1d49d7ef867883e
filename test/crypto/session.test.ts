/** Data packets (docs/PROTOCOL.md §6): XChaCha20-Poly1305, nonce = 16 zero bytes ‖ counter, AD = header. */
import { Session, type SessionLimits } from '../../src/crypto/session';
import type { HandshakeKeys } from '../../src/crypto/session';
import _sodium from 'libsodium-wrappers';
import { aeadDecrypt, aeadEncrypt, aeadSealWithHeader, sodiumReady } from '../../src/crypto/sodium';
import { DEFAULT_SETTINGS } from '../../src/config/schema';
import { DropError } from '../../src/errors';
import { parseDataHeader } from '../../src/wire/packet';
import { eachBackend } from './each-backend';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fill = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);

const A_SID = 0x0a0b0c0d;
const B_SID = 0xf1f2f3f4;
const KEY_A_TO_B = fill(32, 0xa1);
const KEY_B_TO_A = fill(32, 0xb2);
const FRAME = new TextEncoder().encode('a frame of some length, not necessarily msgpack');

interface Pair {
  a: Session;
  b: Session;
  /** The key arrays the sessions own (wipe() zeroes these). */
  aKeys: HandshakeKeys;
  bKeys: HandshakeKeys;
}

function pair(nowMs = 1000, replayWindowPackets?: number): Pair {
  const aKeys: HandshakeKeys = {
    sendKey: new Uint8Array(KEY_A_TO_B),
    recvKey: new Uint8Array(KEY_B_TO_A),
    localSid: A_SID,
    remoteSid: B_SID,
    initiator: true,
    remoteStatic: fill(32, 2),
    remoteTimestampMs: 5,
  };
  const bKeys: HandshakeKeys = {
    sendKey: new Uint8Array(KEY_B_TO_A),
    recvKey: new Uint8Array(KEY_A_TO_B),
    localSid: B_SID,
    remoteSid: A_SID,
    initiator: false,
    remoteStatic: fill(32, 1),
    remoteTimestampMs: 6,
  };
  return { a: new Session(aKeys, nowMs, replayWindowPackets), b: new Session(bKeys, nowMs, replayWindowPackets), aKeys, bKeys };
}

/** A copy of the sealed datagram (seal may return a view into a shared pool). */
const sealed = (s: Session, frame = FRAME, now = 1000): Uint8Array => new Uint8Array(s.seal(frame, now));
const split = (d: Uint8Array): [Uint8Array, Uint8Array] => [d.subarray(0, 13), d.subarray(13)];

function nonceFor(counter: number): Uint8Array {
  const n = new Uint8Array(24);
  new DataView(n.buffer).setBigUint64(16, BigInt(counter));
  return n;
}

eachBackend((backend) => {
  beforeAll(async () => {
    await sodiumReady();
    await _sodium.ready;
  });

  /** libsodium's own call, not the seam (whose hot path drives the wasm functions directly). */
  const libsodiumEncrypt = (m: Uint8Array, ad: Uint8Array, nonce: Uint8Array, key: Uint8Array): Uint8Array =>
    _sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(m, ad, null, nonce, key);

  describe('seal/open', () => {
    test('round trip, header layout, counters and timestamps', () => {
      const { a, b } = pair();
      expect(a.confirmed).toBe(true); // initiator
      expect(b.confirmed).toBe(false); // responder: until the initiator's first packet
      const d = sealed(a, FRAME, 2000);
      const [header, body] = split(d);
      expect(d.length).toBe(13 + FRAME.length + 16);
      expect(hex(header)).toBe('43' + 'f1f2f3f4' + '0000000000000000');
      expect(body.length).toBe(FRAME.length + 16);
      expect(a.sendCounter).toBe(1);
      expect(a.lastSentAtMs).toBe(2000);
      expect(b.mayAccept(0)).toBe(true);
      expect(b.open(d, 0, 3000)).toEqual(FRAME);
      expect(b.lastReceivedAtMs).toBe(3000);
      expect(b.confirmed).toBe(true);
      const second = sealed(a, FRAME, 2500);
      expect(hex(second.subarray(0, 13))).toBe('43' + 'f1f2f3f4' + '0000000000000001');
      const back = sealed(b);
      expect(hex(back.subarray(0, 13))).toBe('43' + '0a0b0c0d' + '0000000000000000');
      expect(a.open(back, 0, 4000)).toEqual(FRAME);
    });

    test('the ciphertext is crypto_aead_xchacha20poly1305_ietf_encrypt(frame, AD = header, nonce = 16 zero bytes ‖ counter BE, key)', () => {
      const { a } = pair();
      for (let counter = 0; counter < 4; counter++) {
        const frame = new TextEncoder().encode(`frame ${counter}`);
        const [header, body] = split(sealed(a, frame));
        expect(parseDataHeader(header)).toEqual({ receiverSid: B_SID, counter });
        expect(hex(body)).toBe(hex(libsodiumEncrypt(frame, header, nonceFor(counter), KEY_A_TO_B)));
      }
      // A nonce with the counter elsewhere gives other bytes: the layout is what the test pins.
      const { a: a2 } = pair();
      a2.seal(FRAME, 0);
      const [h1, b1] = split(sealed(a2));
      const wrong = new Uint8Array(24);
      wrong[7] = 1;
      expect(hex(b1)).not.toBe(hex(libsodiumEncrypt(FRAME, h1, wrong, KEY_A_TO_B)));
    });

    test('the seam agrees with libsodium for every size up to and past its scratch area', () => {
      const key = fill(32, 0x42);
      const ad = fill(13, 0x33);
      const nonce = nonceFor(77);
      for (const n of [0, 1, 15, 16, 17, 99, 1472, 65519, 65520, 65521, 65600, 70_000]) {
        const m = Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);
        const want = libsodiumEncrypt(m, ad, nonce, key);
        expect(hex(aeadEncrypt(m, ad, nonce, key))).toBe(hex(want));
        expect(aeadDecrypt(want, ad, nonce, key)).toEqual(m);
        const bad = new Uint8Array(want);
        bad[bad.length - 1]! ^= 1;
        expect(aeadDecrypt(bad, ad, nonce, key)).toBeNull();
      }
      expect(aeadDecrypt(new Uint8Array(15), ad, nonce, key)).toBeNull();
    });

    test('aeadSealWithHeader (the seal path) = header ‖ libsodium ciphertext, on both sides of its scratch limit', () => {
      const key = fill(32, 0x24);
      const header = Uint8Array.from([0x43, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 1, 2]);
      const nonce = nonceFor(0x0102);
      for (const n of [0, 1, 99, 1443, 65_519, 65_584, 65_585, 70_000]) {
        const m = Uint8Array.from({ length: n }, (_, i) => (i * 13 + 5) & 0xff);
        const out = aeadSealWithHeader(header, m, nonce, key);
        expect(out.length).toBe(13 + n + 16);
        expect(hex(out)).toBe(hex(header) + hex(libsodiumEncrypt(m, header, nonce, key)));
      }
    });

    test('the largest frame a cipher takes (65,535 bytes) seals and opens; one byte more is refused on both backends', () => {
      const { a, b } = pair();
      const big = Uint8Array.from({ length: 65_535 }, (_, i) => i & 0xff);
      const d = sealed(a, big);
      expect(hex(d.subarray(13))).toBe(hex(libsodiumEncrypt(big, d.subarray(0, 13), nonceFor(0), KEY_A_TO_B)));
      expect(b.open(d, 0, 1000)).toEqual(big);
      expect(() => sealed(a, new Uint8Array(65_536))).toThrow(new RangeError('packet too large'));
    });

    test('an empty frame still carries the 16-byte tag', () => {
      const { a, b } = pair();
      const d = sealed(a, new Uint8Array(0));
      expect(d.length).toBe(29);
      expect(b.open(d, 0, 1000)).toEqual(new Uint8Array(0));
    });

    test('a datagram shorter than header + tag is an authentication failure', () => {
      const { a, b } = pair();
      const d = sealed(a);
      expect(b.open(d.subarray(0, 28), 0, 1000)).toBe('auth');
      expect(b.open(d, 0, 1000)).toEqual(FRAME);
    });

    test('a session with other keys cannot open it', () => {
      const { a } = pair();
      const { a: other } = pair();
      expect(other.open(sealed(a), 0, 1000)).toBe('auth'); // other.recvKey is the B→A key
    });
  });

  describe('openInPlace (the receive path, issue 12)', () => {
    test('the frame is a view of the datagram itself, exactly the bytes open() gives; open() leaves its datagram as it was', () => {
      const { a, b } = pair();
      const big = new Uint8Array(3000).map((_, i) => (i * 13) & 0xff);
      for (const frame of [FRAME, new Uint8Array(0), big]) {
        const d = sealed(a, frame);
        const host = new Uint8Array(d.length + 50).fill(0x77); // inside a larger buffer, as a pooled datagram
        host.set(d, 20);
        const inPlace = host.subarray(20, 20 + d.length);
        const copy = Uint8Array.from(d);
        const other = pair().b; // the same keys, a fresh replay window: open() on the same bytes
        const want = other.open(copy, parseDataHeader(copy).counter, 1000);
        expect(hex(copy)).toBe(hex(d)); // open() did not touch its datagram
        const got = b.openInPlace(inPlace, parseDataHeader(d).counter, 1500);
        if (typeof got === 'string' || typeof want === 'string') throw new Error(`refused: ${String(got)} ${String(want)}`);
        expect(hex(got)).toBe(hex(frame));
        expect(hex(got)).toBe(hex(want));
        expect(got.buffer).toBe(host.buffer);
        expect(got.byteOffset).toBe(20 + 13);
        expect(hex(host.subarray(20, 33))).toBe(hex(d.subarray(0, 13))); // the header stays
        expect(hex(host.subarray(0, 20))).toBe('77'.repeat(20)); // nothing written outside the datagram
        expect(hex(host.subarray(20 + d.length))).toBe('77'.repeat(30));
        expect(b.lastReceivedAtMs).toBe(1500);
        expect(b.confirmed).toBe(true);
      }
    });

    test('a replayed counter is refused before anything is written; a forged datagram is refused (natively with its ciphertext zeroed)', () => {
      const { a, b } = pair();
      const d = sealed(a);
      const c = parseDataHeader(d).counter;
      expect(b.openInPlace(Uint8Array.from(d), c, 1000)).toBeInstanceOf(Uint8Array);
      const again = Uint8Array.from(d);
      expect(b.openInPlace(again, c, 1000)).toBe('replay');
      expect(hex(again)).toBe(hex(d));
      const e = sealed(a);
      const forged = Uint8Array.from(e);
      forged[20]! ^= 1;
      expect(b.openInPlace(forged, parseDataHeader(e).counter, 1000)).toBe('auth');
      // libsodium zeroes what it would have decrypted into (native: the datagram); wasm opens a copy in its heap.
      const body = forged.subarray(13, forged.length - 16);
      if (backend === 'native') expect(body.every((x) => x === 0)).toBe(true);
      else expect(hex(forged)).toBe(hex(e.map((x, i) => (i === 20 ? x ^ 1 : x)))); // untouched
      expect(b.openInPlace(Uint8Array.from(e), parseDataHeader(e).counter, 1000)).toBeInstanceOf(Uint8Array); // the counter was not marked
      expect(b.openInPlace(new Uint8Array(28), 9, 1000)).toBe('auth'); // shorter than header + tag
      b.wipe();
      expect(b.openInPlace(sealed(a), 2, 1000)).toBe('auth');
    });
  });

  describe('tampering', () => {
    test('every bit of the header (the AD) is authenticated', () => {
      const { a, b } = pair();
      a.seal(FRAME, 0);
      a.seal(FRAME, 0);
      const d = sealed(a); // counter 2
      let checked = 0;
      for (let bit = 0; bit < 13 * 8; bit++) {
        const t = new Uint8Array(d);
        t[bit >> 3]! ^= 0x80 >> (bit & 7);
        let counter: number;
        try {
          counter = parseDataHeader(t).counter;
        } catch (e) {
          // counter above 2^53: refused before any decryption
          expect((e as DropError).reason).toBe('malformed');
          expect(bit >> 3).toBeGreaterThanOrEqual(5);
          continue;
        }
        expect(b.open(t, counter, 1000)).toBe('auth');
        checked++;
      }
      expect(checked).toBe(13 * 8 - 11); // the 11 top counter bits (63..53) fail parsing
      expect(b.open(d, 2, 1000)).toEqual(FRAME); // failed attempts did not touch the window
    });

    test('every bit of the ciphertext and tag is authenticated', () => {
      const { a, b } = pair();
      const d = sealed(a);
      for (let bit = 13 * 8; bit < d.length * 8; bit++) {
        const t = new Uint8Array(d);
        t[bit >> 3]! ^= 0x80 >> (bit & 7);
        expect(b.open(t, 0, 1000)).toBe('auth');
      }
      expect(b.open(d, 0, 1000)).toEqual(FRAME);
    });

    test('a header moved to another session id does not open under the same key', () => {
      const { a, b } = pair();
      const d = sealed(a);
      new DataView(d.buffer).setUint32(1, B_SID + 1);
      expect(b.open(d, 0, 1000)).toBe('auth');
    });
  });

  describe('replay window', () => {
    test('a counter is accepted once', () => {
      const { a, b } = pair();
      const d = sealed(a);
      expect(b.open(d, 0, 1000)).toEqual(FRAME);
      expect(b.mayAccept(0)).toBe(false);
      expect(b.open(d, 0, 1000)).toBe('replay');
    });

    test('the window is checked before decryption (a forged packet with a seen counter is a replay)', () => {
      const { a, b } = pair();
      expect(b.open(sealed(a), 0, 1000)).toEqual(FRAME);
      const forged = new Uint8Array(60);
      forged.set([0x43, 0xf1, 0xf2, 0xf3, 0xf4]);
      expect(b.open(forged, 0, 1000)).toBe('replay');
      expect(b.open(forged, 1, 1000)).toBe('auth');
    });

    test('2048 packets wide: reordering inside is fine, older is refused', () => {
      const { a, b } = pair();
      const ds: Uint8Array[] = [];
      for (let i = 0; i <= 2048; i++) ds.push(sealed(a, new Uint8Array([i & 0xff, i >> 8])));
      expect(b.open(ds[2048]!, 2048, 1000)).toEqual(new Uint8Array([0, 8]));
      expect(b.mayAccept(0)).toBe(false);
      expect(b.open(ds[0]!, 0, 1000)).toBe('replay'); // 2048 behind the highest
      expect(b.mayAccept(1)).toBe(true);
      expect(b.open(ds[1]!, 1, 1000)).toEqual(new Uint8Array([1, 0])); // 2047 behind
      expect(b.open(ds[1]!, 1, 1000)).toBe('replay');
      expect(b.open(ds[1000]!, 1000, 1000)).toEqual(new Uint8Array([1000 & 0xff, 1000 >> 8]));
      expect(b.open(ds[999]!, 999, 1000)).toEqual(new Uint8Array([999 & 0xff, 999 >> 8]));
      expect(b.open(ds[1000]!, 1000, 1000)).toBe('replay');
    });

    test('the window size is configurable per session', () => {
      const { a, b } = pair(0, 64);
      const ds = Array.from({ length: 65 }, () => sealed(a));
      expect(b.open(ds[64]!, 64, 0)).toEqual(FRAME);
      expect(b.open(ds[0]!, 0, 0)).toBe('replay');
      expect(b.open(ds[1]!, 1, 0)).toEqual(FRAME);
    });
  });

  describe('wipe', () => {
    test('zeroes both keys; the session then neither opens nor accepts', () => {
      const { a, b, bKeys } = pair();
      const d = sealed(a);
      expect(b.wiped).toBe(false);
      b.wipe();
      expect(b.wiped).toBe(true);
      expect(bKeys.sendKey).toEqual(new Uint8Array(32));
      expect(bKeys.recvKey).toEqual(new Uint8Array(32));
      expect(b.mayAccept(0)).toBe(false);
      expect(b.open(d, 0, 1000)).toBe('auth');
      expect(b.expired(1000, { rekeyAfterMs: 1e12, rekeyAfterMessages: 1e12, rejectAfterMs: 1e12 })).toBe(true);
      b.wipe(); // idempotent
      expect(b.wiped).toBe(true);
    });
  });

  describe('rekey and expiry thresholds', () => {
    const CREATED = 1000;

    test('defaults: rekey after 120 s or 2^32 messages, reject after 180 s', () => {
      expect(DEFAULT_SETTINGS.rekeyAfterMs).toBe(120_000);
      expect(DEFAULT_SETTINGS.rekeyAfterMessages).toBe(2 ** 32);
      expect(DEFAULT_SETTINGS.rejectAfterMs).toBe(180_000);
      expect(DEFAULT_SETTINGS.sessionGraceMs).toBe(10_000);
    });

    test('time: needsRekey at exactly rekeyAfterMs, expired at exactly rejectAfterMs (from creation)', () => {
      const l: SessionLimits = { rekeyAfterMs: 120_000, rekeyAfterMessages: 2 ** 32, rejectAfterMs: 180_000 };
      const { a } = pair(CREATED);
      expect(a.createdAtMs).toBe(CREATED);
      expect(a.needsRekey(CREATED + 119_999, l)).toBe(false);
      expect(a.needsRekey(CREATED + 120_000, l)).toBe(true);
      expect(a.expired(CREATED + 120_000, l)).toBe(false);
      expect(a.expired(CREATED + 179_999, l)).toBe(false);
      expect(a.expired(CREATED + 180_000, l)).toBe(true);
    });

    test('traffic does not postpone them', () => {
      const l: SessionLimits = { rekeyAfterMs: 100, rekeyAfterMessages: 1000, rejectAfterMs: 200 };
      const { a, b } = pair(CREATED);
      expect(b.open(sealed(a, FRAME, CREATED + 99), 0, CREATED + 99)).toEqual(FRAME);
      expect(a.needsRekey(CREATED + 100, l)).toBe(true);
      expect(b.expired(CREATED + 200, l)).toBe(true);
    });

    test('messages: needsRekey once rekeyAfterMessages were sealed, expired at twice that (send counter only)', () => {
      const l: SessionLimits = { rekeyAfterMs: 1e9, rekeyAfterMessages: 3, rejectAfterMs: 1e9 };
      const { a, b } = pair(CREATED);
      const seen: Array<[number, boolean, boolean]> = [];
      for (let n = 0; n <= 6; n++) {
        seen.push([a.sendCounter, a.needsRekey(CREATED, l), a.expired(CREATED, l)]);
        const d = sealed(a);
        b.open(d, n, CREATED);
      }
      expect(seen).toEqual([
        [0, false, false],
        [1, false, false],
        [2, false, false],
        [3, true, false],
        [4, true, false],
        [5, true, false],
        [6, true, true],
      ]);
      // b received 7 packets but sent none: its counters do not count received packets.
      expect(b.needsRekey(CREATED, l)).toBe(false);
      expect(b.expired(CREATED, l)).toBe(false);
    });
  });
});
