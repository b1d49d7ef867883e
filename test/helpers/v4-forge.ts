/** Test-only: v4 handshake messages as an attacker builds them (forged, replayed, from unknown keys). */
import { CookieGenerator } from '../../src/crypto/cookie';
import { noiseStaticFromIdentity, x25519FromIdentityKey, type NoiseStatic } from '../../src/crypto/noise/common';
import { IkInitiator } from '../../src/crypto/noise/ik';
import { tai64nFromMs } from '../../src/crypto/noise/payload';
import type { Identity } from '../../src/crypto/identity';
import { encodeHandshake, V4 } from '../../src/wire/handshake-v4';
import { systemClock, type Clock } from '../../src/runtime/clock';
import type { Random } from '../../src/runtime/random';

export interface ForgeIkInit {
  /** The Ed25519 key the init claims to come from. */
  claimed: Uint8Array;
  /** Whose secret the attacker really holds (the claimed key's own identity: a genuine init). */
  secretOf: Identity;
  /** The responder's Ed25519 key (mac1 and IK's pre-message). */
  responderKey: Uint8Array;
  sid: number;
  random: Random;
  wallMs: number;
  /** Adds mac2 when it holds a cookie. */
  gen?: CookieGenerator;
  clock?: Clock;
}

/** An IK init with a valid mac1. With claimed ≠ secretOf's key it fails at the responder's AEAD (authFailure). */
export function forgeIkInit(o: ForgeIkInit): Uint8Array {
  const real = noiseStaticFromIdentity(o.secretOf);
  const local: NoiseStatic = { identity: o.claimed, keyPair: { publicKey: x25519FromIdentityKey(o.claimed)!, privateKey: real.keyPair.privateKey } };
  const init = IkInitiator.start({
    local,
    remoteIdentity: o.responderKey,
    payload: { timestamp: tai64nFromMs(o.wallMs), wallClockMs: o.wallMs, sessionId: o.sid, maxMessageBytes: 1 << 20, streamEpoch: 0 },
    random: o.random,
  });
  const bytes = encodeHandshake(V4.ikInit, null, init.message);
  init.destroy();
  (o.gen ?? new CookieGenerator({ receiverStatic: x25519FromIdentityKey(o.responderKey)!, clock: o.clock ?? systemClock })).addMacs(bytes);
  return bytes;
}

/** Sizes of the v4 messages without extensions (what the node sends). */
export const IK_INIT_BYTES = 199;
export const IK_RESPONSE_BYTES = 123;
export const XX1_BYTES = 267;
export const XX2_BYTES = 203;
export const XX3_BYTES = 171;
export const COOKIE_REPLY_BYTES = 61;
