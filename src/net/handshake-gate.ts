/**
 * The cheap front of the v4 handshake receive path (docs/HANDSHAKE-V4.md §7): everything that
 * happens to a handshake datagram before any lookup or Diffie-Hellman.
 *
 *   1 length and type (wire/handshake-v4)                         → drop malformed
 *   2 mac1 (keyed by this node's static; the zero key for XX msg1/msg2)  → drop authFailure
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
import { parseHandshake, V4, type HandshakeMessage } from '../wire/handshake-v4';
import { Admission, type AdmissionOptions } from './admission';
import { sourceBytes, sourceKey } from './source-address';

export type GateResult =
  | { action: 'process'; message: HandshakeMessage }
  | { action: 'cookie'; reply: Uint8Array }
  | { action: 'drop'; reason: 'malformed' | 'authFailure' | 'unknownPeer' | 'rateLimited' };

export interface HandshakeGateOptions {
  /** This node's X25519 static public key. */
  localStatic: Uint8Array;
  clock: Clock;
  random: Random;
  admission: Omit<AdmissionOptions, 'clock'>;
  /** XX msg1 (TOFU first contact) is answered only from the endpoint of a key-less peer (O(1)). */
  acceptsFirstContactFrom: (address: string, port: number) => boolean;
}

export class HandshakeGate {
  readonly admission: Admission;
  readonly #own: CookieChecker;
  readonly #anonymous: CookieChecker;
  readonly #firstContact: HandshakeGateOptions['acceptsFirstContactFrom'];

  constructor(o: HandshakeGateOptions) {
    this.#own = new CookieChecker({ receiverStatic: o.localStatic, clock: o.clock, random: o.random });
    this.#anonymous = new CookieChecker({ receiverStatic: ANONYMOUS_STATIC, clock: o.clock, random: o.random });
    this.admission = new Admission({ ...o.admission, clock: o.clock });
    this.#firstContact = o.acceptsFirstContactFrom;
  }

  inspect(datagram: Uint8Array, address: string, port: number): GateResult {
    let message: HandshakeMessage;
    try {
      message = parseHandshake(datagram);
    } catch {
      return { action: 'drop', reason: 'malformed' };
    }
    const anonymous = message.type === V4.xx1 || message.type === V4.xx2;
    const checker = anonymous ? this.#anonymous : this.#own;
    if (!checker.checkMac1(datagram)) return { action: 'drop', reason: 'authFailure' };
    const firstContact = message.type === V4.xx1;
    if (firstContact && !this.#firstContact(address, port)) return { action: 'drop', reason: 'unknownPeer' };
    const src = sourceBytes(address, port);
    const verdict = this.admission.check(sourceKey(address), { mac2Valid: checker.checkMac2(datagram, src), cookieRequired: firstContact });
    if (verdict === 'cookie') return { action: 'cookie', reply: checker.createReply(datagram, src) };
    if (verdict !== 'admit') return { action: 'drop', reason: 'rateLimited' };
    return { action: 'process', message };
  }

  destroy(): void {
    this.#own.destroy();
    this.#anonymous.destroy();
  }
}
