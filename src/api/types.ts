/** Public types of a node (the in-process event API, SPEC §2). */
import type { DropReason } from './drops';

export type Compat = 'vault-v2';
export type PeerState = 'new' | 'handshaking' | 'established' | 'unreachable';
/** pinned: key given by the user; tofu: first key seen was recorded; unknown: no key yet. */
export type Trust = 'pinned' | 'tofu' | 'unknown';

export interface AddPeerOptions {
  /** 'host:port' or '[v6addr]:port'; hostnames are resolved (and re-resolved). */
  endpoint: string;
  /** Public key string (`udpvault id`); omit for trust on first use. */
  key?: string;
  name?: string;
  compat?: Compat;
  /** vault-v2 only: accept plaintext payloads from this peer (marked encrypted: false). */
  allowPlaintext?: boolean;
  /** Replace the pinned key of an existing peer (`peer add --replace-key`); without it another key is refused (ERR_KEY_CONFLICT). */
  replaceKey?: boolean;
}

export interface Counters {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
  /** Clock skews and steps reported (peer event 'clock-skew'). */
  clockSkew?: number;
  drops: Partial<Record<DropReason, number>>;
}

export interface PeerInfo {
  key: string | null;
  name: string | null;
  endpoint: string;
  compat: Compat | null;
  allowPlaintext: boolean;
  trust: Trust;
  state: PeerState;
  /** ISO 8601 time of the last completed handshake, or null. */
  lastHandshake: string | null;
  rttMs: number | null;
  /**
   * The peer's wall clock minus ours in ms, measured at the last handshake (null before the
   * first). Data-frame timestamps are judged against it, so clocks need not agree.
   */
  clockOffsetMs?: number | null;
  counters: Counters;
  /** Native peers: congestion window (bytes). */
  congestionWindowBytes?: number;
  /** Native peers: bytes of ack-eliciting datagrams not yet acknowledged nor declared lost. */
  bytesInFlight?: number;
  /** Native peers: smoothed RTT from packet acks (ack delay subtracted), null before a sample. */
  srttMs?: number | null;
  /** Native peers: datagrams declared lost by loss detection. */
  lostPackets?: number;
  /** Native peers: largest datagram (UDP payload bytes) the path is known to carry (DPLPMTUD). */
  pathMtuBytes?: number;
  /** Native peers: whether the path MTU search is under way (false once it ended, until its periodic restart). */
  pathMtuSearching?: boolean;
  /** Native peers: times our reliable sending paused for the peer's flow-control credit (its inbox was full; not loss). */
  flowBlocked?: number;
}

/** The packet-layer figures a link adds to PeerInfo. */
export type PeerTransportStats = Required<Pick<PeerInfo, 'congestionWindowBytes' | 'bytesInFlight' | 'srttMs' | 'lostPackets' | 'pathMtuBytes' | 'pathMtuSearching' | 'flowBlocked'>>;

export interface MessageEvent {
  /** Sender's public key string. */
  peer: string;
  name?: string;
  /** 'host:port' the datagram came from. */
  addr: string;
  data: Uint8Array;
  reliable: boolean;
  /** false only for vault-v2 plaintext payloads accepted with allowPlaintext. */
  encrypted: boolean;
  receivedAt: Date;
}

export type PeerEventType = 'added' | 'removed' | 'handshake' | 'tofu' | 'key-changed' | 'unreachable' | 'endpoint-changed' | 'clock-skew';
export interface PeerEvent {
  type: PeerEventType;
  peer: PeerInfo;
  /** For key-changed: the refused key offered by the remote side. */
  offeredKey?: string;
  /** For clock-skew: the peer's wall clock minus ours (ms), as measured at the handshake. */
  clockOffsetMs?: number;
  /** For clock-skew: the offset reported before (0 at first): a step is the difference. */
  previousOffsetMs?: number;
}

export interface SendOptions {
  reliable?: boolean;
  /** Milliseconds until the send fails (queue wait + acknowledgement). */
  timeoutMs?: number;
}

export interface NodeStatus {
  publicKey: string;
  port: number;
  host: string;
  /** Largest datagram of the family the node mainly serves (IPv6 on an IPv6-only node). */
  maxDatagramBytes: number;
  /** Largest datagram per address family (null: no socket for that family). */
  maxDatagramBytesByFamily?: { ipv4: number | null; ipv6: number | null };
  mtu: number;
  peers: number;
  counters: Counters;
  startedAt: string;
}

/** A reference to a peer: its name, key string, or 'host:port'. */
export type PeerRef = string;

