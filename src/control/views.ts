/**
 * The JSON shapes of `status` and `peers` as the control protocol returns them (and
 * `udpvault status --json` / `peer list --json` print them): stable, documented in
 * docs/CONTROL.md. Every drop reason is present (0 when none), rttMs is rounded to 0.1 ms,
 * keys come with their fingerprint.
 */
import type { Counters, PeerInfo } from '../node/types';
import { DROP_REASONS, type DropReason } from '../errors';
import { fingerprint } from '../crypto/fingerprint';
import type { MtuSource } from '../net/mtu';

export interface CountersJson {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
  /** Clock skews and steps reported (peer event 'clock-skew'). */
  clockSkew: number;
  /** Every reason of DROP_REASONS, in that order, 0 when none. */
  drops: Record<DropReason, number>;
}

export interface PeerJson extends Omit<PeerInfo, 'counters'> {
  /** `id --fingerprint` form of `key`; null while the key is unknown (TOFU before the first handshake). */
  fingerprint: string | null;
  counters: CountersJson;
}

/** Where the MTU came from: the `mtu` setting, interface detection, or 1500 when detection found nothing. */
export type { MtuSource };

/** What the daemon adds to a node's status (null when the server runs on a bare node). */
export interface DaemonInfo {
  mtuSource: MtuSource;
  maxDatagramBytes: { ipv4: number; ipv6: number };
  configFile: string | null;
  logLevel: string;
  /** Where Prometheus scrapes (setting "metrics"), or null when off. */
  metricsUrl: string | null;
}

export function countersJson(c: Counters): CountersJson {
  const drops = {} as Record<DropReason, number>;
  for (const r of DROP_REASONS) drops[r] = c.drops[r] ?? 0;
  // A reason newer than this list still shows up (after the known ones).
  for (const [r, n] of Object.entries(c.drops)) if (!(r in drops)) drops[r as DropReason] = n ?? 0;
  return { packetsIn: c.packetsIn, packetsOut: c.packetsOut, bytesIn: c.bytesIn, bytesOut: c.bytesOut, messagesIn: c.messagesIn, messagesOut: c.messagesOut, clockSkew: c.clockSkew ?? 0, drops };
}

/** Milliseconds rounded to 0.1 (null stays null). */
export function roundMs(ms: number | null): number | null {
  return ms === null || !Number.isFinite(ms) ? null : Math.round(ms * 10) / 10;
}

/** The fingerprint of a key string; null for null or anything that is not a key. */
export function safeFingerprint(key: string | null): string | null {
  if (key === null) return null;
  try {
    return fingerprint(key);
  } catch {
    return null;
  }
}

export function peerJson(p: PeerInfo): PeerJson {
  return { ...p, fingerprint: safeFingerprint(p.key), rttMs: roundMs(p.rttMs), counters: countersJson(p.counters) };
}

