/** The pure v3 handshake (docs/PROTOCOL.md §3–§5): round trip, key derivation, every refusal. */
import {
  checkHandshakeFreshness,
  consumeResponse,
  createInit,
  createResponse,
  verifyInit,
  ZERO_KEY,
  type FreshnessInput,
  type PendingInit,
} from '../../src/crypto/handshake';
import { identityFromSeed, type Identity } from '../../src/crypto/identity';
import { genericHash, kxClientKeys, kxSeedKeypair, sodiumReady, verifyDetached, type KeyPair } from '../../src/crypto/sodium';
import { DropError, type DropReason } from '../../src/errors';
import { parseInit, parseResponse, type InitMessage } from '../../src/wire/packet';

const NOW = 1_800_000_000_000;
const WINDOW = 60_000;
const SID_I = 0x01020304;
const SID_R = 0x0a0b0c0d;

let A: Identity; // initiator
let B: Identity; // responder
let C: Identity; // someone else
let ephemeralCounter = 0;

beforeAll(async () => {
  await sodiumReady();
  A = identityFromSeed(new Uint8Array(32).fill(1));
  B = identityFromSeed(new Uint8Array(32).fill(2));
  C = identityFromSeed(new Uint8Array(32).fill(3));
});

/** A new deterministic ephemeral key pair on every call. */
function ephemeral(): KeyPair {
  const seed = new Uint8Array(32);
  new DataView(seed.buffer).setUint32(0, ++ephemeralCounter);
  return kxSeedKeypair(seed);
}

const fresh = (lastTimestampMs: number | null = null, nowMs = NOW): FreshnessInput => ({ nowMs, windowMs: WINDOW, lastTimestampMs });

function init(o: { from?: Identity; to?: Uint8Array | null; sid?: number; ts?: number; eph?: KeyPair } = {}): PendingInit {
  return createInit({
    identity: o.from ?? A,
    responderStatic: o.to === undefined ? B.publicKey : o.to,
    localSid: o.sid ?? SID_I,
    ephemeral: o.eph ?? ephemeral(),
    timestampMs: o.ts ?? NOW,
  });
}

function respond(p: PendingInit, o: { by?: Identity; sid?: number; ts?: number; eph?: KeyPair } = {}) {
  return createResponse({ identity: o.by ?? B, init: parseInit(p.init), localSid: o.sid ?? SID_R, ephemeral: o.eph ?? ephemeral(), timestampMs: o.ts ?? NOW + 10 });
}

function dropReason(fn: () => unknown): DropReason | 'accepted' {
  try {
    fn();
  } catch (e) {
    if (e instanceof DropError) return e.reason;
    throw e;
  }
  return 'accepted';
}

const flip = (b: Uint8Array, bit: number): Uint8Array => {
  const t = new Uint8Array(b);
  t[bit >> 3]! ^= 0x80 >> (bit & 7);
  return t;
};

/** Reason for a flipped bit of a big-endian u64 timestamp at [start, start+8), for a value near NOW checked at NOW. */
function timestampFlipReason(byte: number, bit: number, start: number): DropReason {
  const p = (start + 7 - byte) * 8 + (7 - bit); // bit position from the least significant
  if (p >= 53) return 'malformed'; // above 2^53 − 1: refused by the parser
  if (2 ** p > WINDOW) return 'stale'; // moved by more than the window
  return 'authFailure'; // still fresh, but the signature no longer matches
}

