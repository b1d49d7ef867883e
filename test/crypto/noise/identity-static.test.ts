/**
 * The node's remembered Ed25519 → X25519 conversions (hs19, issue 12): a conversion costs more
 * than an X25519 DH (~47 µs on sodium-native), and a first contact used to convert the same peer
 * key ~6 times on each side (addPeer's alias check and the peer's trust, the cookie generator,
 * the IK start, the static-static DH, the responder's identity binding). Counted exactly with the
 * backend's conversion wrapped: each key is converted once while remembered, the memory is
 * bounded, every answer is a fresh copy, and a key a datagram offers is never remembered (its
 * binding check converts it, or compares it with the peer's key the table found by the static).
 */
import { checkIdentityBinding, identityStatic, IDENTITY_STATICS_MAX, noiseStaticFromIdentity, x25519FromIdentityKey, type NoiseStatic } from '../../../src/crypto/noise/common';
import { HandshakeState, IK } from '../../../src/crypto/noise/handshake-state';
import { IkInitiator, IkResponder, type OwnPayload } from '../../../src/crypto/noise/ik';
import { encodePayload, tai64nFromMs, type HandshakePayload } from '../../../src/crypto/noise/payload';
import { identityFromSeed } from '../../../src/crypto/identity';
import { sodiumReady } from '../../../src/crypto/sodium';
import { SeededRandom } from '../../../src/runtime/random';
import { V4, v4Prologue } from '../../../src/wire/handshake-v4';

/** Every Ed25519 public key the backend converted, as hex, in order. */
const converted: string[] = [];
jest.mock('../../../src/crypto/sodium', () => {
  const actual = jest.requireActual('../../../src/crypto/sodium');
  return {
    ...actual,
    ed25519PkToX25519: (pk: Uint8Array): Uint8Array => {
      converted.push(Buffer.from(pk).toString('hex'));
      return actual.ed25519PkToX25519(pk);
    },
  };
});

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const keyOf = (seed: number): Uint8Array => identityFromSeed(new Uint8Array(32).fill(seed)).publicKey;
const timesConverted = (k: Uint8Array): number => converted.filter((h) => h === hex(k)).length;
const payload = (sid: number): OwnPayload => ({ timestamp: tai64nFromMs(1000 + sid), wallClockMs: 1000, sessionId: sid, maxMessageBytes: 1 << 20, streamEpoch: 0, extensions: [] });
const random = new SeededRandom(19);

beforeAll(() => sodiumReady());

describe('identityStatic', () => {
  test('the same bytes as a conversion, converted once while remembered, a fresh copy each time', () => {
    const k = keyOf(101);
    const first = identityStatic(k)!;
    expect(hex(first)).toBe(hex(x25519FromIdentityKey(k)!));
    const before = timesConverted(k);
    first.fill(0); // a caller wiping its copy
    const again = identityStatic(k)!;
    expect(hex(again)).toBe(hex(x25519FromIdentityKey(k)!));
    expect(again).not.toBe(first);
    expect(timesConverted(k)).toBe(before + 1); // the x25519FromIdentityKey call above, not identityStatic
  });

  test('a key that is not a point: null, remembered as such', () => {
    const notAPoint = new Uint8Array(32).fill(0xff);
    expect(identityStatic(notAPoint)).toBeNull();
    const n = timesConverted(notAPoint);
    expect(identityStatic(notAPoint)).toBeNull();
    expect(timesConverted(notAPoint)).toBe(n);
  });

  test(`bounded: after ${IDENTITY_STATICS_MAX} other keys the oldest is converted again`, () => {
    const k = keyOf(102);
    identityStatic(k);
    expect(timesConverted(k)).toBe(1);
    for (let i = 0; i < IDENTITY_STATICS_MAX - 1; i++) identityStatic(identityFromSeed(new Uint8Array(32).fill(i + 1).map((x, j) => (j === 0 ? 200 : x))).publicKey);
    identityStatic(k);
    expect(timesConverted(k)).toBe(1); // still one of the last IDENTITY_STATICS_MAX
    identityStatic(keyOf(103));
    identityStatic(k);
    expect(timesConverted(k)).toBe(2); // dropped as the oldest, converted again
  });
});

describe('an IK exchange converts each key once', () => {
  let alice: NoiseStatic;
  let bob: NoiseStatic;
  beforeAll(() => {
    alice = noiseStaticFromIdentity(identityFromSeed(new Uint8Array(32).fill(111)));
    bob = noiseStaticFromIdentity(identityFromSeed(new Uint8Array(32).fill(112)));
  });

  test('the initiator converts the pinned key at most once over many starts; the responder binds the known peer key without converting it', () => {
    const n0 = converted.length;
    for (let sid = 1; sid <= 3; sid++) {
      const i = IkInitiator.start({ local: alice, remoteIdentity: bob.identity, payload: payload(sid), random });
      const r = IkResponder.readInit({ local: bob, message: i.message, random, knownIdentity: () => alice.identity });
      expect(hex(r.remoteIdentity)).toBe(hex(alice.identity));
      const { message, result } = r.respond(payload(sid + 10));
      expect(hex(i.consumeResponse(message).sendKey)).toBe(hex(result.recvKey));
    }
    // Both statics were remembered by noiseStaticFromIdentity: nothing converted at all.
    expect(converted.length).toBe(n0);
    // Without a known key the responder converts the offered identity, every time (never remembered).
    const i = IkInitiator.start({ local: alice, remoteIdentity: bob.identity, payload: payload(7), random });
    IkResponder.readInit({ local: bob, message: i.message, random }).destroy();
    const j = IkInitiator.start({ local: alice, remoteIdentity: bob.identity, payload: payload(8), random });
    IkResponder.readInit({ local: bob, message: j.message, random }).destroy();
    expect(converted.slice(n0)).toEqual([hex(alice.identity), hex(alice.identity)]);
    i.destroy();
    j.destroy();
  });

  test('a known key the payload does not name is no shortcut: the payload identity must still convert to the static', () => {
    const mallory = noiseStaticFromIdentity(identityFromSeed(new Uint8Array(32).fill(113)));
    // mallory's static, alice's identity in the payload: refused with or without a known key
    const hs = new HandshakeState({ pattern: IK, initiator: true, prologue: v4Prologue(V4.ikInit), s: mallory.keyPair, rs: bob.keyPair.publicKey, random });
    const msg = hs.writeMessage(encodePayload({ ...payload(5), identity: alice.identity }));
    expect(() => IkResponder.readInit({ local: bob, message: msg, random, knownIdentity: () => mallory.identity })).toThrow('identity key does not match');
    // checkIdentityBinding directly: the known key binds only when the payload names exactly it
    const p = (identity: Uint8Array): HandshakePayload => ({ ...payload(1), identity });
    expect(hex(checkIdentityBinding(p(alice.identity), alice.keyPair.publicKey, bob, alice.identity))).toBe(hex(alice.identity));
    expect(() => checkIdentityBinding(p(mallory.identity), alice.keyPair.publicKey, bob, alice.identity)).toThrow('identity key does not match');
    expect(() => checkIdentityBinding(p(alice.identity.subarray(0, 31)), alice.keyPair.publicKey, bob, alice.identity)).toThrow('identity key does not match');
    expect(() => checkIdentityBinding(p(bob.identity), bob.keyPair.publicKey, bob, bob.identity)).toThrow('own key');
  });
});
