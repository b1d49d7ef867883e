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

/** Converts an Ed25519 identity (crypto_sign_ed25519_{pk,sk}_to_curve25519). Wipe with destroyNoiseStatic. */
export function noiseStaticFromIdentity(id: { publicKey: Uint8Array; privateKey: Uint8Array }): NoiseStatic {
  const pk = x25519FromIdentityKey(id.publicKey);
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
 * refused.
 */
export function checkIdentityBinding(payload: HandshakePayload, remoteStatic: Uint8Array, local: NoiseStatic): Uint8Array {
  const id = payload.identity;
  if (!id) throw new NoiseError('malformed', 'handshake payload without identity');
  const x = x25519FromIdentityKey(id);
  if (!x || !constantTimeEqual(x, remoteStatic)) throw new NoiseError('authFailure', 'identity key does not match the handshake static');
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
  const x = x25519FromIdentityKey(peerIdentity);
  return x ? x25519(local.keyPair.privateKey, x) : null;
}
