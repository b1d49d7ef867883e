/** The in-memory simulated network for deterministic tests (see network.ts). */
export { SimNetwork, type SimNetworkOptions } from './network';
export { SimHost, SimTransport, EPHEMERAL_FIRST, RECEIVE_BUFFER_BYTES } from './host';
export { Nat, NAT_PORT_RANGE } from './nat';
export { UNLIMITED_LINK, FATES, type Fate, type FateCount, type LinkOptions, type NatOptions, type NetStats, type TraceEntry } from './types';
export { CrossTraffic, type CrossTrafficCounts, type CrossTrafficOptions } from './cross-traffic';
