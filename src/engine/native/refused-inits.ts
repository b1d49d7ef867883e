/**
 * IK inits refused because their static named no peer, kept for a moment (PROTOCOL §5.5, first
 * contact; hs17). When two nodes add each other a moment apart, the first one's init reaches the
 * other before it knows the first and is refused (`unknownPeer`). When the other then adds that
 * peer, it answers the kept init instead of starting an attempt of its own: the first node's
 * attempt is still pending (answerable for ~20 s), so first contact takes one round trip after the
 * second add, and one handshake — where the second's own init used to cross the first's pending
 * attempt and, the first's key being the greater, wait 100 ms for a resend.
 *
 * Bounded (MAX entries, the oldest replaced; TTL_MS), a copy of the datagram each, keyed by the
 * X25519 static the init named (not yet authenticated: a forgery naming a key is refused again,
 * by the full read, when it is answered). Holds no secret: the init as it came off the wire.
 */
import type { Datagram } from '../../net/transport';

/** Refused inits kept at once (~200 B each). */
export const REFUSED_INITS_MAX = 16;
/**
 * How long one is kept: peers added within this of each other (scripts, demos, tests, a service
 * and its client started together) connect in one round trip. Below the initiator's first retry
 * (320–480 ms): a peer added later answers no stale init, and starts its own attempt as before
 * (which, crossing the peer's pending one, the crossing rule resolves: older than 20 ms, the peer
 * resends at once).
 */
export const REFUSED_INIT_TTL_MS = 250;

interface Kept {
  readonly data: Buffer;
  readonly address: string;
  readonly port: number;
  readonly atMs: number;
}

export class RefusedInits {
  /** Insertion order = age: the first entry is the oldest. */
  readonly #byStatic = new Map<string, Kept>();

  /** Keeps a copy of `d` (Buffer.from: slice would be a view of a buffer the receive path reuses), refused for naming `staticKey` (the newest per static replaces an older one). */
  remember(staticKey: string, d: Datagram, nowMs: number): void {
    this.#byStatic.delete(staticKey);
    if (this.#byStatic.size >= REFUSED_INITS_MAX) this.#byStatic.delete(this.#byStatic.keys().next().value!);
    this.#byStatic.set(staticKey, { data: Buffer.from(d.data), address: d.address, port: d.port, atMs: nowMs });
  }

  /** The init kept for `staticKey` if it is younger than the TTL (taken: answered at most once). */
  take(staticKey: string, nowMs: number): Datagram | null {
    const k = this.#byStatic.get(staticKey);
    if (!k) return null;
    this.#byStatic.delete(staticKey);
    return nowMs - k.atMs <= REFUSED_INIT_TTL_MS ? { data: k.data, address: k.address, port: k.port } : null;
  }

  get size(): number {
    return this.#byStatic.size;
  }

  clear(): void {
    this.#byStatic.clear();
  }
}