describe('round trip', () => {
  test('both sides derive the same keys, directions swapped', () => {
    const eI = ephemeral();
    const eR = ephemeral();
    const eISecret = new Uint8Array(eI.privateKey);
    const p = init({ eph: eI });
    const m = parseInit(p.init);
    expect(m.responderStatic).toEqual(B.publicKey);
    expect(m.initiatorStatic).toEqual(A.publicKey);
    expect(m.ephemeral).toEqual(eI.publicKey);
    verifyInit(m, A.publicKey, B.publicKey, fresh());
    const { response, keys: r } = createResponse({ identity: B, init: m, localSid: SID_R, ephemeral: eR, timestampMs: NOW + 10 });
    expect(response.length).toBe(145);
    const resp = parseResponse(response);
    expect([resp.senderSid, resp.receiverSid, resp.timestampMs]).toEqual([SID_R, SID_I, NOW + 10]);
    const i = consumeResponse(p, resp, B.publicKey, fresh());

    expect(i.sendKey).toEqual(r.recvKey);
    expect(i.recvKey).toEqual(r.sendKey);
    expect(i.sendKey).not.toEqual(i.recvKey);
    expect(i.sendKey.length).toBe(32);
    expect(i).toMatchObject({ localSid: SID_I, remoteSid: SID_R, initiator: true, remoteStatic: B.publicKey, remoteTimestampMs: NOW + 10 });
    expect(r).toMatchObject({ localSid: SID_R, remoteSid: SID_I, initiator: false, remoteStatic: A.publicKey, remoteTimestampMs: NOW });

    // key = BLAKE2b-256(key: crypto_kx key, msg: "udpvault v3 data key\0" ‖ BLAKE2b-256(init ‖ response))
    const [rx, tx] = kxClientKeys(eI.publicKey, eISecret, eR.publicKey);
    const h = genericHash(32, Uint8Array.from([...p.init, ...response]));
    const msg = Uint8Array.from([...new TextEncoder().encode('udpvault v3 data key\0'), ...h]);
    expect(i.sendKey).toEqual(genericHash(32, msg, tx));
    expect(i.recvKey).toEqual(genericHash(32, msg, rx));
  });

  test('the init is signed over "udpvault v3 init\\0" ‖ bytes 0..108; the response over "udpvault v3 resp\\0" ‖ init ‖ response bytes 0..80', () => {
    const p = init();
    const { response } = respond(p);
    const enc = new TextEncoder();
    const initSigned = Uint8Array.from([...enc.encode('udpvault v3 init\0'), ...p.init.subarray(0, 109)]);
    const respSigned = Uint8Array.from([...enc.encode('udpvault v3 resp\0'), ...p.init, ...response.subarray(0, 81)]);
    expect(initSigned.length).toBe(17 + 109);
    expect(respSigned.length).toBe(17 + 173 + 81);
    expect(verifyDetached(p.init.subarray(109), initSigned, A.publicKey)).toBe(true);
    expect(verifyDetached(response.subarray(81), respSigned, B.publicKey)).toBe(true);
  });

  test('TOFU: an init without the responder key carries zeros there and is accepted', () => {
    const p = init({ to: null });
    expect(p.responderStatic).toBe(ZERO_KEY);
    const m = parseInit(p.init);
    expect(m.responderStatic).toEqual(new Uint8Array(32));
    expect(dropReason(() => verifyInit(m, A.publicKey, B.publicKey, fresh()))).toBe('accepted');
    const { response } = respond(p);
    expect(dropReason(() => consumeResponse(p, parseResponse(response), B.publicKey, fresh()))).toBe('accepted');
  });

  test('ephemeral secrets are wiped after use (public keys are kept)', () => {
    const eI = ephemeral();
    const eR = ephemeral();
    const eIPublic = new Uint8Array(eI.publicKey);
    const p = init({ eph: eI });
    expect(eI.privateKey.some((x) => x !== 0)).toBe(true);
    const { response } = respond(p, { eph: eR });
    expect(eR.privateKey).toEqual(new Uint8Array(32)); // responder: wiped by createResponse
    expect(eI.privateKey.some((x) => x !== 0)).toBe(true); // still needed for the response
    consumeResponse(p, parseResponse(response), B.publicKey, fresh());
    expect(eI.privateKey).toEqual(new Uint8Array(32)); // initiator: wiped by consumeResponse
    expect(p.ephemeral.privateKey).toEqual(new Uint8Array(32));
    expect(eI.publicKey).toEqual(eIPublic);
  });

  test('a weak (all-zero) initiator ephemeral key is refused as malformed, and the responder secret is wiped anyway', () => {
    const weak: KeyPair = { publicKey: new Uint8Array(32), privateKey: ephemeral().privateKey };
    const p = init({ eph: weak });
    const eR = ephemeral();
    expect(dropReason(() => respond(p, { eph: eR }))).toBe('malformed');
    expect(eR.privateKey).toEqual(new Uint8Array(32));
  });

  test('a weak (all-zero) responder ephemeral key is refused as malformed', () => {
    const p = init();
    const { response } = respond(p, { eph: { publicKey: new Uint8Array(32), privateKey: ephemeral().privateKey } });
    expect(dropReason(() => consumeResponse(p, parseResponse(response), B.publicKey, fresh()))).toBe('malformed');
  });
});

