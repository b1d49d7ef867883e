/**
 * The simulated network: hosts, links between addresses, NATs and partitions, all driven by
 * an injected Scheduler (ManualScheduler in tests) and SeededRandom. No sockets, no sleeps: the
 * same seed and the same sends give the same trace, datagram for datagram.
 */
import { systemClock, type Clock } from '../../runtime/clock';
import { ManualScheduler, type Scheduler } from '../../runtime/scheduler';
import type { SeededRandom } from '../../runtime/random';
import { canonical, endpointKey, familyOf, headerBytes } from './address';
import { Arrivals } from './arrivals';
import { CrossTraffic, type CrossTrafficOptions } from './cross-traffic';
import { SimHost, type HostUplink, type SimTransport } from './host';
import { LinkDirection, linkOptions } from './link';
import { Nat } from './nat';
import { TraceRecorder, digestOf } from './trace';
import { UNLIMITED_LINK, type Fate, type LinkOptions, type NatOptions, type NetStats, type TraceEntry } from './types';

export interface SimNetworkOptions {
  scheduler: Scheduler;
  random: SeededRandom;
  /** Time of the trace; default: the ManualScheduler's clock (else the system clock). */
  clock?: Clock;
  /** Keep trace entries (default true); stats are kept either way. */
  trace?: boolean;
}

interface Direction {
  link: LinkDirection;
  /** Set by link()/linkOneWay(); otherwise it follows setDefaultLink(). */
  explicit: boolean;
}

const pairKey = (a: string, b: string): string => `${a}>${b}`;
const unorderedKey = (a: string, b: string): string => (a < b ? `${a}|${b}` : `${b}|${a}`);

export class SimNetwork {
  readonly #scheduler: Scheduler;
  readonly #clock: Clock;
  readonly #random: SeededRandom;
  readonly #recorder: TraceRecorder;
  readonly #hosts = new Map<string, SimHost>();
  readonly #directions = new Map<string, Direction>();
  #defaultLink: LinkOptions = { ...UNLIMITED_LINK };
  readonly #partitions = new Set<string>();
  readonly #natsByInside = new Map<string, Nat>();
  readonly #natsByPublic = new Map<string, Nat[]>();
  readonly #uplink: HostUplink;
  readonly #arrivals: Arrivals;

