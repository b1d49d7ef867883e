/**
 * The record of every datagram's fate: an ordered trace (for equality across runs) and
 * counters per (from, to, fate) that stay exact even when the trace is switched off.
 */
import { createHash } from 'node:crypto';
import { FATES, type FateCount, type NetStats, type TraceEntry } from './types';

export function digestOf(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function emptyStats(): NetStats {
  const s = {} as NetStats;
  for (const f of FATES) s[f] = { count: 0, bytes: 0 };
  return s;
}

/** Whether an endpoint key 'a:p' / '[a]:p' matches a filter given as an address or an endpoint. */
function matches(endpoint: string, filter: string | undefined): boolean {
  if (filter === undefined || endpoint === filter) return true;
  const cut = endpoint.lastIndexOf(':');
  const address = endpoint.slice(0, cut).replace(/^\[(.*)\]$/, '$1');
  return address === filter;
}

export class TraceRecorder {
  readonly entries: TraceEntry[] = [];
  /** Keep entries (counters are kept either way). */
  enabled: boolean;
  /** from → to → counts per fate. */
  readonly #counts = new Map<string, Map<string, NetStats>>();

  constructor(enabled: boolean) {
    this.enabled = enabled;
  }

  record(e: TraceEntry): void {
    if (this.enabled) this.entries.push(e);
    let byTo = this.#counts.get(e.from);
    if (!byTo) this.#counts.set(e.from, (byTo = new Map()));
    let s = byTo.get(e.to);
    if (!s) byTo.set(e.to, (s = emptyStats()));
    const c: FateCount = s[e.fate];
    c.count++;
    c.bytes += e.size;
  }

  /**
   * Counts and payload bytes per fate, for datagrams from `from` to `to` (each an address,
   * matching every port, or an 'a:p' endpoint; omitted = any). `to` is the destination as
   * addressed by the sender.
   */
  stats(from?: string, to?: string): NetStats {
    const out = emptyStats();
    for (const [f, byTo] of this.#counts) {
      if (!matches(f, from)) continue;
      for (const [t, s] of byTo) {
        if (!matches(t, to)) continue;
        for (const fate of FATES) {
          out[fate].count += s[fate].count;
          out[fate].bytes += s[fate].bytes;
        }
      }
    }
    return out;
  }

  /** Empties the trace and the counters. */
  clear(): void {
    this.entries.length = 0;
    this.#counts.clear();
  }
}

