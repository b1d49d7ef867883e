/** What a Peer is made from (PeerOptions), what the peer table indexes it by, and the sources it reads (peer.ts). */
import type { Compat, PeerEvent, PeerTransportStats, Trust } from '../api/types';
import type { TokenBucket } from '../net/ratelimit';
import type { Endpoint, EndpointSpec } from './endpoint';
import type { Peer } from './peer';

/** What the table indexes a peer by (before a change). */
export interface PeerIndexKeys {
  keyString: string | null;
  /** X25519 form of the key (trust.ts staticKeyString): the handshake static. */
  staticKey: string | null;
  name: string | null;
  endpoint: string;
  /** The endpoint's address for a vault-v2 peer (found by source address); null for a native one (found by session id). */
  address: string | null;
  spec: string;
}

export interface PeerOptions {
  key: Uint8Array | null;
  trust: Trust;
  name: string | null;
  spec: EndpointSpec;
  endpoint: Endpoint;
  compat: Compat | null;
  allowPlaintext: boolean;
  lastHandshakeTs: number | null;
  lastHandshakeAt: string | null;
  /** Token bucket on received packets. */
  limiter: TokenBucket;
  /** Where the peer's events go (the node's 'peer' event). */
  emit: (ev: PeerEvent) => void;
}

/** The configured 'host:port' (one flat string, like formatEndpoint's). */
export const specString = (s: EndpointSpec): string => [s.host, ':', s.port].join('');

/** Where a peer's packet-layer figures come from (its link's packet path). */
export interface TransportStatsSource {
  stats(): PeerTransportStats;
}

/** What keeps indexes of peers current (the peer table). */
export interface PeerIndex {
  reindex(p: Peer, before: PeerIndexKeys): void;
}