describe('checkHandshakeFreshness', () => {
  test.each([
    [NOW, null, 'accepted'],
    [NOW - WINDOW, null, 'accepted'],
    [NOW + WINDOW, null, 'accepted'],
    [NOW - WINDOW - 1, null, 'stale'],
    [NOW + WINDOW + 1, null, 'stale'],
    [NOW, NOW - 1, 'accepted'],
    [NOW, NOW, 'replay'],
    [NOW, NOW + 1, 'replay'],
    [NOW - WINDOW - 1, NOW, 'stale'], // the window is checked first
  ] as const)('ts %p, last %p → %s', (ts, last, want) => {
    expect(dropReason(() => checkHandshakeFreshness(ts, fresh(last)))).toBe(want);
  });
});

describe('verifyInit refuses', () => {
  const verify = (m: InitMessage, pinned = A.publicKey, f = fresh()): DropReason | 'accepted' => dropReason(() => verifyInit(m, pinned, B.publicKey, f));

  test('an init from a key that is not the pinned one: keyChanged', () => {
    expect(verify(parseInit(init().init), C.publicKey)).toBe('keyChanged');
    // C signing with its own key, claiming nothing false: still not the pinned identity
    expect(verify(parseInit(init({ from: C }).init))).toBe('keyChanged');
  });

  test('a bad signature: authFailure', () => {
    const p = init();
    const forged = new Uint8Array(p.init);
    forged.set(new Uint8Array(64).fill(0x5a), 109);
    expect(verify(parseInit(forged))).toBe('authFailure');
    // C's signature over an init that names A: the pinned key A does not verify it
    const byC = init({ from: C });
    const claimed = new Uint8Array(byC.init);
    claimed.set(A.publicKey, 13);
    expect(verify(parseInit(claimed))).toBe('authFailure');
  });

  test('every single-bit flip of the init is refused, each for its field’s reason', () => {
    const good = init().init;
    expect(verify(parseInit(good))).toBe('accepted');
    const want = (byte: number, bit: number): DropReason => {
      if (byte === 0) return 'malformed'; // type byte
      if (byte < 5) return 'authFailure'; // sender sid
      if (byte < 13) return timestampFlipReason(byte, bit, 5);
      if (byte < 45) return 'keyChanged'; // initiator static
      if (byte < 77) return 'unknownPeer'; // responder static
      return 'authFailure'; // ephemeral, signature
    };
    const wrong: string[] = [];
    const tally: Record<string, number> = {};
    for (let bit = 0; bit < 173 * 8; bit++) {
      const got = dropReason(() => verifyInit(parseInit(flip(good, bit)), A.publicKey, B.publicKey, fresh()));
      tally[got] = (tally[got] ?? 0) + 1;
      if (got !== want(bit >> 3, bit & 7)) wrong.push(`byte ${bit >> 3} bit ${bit & 7}: ${got}`);
    }
    expect(wrong).toEqual([]);
    expect(tally).toEqual({ malformed: 8 + 11, authFailure: 32 + 16 + 256 + 512, stale: 64 - 11 - 16, keyChanged: 256, unknownPeer: 256 });
  });

  test('a timestamp outside ±60 s: stale (boundaries accepted)', () => {
    expect(verify(parseInit(init({ ts: NOW - WINDOW - 1 }).init))).toBe('stale');
    expect(verify(parseInit(init({ ts: NOW + WINDOW + 1 }).init))).toBe('stale');
    expect(verify(parseInit(init({ ts: NOW - WINDOW }).init))).toBe('accepted');
    expect(verify(parseInit(init({ ts: NOW + WINDOW }).init))).toBe('accepted');
  });

  test('a timestamp not newer than the last accepted one: replay', () => {
    const m = parseInit(init({ ts: NOW }).init);
    expect(verify(m, A.publicKey, fresh(NOW))).toBe('replay');
    expect(verify(m, A.publicKey, fresh(NOW + 5))).toBe('replay');
    expect(verify(m, A.publicKey, fresh(NOW - 1))).toBe('accepted');
  });

  test('an init addressed to another identity: unknownPeer', () => {
    expect(verify(parseInit(init({ to: C.publicKey }).init))).toBe('unknownPeer');
  });

  test('cheap checks come before the signature: addressee, pinned key, freshness', () => {
    const p = init({ to: C.publicKey, ts: NOW - 10 * WINDOW });
    const forged = new Uint8Array(p.init);
    forged.fill(0, 109); // no valid signature at all
    expect(verify(parseInit(forged), C.publicKey)).toBe('unknownPeer');
    forged.set(B.publicKey, 45);
    expect(verify(parseInit(forged), C.publicKey)).toBe('keyChanged');
    expect(verify(parseInit(forged))).toBe('stale');
    forged.set(init().init.subarray(5, 13), 5); // fresh timestamp
    expect(verify(parseInit(forged), A.publicKey, fresh(NOW))).toBe('replay');
    expect(verify(parseInit(forged))).toBe('authFailure');
  });
});

