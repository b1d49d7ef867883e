/** vault-v2 codec against the reference vectors (py-vault-udp), SPEC §6. */
import { boxOpenEasy, signDetached, sodiumReady } from '../../src/crypto/sodium';
import { DropError, UdpVaultError } from '../../src/errors';
import { unpack } from '../../src/wire/msgpack';
import { compress } from '../../src/wire/compress';
import {
  VAULT_V2_MTU_OVERHEAD,
  VaultV2NonceCache,
  buildAnnouncement,
  buildPaddedBody,
  classify,
  decodeBody,
  decodePayload,
  encodeBody,
  encodePayloadText,
  encodedBodyLength,
  openEnvelope,
  paddingLength,
  parseAnnouncement,
  sealEnvelope,
  vaultV2BodyLimit,
  type VaultV2Body,
} from '../../src/compat/vault-v2-codec';
import { clockAt, fixedRandom, loadVectors, type VectorDatagram } from '../helpers/vault-v2-vectors';

const V = loadVectors();
const MTU = V.mtuEffective + VAULT_V2_MTU_OVERHEAD; // 1400
const MAX = 1024 * 1024;
const A_PORT = Number(V.A.addr.split(':')[1]);
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const encrypted = V.datagrams.filter((d) => d.kind.endsWith('-encrypted'));
const plaintext = V.datagrams.filter((d) => d.kind.endsWith('-plaintext'));

/** B opens a datagram from A at `offsetS` seconds after its sent_at. */
function openAsB(d: VectorDatagram, offsetS: number, seen = new VaultV2NonceCache()): Uint8Array {
  return openEnvelope(d.bytes, { senderEncPk: V.A.encPk, receiverEncSk: V.B.encSk, clock: clockAt(d.sentAt, offsetS), seen });
}

function dropReason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof DropError) return e.reason;
    throw e;
  }
  return 'accepted';
}

/** Checks a decoded body against the vector's kind and text. */
function expectContent(d: VectorDatagram, body: VaultV2Body): void {
  if (d.kind.startsWith('control')) {
    expect(body.p.length).toBe(0);
    const ann = parseAnnouncement(body.c);
    expect(Buffer.from(ann.encPk)).toEqual(Buffer.from(V.A.encPk));
    expect(Buffer.from(ann.signPk).toString('base64')).toBe(V.A.signPkB64);
    expect(ann.port).toBe(A_PORT);
  } else {
    expect(body.c.length).toBe(0);
    expect(dec(decodePayload(body.p, MAX))).toBe(d.text);
  }
}

beforeAll(async () => {
  await sodiumReady();
});

