/**
 * Datagram packetization layer path MTU discovery (DPLPMTUD, RFC 8899) for one path: start at a
 * size every path carries (the base), probe larger sizes with padded probe packets, raise the
 * size a probe confirmed (acknowledged), and fall back to the base on a black hole (full-size
 * packets lost repeatedly while nothing full-size gets through). Pure: the caller passes
 * `nowMs` and the kernel's fragment counter readings (src/engine/native/probe-ledger.ts), and
 * tells it what was sent, handed to the kernel, acknowledged and lost.
 *
 * Search in rounds, several probes in flight at once (pmtu-rounds.ts): the first round probes
 * the interface maximum and common path MTUs below it, so the size in use is the largest one
 * acknowledged one round trip after the session starts; later rounds spread probes over what
 * is left between the confirmed size and the ceiling. A probe is handed to the kernel only
 * after the previous one was (its send callback ran), so each probe's send is bracketed by two
 * fragment counter readings.
 *
 * What a probe's fate means:
 * - acknowledged, the kernel's fragment counter did not grow across its send, and nothing else
 *   made it grow between its send and its acknowledgement: confirmed.
 * - the counter grew across its send (the kernel fragmented it: it had cached a smaller path MTU
 *   from an ICMP "fragmentation needed" and Node's sockets cannot forbid local fragmentation),
 *   or the send failed with EMSGSIZE: too big, the ceiling drops below it at once. Acknowledged
 *   while fragments came from elsewhere (growth not explained by the node's own probe sends):
 *   not confirmed, too big as well. Another process fragmenting has the same effect: errors
 *   make the size smaller, never larger.
 * - lost (not acknowledged within the probe timeout, or 9/8 RTT after a later packet was): the
 *   size is suspect, a provisional ceiling; the search goes on below it, and when nothing is left
 *   below, the smallest suspect size is probed again. A size lost MAX_PROBES times is too big. A
 *   suspect size acknowledged on a retry is confirmed under the same rule as any probe (with a
 *   counter, only if its send was not fragmented).
 * Without a counter (not Linux) acknowledged means confirmed, as RFC 8899 has it.
 *
 * The search ends when less than SEARCH_GRANULARITY is left below the ceiling and no suspect
 * size is left to retry; it starts again after RAISE_INTERVAL_MS (the path may have grown) or at
 * once after a black-hole fallback.
 *
 * Probes are not congestion controlled packets (they are not in flight, and their loss is no
 * congestion signal, RFC 8899 §4.4): the caller sends them outside the window and the loss
 * detector.
 */
import { firstRoundSizes, spreadSizes } from './pmtu-rounds';
import { TIME_THRESHOLD } from './reliable/loss';
import { GRANULARITY_MS } from './reliable/rtt';

export { ROUND_PROBES, SEARCH_GRANULARITY } from './pmtu-rounds';

/** Smallest UDP payload an IPv4 path must carry for udpvault (QUIC's 1200, RFC 9000 §14). */
export const PMTU_BASE_IPV4 = 1200;
/** IPv6 minimum link MTU 1280 − 40 (IPv6) − 8 (UDP). */
export const PMTU_BASE_IPV6 = 1232;
/** Losses after which a size is taken as too big (RFC 8899 MAX_PROBES). */
export const MAX_PROBES = 3;
export const RAISE_INTERVAL_MS = 600_000;
/** Packets above the base size lost, all sent after the last one above the base that was acknowledged: a black hole. */
export const BLACK_HOLE_LOSSES = 6;

export interface PmtuOptions {
  baseBytes: number;
  maxBytes: number;
  // Helpers are `static #`, not private instance methods: those give every instance a brand field (8 B per idle peer; mem22, issue 12).
  /** IP + UDP header bytes (28 IPv4, 48 IPv6): turns common path MTUs into probe sizes. Default 28. */
  ipUdpHeaderBytes?: number;
}

interface Probe {
  pn: number;
  size: number;
  sentAtMs: number;
  deadlineMs: number;
  /** Fragment counter (net of the node's probe sends) just before the send (undefined: no counter). */
  before: number | undefined;
  /** The send callback ran. */
  handed: boolean;
  acked: boolean;
  /** Acknowledged while the counter had grown since the send (fragments from elsewhere). */
  untrusted: boolean;
}

