/**
 * Protocol v4 handshake vectors from fixed inputs (no randomness, no clock): Ed25519 identities
 * from fixed seeds (converted to X25519 statics), fixed X25519 ephemeral secrets, fixed payloads,
 * a fixed cookie secret and nonce. Stored in test/fixtures/protocol-v4-vectors.json;
 * test/crypto/noise/vectors.test.ts checks that the code reproduces them and that
 * test/helpers/noise_check.py (python3-nacl) computes the same bytes independently.
 *
 * Jest-independent: `await sodiumReady()` first.
 */
import { ANONYMOUS_STATIC, CookieChecker, CookieGenerator } from '../../src/crypto/cookie';
import { noiseStaticFromIdentity, type HandshakeResult, type NoiseStatic } from '../../src/crypto/noise/common';
import { IkInitiator, IkResponder, type OwnPayload } from '../../src/crypto/noise/ik';
import { tai64nFromMs } from '../../src/crypto/noise/payload';
import { XxInitiator, XxResponder } from '../../src/crypto/noise/xx';
import { identityFromSeed } from '../../src/crypto/identity';
import { scalarmultBase } from '../../src/crypto/sodium';
import { ManualClock } from '../../src/runtime/clock';
import type { Random } from '../../src/runtime/random';
import { sourceBytes } from '../../src/net/source-address';
import { encodeHandshake, V4 } from '../../src/wire/handshake-v4';

export const seedBytes = (first: number): Uint8Array => Uint8Array.from({ length: 32 }, (_, i) => (first + i) & 0xff);
export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

export const V4_INPUTS = Object.freeze({
  initiatorIdentitySeed: hex(seedBytes(0x00)),
  responderIdentitySeed: hex(seedBytes(0x20)),
  initiatorEphemeralSecret: hex(seedBytes(0x40)),
  responderEphemeralSecret: hex(seedBytes(0x60)),
  initiatorSid: 0x11223344,
  responderSid: 0x55667788,
  initiatorWallClockMs: 1_800_000_000_000,
  responderWallClockMs: 1_800_000_000_250,
  maxMessageBytes: 1_048_576,
  initiatorStreamEpoch: 3,
  responderStreamEpoch: 9,
  /** One extension in the responder's payloads (type 0x01, value 2 bytes), to cover the block. */
  responderExtensionType: 1,
  responderExtensionValue: 'abcd',
  cookieSecret: hex(seedBytes(0x80)),
  cookieNonce: hex(seedBytes(0xa0).subarray(0, 24)),
  cookieSourceAddress: '127.0.0.1',
  cookieSourcePort: 11000,
});

/** Hands out fixed byte strings in order (the cookie secret, then the reply nonce). */
class FixedRandom implements Random {
  readonly #queue: Uint8Array[];
  constructor(...q: Uint8Array[]) {
    this.#queue = q;
  }
  bytes(n: number): Uint8Array {
    const b = this.#queue.shift();
    if (!b || b.length !== n) throw new Error(`FixedRandom: no ${n}-byte value queued`);
    return b.slice();
  }
  int(): number {
    throw new Error('FixedRandom.int');
  }
  float(): number {
    throw new Error('FixedRandom.float');
  }
}

const noRandom = new FixedRandom();

export interface V4Vectors {
  initiatorIdentityPublic: string;
  responderIdentityPublic: string;
  initiatorStaticX25519: string;
  responderStaticX25519: string;
  initiatorEphemeralPublic: string;
  responderEphemeralPublic: string;
  ik: { init: string; response: string; handshakeHash: string; initiatorSendKey: string; initiatorRecvKey: string };
  xx: { msg1: string; msg2: string; msg3: string; handshakeHash: string; initiatorSendKey: string; initiatorRecvKey: string };
  cookie: { cookieReply: string; initWithMac2: string };
}

function keys(r: HandshakeResult): { handshakeHash: string; initiatorSendKey: string; initiatorRecvKey: string } {
  return { handshakeHash: hex(r.handshakeHash), initiatorSendKey: hex(r.sendKey), initiatorRecvKey: hex(r.recvKey) };
}