describe('vault-v2 vectors', () => {
  test('the vector keys are consistent (sign seeds give the listed public keys)', () => {
    expect(Buffer.from(V.A.sign().publicKey).toString('base64')).toBe(V.A.signPkB64);
    expect(Buffer.from(V.B.sign().publicKey).toString('base64')).toBe(V.B.signPkB64);
    expect(vaultV2BodyLimit(MTU)).toBe(1293);
  });

  test.each(plaintext.map((d) => [d.kind, d] as const))('%s decodes as plaintext with the expected content', (_k, d) => {
    const c = classify(d.bytes);
    expect(c.kind).toBe('plaintext');
    if (c.kind !== 'plaintext') return;
    expect(d.bytes.length).toBe(1294);
    expectContent(d, c.body);
  });

  describe.each(encrypted.map((d, i) => [`${d.kind} #${i}`, d] as const))('%s', (_k, d) => {
    test('classifies as encrypted, 1358 bytes', () => {
      expect(classify(d.bytes).kind).toBe('encrypted');
      expect(d.bytes.length).toBe(1358);
    });
    test.each([1, 59])('B opens it at sent_at + %i s with the expected content', (offset) => {
      const body = decodeBody(openAsB(d, offset));
      expect(encodeBody(body).length).toBe(1294);
      expectContent(d, body);
    });
    test.each([
      [61, 'stale'],
      [-1, 'stale'],
    ])('refused at sent_at %+i s as %s', (offset, reason) => {
      expect(dropReason(() => openAsB(d, offset))).toBe(reason);
    });
    test('a second open of the same datagram is a replay', () => {
      const seen = new VaultV2NonceCache();
      openAsB(d, 1, seen);
      expect(dropReason(() => openAsB(d, 2, seen))).toBe('replay');
      expect(seen.size).toBe(1);
    });
    test('wrong keys are an auth failure (and leave the replay cache untouched)', () => {
      const seen = new VaultV2NonceCache();
      const clock = clockAt(d.sentAt, 1);
      const wrongSk = { senderEncPk: V.A.encPk, receiverEncSk: V.A.encSk, clock, seen };
      const wrongPk = { senderEncPk: V.B.encPk, receiverEncSk: V.B.encSk, clock, seen };
      expect(dropReason(() => openEnvelope(d.bytes, wrongSk))).toBe('authFailure');
      expect(dropReason(() => openEnvelope(d.bytes, wrongPk))).toBe('authFailure');
      expect(seen.size).toBe(0);
      expect(dropReason(() => openAsB(d, 1, seen))).toBe('accepted');
    });
    test('every single-bit flip is refused', () => {
      const seen = new VaultV2NonceCache();
      const opts = { senderEncPk: V.A.encPk, receiverEncSk: V.B.encSk, clock: clockAt(d.sentAt, 1), seen };
      const bad = new Set<string>();
      const copy = d.bytes.slice();
      for (let i = 0; i < copy.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          copy[i]! ^= 1 << bit;
          bad.add(dropReason(() => openEnvelope(copy, opts)));
          copy[i]! ^= 1 << bit;
        }
      }
      expect([...bad]).toEqual(['authFailure']);
    });
    test('truncated datagrams are refused', () => {
      expect(dropReason(() => openAsB({ ...d, bytes: d.bytes.subarray(0, 79) }, 1))).toBe('malformed');
      expect(dropReason(() => openAsB({ ...d, bytes: d.bytes.subarray(0, d.bytes.length - 1) }, 1))).toBe('authFailure');
    });
  });
});

