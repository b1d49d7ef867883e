/**
 * A stateful NAT in front of one inside address: outbound datagrams leave from
 * publicAddress:mappedPort (one mapping per inside port, whatever the remote: endpoint-
 * independent mapping); inbound datagrams reach the inside only through an existing mapping
 * and, by the filtering policy, only from remotes it sent to. rebind() flushes every mapping
 * and moves to a new port range, as a NAT that lost its state does; given a new public
 * address, it is also a move to another uplink (roaming).
 */
import { endpointKey } from './address';
import type { NatOptions } from './types';

/** Ports per range; rebind n maps to portBase + n * RANGE + k. */
export const NAT_PORT_RANGE = 1000;

interface Mapping {
  insidePort: number;
  publicPort: number;
  lastOutboundMs: number;
  /** Remotes sent to, as 'a:p' and as 'a' (filtering). */
  remotes: Set<string>;
}

export class Nat {
  readonly insideAddress: string;
  #publicAddress: string;
  readonly #portBase: number;
  readonly #filtering: 'endpoint' | 'address' | 'addressPort';
  readonly #timeoutMs: number;
  #generation = 0;
  #next = 0;
  readonly #byInside = new Map<number, Mapping>();
  readonly #byPublic = new Map<number, Mapping>();

  constructor(insideAddress: string, o: NatOptions) {
    if (!(Number.isInteger(o.portBase) && o.portBase >= 1 && o.portBase + NAT_PORT_RANGE <= 65_536)) {
      throw new RangeError(`NAT portBase must be an integer in [1, ${65_536 - NAT_PORT_RANGE}], got ${o.portBase}`);
    }
    if (o.mappingTimeoutMs !== undefined && !(o.mappingTimeoutMs > 0)) {
      throw new RangeError(`NAT mappingTimeoutMs must be > 0, got ${o.mappingTimeoutMs}`);
    }
    this.insideAddress = insideAddress;
    this.#publicAddress = o.publicAddress;
    this.#portBase = o.portBase;
    this.#filtering = o.filtering ?? 'addressPort';
    this.#timeoutMs = o.mappingTimeoutMs ?? Infinity;
  }

  /** The address the outside sees (changes on a rebind to another address). */
  get publicAddress(): string {
    return this.#publicAddress;
  }

  /** Number of live mappings at time now. */
  mappings(now: number): number {
    let n = 0;
    for (const m of this.#byInside.values()) if (this.#live(m, now)) n++;
    return n;
  }

  /** The public port for an outbound datagram from insidePort to the remote (creates or refreshes the mapping). */
  outbound(insidePort: number, remoteAddress: string, remotePort: number, now: number): number {
    let m = this.#byInside.get(insidePort);
    if (m && !this.#live(m, now)) {
      this.#drop(m);
      m = undefined;
    }
    if (!m) {
      const base = this.#portBase + (this.#generation % Math.floor((65_536 - this.#portBase) / NAT_PORT_RANGE)) * NAT_PORT_RANGE;
      m = { insidePort, publicPort: base + (this.#next++ % NAT_PORT_RANGE), lastOutboundMs: now, remotes: new Set() };
      const stale = this.#byPublic.get(m.publicPort);
      if (stale) this.#drop(stale);
      this.#byInside.set(insidePort, m);
      this.#byPublic.set(m.publicPort, m);
    }
    m.lastOutboundMs = now;
    m.remotes.add(endpointKey(remoteAddress, remotePort));
    m.remotes.add(remoteAddress);
    return m.publicPort;
  }

  /** The inside port an inbound datagram to publicPort from the remote goes to, or null (filtered). */
  inbound(publicPort: number, remoteAddress: string, remotePort: number, now: number): number | null {
    const m = this.#byPublic.get(publicPort);
    if (!m || !this.#live(m, now)) return null;
    if (this.#filtering === 'address' && !m.remotes.has(remoteAddress)) return null;
    if (this.#filtering === 'addressPort' && !m.remotes.has(endpointKey(remoteAddress, remotePort))) return null;
    return m.insidePort;
  }

  /** Flushes every mapping; new ones come from the next port range (and from publicAddress, if given). */
  rebind(publicAddress?: string): void {
    if (publicAddress !== undefined) this.#publicAddress = publicAddress;
    this.#byInside.clear();
    this.#byPublic.clear();
    this.#generation++;
    this.#next = 0;
  }

  #live(m: Mapping, now: number): boolean {
    return now - m.lastOutboundMs < this.#timeoutMs;
  }

  #drop(m: Mapping): void {
    this.#byInside.delete(m.insidePort);
    this.#byPublic.delete(m.publicPort);
  }
}