describe('consumeResponse refuses', () => {
  test('a response for another session id: unknownSession', () => {
    const p1 = init({ sid: 111 });
    const p2 = init({ sid: 222 });
    const { response } = respond(p1);
    expect(dropReason(() => consumeResponse(p2, parseResponse(response), B.publicKey, fresh()))).toBe('unknownSession');
    expect(dropReason(() => consumeResponse(p1, parseResponse(response), B.publicKey, fresh()))).toBe('accepted');
  });

  test('a response to another init with the same session id: authFailure (the signature covers the whole init)', () => {
    const p1 = init({ sid: 333 });
    const p2 = init({ sid: 333 });
    const { response } = respond(p1);
    expect(dropReason(() => consumeResponse(p2, parseResponse(response), B.publicKey, fresh()))).toBe('authFailure');
  });

  test('a substituted responder key: keyChanged; C signing under B’s key: authFailure', () => {
    const p = init();
    const { response } = respond(p, { by: C });
    expect(dropReason(() => consumeResponse(p, parseResponse(response), B.publicKey, fresh()))).toBe('keyChanged');
    const claimed = new Uint8Array(response);
    claimed.set(B.publicKey, 17);
    expect(dropReason(() => consumeResponse(p, parseResponse(claimed), B.publicKey, fresh()))).toBe('authFailure');
  });

  test('a tampered signature: authFailure', () => {
    const p = init();
    const { response } = respond(p);
    const t = new Uint8Array(response);
    t[144]! ^= 1;
    expect(dropReason(() => consumeResponse(p, parseResponse(t), B.publicKey, fresh()))).toBe('authFailure');
    t.fill(0, 81);
    expect(dropReason(() => consumeResponse(p, parseResponse(t), B.publicKey, fresh()))).toBe('authFailure');
  });

  test('every single-bit flip of the response is refused, each for its field’s reason', () => {
    const p = init();
    const { response } = respond(p, { ts: NOW });
    const want = (byte: number, bit: number): DropReason => {
      if (byte === 0) return 'malformed';
      if (byte < 5) return 'authFailure'; // sender sid
      if (byte < 9) return 'unknownSession'; // receiver sid
      if (byte < 17) return timestampFlipReason(byte, bit, 9);
      if (byte < 49) return 'keyChanged'; // responder static
      return 'authFailure'; // ephemeral, signature
    };
    const wrong: string[] = [];
    for (let bit = 0; bit < 145 * 8; bit++) {
      const got = dropReason(() => consumeResponse(p, parseResponse(flip(response, bit)), B.publicKey, fresh()));
      if (got !== want(bit >> 3, bit & 7)) wrong.push(`byte ${bit >> 3} bit ${bit & 7}: ${got}`);
    }
    expect(wrong).toEqual([]);
    expect(p.ephemeral.privateKey.some((x) => x !== 0)).toBe(true); // refusals do not consume the attempt
    expect(dropReason(() => consumeResponse(p, parseResponse(response), B.publicKey, fresh()))).toBe('accepted');
  });

  test.each([
    [-WINDOW - 1, 'stale'],
    [WINDOW + 1, 'stale'],
    [-WINDOW, 'accepted'],
    [WINDOW, 'accepted'],
  ] as const)('a response timestamp NOW %+d ms: %s', (delta, want) => {
    const p = init();
    const { response } = respond(p, { ts: NOW + delta });
    expect(dropReason(() => consumeResponse(p, parseResponse(response), B.publicKey, fresh()))).toBe(want);
  });

  test('a replayed response (timestamp not newer than the last accepted one): replay', () => {
    const p = init();
    const { response } = respond(p, { ts: NOW + 10 });
    const m = parseResponse(response);
    expect(dropReason(() => consumeResponse(p, m, B.publicKey, fresh(NOW + 10)))).toBe('replay');
    expect(dropReason(() => consumeResponse(p, m, B.publicKey, fresh(NOW + 11)))).toBe('replay');
    expect(dropReason(() => consumeResponse(p, m, B.publicKey, fresh(NOW + 9)))).toBe('accepted');
    // once accepted, its timestamp is the last one: the same response again is a replay
    expect(dropReason(() => consumeResponse(p, m, B.publicKey, fresh(m.timestampMs)))).toBe('replay');
  });
});