describe('vault-v2 body and padding', () => {
  test('reference bodies: key order v,p,c,g, all bin, padded by the effective-MTU rule', () => {
    for (const d of V.datagrams) {
      const P = d.kind.endsWith('-plaintext') ? d.bytes : openAsB(d, 1);
      const b = decodeBody(P);
      expect(Buffer.from(encodeBody(b))).toEqual(Buffer.from(P)); // re-encodes byte-identically
      expect(b.g.length).toBe(paddingLength(encodedBodyLength(b.p.length, b.c.length, 0), MTU));
      expect(P.length).toBe(V.mtuEffective + 1); // g > 255 bytes: bin16 header is one byte longer than c4 00
      expect(P[P.length - b.g.length - 3]).toBe(0xc5);
    }
  });

  test('an independent msgpack decoder reads our body as {v:2, p, c, g} with bin fields', () => {
    const P = encodeBody({ p: new Uint8Array(0), c: enc('x'), g: new Uint8Array(300) });
    expect(Array.from(P.subarray(0, 8))).toEqual([0x84, 0xa1, 0x76, 0x02, 0xa1, 0x70, 0xc4, 0x00]);
    const m = unpack(P) as Record<string, unknown>;
    expect(Object.keys(m)).toEqual(['v', 'p', 'c', 'g']);
    expect(m['v']).toBe(2);
    for (const k of ['p', 'c', 'g']) expect(m[k]).toBeInstanceOf(Uint8Array);
  });

  test('padding reaches exactly the effective MTU when g fits bin8, one more byte with bin16', () => {
    const limit = vaultV2BodyLimit(MTU);
    const small = buildPaddedBody({ p: new Uint8Array(limit - 200) }, MTU, fixedRandom());
    expect(decodeBody(small).g.length).toBeLessThanOrEqual(255);
    expect(small.length).toBe(limit);
    expect(buildPaddedBody({ p: new Uint8Array(10) }, MTU, fixedRandom()).length).toBe(limit + 1);
    const full = buildPaddedBody({ p: new Uint8Array(limit - 17) }, MTU, fixedRandom()); // 17 = body overhead with a bin16 p
    expect(decodeBody(full).g.length).toBe(0);
    expect(full.length).toBe(limit);
  });

  test('a body that cannot fit is ERR_TOO_LARGE with a clear message', () => {
    const limit = vaultV2BodyLimit(MTU);
    const tooBig = () => buildPaddedBody({ p: new Uint8Array(limit - 16) }, MTU, fixedRandom()); // one byte over
    expect(tooBig).toThrow(UdpVaultError);
    expect(tooBig).toThrow(/^message too large for vault-v2 peer: the body needs 1294 bytes, the limit at MTU 1400 is 1293$/);
    try {
      tooBig();
    } catch (e) {
      expect((e as UdpVaultError).code).toBe('ERR_TOO_LARGE');
    }
  });

  test.each([
    ['empty', []],
    ['not a fixmap 4', [0x83, 0xa1, 0x76, 0x02]],
    ['key order', [0x84, 0xa1, 0x76, 0x02, 0xa1, 0x63, 0xc4, 0, 0xa1, 0x70, 0xc4, 0, 0xa1, 0x67, 0xc4, 0]],
    ['v = 3', [0x84, 0xa1, 0x76, 0x03, 0xa1, 0x70, 0xc4, 0, 0xa1, 0x63, 0xc4, 0, 0xa1, 0x67, 0xc4, 0]],
    ['p is str', [0x84, 0xa1, 0x76, 0x02, 0xa1, 0x70, 0xa0, 0xa1, 0x63, 0xc4, 0, 0xa1, 0x67, 0xc4, 0]],
    ['truncated bin', [0x84, 0xa1, 0x76, 0x02, 0xa1, 0x70, 0xc4, 5, 1, 2]],
    ['trailing byte', [0x84, 0xa1, 0x76, 0x02, 0xa1, 0x70, 0xc4, 0, 0xa1, 0x63, 0xc4, 0, 0xa1, 0x67, 0xc4, 0, 0]],
  ])('strict body parser refuses %s as malformed', (_n, bytes) => {
    expect(dropReason(() => decodeBody(Uint8Array.from(bytes)))).toBe('malformed');
  });

  test('classify refuses something too short to be either', () => {
    expect(dropReason(() => classify(Uint8Array.from([0x84, 1, 2])))).toBe('malformed');
  });
});