export function makeV4Vectors(): V4Vectors {
  const I = V4_INPUTS;
  const ini: NoiseStatic = noiseStaticFromIdentity(identityFromSeed(unhex(I.initiatorIdentitySeed)));
  const res: NoiseStatic = noiseStaticFromIdentity(identityFromSeed(unhex(I.responderIdentitySeed)));
  const eI = (): { publicKey: Uint8Array; privateKey: Uint8Array } => ({ privateKey: unhex(I.initiatorEphemeralSecret), publicKey: scalarmultBase(unhex(I.initiatorEphemeralSecret)) });
  const eR = (): { publicKey: Uint8Array; privateKey: Uint8Array } => ({ privateKey: unhex(I.responderEphemeralSecret), publicKey: scalarmultBase(unhex(I.responderEphemeralSecret)) });
  const pI: OwnPayload = { timestamp: tai64nFromMs(I.initiatorWallClockMs), wallClockMs: I.initiatorWallClockMs, sessionId: I.initiatorSid, maxMessageBytes: I.maxMessageBytes, streamEpoch: I.initiatorStreamEpoch, extensions: [] };
  const pR: OwnPayload = {
    timestamp: tai64nFromMs(I.responderWallClockMs),
    wallClockMs: I.responderWallClockMs,
    sessionId: I.responderSid,
    maxMessageBytes: I.maxMessageBytes,
    streamEpoch: I.responderStreamEpoch,
    extensions: [{ type: I.responderExtensionType, value: unhex(I.responderExtensionValue) }],
  };
  const clock = new ManualClock();
  const toResponder = (): CookieGenerator => new CookieGenerator({ receiverStatic: res.keyPair.publicKey, clock });
  const toInitiator = (): CookieGenerator => new CookieGenerator({ receiverStatic: ini.keyPair.publicKey, clock });
  const anonymous = (): CookieGenerator => new CookieGenerator({ receiverStatic: ANONYMOUS_STATIC, clock });
  const wire = (type: Parameters<typeof encodeHandshake>[0], sid: number | null, noise: Uint8Array, g: CookieGenerator): Uint8Array => {
    const b = encodeHandshake(type, sid, noise);
    g.addMacs(b);
    return b;
  };

  // IK
  const ikI = IkInitiator.start({ local: ini, remoteIdentity: res.identity, payload: pI, random: noRandom, ephemeral: eI() });
  const genToResponder = toResponder();
  const init = wire(V4.ikInit, null, ikI.message, genToResponder);
  const ikR = IkResponder.readInit({ local: res, message: ikI.message, random: noRandom, ephemeral: eR() });
  const { message: respNoise } = ikR.respond(pR);
  const response = wire(V4.ikResponse, I.initiatorSid, respNoise, toInitiator());
  const ikResult = ikI.consumeResponse(respNoise);

  // cookie round trip on the IK init
  const checker = new CookieChecker({ receiverStatic: res.keyPair.publicKey, clock, random: new FixedRandom(unhex(I.cookieSecret), unhex(I.cookieNonce)) });
  const cookieReply = checker.createReply(init, sourceBytes(I.cookieSourceAddress, I.cookieSourcePort));
  if (!genToResponder.consumeReply(cookieReply)) throw new Error('vector cookie reply refused');
  const initWithMac2 = init.slice();
  genToResponder.addMacs(initWithMac2);

  // XX
  const xxI = XxInitiator.start({ local: ini, sessionId: I.initiatorSid, random: noRandom, ephemeral: eI() });
  const msg1 = wire(V4.xx1, null, xxI.message, anonymous());
  const xxR = XxResponder.readMessage1({ local: res, message: xxI.message, random: noRandom, ephemeral: eR() });
  const m2 = xxR.writeMessage2(pR);
  const msg2 = wire(V4.xx2, I.initiatorSid, m2, anonymous());
  const { message: m3, result: xxResult } = xxI.consumeMessage2(m2, pI);
  const msg3 = wire(V4.xx3, I.responderSid, m3, toResponder());
  xxR.consumeMessage3(m3);

  return {
    initiatorIdentityPublic: hex(ini.identity),
    responderIdentityPublic: hex(res.identity),
    initiatorStaticX25519: hex(ini.keyPair.publicKey),
    responderStaticX25519: hex(res.keyPair.publicKey),
    initiatorEphemeralPublic: hex(eI().publicKey),
    responderEphemeralPublic: hex(eR().publicKey),
    ik: { init: hex(init), response: hex(response), ...keys(ikResult) },
    xx: { msg1: hex(msg1), msg2: hex(msg2), msg3: hex(msg3), ...keys(xxResult) },
    cookie: { cookieReply: hex(cookieReply), initWithMac2: hex(initWithMac2) },
  };
}