  constructor(o: SimNetworkOptions) {
    this.#scheduler = o.scheduler;
    this.#clock = o.clock ?? (o.scheduler instanceof ManualScheduler ? o.scheduler.clock : systemClock);
    this.#random = o.random;
    this.#recorder = new TraceRecorder(o.trace ?? true);
    this.#arrivals = new Arrivals(this.#scheduler, this.#clock);
    this.#uplink = {
      scheduler: this.#scheduler,
      later: (run) => this.#arrivals.add(this.#clock.monotonic(), run),
      carry: (data, fa, fp, ta, tp, fam) => this.#carry(data, fa, fp, ta, tp, fam),
    };
  }

  /** The host with this address (created on first use); extra addresses give it more (e.g. an IPv6 one). */
  host(address: string, ...more: string[]): SimHost {
    const all = [address, ...more].map((a) => {
      familyOf(a);
      return canonical(a);
    });
    const existing = this.#hosts.get(all[0]!);
    if (existing) {
      if (all.some((a) => !existing.addresses.includes(a))) throw new Error(`simulated host ${all[0]} exists with other addresses`);
      return existing;
    }
    for (const a of all) if (this.#hosts.has(a)) throw new Error(`simulated address ${a} belongs to another host`);
    const h = new SimHost(all, this.#uplink);
    for (const a of all) this.#hosts.set(a, h);
    return h;
  }

  /** Sets the link between a and b in both directions (unset fields: instant, lossless, unlimited). */
  link(a: string, b: string, o: Partial<LinkOptions>): void {
    this.linkOneWay(a, b, o);
    this.linkOneWay(b, a, o);
  }

  /** Sets the link from → to only. Datagrams already accepted keep their schedule. */
  linkOneWay(from: string, to: string, o: Partial<LinkOptions>): void {
    const opts = linkOptions(o);
    const key = pairKey(this.#addr(from), this.#addr(to));
    const d = this.#directions.get(key);
    if (d) {
      d.link.options = opts;
      d.explicit = true;
    } else {
      this.#directions.set(key, { link: new LinkDirection(opts, this.#random.fork()), explicit: true });
    }
  }

  /** The link of every pair without its own (default: instant, lossless, unlimited). */
  setDefaultLink(o: Partial<LinkOptions>): void {
    this.#defaultLink = linkOptions(o);
    for (const d of this.#directions.values()) if (!d.explicit) d.link.options = this.#defaultLink;
  }

  /** Cuts (true) or restores (false) both directions between a and b; datagrams in flight still arrive. */
  partition(a: string, b: string, cut: boolean): void {
    const k = unorderedKey(this.#addr(a), this.#addr(b));
    if (cut) this.#partitions.add(k);
    else this.#partitions.delete(k);
  }

  /** Puts a stateful NAT in front of insideAddress. */
  nat(insideAddress: string, o: NatOptions): Nat {
    const inside = this.#addr(insideAddress);
    if (this.#natsByInside.has(inside)) throw new Error(`simulated address ${inside} already has a NAT`);
    const n = new Nat(inside, { ...o, publicAddress: this.#addr(o.publicAddress) });
    this.#natsByInside.set(inside, n);
    const list = this.#natsByPublic.get(n.publicAddress) ?? [];
    list.push(n);
    this.#natsByPublic.set(n.publicAddress, list);
    return n;
  }

  /**
   * NAT rebinding: the NAT in front of insideAddress forgets every mapping and uses a new port
   * range; with newPublicAddress its traffic also appears from there from now on (roaming).
   */
  rebind(insideAddress: string, newPublicAddress?: string): void {
    const n = this.#natsByInside.get(this.#addr(insideAddress));
    if (!n) throw new Error(`simulated address ${insideAddress} has no NAT`);
    if (newPublicAddress === undefined) {
      n.rebind();
      return;
    }
    const old = this.#natsByPublic.get(n.publicAddress)!.filter((x) => x !== n);
    if (old.length > 0) this.#natsByPublic.set(n.publicAddress, old);
    else this.#natsByPublic.delete(n.publicAddress);
    n.rebind(this.#addr(newPublicAddress));
    this.#natsByPublic.set(n.publicAddress, [...(this.#natsByPublic.get(n.publicAddress) ?? []), n]);
  }

  /**
   * Starts constant-bit-rate cross traffic through the link from → to (sharing its rate and
   * queue with everything else on it) until stop().
   */
  crossTraffic(from: string, to: string, o: CrossTrafficOptions): CrossTraffic {
    const f = this.#addr(from);
    const t = this.#addr(to);
    return new CrossTraffic(() => this.#direction(f, f, t), this.#scheduler, this.#clock, o);
  }

  /** Every datagram (and duplicate) with its fate, in the order fates were decided. */
  get trace(): readonly TraceEntry[] {
    return this.#recorder.entries;
  }

  /** Counts and payload bytes per fate (from/to: an address, or an 'a:p' endpoint; omitted = any). */
  stats(from?: string, to?: string): NetStats {
    return this.#recorder.stats(from === undefined ? undefined : canonical(from), to === undefined ? undefined : canonical(to));
  }

  /** Datagrams (and duplicates) on the links, not yet arrived. */
  get inFlight(): number {
    return this.#arrivals.size;
  }

  /** Empties the trace and the counters. */
  clearTrace(): void {
    this.#recorder.clear();
  }

  #addr(a: string): string {
    familyOf(a);
    return canonical(a);
  }

  #direction(wireFrom: string, insideFrom: string, to: string): LinkDirection {
    // An explicit link wins, keyed by the address on the wire or the sender's own; then the default one.
    const wire = this.#directions.get(pairKey(wireFrom, to));
    const inside = this.#directions.get(pairKey(insideFrom, to));
    const d = (wire?.explicit ? wire : undefined) ?? (inside?.explicit ? inside : undefined) ?? wire;
    if (d) return d.link;
    const created = { link: new LinkDirection(this.#defaultLink, this.#random.fork()), explicit: false };
    this.#directions.set(pairKey(wireFrom, to), created);
    return created.link;
  }

  /** Whether a partition separates the sender (inside or public address) from the destination (or the hosts behind it). */
  #cut(fromAddress: string, wireAddress: string, toAddress: string): boolean {
    if (this.#partitions.size === 0) return false;
    const dests = [toAddress, ...(this.#natsByPublic.get(toAddress) ?? []).map((n) => n.insideAddress)];
    return dests.some((d) => this.#partitions.has(unorderedKey(fromAddress, d)) || this.#partitions.has(unorderedKey(wireAddress, d)));
  }

  #carry(data: Buffer, fromAddress: string, fromPort: number, toAddress: string, toPort: number, family: 4 | 6): void {
    const now = this.#clock.monotonic();
    const base: TraceEntry = {
      atMs: now,
      sentMs: now,
      from: endpointKey(fromAddress, fromPort),
      to: endpointKey(toAddress, toPort),
      size: data.length,
      digest: this.#recorder.enabled ? digestOf(data) : '',
      fate: 'lost',
    };
    let wireAddress = fromAddress;
    let wirePort = fromPort;
    const nat = this.#natsByInside.get(fromAddress);
    if (nat) {
      wireAddress = nat.publicAddress;
      wirePort = nat.outbound(fromPort, toAddress, toPort, now);
      base.mappedFrom = endpointKey(wireAddress, wirePort);
    }
    if (this.#cut(fromAddress, wireAddress, toAddress)) {
      this.#recorder.record({ ...base, fate: 'partitioned' });
      return;
    }
    // An address behind a NAT is not routable from elsewhere: only its public address is.
    if (toAddress !== fromAddress && this.#natsByInside.has(toAddress)) {
      this.#recorder.record({ ...base, fate: 'filtered' });
      return;
    }
    const verdict = this.#direction(wireAddress, fromAddress, toAddress).offer(data.length, headerBytes(family), now);
    if (verdict.fate !== 'sent') {
      this.#recorder.record({ ...base, fate: verdict.fate });
      return;
    }
    if (verdict.fragments > 0) {
      // Cut by the sender's kernel (a fragmentAfterTooBig link): its fragment counter grows.
      this.#hosts.get(fromAddress)?.countFragments(family, verdict.fragments);
      base.fragments = verdict.fragments;
    }
    verdict.arrivals.forEach((at, i) => {
      const copy = i === 0 ? data : Buffer.from(data);
      this.#arrivals.add(at, () => this.#arrive(base, copy, wireAddress, wirePort, toAddress, toPort, i > 0));
    });
  }

  #arrive(base: TraceEntry, data: Buffer, wireAddress: string, wirePort: number, toAddress: string, toPort: number, duplicate: boolean): void {
    const now = this.#clock.monotonic();
    let address = toAddress;
    let port = toPort;
    let entry: TraceEntry = { ...base, atMs: now };
    const nats = this.#natsByPublic.get(toAddress);
    if (nats) {
      let inside: { address: string; port: number } | null = null;
      for (const n of nats) {
        const p = n.inbound(toPort, wireAddress, wirePort, now);
        if (p !== null) {
          inside = { address: n.insideAddress, port: p };
          break;
        }
      }
      if (!inside) {
        this.#recorder.record({ ...entry, fate: 'filtered' });
        return;
      }
      address = inside.address;
      port = inside.port;
      entry = { ...entry, mappedTo: endpointKey(address, port) };
    }
    const host = this.#hosts.get(address);
    const t = host?.listener(address, port) ?? null;
    if (t !== null && host!.frozen) {
      const held = { ...entry };
      if (!host!.hold(t, data.length, () => this.#handOver(held, t, data, wireAddress, wirePort, duplicate))) {
        this.#recorder.record({ ...entry, fate: 'bufferFull' });
      }
      return;
    }
    this.#handOver(entry, t, data, wireAddress, wirePort, duplicate);
  }

  #handOver(entry: TraceEntry, t: SimTransport | null, data: Buffer, wireAddress: string, wirePort: number, duplicate: boolean): void {
    const live = t !== null && t.bound;
    const fate: Fate = !live ? 'noListener' : duplicate ? 'duplicated' : 'delivered';
    this.#recorder.record({ ...entry, atMs: this.#clock.monotonic(), fate });
    if (live) t.receive({ data, address: wireAddress, port: wirePort });
  }
}