export interface CreateNodeOptions {
  /**
   * Data directory (identity, peer store). The node holds the home's lock until closed: a
   * second process (daemon or node) on the same home is refused (ERR_HOME_LOCKED). Without it
   * the identity is ephemeral and nothing is written.
   */
  home?: string;
  /**
   * A home the caller has already opened and locked (the daemon); used instead of `home`, and
   * left open by close() (its opener closes it).
   */
  openedHome?: import('../store/open-home').OpenedHome;
  /** UDP port; 0 = any free port. Default from settings (11000). */
  port?: number;
  host?: string;
  /** Overrides of the defaults in src/config/schema.ts (validated by it). */
  settings?: Partial<import('../config/schema').Settings>;
  /** Injected logger (pino-compatible subset); default: silent. */
  logger?: import('../runtime/log').Logger;
  /** Injected time source; default system clock. Same as `runtime.clock` (which wins). */
  clock?: import('../runtime/clock').Clock;
  /**
   * The seams every source of variation comes through (tests and the simulated network):
   * time, timers, randomness (keys, session ids, jitter, padding) and the datagram transport.
   * Defaults: system clock and scheduler, crypto randomness, UDP sockets. Without `home`, the
   * identity is derived from `random` too (deterministic with a seeded Random).
   */
  runtime?: NodeRuntime;
  /**
   * Lets V8 give back its heap's committed slack after a burst (src/runtime/heap-settle.ts):
   * when the heap holds ≥ 16 MB and ≥ a quarter of its live bytes more than it uses and the
   * event loop was at most half busy over the last 10 s, V8 optimizes for memory (its memory
   * reducer compacts, discards free pages and shrinks new space) until the slack is gone, for at
   * most 45 s, or until the loop is more than half busy over a second; then not for 60 s.
   * One per process, shared by its nodes. Default: on with the system scheduler (no
   * `runtime.scheduler`) unless the environment has UDPVAULT_HEAP_SETTLE=0, off otherwise;
   * never with `--optimize-for-size`.
   */
  heapSettle?: boolean;
}

export interface NodeRuntime {
  clock?: import('../runtime/clock').Clock;
  scheduler?: import('../runtime/scheduler').Scheduler;
  random?: import('../runtime/random').Random;
  openTransport?: import('../net/transport').OpenTransport;
  /**
   * The kernel's count of IP fragments created, per family (path MTU search: a probe the kernel
   * fragmented is not trusted). Default: /proc/net/snmp(6) on Linux when the transport is the
   * real UDP one; none with an injected transport unless given here.
   */
  fragmentCounter?: import('../net/fragment-counter').FragmentCounter;
}

export interface NodeEvents {
  message: [MessageEvent];
  peer: [PeerEvent];
  /** A handshake refused because its sender is not a peer (for security logs; also counted as `unknownPeer`). */
  refused: [RefusedEvent];
  /**
   * Datagram mode's back-pressure signal (a flat-out sender's 'drain'): after one or more
   * datagram-mode send()s to a peer were refused with ERR_QUEUE_FULL, emitted once for that peer
   * when its window-wait queue holds at most half its limits (queueMaxMessages, queueMaxBytes)
   * again — always on a later event-loop turn than the refused promises' rejections, so a sender
   * that stops at its first ERR_QUEUE_FULL and waits for this event never misses it. Not
   * emitted if the peer is removed or the node closes first. Datagram mode to udpvault peers
   * only (not reliable sends, whose promises pace a sender; not vault-v2 peers).
   */
  writable: [WritableEvent];
  error: [Error];
}

/** The 'writable' event: datagram-mode sends to `peer` are taken again. */
export interface WritableEvent {
  peer: PeerInfo;
}

export interface RefusedEvent {
  reason: 'unknown-identity';
  /** host:port the handshake came from (a source address can be spoofed). */
  source: string;
  /** `x25519:…` fingerprint of the static the sender claimed, unauthenticated (see crypto/fingerprint.ts). */
  staticFingerprint: string;
}

/** A started node (what createNode resolves to). */
export interface UdpVaultNode {
  readonly publicKey: string;
  readonly port: number;
  addPeer(opts: AddPeerOptions): Promise<PeerInfo>;
  removePeer(ref: PeerRef): Promise<PeerInfo>;
  peers(): PeerInfo[];
  /** Resolves when sent (datagram mode) or acknowledged (reliable); rejects with a UdpVaultError. */
  send(ref: PeerRef, data: Uint8Array | string, opts?: SendOptions): Promise<void>;
  status(): NodeStatus;
  /**
   * Async iterator over received messages (each call is an independent subscriber); it first
   * takes what waited in the inbox unless `backlog: false`.
   */
  messages(opts?: { backlog?: boolean }): AsyncIterableIterator<MessageEvent>;
  /**
   * Takes, in order, the messages kept in the inbox while no reader was attached (those
   * `pick` selects). Optional so other implementations of the interface may omit it.
   */
  takeInbox?(pick?: (ev: MessageEvent) => boolean): MessageEvent[];
  /** Attaches a reader that leaves the inbox alone; returns its detach function. */
  attachReader?(reader: (ev: MessageEvent) => void): () => void;
  on<E extends keyof NodeEvents>(event: E, listener: (...args: NodeEvents[E]) => void): this;
  off<E extends keyof NodeEvents>(event: E, listener: (...args: NodeEvents[E]) => void): this;
  once<E extends keyof NodeEvents>(event: E, listener: (...args: NodeEvents[E]) => void): this;
  /**
   * Applies new settings (SIGHUP) and the peer store as it is on disk (additions, removals,
   * renames, key and endpoint changes); says what changed (null without a home).
   */
  reload(settings?: Partial<import('../config/schema').Settings>): Promise<PeerStoreChanges | null>;
  close(): Promise<void>;
}

/** What applying the peer store file to a running node changed (labels: name, else key, else endpoint). */
export interface PeerStoreChanges {
  added: string[];
  removed: string[];
  changed: string[];
  /** Entries that could not be applied (each logged with its reason). */
  failed: string[];
}
