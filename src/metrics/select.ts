/**
 * Which peers get their own metric series, and under which labels.
 *
 * Cardinality: at most `maxPeers` peers are labelled (the setting `metricsMaxPeers`, 0..10,000).
 * They are the top `maxPeers` by traffic (bytes in + bytes out since the daemon started; ties:
 * packets, then the key string or endpoint, so the choice is stable from one scrape to the
 * next); the others are only counted (`udpvault_peers_unlabelled`) and are in the global series.
 *
 * Labels: `peer` is the short key fingerprint (`3f2a-9c01`, as in `peer list`); the full
 * fingerprint if two labelled peers share a short one; `endpoint:HOST:PORT` for a peer whose
 * key is not known yet (TOFU before its first handshake). `name` is the peer's name or "".
 * Neither carries key material: a fingerprint is a truncated hash of the public key.
 */
import { fingerprint, shortFingerprint } from '../crypto/fingerprint';
import type { PeerInfo } from '../node/types';

export interface LabelledPeer<P extends PeerInfo> {
  readonly info: P;
  readonly peer: string;
  readonly name: string;
}

export interface PeerSelection<P extends PeerInfo> {
  readonly labelled: LabelledPeer<P>[];
  /** Peers left without their own series. */
  readonly unlabelled: number;
}

/** A sum for ranking; 0 when not a number (a NaN would break the sort's order). */
function rank(a: number, b: number): number {
  const v = a + b;
  return Number.isFinite(v) ? v : 0;
}

function traffic(p: PeerInfo): number {
  return rank(p.counters.bytesIn, p.counters.bytesOut);
}

function packets(p: PeerInfo): number {
  return rank(p.counters.packetsIn, p.counters.packetsOut);
}

function safeFingerprint(key: string, full: boolean): string | null {
  try {
    return full ? fingerprint(key) : shortFingerprint(key);
  } catch {
    return null; // not a udpvault key string (never expected from the node)
  }
}

function baseLabel(p: PeerInfo): string {
  if (p.key === null) return `endpoint:${p.endpoint}`;
  return safeFingerprint(p.key, false) ?? `endpoint:${p.endpoint}`;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The labelled peers (most traffic first) and how many were left out. Fingerprints only for the chosen. */
export function selectPeers<P extends PeerInfo>(peers: readonly P[], maxPeers: number): PeerSelection<P> {
  const limit = Math.max(0, Math.min(Math.floor(maxPeers), peers.length));
  if (limit === 0) return { labelled: [], unlabelled: peers.length };
  const ranked = peers.map((info) => ({ info, id: info.key ?? info.endpoint, bytes: traffic(info), pkts: packets(info) }));
  ranked.sort((a, b) => b.bytes - a.bytes || b.pkts - a.pkts || compareStrings(a.id, b.id));
  const used = new Set<string>();
  const labelled: LabelledPeer<P>[] = [];
  for (const r of ranked.slice(0, limit)) {
    const base = baseLabel(r.info);
    let peer = base;
    if (used.has(peer) && r.info.key !== null) peer = safeFingerprint(r.info.key, true) ?? peer;
    for (let n = 2; used.has(peer); n++) peer = `${base}#${n}`; // last resort: never two samples for one series
    used.add(peer);
    labelled.push({ info: r.info, peer, name: r.info.name ?? '' });
  }
  return { labelled, unlabelled: peers.length - labelled.length };
}
