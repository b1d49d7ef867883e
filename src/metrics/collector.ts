/**
 * The udpvault metric families and their collection. Everything but the histograms is read
 * at scrape time from the node's status() and peers() (one call each per scrape), so the
 * packet path pays nothing. docs/METRICS.md lists the families.
 */
import { packageVersion } from '../control/version';
import { DROP_REASONS } from '../errors';
import type { Counters, NodeStatus, PeerInfo, PeerState } from '../node/types';
import { MetricsRegistry, type HistogramFamily, type ScrapedFamily } from './prom';
import { selectPeers, type LabelledPeer } from './select';

/**
 * Fields the node may add to its status for these metrics; each family that needs one is
 * exposed with no sample until the node provides it (pending: see docs/METRICS.md).
 */
export interface MetricsStatusExtras {
  /** Established sessions (default: the number of established peers). */
  sessions?: number;
  /** Messages / bytes waiting to be sent, all peers (default: the sum of the peers' fields, when they have them). */
  queuedMessages?: number;
  queuedBytes?: number;
}

export interface MetricsPeerExtras {
  /** Congestion window of the peer's path, bytes (pending: the congestion controller). */
  congestionWindowBytes?: number;
  /** Bytes sent and not yet acknowledged or declared lost. */
  bytesInFlight?: number;
  queuedMessages?: number;
  queuedBytes?: number;
}

/** What the exporter reads: a node (UdpVaultNode satisfies it), optionally with the extras. */
export interface MetricsSource {
  status(): NodeStatus & MetricsStatusExtras;
  peers(): (PeerInfo & MetricsPeerExtras)[];
}

type Peer = PeerInfo & MetricsPeerExtras;
type PeerLabel = 'peer' | 'name';

