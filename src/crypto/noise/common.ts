/**
 * What IK and XX share: the local static (the Ed25519 identity converted to X25519), the binding
 * check between a payload's Ed25519 identity and the Noise static it travelled with, and the
 * result handed to the node once a pattern completes.
 */
import { constantTimeEqual, ed25519PkToX25519, ed25519SkToX25519Scrubbed, scrubWasmStack, wipe, x25519 } from '../sodium';
import { NoiseError, type DhKeyPair, type HandshakeState } from './handshake-state';
import type { HandshakePayload } from './payload';

/** This node's handshake identity: its Ed25519 public key and the X25519 pair derived from it. */
export interface NoiseStatic {
  identity: Uint8Array;
  keyPair: DhKeyPair;
}

/** X25519 form of an Ed25519 public key; null for a key that is not a valid, large-order point. */
export function x25519FromIdentityKey(edPublic: Uint8Array): Uint8Array | null {
  try {
    return ed25519PkToX25519(edPublic);
  } catch {
    return null;
  }
}

/** Conversions the node keeps (IDENTITY_STATICS_MAX, the oldest dropped first). */
export const IDENTITY_STATICS_MAX = 64;
/** Ed25519 key bytes (latin1) → its X25519 form, or null (not a valid point). Public keys only. */
const identityStatics = new Map<string, Uint8Array | null>();

/**
 * x25519FromIdentityKey for keys the node itself chose to talk to (its own key, the keys of
 * peers it adds, pins or records once a handshake authenticated them, and starts handshakes
 * with), remembered: one conversion costs ~47 µs
 * (sodium-native; more than an X25519 DH) and a first contact made ~6 of the same key on each
 * side (hs19). Returns a fresh copy (callers may wipe or keep it). Never for keys a datagram
 * offers (checkIdentityBinding converts those uncached): whether a key was converted lately
 * would then show in a response's timing.
 */
export function identityStatic(edPublic: Uint8Array): Uint8Array | null {
  const k = Buffer.from(edPublic.buffer, edPublic.byteOffset, edPublic.byteLength).toString('latin1');
  let x = identityStatics.get(k);
  if (x === undefined) {
    x = x25519FromIdentityKey(edPublic);
    if (identityStatics.size >= IDENTITY_STATICS_MAX) identityStatics.delete(identityStatics.keys().next().value!);
    identityStatics.set(k, x);
  }
  return x === null ? null : x.slice();
}

/** Converts an Ed25519 identity (crypto_sign_ed25519_{pk,sk}_to_curve25519). Wipe with destroyNoiseStatic. */
export function noiseStaticFromIdentity(id: { publicKey: Uint8Array; privateKey: Uint8Array }): NoiseStatic {
  const pk = identityStatic(id.publicKey);
  if (!pk) throw new RangeError('identity public key is not a valid Ed25519 point');
  return { identity: id.publicKey.slice(), keyPair: { publicKey: pk, privateKey: ed25519SkToX25519Scrubbed(id.privateKey) } };
}

export function destroyNoiseStatic(s: NoiseStatic): void {
  wipe(s.keyPair.privateKey);
  scrubWasmStack('full');
}

/**
 * The payload's Ed25519 identity must convert to exactly the static the Noise message carried
 * (and that static is authenticated by the DH that follows it); a message naming our own key is
 * refused. `known` (optional): an Ed25519 key whose X25519 form is remoteStatic, as the caller
 * established it (never a key the message offered).
 */
export function checkIdentityBinding(payload: HandshakePayload, remoteStatic: Uint8Array, local: NoiseStatic, known?: Uint8Array): Uint8Array {
  const id = payload.identity;
  if (!id) throw new NoiseError('malformed', 'handshake payload without identity');
  // `known`: a key whose X25519 form the caller matched to remoteStatic already (the peer its
  // table found by that static): the same key binds without a conversion (~47 µs, hs19).
  if (!(known !== undefined && id.length === known.length && constantTimeEqual(id, known))) {
    const x = x25519FromIdentityKey(id);
    if (!x || !constantTimeEqual(x, remoteStatic)) throw new NoiseError('authFailure', 'identity key does not match the handshake static');
  }
  if (constantTimeEqual(remoteStatic, local.keyPair.publicKey)) throw new NoiseError('refused', 'handshake names this node’s own key');
  return id;
}

export interface HandshakeResult {
  pattern: 'IK' | 'XX';
  initiator: boolean;
  /** XChaCha20-Poly1305 keys for the data packets (Noise Split: i→r, r→i, oriented for this side). */
  sendKey: Uint8Array;
  recvKey: Uint8Array;
  /** Noise h at the end of the handshake (channel binding; not secret). */
  handshakeHash: Uint8Array;
  remoteIdentity: Uint8Array;
  remoteStatic: Uint8Array;
  localSessionId: number;
  remoteSessionId: number;
  /** The peer's payload: timestamp (replay), wall clock (offset), maxMessageBytes, epoch, extensions. */
  remotePayload: HandshakePayload;
}

export function finish(hs: HandshakeState, localSessionId: number, remotePayload: HandshakePayload, remoteIdentity: Uint8Array): HandshakeResult {
  const remoteStatic = hs.remoteStatic!;
  const { sendKey, recvKey, handshakeHash } = hs.split();
  return {
    pattern: hs.pattern.name,
    initiator: hs.initiator,
    sendKey,
    recvKey,
    handshakeHash,
    remoteIdentity,
    remoteStatic,
    localSessionId,
    remoteSessionId: remotePayload.sessionId,
    remotePayload,
  };
}

/** Runs `f`; on any throw destroys `hs` first (the failure exit path of a one-shot step). */
export function destroyOnThrow<T>(hs: HandshakeState, f: () => T): T {
  try {
    return f();
  } catch (err) {
    hs.destroy();
    throw err;
  }
}

/** DH(local static, peer static): the per-peer `ss` cache (wipe it when the peer goes away). */
export function staticStaticFor(local: NoiseStatic, peerIdentity: Uint8Array): Uint8Array | null {
  const x = identityStatic(peerIdentity);
  return x ? x25519(local.keyPair.privateKey, x) : null;
}
