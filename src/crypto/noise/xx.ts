/**
 * Noise_XX_25519_ChaChaPoly_BLAKE2b for TOFU first contact (the initiator does not know the
 * responder's key; one more half round trip than IK):
 *
 *   -> e                          XX msg1 (0x44): payload = sender sid ‖ zero padding (plaintext)
 *   <- e, ee, s, es   payload_r   XX msg2 (0x45)
 *   -> s, se          payload_i   XX msg3 (0x46)
 *
 * msg1 is padded so that msg2 is never larger (anti-amplification). Pure, like ik.ts.
 */
import type { Random } from '../../runtime/random';
import { V4, v4Prologue, XX1_PAYLOAD_BYTES } from '../../wire/handshake-v4';
import { checkIdentityBinding, destroyOnThrow, finish, type HandshakeResult, type NoiseStatic } from './common';
import { HandshakeState, NoiseError, XX, type DhKeyPair } from './handshake-state';
import type { OwnPayload } from './ik';
import { decodePayload, encodePayload, type HandshakePayload } from './payload';

function msg1Payload(sessionId: number): Uint8Array {
  if (!(Number.isInteger(sessionId) && sessionId > 0 && sessionId <= 0xffffffff)) throw new RangeError('sessionId must be a non-zero u32');
  const p = new Uint8Array(XX1_PAYLOAD_BYTES);
  new DataView(p.buffer).setUint32(0, sessionId);
  return p;
}

function readMsg1Payload(p: Uint8Array): number {
  if (p.length !== XX1_PAYLOAD_BYTES) throw new NoiseError('malformed', 'XX msg1 payload length');
  for (let i = 4; i < p.length; i++) if (p[i] !== 0) throw new NoiseError('malformed', 'XX msg1 padding not zero');
  const sid = new DataView(p.buffer, p.byteOffset, 4).getUint32(0);
  if (sid === 0) throw new NoiseError('malformed', 'XX msg1 session id 0');
  return sid;
}

export interface XxInitiatorOptions {
  local: NoiseStatic;
  sessionId: number;
  random: Random;
  ephemeral?: DhKeyPair;
}

/** An XX attempt in flight (initiator). destroy() when abandoned. */
export class XxInitiator {
  readonly message: Uint8Array;
  readonly sessionId: number;
  readonly #hs: HandshakeState;
  readonly #local: NoiseStatic;

  private constructor(hs: HandshakeState, message: Uint8Array, sessionId: number, local: NoiseStatic) {
    this.#hs = hs;
    this.message = message;
    this.sessionId = sessionId;
    this.#local = local;
  }

  static start(o: XxInitiatorOptions): XxInitiator {
    const hs = new HandshakeState({ pattern: XX, initiator: true, prologue: v4Prologue(V4.xx1), s: o.local.keyPair, random: o.random, ...(o.ephemeral ? { e: o.ephemeral } : {}) });
    const msg = destroyOnThrow(hs, () => hs.writeMessage(msg1Payload(o.sessionId)));
    return new XxInitiator(hs, msg, o.sessionId, o.local);
  }

  /**
   * Reads msg2 and writes msg3. `decide(identity)` sees the responder's authenticated Ed25519 key
   * before msg3 is written (TOFU: compare with nothing or with a recorded key; throw to refuse).
   * A msg2 that does not authenticate throws and leaves the attempt usable; any later failure
   * ends it (the state is wiped).
   */
  consumeMessage2(noise: Uint8Array, payload: OwnPayload, decide?: (remoteIdentity: Uint8Array, remotePayload: HandshakePayload) => void): { message: Uint8Array; result: HandshakeResult } {
    const raw = this.#hs.readMessage(noise);
    return destroyOnThrow(this.#hs, () => {
      const remotePayload = decodePayload(raw, true);
      const identity = checkIdentityBinding(remotePayload, this.#hs.remoteStatic!, this.#local);
      if (decide) decide(identity.slice(), remotePayload);
      const message = this.#hs.writeMessage(encodePayload({ ...payload, identity: this.#local.identity }));
      return { message, result: finish(this.#hs, this.sessionId, remotePayload, identity) };
    });
  }

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

export interface XxResponderOptions {
  local: NoiseStatic;
  message: Uint8Array;
  random: Random;
  ephemeral?: DhKeyPair;
}

/** An XX exchange on the responder side, between msg1 and msg3. destroy() when abandoned. */
export class XxResponder {
  /** The initiator's session id (from msg1): the receiver sid of msg2. */
  readonly remoteSessionId: number;
  readonly #hs: HandshakeState;
  readonly #local: NoiseStatic;
  #sessionId = 0;

  private constructor(hs: HandshakeState, remoteSid: number, local: NoiseStatic) {
    this.#hs = hs;
    this.remoteSessionId = remoteSid;
    this.#local = local;
  }

  /** Reads msg1 (no DH: it is only an ephemeral key and the sender's sid). */
  static readMessage1(o: XxResponderOptions): XxResponder {
    const hs = new HandshakeState({ pattern: XX, initiator: false, prologue: v4Prologue(V4.xx1), s: o.local.keyPair, random: o.random, ...(o.ephemeral ? { e: o.ephemeral } : {}) });
    return destroyOnThrow(hs, () => new XxResponder(hs, readMsg1Payload(hs.readMessage(o.message)), o.local));
  }

  /** Writes msg2 (reveals this node's static, encrypted to the initiator's ephemeral). */
  writeMessage2(payload: OwnPayload): Uint8Array {
    this.#sessionId = payload.sessionId;
    return destroyOnThrow(this.#hs, () => this.#hs.writeMessage(encodePayload({ ...payload, identity: this.#local.identity })));
  }

  /**
   * Reads msg3. A msg3 that does not authenticate throws and leaves the exchange usable; an
   * authenticated one whose identity is refused (by the binding check or `decide`) ends it.
   */
  consumeMessage3(noise: Uint8Array, decide?: (remoteIdentity: Uint8Array, remotePayload: HandshakePayload) => void): HandshakeResult {
    const raw = this.#hs.readMessage(noise);
    return destroyOnThrow(this.#hs, () => {
      const remotePayload = decodePayload(raw, true);
      if (remotePayload.sessionId !== this.remoteSessionId) throw new NoiseError('malformed', 'XX msg3 session id differs from msg1');
      const identity = checkIdentityBinding(remotePayload, this.#hs.remoteStatic!, this.#local);
      if (decide) decide(identity.slice(), remotePayload);
      return finish(this.#hs, this.#sessionId, remotePayload, identity);
    });
  }

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
