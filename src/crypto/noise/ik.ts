/**
 * Noise_IK_25519_ChaChaPoly_BLAKE2b for a pinned responder (one round trip):
 *
 *   <- s                          (pre-message: the pinned key, converted to X25519)
 *   -> e, es, s, ss   payload_i   IK init (0x41)
 *   <- e, ee, se      payload_r   IK response (0x42)
 *
 * Pure: no I/O, clock or trust decisions (the node passes `onRemoteStatic` to look the initiator
 * up). Returns Noise messages; src/wire/handshake-v4.ts frames them and cookie.ts adds the macs.
 */
import type { Random } from '../../runtime/random';
import { V4, v4Prologue } from '../../wire/handshake-v4';
import { constantTimeEqual } from '../sodium';
import { checkIdentityBinding, destroyOnThrow, finish, identityStatic, type HandshakeResult, type NoiseStatic } from './common';
import { HandshakeState, IK, type DhKeyPair } from './handshake-state';
import { decodePayload, encodePayload, type HandshakePayload } from './payload';

export type OwnPayload = Omit<HandshakePayload, 'identity'>;

export interface IkInitiatorOptions {
  local: NoiseStatic;
  /** The responder's pinned Ed25519 key (converted to its X25519 static here). */
  remoteIdentity: Uint8Array;
  payload: OwnPayload;
  random: Random;
  /** A given ephemeral (test vectors only). */
  ephemeral?: DhKeyPair;
  /** Cached DH(local static, responder static) for this peer (saves one DH per attempt). */
  staticStatic?: Uint8Array;
}

/** An IK attempt in flight. Call destroy() when it is abandoned (retry, timeout, close). */
export class IkInitiator {
  /** The Noise message of the init. */
  readonly message: Uint8Array;
  readonly sessionId: number;
  readonly #hs: HandshakeState;
  readonly #remoteIdentity: Uint8Array;

  private constructor(hs: HandshakeState, message: Uint8Array, sessionId: number, remoteIdentity: Uint8Array) {
    this.#hs = hs;
    this.message = message;
    this.sessionId = sessionId;
    this.#remoteIdentity = remoteIdentity;
  }

  static start(o: IkInitiatorOptions): IkInitiator {
    const rs = identityStatic(o.remoteIdentity);
    if (!rs) throw new RangeError('the responder key is not a valid Ed25519 point');
    if (constantTimeEqual(rs, o.local.keyPair.publicKey)) throw new RangeError('a handshake with this node’s own key is refused');
    const hs = new HandshakeState({ pattern: IK, initiator: true, prologue: v4Prologue(V4.ikInit), s: o.local.keyPair, rs, random: o.random, ...(o.ephemeral ? { e: o.ephemeral } : {}), ...(o.staticStatic ? { staticStatic: o.staticStatic } : {}) });
    const msg = destroyOnThrow(hs, () => hs.writeMessage(encodePayload({ ...o.payload, identity: o.local.identity })));
    return new IkInitiator(hs, msg, o.payload.sessionId, o.remoteIdentity.slice());
  }

  /**
   * Reads the response. Throws NoiseError when it does not authenticate or is malformed; the
   * attempt then stays usable for the genuine response. On success the state is wiped.
   */
  consumeResponse(noise: Uint8Array): HandshakeResult {
    const raw = this.#hs.readMessage(noise);
    let payload: HandshakePayload;
    try {
      payload = decodePayload(raw, false);
    } catch (err) {
      // Authenticated but malformed: the responder really sent it; the attempt is over.
      this.#hs.destroy();
      throw err;
    }
    return finish(this.#hs, this.sessionId, payload, this.#remoteIdentity.slice());
  }

  /** @internal live secrets, for wipe tests. */
  secretViews(): Uint8Array[] {
    return this.#hs.secretViews();
  }

  get destroyed(): boolean {
    return this.#hs.destroyed;
  }

  destroy(): void {
    this.#hs.destroy();
  }
}

export interface IkResponderOptions {
  local: NoiseStatic;
  /** The init's Noise message. */
  message: Uint8Array;
  random: Random;
  ephemeral?: DhKeyPair;
  /**
   * Called with the initiator's X25519 static right after it is decrypted (one DH spent), before
   * the second DH: look the peer up (O(1)) and throw to refuse an unknown key. Returning the
   * peer's cached DH(local static, its static) skips the second DH, so a forged init naming a
   * known key costs one DH, the same as an unknown one.
   */
  onRemoteStatic?: (remoteStatic: Uint8Array) => Uint8Array | void;
  /**
   * After onRemoteStatic: the Ed25519 key the node knows for that static (its peer, found by the
   * static), if any. A payload naming exactly this key is bound without converting it again.
   */
  knownIdentity?: () => Uint8Array | null;
}

/** A verified IK init, waiting for the responder's answer. */
export class IkResponder {
  readonly remoteIdentity: Uint8Array;
  readonly remoteStatic: Uint8Array;
  readonly remotePayload: HandshakePayload;
  readonly #hs: HandshakeState;

  private constructor(hs: HandshakeState, payload: HandshakePayload, identity: Uint8Array) {
    this.#hs = hs;
    this.remotePayload = payload;
    this.remoteIdentity = identity;
    this.remoteStatic = hs.remoteStatic!;
  }

  /** Reads an init. Throws NoiseError (or what onRemoteStatic throws); nothing is kept then. */
  static readInit(o: IkResponderOptions): IkResponder {
    const hs = new HandshakeState({ pattern: IK, initiator: false, prologue: v4Prologue(V4.ikInit), s: o.local.keyPair, random: o.random, ...(o.ephemeral ? { e: o.ephemeral } : {}) });
    return destroyOnThrow(hs, () => {
      const raw = hs.readMessage(o.message, o.onRemoteStatic ? { onRemoteStatic: o.onRemoteStatic } : {});
      const payload = decodePayload(raw, true);
      const identity = checkIdentityBinding(payload, hs.remoteStatic!, o.local, o.knownIdentity?.() ?? undefined);
      return new IkResponder(hs, payload, identity);
    });
  }

  /** Writes the response and derives the session keys; the handshake state is wiped. */
  respond(payload: OwnPayload): { message: Uint8Array; result: HandshakeResult } {
    const message = destroyOnThrow(this.#hs, () => this.#hs.writeMessage(encodePayload(payload)));
    const result = finish(this.#hs, payload.sessionId, this.remotePayload, this.remoteIdentity);
    return { message, result };
  }

  secretViews(): Uint8Array[] {
    return this.#hs.secretViews();
  }

  destroy(): void {
    this.#hs.destroy();
  }
}
