/** One peer: identity, endpoint, sessions, handshake state, queues and counters (no I/O). */
import type { Session, SessionLimits } from '../crypto/session';
import type { PendingInit } from '../crypto/handshake';
import type { Compat, Counters, PeerInfo, PeerState, Trust } from '../node/types';
import type { PayloadItem } from '../wire/frame';
import type { Endpoint, EndpointSpec } from './endpoint';
import { formatEndpoint } from './endpoint';
import { newCounters, copyCounters } from './counters';
import { encodeKey } from '../crypto/identity';

/** A message accepted by send() whose datagrams are not on the wire yet. */
export interface OutMessage {
  items: PayloadItem[];
  bytes: number;
  reliable: boolean;
  deadlineMs: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

export class Peer {
  key: Uint8Array | null;
  keyString: string | null;
  name: string | null;
  spec: EndpointSpec;
  endpoint: Endpoint;
  compat: Compat | null;
  allowPlaintext: boolean;
  trust: Trust;
  state: PeerState = 'new';
  /** Newest first, bounded (see handshake-io MAX_SESSIONS_PER_PEER). */
  sessions: Session[] = [];
  pending: PendingInit | null = null;
  /** Earlier attempts, newest first (bounded): a late answer to one still completes the handshake. */
  olderPendings: PendingInit[] = [];
  /** The pending init was sent a second time (crossing handshake, see handshake-io). */
  pendingResent = false;
  /** When to send the pending init once more if still unanswered (0 = not scheduled). */
  resendPendingAtMs = 0;
  handshakeStartedAtMs = 0;
  handshakeFirstAttemptAtMs = 0;
  nextHandshakeAtMs = 0;
  handshakeAttempts = 0;
  /** Last accepted signed handshake timestamp from this identity (persisted; replay defence). */
  lastHandshakeTs: number | null;
  lastHandshakeAt: string | null;
  /** Messages waiting for a session (bounded), in order. */
  queue: OutMessage[] = [];
  queueBytes = 0;
  /** Items for the current event-loop turn (coalesced into shared datagrams at flush). */
  outbox: OutMessage[] = [];
  counters: Counters = newCounters();
  rttMs: number | null = null;
  /** Datagram-mode message ids start at a random point so a restarted sender is not taken for a duplicate. */
  nextMsgId: number;
  lastDataSentAtMs = 0;
  /** Compression attempts to skip after one that did not shrink the payload. */
  compressSkip = 0;
  /** Token bucket on received packets (set by the node from settings). */
  limiter!: import('../net/ratelimit').TokenBucket;
  /** Control items (acks, keepalive) to send with the next flush. */
  controls: import('../wire/frame').ControlItem[] = [];

  constructor(o: {
    key: Uint8Array | null;
    name: string | null;
    spec: EndpointSpec;
    endpoint: Endpoint;
    compat: Compat | null;
    allowPlaintext: boolean;
    trust: Trust;
    lastHandshakeTs: number | null;
    lastHandshakeAt: string | null;
    /** First datagram-mode message id (random, from the node's Random). */
    firstMsgId: number;
  }) {
    this.nextMsgId = o.firstMsgId;
    this.key = o.key;
    this.keyString = o.key ? encodeKey(o.key) : null;
    this.name = o.name;
    this.spec = o.spec;
    this.endpoint = o.endpoint;
    this.compat = o.compat;
    this.allowPlaintext = o.allowPlaintext;
    this.trust = o.trust;
    this.lastHandshakeTs = o.lastHandshakeTs;
    this.lastHandshakeAt = o.lastHandshakeAt;
  }

  setKey(key: Uint8Array, trust: Trust): void {
    this.key = key;
    this.keyString = encodeKey(key);
    this.trust = trust;
  }

  get endpointString(): string {
    return formatEndpoint(this.endpoint);
  }

  /** The session to send on: newest confirmed, unexpired one. */
  sendSession(nowMs: number, limits: SessionLimits): Session | null {
    for (const s of this.sessions) if (s.confirmed && !s.expired(nowMs, limits)) return s;
    return null;
  }

  label(): string {
    return this.name ?? this.keyString ?? this.endpointString;
  }

  info(): PeerInfo {
    return {
      key: this.keyString,
      name: this.name,
      endpoint: this.endpointString,
      compat: this.compat,
      allowPlaintext: this.allowPlaintext,
      trust: this.trust,
      state: this.state,
      lastHandshake: this.lastHandshakeAt,
      rttMs: this.rttMs,
      counters: copyCounters(this.counters),
    };
  }

  wipeSessions(): void {
    for (const s of this.sessions) s.wipe();
    this.sessions = [];
  }
}