/** The empty queue or probe list (shared, never written: writers replace it first). */
const NONE: never[] = [];
Object.freeze(NONE);
const orNone = <T>(a: T[]): T[] => (a.length === 0 ? NONE : a);

/** A path's fixed sizes: one frozen object per distinct (base, max, header), shared by every search (issue 12). */
interface PathSizes {
  readonly base: number;
  readonly max: number;
  readonly header: number;
}
const pathSizes = new Map<string, PathSizes>();
function sizesOf(base: number, max: number, header: number): PathSizes {
  const k = `${base} ${max} ${header}`;
  let v = pathSizes.get(k);
  if (v === undefined) {
    v = Object.freeze({ base, max, header });
    if (pathSizes.size < 64) pathSizes.set(k, v); // a handful of (family, interface MTU) pairs in practice
  }
  return v;
}

/** A search's working state; a finished one (queue, probes and suspects empty) shares DONE (issue 12: an idle peer's search is done). */
interface SearchState {
  /** Rounds planned in this search (0: the next one is the first). */
  round: number;
  /** Sizes of the current round not sent yet, largest first; the shared NONE while empty. */
  queue: number[];
  /** Probes out; the shared NONE while empty. */
  probes: Probe[];
  /** Suspect sizes (lost fewer than MAX_PROBES times) and their losses; null while there are none. */
  losses: Map<number, number> | null;
  done: boolean;
}
const DONE: Readonly<SearchState> = Object.freeze({ round: 0, queue: NONE, probes: NONE, losses: null, done: true });
const searching = (): SearchState => ({ round: 0, queue: NONE, probes: NONE, losses: null, done: false });

export class PmtuSearch {
  readonly #sizes: PathSizes;
  #current: number;
  /** Largest size not known to be too big. */
  #hi: number;
  /** DONE (shared, never written: #w() replaces it first) or this search's own state. */
  #s: SearchState = DONE;
  /** Whole ms, rounded down (a small integer in the field, not a boxed double per idle peer: issue 12). */
  #searchAgainAtMs = 0;
  #fullSizeLost = 0;
  /** null: −∞ (no packet above the base acknowledged yet): not a boxed −Infinity per idle peer (issue 12). */
  #lastLargeAckedSentAtMs: number | null = null;
  #fallbacks = 0;
  #probesSent = 0;
  #fragmented = 0;

  constructor(o: PmtuOptions) {
    const base = Math.min(o.baseBytes, o.maxBytes);
    this.#sizes = sizesOf(base, o.maxBytes, o.ipUdpHeaderBytes ?? 28);
    this.#current = base;
    this.#hi = o.maxBytes;
    this.#s = searching();
    PmtuSearch.#settle(this, 0);
  }

  /** The state to write: this search's own (a copy of DONE made first). */
  static #w(self: PmtuSearch): SearchState {
    if (self.#s === DONE) self.#s = { round: 0, queue: NONE, probes: NONE, losses: null, done: true };
    return self.#s;
  }

