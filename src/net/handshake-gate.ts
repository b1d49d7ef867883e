/**
 * The cheap front of the v4 handshake receive path (docs/PROTOCOL.md §5.3): everything that
 * happens to a handshake datagram before any lookup or Diffie-Hellman.
 *
 *   1 length and type (wire/handshake-v4)                         → drop malformed
 *   2 mac1 (keyed by this node's static; the zero key for XX msg1/msg2)  → drop authFailure
 *   2b answers (IK response, XX msg2/msg3: a receiver sid in the clear) go on only when they
 *      name one of our pending attempts (O(1)), without admission: they answer our own work
 *      and are bounded by it                                              → drop unknownSession
 *   3 XX msg1 only: the source must be the configured endpoint of a key-less peer → drop unknownPeer
 *   4 admission: cookie needed (under load, or XX msg1) without a valid mac2 → cookie reply
 *     over the source's fair share or the global budget                   → drop rateLimited
 *   5 process (the caller looks the peer / pending attempt up and runs the Noise step)
 *
 * Pure apart from the injected clock and random (through CookieChecker and Admission).
 */
import { ANONYMOUS_STATIC, CookieChecker } from '../crypto/cookie';
import type { Clock } from '../runtime/clock';
import type { Random } from '../runtime/random';
import { isHandshakeType, messageSizeRange, parseHandshake, V4, type HandshakeMessage, type V4HandshakeType } from '../wire/handshake-v4';
import { Admission, type AdmissionOptions } from './admission';
import { sourceBytes, sourceKey } from './source-address';

export type GateResult =
  | { action: 'process'; message: HandshakeMessage }
  | { action: 'cookie'; reply: Uint8Array }
  | { action: 'drop'; reason: 'malformed' | 'authFailure' | 'unknownPeer' | 'unknownSession' | 'rateLimited' };

/** Cookie-reply nonces drawn at a time (see CookieCheckerOptions.noncesPerDraw). */
const NONCES_PER_DRAW = 64;
const DROP_MALFORMED: GateResult = Object.freeze({ action: 'drop', reason: 'malformed' });
const DROP_AUTH: GateResult = Object.freeze({ action: 'drop', reason: 'authFailure' });
const DROP_RATE: GateResult = Object.freeze({ action: 'drop', reason: 'rateLimited' });
const SIZE_RANGES = Object.fromEntries(([V4.ikInit, V4.ikResponse, V4.xx1, V4.xx2, V4.xx3] as V4HandshakeType[]).map((t) => [t, messageSizeRange(t)])) as Record<V4HandshakeType, [number, number]>;

export interface HandshakeGateOptions {
  /** This node's X25519 static public key. */
  localStatic: Uint8Array;
  clock: Clock;
  random: Random;
  admission: Omit<AdmissionOptions, 'clock'>;
  /** XX msg1 (TOFU first contact) is answered only from the endpoint of a key-less peer (O(1)). */
  acceptsFirstContactFrom: (address: string, port: number) => boolean;
  /**
   * Answers to our own messages (IK response, XX msg2, XX msg3) skip admission when their
   * receiver sid names a pending attempt of ours (O(1)); the others are dropped. Without this
   * option they go through admission like inits.
   */
  isSolicited?: (receiverSid: number) => boolean;
  /**
   * The exact address and port of a configured peer (O(1)): its inits use the global budget's
   * headroom (Admission.admit's priority) once they carry a valid mac2, or when no cookie is
   * required — a flood from other sources cannot delay a known peer's handshake.
   */
  isPeerEndpoint?: (address: string, port: number) => boolean;
}

export class HandshakeGate {
  readonly admission: Admission;
  readonly #own: CookieChecker;
  readonly #anonymous: CookieChecker;
  readonly #firstContact: HandshakeGateOptions['acceptsFirstContactFrom'];
  readonly #solicited: HandshakeGateOptions['isSolicited'];
  readonly #peerEndpoint: HandshakeGateOptions['isPeerEndpoint'];

  constructor(o: HandshakeGateOptions) {
    this.#own = new CookieChecker({ receiverStatic: o.localStatic, clock: o.clock, random: o.random, noncesPerDraw: NONCES_PER_DRAW });
    this.#anonymous = new CookieChecker({ receiverStatic: ANONYMOUS_STATIC, clock: o.clock, random: o.random, noncesPerDraw: NONCES_PER_DRAW });
    this.admission = new Admission({ ...o.admission, clock: o.clock });
    this.#firstContact = o.acceptsFirstContactFrom;
    this.#solicited = o.isSolicited;
    this.#peerEndpoint = o.isPeerEndpoint;
  }

  inspect(datagram: Uint8Array, address: string, port: number): GateResult {
    // Length and type first, without throwing: junk is dropped before any allocation but the result.
    const type = datagram[0];
    if (type === undefined || !isHandshakeType(type)) return DROP_MALFORMED;
    const [min, max] = SIZE_RANGES[type];
    if (datagram.length < min || datagram.length > max) return DROP_MALFORMED;
    const anonymous = type === V4.xx1 || type === V4.xx2;
    const checker = anonymous ? this.#anonymous : this.#own;
    if (!checker.checkMac1(datagram)) return DROP_AUTH;
    const message = parseHandshake(datagram); // cannot throw now: type and length are checked
    if (this.#solicited && message.receiverSid !== null) {
      return this.#solicited(message.receiverSid) ? { action: 'process', message } : { action: 'drop', reason: 'unknownSession' };
    }
    const firstContact = message.type === V4.xx1;
    if (firstContact && !this.#firstContact(address, port)) return { action: 'drop', reason: 'unknownPeer' };
    let src: Uint8Array | null = null;
    const priority = this.#peerEndpoint?.(address, port) === true;
    // mac2 (two hashes) only when admission needs it: a source over every budget is dropped first.
    const mac2Valid = (): boolean => checker.checkMac2(datagram, (src ??= sourceBytes(address, port)));
    const verdict = this.admission.check(sourceKey(address), { mac2Valid, cookieRequired: firstContact, priority });
    if (verdict === 'cookie') return { action: 'cookie', reply: checker.createReply(datagram, src ?? sourceBytes(address, port)) };
    if (verdict !== 'admit') return DROP_RATE;
    return { action: 'process', message };
  }

  destroy(): void {
    this.#own.destroy();
    this.#anonymous.destroy();
  }
}
