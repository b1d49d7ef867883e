/**
 * The in-memory simulated network for deterministic tests: no sockets, no sleeps, every random
 * choice from the injected SeededRandom (one fork per link), time from the ManualScheduler.
 *
 *   const net = new SimNetwork({ scheduler, random: random.fork() });
 *   const t = await net.host('127.0.0.1').openTransport({ host: '127.0.0.1', port: 0, onMessage, onError });
 *   net.link(a, b, { latencyMs, jitterMs, loss, duplicate, reorder, bandwidthBps, queueBytes, mtu }); // linkOneWay too
 *   net.setDefaultLink({...}); net.partition(a, b, true); net.nat(inside, { publicAddress, portBase });
 *   net.rebind(inside[, newPublic]); net.host(a).freeze()/thaw()/crash(); net.crossTraffic(a, b, { rateBps });
 *   net.trace (every datagram's fate, in order), net.stats(from?, to?), net.inFlight
 *
 * Fates: delivered, duplicated (the copy), lost, queueFull, tooBig, noListener, filtered (NAT),
 * partitioned, bufferFull (frozen host). Arrivals run one per scheduler callback, so a test
 * advances time (sched.advance / runUntil) to see them.
 */
export { SimNetwork, type SimNetworkOptions } from './network';
export { SimHost, SimTransport, EPHEMERAL_FIRST, RECEIVE_BUFFER_BYTES } from './host';
export { Nat, NAT_PORT_RANGE } from './nat';
export { CrossTraffic, type CrossTrafficCounts, type CrossTrafficOptions } from './cross-traffic';
export { UNLIMITED_LINK, FATES, type Fate, type FateCount, type LinkOptions, type NatOptions, type NetStats, type TraceEntry } from './types';