  /** The confirmed largest datagram (UDP payload bytes): frames and padding follow it. */
  get current(): number { return this.#current; }
  get base(): number { return this.#sizes.base; }
  /** Largest size not known to be too big. */
  get ceiling(): number { return this.#hi; }
  get fallbacks(): number { return this.#fallbacks; }
  get probesSent(): number { return this.#probesSent; }
  /** Probes the kernel fragmented (or refused as too big) at send. */
  get fragmentedProbes(): number { return this.#fragmented; }
  get searching(): boolean { return !this.#s.done; }
  /** Probes sent and not yet confirmed, refused or lost. */
  get hasOutstanding(): boolean { return this.#s.probes.length > 0; }

  /** Size to probe now, or null (the previous probe not handed to the kernel yet, the round under way, search done, or not yet time). */
  nextProbeSize(nowMs: number): number | null {
    const probes = this.#s.probes; // every pump of every link asks (idle15: no closure)
    for (let k = 0; k < probes.length; k++) if (!probes[k]!.handed) return null;
    if (this.#s.done && this.#current < this.#sizes.max && nowMs >= this.#searchAgainAtMs) PmtuSearch.#restart(this, this.#sizes.max, nowMs); // periodic raise
    return this.#s.queue[0] ?? null;
  }

  /**
   * A probe of `size` bytes went out as packet `pn`; it counts as lost at `deadlineMs` (earlier
   * if later packets are acknowledged first). `fragmentsBefore`: the kernel's fragment counter,
   * net of the node's probe sends, read just before the send (undefined without one).
   */
  onProbeSent(pn: number, size: number, nowMs: number, deadlineMs: number, fragmentsBefore: number | undefined): void {
    const s = PmtuSearch.#w(this);
    const i = s.queue.indexOf(size);
    if (i >= 0) s.queue = orNone(s.queue.filter((_, k) => k !== i));
    if (s.probes === NONE) s.probes = [];
    s.probes.push({ pn, size, sentAtMs: nowMs, deadlineMs, before: fragmentsBefore, handed: false, acked: false, untrusted: false });
    this.#probesSent++;
  }

  /**
   * The probe's send callback ran: `fragmentsCreated` is how much the counter grew across the
   * send (undefined: unmeasured); `tooBig`: the send failed with EMSGSIZE.
   */
  onProbeHanded(pn: number, fragmentsCreated: number | undefined, nowMs: number, tooBig = false): void {
    const p = this.#s.probes.find((x) => x.pn === pn);
    if (!p) return;
    p.handed = true;
    const fragmented = tooBig || (fragmentsCreated ?? 0) > 0;
    if (fragmented) this.#fragmented++;
    if (!PmtuSearch.#inside(this, p.size)) {
      PmtuSearch.#remove(this, p); // made moot while it was being handed over
    } else if (fragmented) {
      PmtuSearch.#remove(this, p);
      PmtuSearch.#tooBig(this, p.size);
    } else if (p.acked) {
      PmtuSearch.#remove(this, p);
      PmtuSearch.#acknowledged(this, p);
    }
    PmtuSearch.#settle(this, nowMs);
  }

  /** When the earliest outstanding probe is declared lost (null: none). */
  deadline(): number | null {
    let d: number | null = null;
    const probes = this.#s.probes; // indexed: every arm() of every link reads this (idle15: no iterator)
    for (let k = 0; k < probes.length; k++) if (d === null || probes[k]!.deadlineMs < d) d = probes[k]!.deadlineMs;
    return d;
  }

  /**
   * An ack arrived: `acked(pn)` says whether it covers a packet number, `largestAcked` is the
   * largest it covers; a probe sent before it and not covered is lost 9/8 × `rttMs` after its
   * send (RFC 9002's time threshold). `fragmentsNow`: the counter (net of the node's probe
   * sends) read now, when there is one.
   */
  onAck(acked: (pn: number) => boolean, largestAcked: number, nowMs: number, rttMs: number, fragmentsNow?: number): void {
    for (const p of [...this.#s.probes]) {
      if (p.acked) continue;
      if (acked(p.pn)) {
        p.acked = true;
        p.untrusted = p.before !== undefined && fragmentsNow !== undefined && fragmentsNow > p.before;
        if (p.handed) {
          PmtuSearch.#remove(this, p);
          PmtuSearch.#acknowledged(this, p);
        }
      } else if (p.pn < largestAcked) {
        p.deadlineMs = Math.min(p.deadlineMs, p.sentAtMs + Math.max(TIME_THRESHOLD * rttMs, GRANULARITY_MS));
      }
    }
    this.onTimeout(nowMs);
  }

  /** Runs the probe timer: probes unanswered at their deadline are lost. */
  onTimeout(nowMs: number): void {
    // A copy only while probes are out (the link's every timer fire calls this; memalloc17).
    if (this.#s.probes.length > 0) for (const p of [...this.#s.probes]) {
      if (nowMs < p.deadlineMs || !this.#s.probes.includes(p)) continue;
      PmtuSearch.#remove(this, p);
      if (!PmtuSearch.#inside(this, p.size)) continue;
      const n = (this.#s.losses?.get(p.size) ?? 0) + 1;
      if (n >= MAX_PROBES) PmtuSearch.#tooBig(this, p.size);
      else (PmtuSearch.#w(this).losses ??= new Map()).set(p.size, n);
    }
    PmtuSearch.#settle(this, nowMs);
  }

  /** A data packet of the congestion-controlled flow was acknowledged (size, send time). */
  onPacketAcked(bytes: number, sentAtMs: number): void {
    if (bytes > this.#sizes.base && (this.#lastLargeAckedSentAtMs === null || sentAtMs > this.#lastLargeAckedSentAtMs)) {
      this.#lastLargeAckedSentAtMs = sentAtMs;
      this.#fullSizeLost = 0;
    }
  }

  /**
   * A data packet was declared lost. A loss counts toward a black hole only when the packet was
   * above the base and sent after the last such packet that got through (queue drops are
   * followed by packets that do get through, so congestion does not look like a black hole).
   * Returns true when the size fell back to the base (and a new search starts at once).
   */
  onPacketLost(bytes: number, sentAtMs: number, nowMs: number): boolean {
    if (bytes <= this.#sizes.base || (this.#lastLargeAckedSentAtMs !== null && sentAtMs <= this.#lastLargeAckedSentAtMs)) return false;
    if (++this.#fullSizeLost < BLACK_HOLE_LOSSES) return false;
    this.#fallbacks++;
    this.#fullSizeLost = 0;
    this.#current = this.#sizes.base;
    PmtuSearch.#restart(this, Math.max(this.#sizes.base, bytes - 1), nowMs);
    return true;
  }

  static #restart(self: PmtuSearch, ceiling: number, nowMs: number): void {
    self.#hi = ceiling;
    self.#s = searching();
    PmtuSearch.#settle(self, nowMs);
  }

  static #remove(self: PmtuSearch, p: Probe): void {
    const s = PmtuSearch.#w(self);
    s.probes = orNone(s.probes.filter((x) => x !== p));
  }

  /** An acknowledged probe, handed over whole: confirmed, unless fragments came from elsewhere meanwhile. */
  static #acknowledged(self: PmtuSearch, p: Probe): void {
    if (p.untrusted) PmtuSearch.#tooBig(self, p.size);
    else PmtuSearch.#confirm(self, p.size);
  }

  /** `size` got through whole: sizes at or below it need no more probing. */
  static #confirm(self: PmtuSearch, size: number): void {
    if (size <= self.#current || size > self.#hi) return;
    self.#current = size;
    self.#fullSizeLost = 0;
    PmtuSearch.#prune(self);
  }

  /** `size` does not get through whole: the ceiling drops below it. */
  static #tooBig(self: PmtuSearch, size: number): void {
    self.#hi = Math.max(self.#current, Math.min(self.#hi, size - 1));
    PmtuSearch.#prune(self);
  }

  /** Drops what the bounds made moot: probes, queued sizes and suspects outside (current, ceiling]. */
  static #prune(self: PmtuSearch): void {
    const st = self.#s;
    if (st === DONE) return; // nothing to drop
    st.probes = orNone(st.probes.filter((p) => PmtuSearch.#inside(self, p.size) || !p.handed)); // one not handed yet waits for its callback
    st.queue = orNone(st.queue.filter((s) => PmtuSearch.#inside(self, s)));
    const losses = st.losses;
    if (losses) {
      for (const s of [...losses.keys()]) if (!PmtuSearch.#inside(self, s)) losses.delete(s);
      if (losses.size === 0) st.losses = null;
    }
  }

  /** Whether probing `size` can still teach anything: above the confirmed size, not above the ceiling. */
  static #inside(self: PmtuSearch, size: number): boolean {
    return size > self.#current && size <= self.#hi;
  }

  /** When the round is over: plans the next one, or ends the search. */
  static #settle(self: PmtuSearch, nowMs: number): void {
    const s = self.#s;
    if (s.done || s.queue.length > 0 || s.probes.length > 0) return;
    s.queue = orNone(PmtuSearch.#plan(self, s));
    if (s.queue.length > 0) return;
    s.done = true;
    if (s.losses === null) self.#s = DONE; // nothing of it is read again before a restart
    self.#searchAgainAtMs = Math.floor(nowMs + RAISE_INTERVAL_MS);
  }

  static #plan(self: PmtuSearch, s: SearchState): number[] {
    if (s.round++ === 0) return firstRoundSizes(self.#current, self.#hi, self.#sizes.header);
    const suspect = s.losses ? Math.min(...s.losses.keys()) : Infinity;
    const ceiling = Math.min(self.#hi, suspect - 1);
    const spread = spreadSizes(self.#current, ceiling);
    return spread.length > 0 || suspect === Infinity ? spread : [suspect];
  }
}