describe('vault-v2 announcement', () => {
  const refC = decodeBody(plaintext.find((d) => d.kind === 'control-plaintext')!.bytes).c;
  const aSign = () => V.A.sign();
  const announce = (port = A_PORT) => buildAnnouncement({ encPk: V.A.encPk, signPk: aSign().publicKey, signSk: aSign().privateKey, port });

  test('we build byte-identical JSON to the reference (", " and ": " separators, key order)', () => {
    expect(dec(announce())).toBe(dec(refC));
    expect(dec(refC)).toMatch(/^\{"enc_key": "[^"]+", "sign_key": "[^"]+", "signature": "[^"]+", "port": 17201\}$/);
  });

  test('parses with the vector keys; any JSON layout is accepted', () => {
    const ann = parseAnnouncement(refC);
    expect(Buffer.from(ann.encPk)).toEqual(Buffer.from(V.A.encPk));
    expect(Buffer.from(ann.signPk)).toEqual(Buffer.from(aSign().publicKey));
    expect(parseAnnouncement(enc(JSON.stringify(JSON.parse(dec(refC))))).port).toBe(A_PORT);
  });

  test('signed content naming other keys is refused', () => {
    const doc = JSON.parse(dec(refC)) as Record<string, unknown>;
    const otherSigned = Buffer.from(V.B.encPkB64 + V.B.signPkB64, 'ascii');
    const sig = signDetached(otherSigned, aSign().privateKey); // valid signature, wrong content
    doc['signature'] = Buffer.concat([sig, otherSigned]).toString('base64');
    expect(dropReason(() => parseAnnouncement(enc(JSON.stringify(doc))))).toBe('authFailure');
  });

  test('a bad signature is refused; so are keys swapped in under the original signature', () => {
    const doc = JSON.parse(dec(refC)) as Record<string, string>;
    const combined = Buffer.from(doc['signature']!, 'base64');
    combined[5]! ^= 1;
    expect(dropReason(() => parseAnnouncement(enc(JSON.stringify({ ...doc, signature: combined.toString('base64') }))))).toBe('authFailure');
    expect(dropReason(() => parseAnnouncement(enc(JSON.stringify({ ...doc, enc_key: V.B.encPkB64 }))))).toBe('authFailure');
    expect(dropReason(() => parseAnnouncement(enc(JSON.stringify({ ...doc, sign_key: V.B.signPkB64 }))))).toBe('authFailure');
  });

  test.each([
    ['not JSON', '{"enc_key": '],
    ['an array', '[]'],
    ['missing port', '{"enc_key": "B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw=", "sign_key": "x", "signature": "x"}'],
  ])('refuses %s as malformed', (_n, text) => {
    expect(dropReason(() => parseAnnouncement(enc(text)))).toBe('malformed');
  });

  test('refuses a bad port and non-canonical base64 as malformed', () => {
    const doc = JSON.parse(dec(refC)) as Record<string, unknown>;
    for (const port of [0, 65536, 1.5, '17201']) {
      expect(dropReason(() => parseAnnouncement(enc(JSON.stringify({ ...doc, port }))))).toBe('malformed');
    }
    const unpadded = (doc['enc_key'] as string).replace(/=+$/, '');
    expect(dropReason(() => parseAnnouncement(enc(JSON.stringify({ ...doc, enc_key: unpadded }))))).toBe('malformed');
    expect(() => announce(0)).toThrow(UdpVaultError);
  });
});

describe('vault-v2 encoding matches the reference', () => {
  const seal = (P: Uint8Array, d: VectorDatagram, random = fixedRandom(7)) =>
    sealEnvelope(P, { receiverEncPk: V.B.encPk, senderEncSk: V.A.encSk, clock: clockAt(d.sentAt, 0), random });

  test('A’s plaintext announcement: same bytes as the reference up to the random padding, 1294 bytes', () => {
    const ref = plaintext.find((d) => d.kind === 'control-plaintext')!;
    const A = V.A.sign();
    const c = buildAnnouncement({ encPk: V.A.encPk, signPk: A.publicKey, signSk: A.privateKey, port: A_PORT });
    const ours = buildPaddedBody({ c }, MTU, fixedRandom());
    expect(ours.length).toBe(1294);
    const gLen = decodeBody(ref.bytes).g.length;
    expect(decodeBody(ours).g.length).toBe(gLen);
    expect(Buffer.from(ours.subarray(0, ours.length - gLen))).toEqual(Buffer.from(ref.bytes.subarray(0, ref.bytes.length - gLen)));
    expect(classify(ours).kind).toBe('plaintext');
  });

  test.each(V.datagrams.filter((d) => d.kind.startsWith('payload')).map((d) => [d.text!.slice(0, 20), d] as const))(
    'payload "%s": same p, same body layout, 1294 / 1358 bytes; B decodes it',
    (_t, d) => {
      const refP = d.kind.endsWith('-plaintext') ? d.bytes : openAsB(d, 1);
      const ref = decodeBody(refP);
      const p = encodePayloadText(d.text!);
      expect(Buffer.from(p)).toEqual(Buffer.from(ref.p)); // libzstd level 16 gives the same frame
      const ours = buildPaddedBody({ p }, MTU, fixedRandom());
      expect(ours.length).toBe(refP.length);
      expect(Buffer.from(ours.subarray(0, ours.length - ref.g.length))).toEqual(Buffer.from(refP.subarray(0, refP.length - ref.g.length)));
      const datagram = seal(ours, d);
      expect(datagram.length).toBe(1358);
      expect(classify(datagram).kind).toBe('encrypted');
      const opened = decodeBody(openAsB({ ...d, bytes: datagram }, 30));
      expect(dec(decodePayload(opened.p, MAX))).toBe(d.text);
    },
  );

  test.each(encrypted.map((d, i) => [i, d] as const))('encrypted vector %i is reproduced byte for byte from its parts', (_i, d) => {
    // B recovers the reference's random parts (box nonce, inner nonce) and timestamp.
    const inner = boxOpenEasy(d.bytes.subarray(24), d.bytes.subarray(0, 24), V.A.encPk, V.B.encSk)!;
    const randoms = [d.bytes.slice(0, 24), inner.slice(0, 16)];
    const tsSeconds = new DataView(inner.buffer, inner.byteOffset).getFloat64(16, false);
    const datagram = sealEnvelope(inner.subarray(24), {
      receiverEncPk: V.B.encPk,
      senderEncSk: V.A.encSk,
      clock: { now: () => tsSeconds * 1000, monotonic: () => 0 },
      random: () => randoms.shift()!,
    });
    expect(Buffer.from(datagram)).toEqual(Buffer.from(d.bytes));
  });
});

describe('vault-v2 payload and replay cache', () => {
  test('payload: round trip, empty text, non-UTF-8, bombs and garbage', () => {
    expect(dec(decodePayload(encodePayloadText(''), MAX))).toBe('');
    expect(dec(decodePayload(encodePayloadText(enc('bytes ✓')), MAX))).toBe('bytes ✓');
    expect(dropReason(() => decodePayload(compress(Uint8Array.from([0x68, 0xff, 0xfe]), 3), MAX))).toBe('malformed');
    expect(dropReason(() => decodePayload(compress(new Uint8Array(MAX + 1), 3), MAX))).toBe('decompress');
    expect(dropReason(() => decodePayload(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), MAX))).toBe('malformed');
    expect(() => encodePayloadText(Uint8Array.from([0xc3]))).toThrow(expect.objectContaining({ code: 'ERR_BAD_ARGUMENT' }));
  });

  const nonce = (i: number): Uint8Array => {
    const n = new Uint8Array(16);
    new DataView(n.buffer).setUint32(0, i);
    return n;
  };

  test('memory is bounded under a flood and an evicted nonce is never re-accepted', () => {
    const cache = new VaultV2NonceCache({ maxEntries: 4, windowMs: 60_000 });
    for (let i = 0; i < 100; i++) cache.admit(nonce(i), 1_000 + i, 2_000);
    expect(cache.size).toBe(4);
    expect(dropReason(() => cache.admit(nonce(0), 1_000, 2_000))).toBe('stale'); // forgotten, but below the floor
    expect(dropReason(() => cache.admit(nonce(99), 1_099, 2_000))).toBe('replay');
    expect(dropReason(() => cache.admit(nonce(100), 1_100, 2_000))).toBe('accepted');
  });

  test('entries expire with the window; a clock stepping back does not re-admit them', () => {
    const cache = new VaultV2NonceCache({ maxEntries: 100, windowMs: 60_000 });
    cache.admit(nonce(1), 0, 0);
    cache.admit(nonce(2), 61_000, 61_000);
    expect(cache.size).toBe(1);
    expect(dropReason(() => cache.admit(nonce(1), 0, 30_000))).toBe('stale');
  });

  test('B replies to A: round trip in the other direction with the vector keys', () => {
    const d = encrypted[0]!;
    const body = buildPaddedBody({ p: encodePayloadText('reply') }, MTU, fixedRandom(3));
    const clock = clockAt(d.sentAt, 0);
    const datagram = sealEnvelope(body, { receiverEncPk: V.A.encPk, senderEncSk: V.B.encSk, clock, random: fixedRandom(9) });
    const seen = new VaultV2NonceCache();
    const opened = openEnvelope(datagram, { senderEncPk: V.B.encPk, receiverEncSk: V.A.encSk, clock, seen });
    expect(dec(decodePayload(decodeBody(opened).p, MAX))).toBe('reply');
  });
});
