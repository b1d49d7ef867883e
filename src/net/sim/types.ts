/** Shapes shared by the simulated network's parts (links, NAT, trace, hosts). */

/** What happened to one datagram (or one copy of it). */
export type Fate =
  /** Handed to a listening transport. */
  | 'delivered'
  /** Dropped by the link's seeded loss. */
  | 'lost'
  /** Tail-dropped: the link's send queue (queueBytes) was full. */
  | 'queueFull'
  /** Larger than the link MTU (IP + UDP headers included): silently dropped, as a router does with DF set. */
  | 'tooBig'
  /** Reached a host or port with nothing bound (or a crashed host). */
  | 'noListener'
  /** A second copy made by the link's seeded duplication, delivered. */
  | 'duplicated'
  /** Dropped by a NAT: no mapping, an expired mapping, or a remote the mapping never sent to. */
  | 'filtered'
  /** Dropped because the two addresses are partitioned. */
  | 'partitioned'
  /** Reached a frozen host whose socket receive buffer was full. */
  | 'bufferFull';

export const FATES: readonly Fate[] = ['delivered', 'lost', 'queueFull', 'tooBig', 'noListener', 'duplicated', 'filtered', 'partitioned', 'bufferFull'];

/** Parameters of one direction of a link. Every field is optional where a link is set. */
export interface LinkOptions {
  /** One-way propagation delay. */
  latencyMs: number;
  /** Extra delay drawn uniformly from [0, jitterMs) per datagram (may reorder, as netem does). */
  jitterMs: number;
  /** Fraction of datagrams lost, in [0, 1]. */
  loss: number;
  /** Fraction of datagrams delivered twice, in [0, 1]. */
  duplicate: number;
  /** Fraction of datagrams held back by reorderDelayMs, in [0, 1]. */
  reorder: number;
  /** Extra delay of a reordered datagram (default: max(5, latencyMs)). */
  reorderDelayMs?: number;
  /** Serialisation rate in bits per second of IP packets (Infinity = no queueing). */
  bandwidthBps: number;
  /** IP bytes (headers included) that may wait for serialisation; beyond it the tail is dropped (Infinity = no limit). */
  queueBytes: number;
  /** Largest IP packet (payload + 28 bytes IPv4 / 48 bytes IPv6 headers). */
  mtu: number;
  /**
   * A Linux sender's kernel behind this hop (IP_PMTUDISC_WANT, as Node's sockets): the first
   * datagram too big for `mtu` is dropped ('tooBig') and answered with ICMP "fragmentation
   * needed", which reaches the sender latencyMs later; from then on the sender's kernel
   * fragments larger datagrams itself: they arrive whole (reassembled) and the sending host's
   * fragment counter grows by the fragments created (SimHost.fragmentCounter).
   */
  fragmentAfterTooBig: boolean;
}

/**
 * The default for pairs without a link, and for fields a link leaves unset: instant, lossless,
 * unlimited (no MTU below the UDP payload limit, as on loopback, where the kernel fragments).
 */
export const UNLIMITED_LINK: Readonly<LinkOptions> = Object.freeze({
  latencyMs: 0,
  jitterMs: 0,
  loss: 0,
  duplicate: 0,
  reorder: 0,
  bandwidthBps: Infinity,
  queueBytes: Infinity,
  mtu: Infinity,
  fragmentAfterTooBig: false,
});

/** One datagram (or copy) and its fate. */
export interface TraceEntry {
  /**
   * Monotonic ms when the fate was decided: the handover for delivered/duplicated/noListener
   * (later than the arrival for a frozen host), the arrival for filtered/bufferFull, the send otherwise.
   */
  atMs: number;
  /** Monotonic ms when the sender handed it over. */
  sentMs: number;
  /** The sender's own endpoint 'address:port' (IPv6 as '[addr]:port'). */
  from: string;
  /** The destination as addressed by the sender. */
  to: string;
  /** Payload bytes (UDP payload, headers excluded). */
  size: number;
  /** Hex SHA-256 of the payload. */
  digest: string;
  fate: Fate;
  /** IP fragments the sender's kernel cut it into (fragmentAfterTooBig links; absent when sent whole). */
  fragments?: number;
  /** Source as seen past the sender's NAT, when it has one. */
  mappedFrom?: string;
  /** Inside endpoint a NAT forwarded it to, when the destination is a NAT's public address. */
  mappedTo?: string;
}

export interface FateCount {
  count: number;
  bytes: number;
}

export type NetStats = Record<Fate, FateCount>;

/** Stateful NAT in front of one inside address. */
export interface NatOptions {
  /** Address the outside sees. */
  publicAddress: string;
  /** First mapped port; each rebind moves to a new range above it. */
  portBase: number;
  /**
   * Which inbound datagrams a mapping admits: 'endpoint' (any remote: full cone), 'address'
   * (remotes at an address it sent to), 'addressPort' (exactly the remotes it sent to; default).
   */
  filtering?: 'endpoint' | 'address' | 'addressPort';
  /** A mapping unused by outbound traffic for this long is dropped (default: never). */
  mappingTimeoutMs?: number;
}