const STATES: readonly PeerState[] = ['new', 'handshaking', 'established', 'unreachable'];
/** Seconds; handshakes are one round trip plus signing (about a millisecond on loopback) up to timeouts. */
export const HANDSHAKE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
export const RTT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** A value a family may carry: finite and (for counters and sizes) not negative. */
function ok(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

function sum(peers: readonly Peer[], field: 'queuedMessages' | 'queuedBytes'): number | undefined {
  let total: number | undefined;
  for (const p of peers) if (ok(p[field])) total = (total ?? 0) + p[field];
  return total;
}

export class NodeMetrics {
  readonly #source: MetricsSource;
  readonly #maxPeers: number;
  readonly #reg = new MetricsRegistry();
  #inflight: Promise<string> | null = null;

  readonly #packets = this.#reg.counter('udpvault_packets_total', 'UDP datagrams received (in) and sent (out).', ['direction']);
  readonly #bytes = this.#reg.counter('udpvault_bytes_total', 'UDP payload bytes received (in) and sent (out).', ['direction']);
  readonly #messages = this.#reg.counter('udpvault_messages_total', 'Application messages delivered to subscribers (in) and sent (out).', ['direction']);
  readonly #drops = this.#reg.counter('udpvault_drops_total', 'Datagrams dropped, by reason (every reason is present).', ['reason']);
  readonly #peersByState = this.#reg.gauge('udpvault_peers', 'Peers by state (every state is present).', ['state']);
  readonly #unlabelled = this.#reg.gauge('udpvault_peers_unlabelled', 'Peers without their own series (beyond metricsMaxPeers).', []);
  readonly #sessions = this.#reg.gauge('udpvault_sessions', 'Established sessions.', []);
  readonly #queuedMessages = this.#reg.gauge('udpvault_queued_messages', 'Messages waiting to be sent, all peers.', []);
  readonly #queuedBytes = this.#reg.gauge('udpvault_queued_bytes', 'Bytes waiting to be sent, all peers.', []);
  readonly #mtu = this.#reg.gauge('udpvault_mtu_bytes', 'Path MTU the node uses.', []);
  readonly #maxDatagram = this.#reg.gauge('udpvault_max_datagram_bytes', 'Largest UDP payload the node sends.', []);
  readonly #startTime = this.#reg.gauge('udpvault_start_time_seconds', 'Start of the node, Unix time in seconds.', []);
  readonly #buildInfo = this.#reg.gauge('udpvault_build_info', 'Always 1; the labels say which udpvault and Node.js versions run.', ['version', 'nodejs']);

  readonly #peerPackets = this.#reg.counter('udpvault_peer_packets_total', 'Datagrams from/to one peer.', ['peer', 'name', 'direction']);
  readonly #peerBytes = this.#reg.counter('udpvault_peer_bytes_total', 'UDP payload bytes from/to one peer.', ['peer', 'name', 'direction']);
  readonly #peerMessages = this.#reg.counter('udpvault_peer_messages_total', 'Messages from/to one peer.', ['peer', 'name', 'direction']);
  readonly #peerDrops = this.#reg.counter('udpvault_peer_drops_total', "Datagrams of one peer dropped, by reason (reasons seen only).", ['peer', 'name', 'reason']);
  readonly #peerState = this.#reg.gauge('udpvault_peer_state', 'The state of one peer: 1 on the series of its current state.', ['peer', 'name', 'state']);
  readonly #peerRtt = this.#reg.gauge('udpvault_peer_rtt_seconds', "Smoothed round-trip time of one peer (once measured).", ['peer', 'name']);
  readonly #peerLastHandshake = this.#reg.gauge('udpvault_peer_last_handshake_timestamp_seconds', 'Last completed handshake with one peer, Unix time in seconds.', ['peer', 'name']);
  readonly #peerCwnd = this.#reg.gauge('udpvault_peer_congestion_window_bytes', 'Congestion window of one peer (when the node exposes it).', ['peer', 'name']);
  readonly #peerInFlight = this.#reg.gauge('udpvault_peer_bytes_in_flight', 'Bytes sent to one peer and not yet acknowledged (when the node exposes it).', ['peer', 'name']);
  readonly #peerQueuedMessages = this.#reg.gauge('udpvault_peer_queued_messages', 'Messages waiting to be sent to one peer (when the node exposes it).', ['peer', 'name']);
  readonly #peerQueuedBytes = this.#reg.gauge('udpvault_peer_queued_bytes', 'Bytes waiting to be sent to one peer (when the node exposes it).', ['peer', 'name']);

  readonly #rtt: HistogramFamily = this.#reg.histogram('udpvault_rtt_seconds', "Peers' smoothed RTT, one observation per peer with an estimate at each scrape.", RTT_BUCKETS);
  readonly #handshake: HistogramFamily = this.#reg.histogram('udpvault_handshake_duration_seconds', 'Handshake duration, first datagram to established session.', HANDSHAKE_BUCKETS);

  readonly #scraped: ScrapedFamily<string>[] = [
    this.#packets, this.#bytes, this.#messages, this.#drops, this.#peersByState, this.#unlabelled, this.#sessions,
    this.#queuedMessages, this.#queuedBytes, this.#mtu, this.#maxDatagram, this.#startTime, this.#buildInfo,
    this.#peerPackets, this.#peerBytes, this.#peerMessages, this.#peerDrops, this.#peerState, this.#peerRtt,
    this.#peerLastHandshake, this.#peerCwnd, this.#peerInFlight, this.#peerQueuedMessages, this.#peerQueuedBytes,
  ] as ScrapedFamily<string>[];

  constructor(source: MetricsSource, maxPeers: number) {
    this.#source = source;
    this.#maxPeers = maxPeers;
  }

  get contentType(): string {
    return this.#reg.contentType;
  }

  /** Records one handshake duration (milliseconds). */
  observeHandshake(ms: number): void {
    if (Number.isFinite(ms) && ms >= 0) this.#handshake.observe(ms / 1000);
  }

  /** Collects and renders; scrapes that arrive while one is rendered share its text. */
  scrape(): Promise<string> {
    if (this.#inflight) return this.#inflight;
    const run = Promise.resolve().then(() => {
      this.#collect();
      return this.#reg.render();
    });
    this.#inflight = run;
    const done = (): void => {
      if (this.#inflight === run) this.#inflight = null;
    };
    run.then(done, done);
    return run;
  }

  #collect(): void {
    const status = this.#source.status();
    const peers = this.#source.peers();
    for (const f of this.#scraped) f.clear();

    this.#setCounters(status.counters, {});
    for (const reason of DROP_REASONS) this.#drops.set({ reason }, ok(status.counters.drops[reason]) ? status.counters.drops[reason] : 0);

    const byState = new Map<PeerState, number>(STATES.map((s) => [s, 0]));
    for (const p of peers) {
      byState.set(p.state, (byState.get(p.state) ?? 0) + 1);
      if (ok(p.rttMs)) this.#rtt.observe(p.rttMs / 1000);
    }
    for (const [state, n] of byState) this.#peersByState.set({ state }, n);
    const sessions = ok(status.sessions) ? status.sessions : (byState.get('established') ?? 0);
    this.#sessions.set({}, sessions);
    const qm = ok(status.queuedMessages) ? status.queuedMessages : sum(peers, 'queuedMessages');
    const qb = ok(status.queuedBytes) ? status.queuedBytes : sum(peers, 'queuedBytes');
    if (qm !== undefined) this.#queuedMessages.set({}, qm);
    if (qb !== undefined) this.#queuedBytes.set({}, qb);
    if (ok(status.mtu)) this.#mtu.set({}, status.mtu);
    if (ok(status.maxDatagramBytes)) this.#maxDatagram.set({}, status.maxDatagramBytes);
    const started = Date.parse(status.startedAt);
    if (Number.isFinite(started)) this.#startTime.set({}, started / 1000);
    this.#buildInfo.set({ version: packageVersion(), nodejs: process.version }, 1);

    const selection = selectPeers(peers, this.#maxPeers);
    this.#unlabelled.set({}, selection.unlabelled);
    for (const lp of selection.labelled) this.#collectPeer(lp);
  }

  #setCounters(c: Counters, who: { peer?: string; name?: string }): void {
    const labelled = who.peer !== undefined;
    const [packets, bytes, messages] = labelled ? [this.#peerPackets, this.#peerBytes, this.#peerMessages] : [this.#packets, this.#bytes, this.#messages];
    const pairs: [ScrapedFamily<string>, number, number][] = [
      [packets, c.packetsIn, c.packetsOut],
      [bytes, c.bytesIn, c.bytesOut],
      [messages, c.messagesIn, c.messagesOut],
    ];
    for (const [family, vin, vout] of pairs) {
      if (ok(vin)) family.set({ ...who, direction: 'in' }, vin);
      if (ok(vout)) family.set({ ...who, direction: 'out' }, vout);
    }
  }

  #collectPeer(lp: LabelledPeer<Peer>): void {
    const p = lp.info;
    const who: Record<PeerLabel, string> = { peer: lp.peer, name: lp.name };
    this.#setCounters(p.counters, who);
    for (const reason of DROP_REASONS) {
      const n = p.counters.drops[reason];
      if (ok(n) && n > 0) this.#peerDrops.set({ ...who, reason }, n);
    }
    this.#peerState.set({ ...who, state: p.state }, 1);
    if (ok(p.rttMs)) this.#peerRtt.set(who, p.rttMs / 1000);
    const hs = p.lastHandshake === null ? NaN : Date.parse(p.lastHandshake);
    if (Number.isFinite(hs)) this.#peerLastHandshake.set(who, hs / 1000);
    if (ok(p.congestionWindowBytes)) this.#peerCwnd.set(who, p.congestionWindowBytes);
    if (ok(p.bytesInFlight)) this.#peerInFlight.set(who, p.bytesInFlight);
    if (ok(p.queuedMessages)) this.#peerQueuedMessages.set(who, p.queuedMessages);
    if (ok(p.queuedBytes)) this.#peerQueuedBytes.set(who, p.queuedBytes);
  }
}
