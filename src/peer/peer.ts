/**
 * One peer as the node knows it: identity and trust, name, endpoint, options, state and
 * counters. Every change goes through a method that also emits the matching event (once) and
 * keeps the table's indexes current. What a protocol keeps per peer (sessions, attempts,
 * queues, timers) lives in the peer's link (engine/).
 */
import type { Compat, Counters, PeerEvent, PeerInfo, PeerState, Trust } from '../api/types';
import { TokenBucket, type BucketRest } from '../net/ratelimit';
import type { Endpoint, EndpointSpec } from './endpoint';
import { formatEndpoint } from './endpoint';
import { newCounters, copyCounters } from './counters';
import { PeerTrust } from './trust';
import { specString, type PeerIndex, type PeerIndexKeys, type PeerOptions, type TransportStatsSource } from './peer-options';
import { isoAsMs, maxOrNull, sharedHost, specUnlessSame } from './peer-values';

export { specString, type PeerIndex, type PeerIndexKeys, type PeerOptions, type TransportStatsSource } from './peer-options';

export class Peer {
  readonly trust: PeerTrust;
  readonly counters: Counters = newCounters();
  // Helpers are `static #`, not private instance methods: those give every instance a brand field (8 B per idle peer; mem22, issue 12).
  /** Token bucket on received packets; while full and resting, only its shared config (restLimiter). */
  #limiter: TokenBucket | BucketRest;
  #name: string | null;
  /** The configured endpoint; null while it is the current endpoint's address and port (rest18: no object of its own, 40 B per peer). */
  #spec: EndpointSpec | null;
  #endpoint: Endpoint;
  #endpointString: string;
  #compat: Compat | null;
  #allowPlaintext: boolean;
  #state: PeerState = 'new';
  #rttMs: number | null = null;
  /** The link's packet-layer figures (congestion window, bytes in flight, srtt, losses). */
  #transportStats: TransportStatsSource | null = null;
  /**
   * The node's link for this peer (Node.#pickLink; engine/link.ts PeerLink, opaque here: the peer
   * layer does not depend on the engines), null before and once removed: a field, not an entry in
   * a node-wide and an engine-wide Map (issue 12).
   */
  #link: object | null = null;
  #lastHandshakeTs: number | null;
  /**
   * Highest handshake timestamp accepted from this identity (in memory; raised before the
   * session is confirmed) when it is above #lastHandshakeTs; null when it is that value (the
   * usual case once a session is confirmed: one boxed timestamp per peer, not two; issue 12).
   */
  #markAbove: number | null = null;
  /** Wall ms of the last confirmed handshake (shown as an ISO string), or a restored string that is not one's exact form (issue 12: a number, 16 B, not a 24-character string, 40 B). */
  #lastHandshakeAt: number | string | null;
  /** The peer's wall clock minus ours, measured at the last handshake (null: none yet). */
  #clockOffsetMs: number | null = null;
  /** The offset last reported (a skew or a step is a change of more than CLOCK_SKEW_REPORT_MS from it). */
  #reportedOffsetMs = 0;
  #emit: (ev: PeerEvent) => void;
  /** Objects, not closures: an idle peer keeps no function of its own (issue 12). */
  #index: PeerIndex | null = null;

  constructor(o: PeerOptions) {
    this.trust = new PeerTrust(o.key, o.trust);
    this.#name = o.name;
    this.#endpoint = sharedHost(o.endpoint, o.spec);
    this.#spec = specUnlessSame(o.spec, this.#endpoint);
    this.#endpointString = formatEndpoint(o.endpoint);
    this.#compat = o.compat;
    this.#allowPlaintext = o.allowPlaintext;
    this.#lastHandshakeTs = o.lastHandshakeTs;
    this.#lastHandshakeAt = isoAsMs(o.lastHandshakeAt);
    this.#limiter = o.limiter;
    this.#emit = o.emit;
  }

