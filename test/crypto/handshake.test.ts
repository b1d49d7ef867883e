/** The pure v3 handshake (docs/PROTOCOL.md §3–§5): round trip, key derivation, every refusal, replay by the identity's own timestamps only. */
import {
  checkHandshakeReplay,
  consumeResponse,
  createInit,
  createResponse,
  verifyInit,
  ZERO_KEY,
  type ReplayInput,
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

const fresh = (lastTimestampMs: number | null = null): ReplayInput => ({ lastTimestampMs });

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

/**
 * Reason for a flipped bit of a big-endian u64 timestamp at [start, start+8): no window against
 * our clock, so any value the parser takes fails only the signature.
 */
function timestampFlipReason(byte: number, bit: number, start: number): DropReason {
  const p = (start + 7 - byte) * 8 + (7 - bit); // bit position from the least significant
  if (p >= 53) return 'malformed'; // above 2^53 − 1: refused by the parser
  return 'authFailure';
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
    const i = consumeResponse(p, resp, B.publicKey);

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
    expect(dropReason(() => consumeResponse(p, parseResponse(response), B.publicKey))).toBe('accepted');
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
    consumeResponse(p, parseResponse(response), B.publicKey);
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
    expect(dropReason(() => consumeResponse(p, parseResponse(response), B.publicKey))).toBe('malformed');
  });
});

describe('checkHandshakeReplay: an identity’s timestamp against its own earlier ones only', () => {
  test.each([
    [NOW, null, 'accepted'],
    [NOW - 3_600_000, null, 'accepted'], // an hour behind our clock: clocks need not agree
    [NOW + 86_400_000, null, 'accepted'],
    [0, null, 'accepted'],
    [NOW, NOW - 1, 'accepted'],
    [NOW, NOW, 'replay'],
    [NOW, NOW + 1, 'replay'],
    [NOW - 3_600_000, NOW - 3_600_001, 'accepted'],
  ] as const)('ts %p, last %p → %s', (ts, last, want) => {
    expect(dropReason(() => checkHandshakeReplay(ts, fresh(last)))).toBe(want);
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
    expect(tally).toEqual({ malformed: 8 + 11, authFailure: 32 + (64 - 11) + 256 + 512, keyChanged: 256, unknownPeer: 256 });
  });

  test('a timestamp minutes away from our clock is accepted (no window: clocks need not agree)', () => {
    expect(verify(parseInit(init({ ts: NOW - 150_000 }).init))).toBe('accepted');
    expect(verify(parseInit(init({ ts: NOW + 150_000 }).init))).toBe('accepted');
    expect(verify(parseInit(init({ ts: NOW - 10 * WINDOW }).init), A.publicKey, fresh(NOW - 10 * WINDOW - 1))).toBe('accepted');
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

  test('cheap checks come before the signature: addressee, pinned key, replay', () => {
    const p = init({ to: C.publicKey, ts: NOW });
    const forged = new Uint8Array(p.init);
    forged.fill(0, 109); // no valid signature at all
    expect(verify(parseInit(forged), C.publicKey)).toBe('unknownPeer');
    forged.set(B.publicKey, 45);
    expect(verify(parseInit(forged), C.publicKey)).toBe('keyChanged');
    expect(verify(parseInit(forged), A.publicKey, fresh(NOW))).toBe('replay');
    expect(verify(parseInit(forged))).toBe('authFailure');
  });
});

describe('consumeResponse refuses', () => {
  test('a response for another session id: unknownSession', () => {
    const p1 = init({ sid: 111 });
    const p2 = init({ sid: 222 });
    const { response } = respond(p1);
    expect(dropReason(() => consumeResponse(p2, parseResponse(response), B.publicKey))).toBe('unknownSession');
    expect(dropReason(() => consumeResponse(p1, parseResponse(response), B.publicKey))).toBe('accepted');
  });

  test('a response to another init with the same session id: authFailure (the signature covers the whole init)', () => {
    const p1 = init({ sid: 333 });
    const p2 = init({ sid: 333 });
    const { response } = respond(p1);
    expect(dropReason(() => consumeResponse(p2, parseResponse(response), B.publicKey))).toBe('authFailure');
  });

  test('a substituted responder key: keyChanged; C signing under B’s key: authFailure', () => {
    const p = init();
    const { response } = respond(p, { by: C });
    expect(dropReason(() => consumeResponse(p, parseResponse(response), B.publicKey))).toBe('keyChanged');
    const claimed = new Uint8Array(response);
    claimed.set(B.publicKey, 17);
    expect(dropReason(() => consumeResponse(p, parseResponse(claimed), B.publicKey))).toBe('authFailure');
  });

  test('a tampered signature: authFailure', () => {
    const p = init();
    const { response } = respond(p);
    const t = new Uint8Array(response);
    t[144]! ^= 1;
    expect(dropReason(() => consumeResponse(p, parseResponse(t), B.publicKey))).toBe('authFailure');
    t.fill(0, 81);
    expect(dropReason(() => consumeResponse(p, parseResponse(t), B.publicKey))).toBe('authFailure');
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
      const got = dropReason(() => consumeResponse(p, parseResponse(flip(response, bit)), B.publicKey));
      if (got !== want(bit >> 3, bit & 7)) wrong.push(`byte ${bit >> 3} bit ${bit & 7}: ${got}`);
    }
    expect(wrong).toEqual([]);
    expect(p.ephemeral.privateKey.some((x) => x !== 0)).toBe(true); // refusals do not consume the attempt
    expect(dropReason(() => consumeResponse(p, parseResponse(response), B.publicKey))).toBe('accepted');
  });

  test.each([-150_000, 150_000, -86_400_000, 0])('a response timestamp NOW %+d ms is accepted and returned (it tells the responder clock; the signature binds it to our init)', (delta) => {
    const p = init();
    const { response } = respond(p, { ts: NOW + delta });
    expect(consumeResponse(p, parseResponse(response), B.publicKey).remoteTimestampMs).toBe(NOW + delta);
  });

  test('a response cannot be replayed into another attempt: the signature covers the init', () => {
    const p1 = init({ sid: 444 });
    const { response } = respond(p1);
    const p2 = init({ sid: 444 });
    expect(dropReason(() => consumeResponse(p2, parseResponse(response), B.publicKey))).toBe('authFailure');
  });
});