  /** Token bucket on received packets (made again, full, after restLimiter). */
  get limiter(): TokenBucket {
    const l = this.#limiter;
    return l instanceof TokenBucket ? l : (this.#limiter = TokenBucket.fromRest(l));
  }

  /** A full bucket is kept as its shared config only (mem20: an idle peer's 56 B), until the next packet. */
  restLimiter(nowMs: number): void {
    const l = this.#limiter;
    if (l instanceof TokenBucket) this.#limiter = l.rested(nowMs) ?? l;
  }

  /** @internal Whether the limiter is resting (restLimiter; tests). */
  get limiterResting(): boolean {
    return !(this.#limiter instanceof TokenBucket);
  }

  get key(): Uint8Array | null {
    return this.trust.key;
  }
  get keyString(): string | null {
    return this.trust.keyString;
  }
  get name(): string | null {
    return this.#name;
  }
  get spec(): EndpointSpec {
    return this.#spec ?? { host: this.#endpoint.address, port: this.#endpoint.port };
  }
  get endpoint(): Endpoint {
    return this.#endpoint;
  }
  get endpointString(): string {
    return this.#endpointString;
  }
  get compat(): Compat | null {
    return this.#compat;
  }
  get allowPlaintext(): boolean {
    return this.#allowPlaintext;
  }
  get state(): PeerState {
    return this.#state;
  }
  get rttMs(): number | null {
    return this.#rttMs;
  }
  /** The peer's handshake timestamp of the last confirmed session (what is persisted). */
  get lastHandshakeTs(): number | null {
    return this.#lastHandshakeTs;
  }
  /**
   * The replay high-water mark: the highest handshake timestamp (init or response) accepted
   * from this identity (at least the persisted one). Only this identity's own timestamps are
   * compared with it, never our clock.
   */
  get handshakeMark(): number | null {
    return this.#markAbove ?? this.#lastHandshakeTs;
  }
  get clockOffsetMs(): number | null {
    return this.#clockOffsetMs;
  }
  get lastHandshakeAt(): string | null {
    const at = this.#lastHandshakeAt;
    return typeof at === 'number' ? new Date(at).toISOString() : at;
  }

  label(): string {
    return this.#name ?? this.keyString ?? this.#endpointString;
  }

  info(): PeerInfo {
    return {
      key: this.keyString,
      name: this.#name,
      endpoint: this.#endpointString,
      compat: this.#compat,
      allowPlaintext: this.#allowPlaintext,
      trust: this.trust.level,
      state: this.#state,
      lastHandshake: this.lastHandshakeAt,
      rttMs: this.#rttMs,
      clockOffsetMs: this.#clockOffsetMs,
      counters: copyCounters(this.counters),
      ...(this.#transportStats?.stats() ?? {}),
    };
  }

  /** The link reports its packet-layer figures through this (null: none). */
  /** The link the node picked for this peer (null: none, or removed). */
  get link(): object | null {
    return this.#link;
  }
  setLink(link: object | null): void {
    this.#link = link;
  }

  setTransportStats(source: TransportStatsSource | null): void {
    this.#transportStats = source;
  }

  /** The table keeps its indexes current through this (null: detached). */
  attachIndex(index: PeerIndex | null): void {
    this.#index = index;
  }

  indexKeys(): PeerIndexKeys {
    const address = this.#compat === 'vault-v2' ? this.#endpoint.address : null;
    return { keyString: this.keyString, staticKey: this.trust.staticKey, name: this.#name, endpoint: this.#endpointString, address, spec: specString(this.spec) };
  }

  /**
   * Moves to a new state. Entering 'established' emits 'handshake', entering 'unreachable'
   * emits 'unreachable' (each once per entry); other moves are silent.
   */
  setState(state: PeerState): void {
    if (state === this.#state) return;
    this.#state = state;
    if (state === 'established') this.#emit({ type: 'handshake', peer: this.info() });
    else if (state === 'unreachable') this.#emit({ type: 'unreachable', peer: this.info() });
  }

  /** The peer was seen at (or resolved to) another address: 'endpoint-changed' once. */
  moveTo(e: Endpoint): boolean {
    if (e.address === this.#endpoint.address && e.port === this.#endpoint.port) return false; // the per-packet case: no string work
    const s = formatEndpoint(e);
    if (s === this.#endpointString) return false;
    Peer.#change(this, () => {
      const spec = this.spec; // the configured endpoint stays (made an object of its own when it was the current one)
      this.#endpoint = sharedHost(e, spec);
      this.#spec = specUnlessSame(spec, this.#endpoint);
      this.#endpointString = s;
    });
    this.#emit({ type: 'endpoint-changed', peer: this.info() });
    return true;
  }

  /** The user changed name, configured endpoint or options (addPeer on an existing peer; no event: 'added' follows). */
  update(o: { name?: string; spec: EndpointSpec; endpoint: Endpoint; compat?: Compat; allowPlaintext?: boolean }): void {
    Peer.#change(this, () => {
      if (o.name !== undefined) this.#name = o.name;
      this.#endpoint = sharedHost(o.endpoint, o.spec);
      this.#spec = specUnlessSame(o.spec, this.#endpoint);
      this.#endpointString = formatEndpoint(o.endpoint);
      if (o.compat !== undefined) this.#compat = o.compat;
      if (o.allowPlaintext !== undefined) this.#allowPlaintext = o.allowPlaintext;
    });
  }

  /** The key to verify a signature by `offered` with (see PeerTrust); a refused TOFU key emits 'key-changed' once. */
  verifyingKey(offered: Uint8Array): Uint8Array {
    return this.trust.verifyingKey(offered, (offeredKey) => this.#emit({ type: 'key-changed', peer: this.info(), offeredKey }));
  }

  /** Trust on first use: records the key that verified; emits 'tofu'. False when a key was already recorded. */
  recordTofu(key: Uint8Array): boolean {
    let recorded = false;
    Peer.#change(this, () => (recorded = this.trust.recordFirst(key)));
    if (recorded) this.#emit({ type: 'tofu', peer: this.info() });
    return recorded;
  }

  /** Pins a user-given key on a peer without one (silent: the 'added' event follows). */
  pinKey(key: Uint8Array): void {
    Peer.#change(this, () => this.trust.pin(key));
  }

  /** Replaces the key by a user-given one (--replace-key): 'key-changed' once. */
  replaceKey(key: Uint8Array): void {
    const offeredKey = Peer.#change(this, () => this.trust.pin(key)).keyString;
    this.#emit({ type: 'key-changed', peer: this.info(), offeredKey: offeredKey ?? undefined });
    this.#lastHandshakeTs = null;
    this.#markAbove = null;
  }

  /** Restores what the peer store recorded (createNode, reload). */
  restore(trust: Trust, lastHandshakeTs: number | null, lastHandshakeAt: string | null): void {
    this.trust.restoreLevel(trust);
    const mark = maxOrNull(this.handshakeMark, lastHandshakeTs);
    this.#lastHandshakeTs = lastHandshakeTs;
    Peer.#setMark(this, mark);
    this.#lastHandshakeAt = isoAsMs(lastHandshakeAt);
  }

  /** A handshake message with this timestamp was accepted (verified, not yet confirmed): the mark rises in memory. */
  acceptHandshakeTs(tsMs: number): void {
    Peer.#setMark(this, maxOrNull(this.handshakeMark, tsMs));
  }

  /** The replay mark becomes `mark` (≥ #lastHandshakeTs): kept only when above it. */
  static #setMark(self: Peer, mark: number | null): void {
    self.#markAbove = mark === self.#lastHandshakeTs ? null : mark;
  }

  /**
   * A handshake's session is confirmed at wall time `atMs` (or a vault-v2 key announcement was
   * accepted): `initTsMs`, the peer's handshake timestamp of that session, becomes the
   * persisted mark (never lowered). The caller persists before moving endpoints or recording TOFU.
   */
  recordHandshake(initTsMs: number | null, atMs: number): void {
    if (initTsMs !== null) {
      const mark = maxOrNull(this.handshakeMark, initTsMs);
      this.#lastHandshakeTs = maxOrNull(this.#lastHandshakeTs, initTsMs);
      Peer.#setMark(this, mark);
    }
    this.#lastHandshakeAt = new Date(atMs).getTime(); // the ms toISOString shows (whole, clamped as a Date is)
  }

  /**
   * The clock offset measured at a handshake. Returns true (and emits 'clock-skew' with the
   * offset) when it differs from the last reported one (initially 0) by more than `reportMs`:
   * a skew, or a step of either clock.
   */
  recordClockOffset(offsetMs: number, reportMs: number): boolean {
    this.#clockOffsetMs = offsetMs;
    return Peer.#reportClock(this, offsetMs, reportMs);
  }

  /**
   * Authentic frames arrived this far off the measured offset (a clock stepped mid-session):
   * reported like a measured offset, which the new handshake then measures.
   */
  observeClockStep(observedOffsetMs: number, reportMs: number): boolean {
    return Peer.#reportClock(this, observedOffsetMs, reportMs);
  }

  static #reportClock(self: Peer, offsetMs: number, reportMs: number): boolean {
    if (Math.abs(offsetMs - self.#reportedOffsetMs) <= reportMs) return false;
    const previousOffsetMs = self.#reportedOffsetMs;
    self.#reportedOffsetMs = offsetMs;
    self.counters.clockSkew = (self.counters.clockSkew ?? 0) + 1;
    self.#emit({ type: 'clock-skew', peer: self.info(), clockOffsetMs: offsetMs, previousOffsetMs });
    return true;
  }

  setRtt(ms: number | null): void {
    this.#rttMs = ms;
  }

  static #change(self: Peer, fn: () => void): PeerIndexKeys {
    const before = self.indexKeys();
    fn();
    self.#index?.reindex(self, before);
    return self.indexKeys();
  }
}
