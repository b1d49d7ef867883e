/**
 * Security events for operators, at warn, summarised per interval so that a flood cannot
 * flood the log: at most one line per kind per interval (default 10 s) with the count of the
 * interval, the total since start, and up to five distinct samples (peer, source address,
 * key fingerprints) when the node reported details.
 *
 * Counts come from the node's drop counters (deltas between ticks): handshakes from unknown
 * identities (unknownPeer), handshakes signed by another key than the recorded one
 * (keyChanged), and — from a threshold on — replay and rate-limit storms. Details come from
 * events (`sample`), e.g. the node's `key-changed` peer event. Keys never appear in full; only
 * fingerprints.
 */
import type { DropReason } from '../errors';
import type { Logger } from '../runtime/log';
import { systemScheduler, type Scheduler, type Timer } from '../runtime/scheduler';

export type SecurityKind = 'unknown-identity' | 'key-changed' | 'replay' | 'rate-limited';

export interface SecuritySample {
  peer?: string;
  /** host:port the datagram came from (or the peer's endpoint when that is all that is known). */
  source?: string;
  /** Fingerprint of the key that was offered. */
  fingerprint?: string;
  /** Fingerprint of the key recorded for the peer. */
  recordedFingerprint?: string;
}

interface KindRule {
  drop: DropReason;
  /** Lines are written only when the interval's count reaches this. */
  threshold: number;
  msg: string;
}

export const SECURITY_KINDS: Readonly<Record<SecurityKind, KindRule>> = {
  'unknown-identity': { drop: 'unknownPeer', threshold: 1, msg: 'security: refused handshakes from identities that are not peers' },
  'key-changed': { drop: 'keyChanged', threshold: 1, msg: "security: refused handshakes signed by a key other than the peer's recorded key" },
  replay: { drop: 'replay', threshold: 20, msg: 'security: replay storm: replayed or duplicated packets dropped' },
  'rate-limited': { drop: 'rateLimited', threshold: 20, msg: 'security: rate-limit storm: packets dropped over a rate limit' },
};

export const SECURITY_INTERVAL_MS = 10_000;
const MAX_SAMPLES = 5;

export interface SecurityLogOptions {
  logger: Logger;
  /** The node's global drop counters (read at every tick). */
  drops: () => Partial<Record<DropReason, number>>;
  scheduler?: Scheduler;
  intervalMs?: number;
}

export class SecurityLog {
  readonly #logger: Logger;
  readonly #drops: SecurityLogOptions['drops'];
  readonly #intervalMs: number;
  readonly #timer: Timer;
  #last: Partial<Record<DropReason, number>>;
  readonly #total = new Map<SecurityKind, number>();
  readonly #samples = new Map<SecurityKind, SecuritySample[]>();
  #closed = false;

  constructor(opts: SecurityLogOptions) {
    this.#logger = opts.logger;
    this.#drops = opts.drops;
    this.#intervalMs = opts.intervalMs ?? SECURITY_INTERVAL_MS;
    this.#last = { ...opts.drops() };
    this.#timer = (opts.scheduler ?? systemScheduler).interval(() => this.tick(), this.#intervalMs);
  }

  /** Details of one event, shown with the next summary line of its kind (at most 5 distinct per interval). */
  sample(kind: SecurityKind, s: SecuritySample): void {
    if (this.#closed) return;
    const list = this.#samples.get(kind) ?? [];
    const key = JSON.stringify(s);
    if (list.length < MAX_SAMPLES && !list.some((x) => JSON.stringify(x) === key)) list.push(s);
    this.#samples.set(kind, list);
  }

  /** Writes one line per kind whose count since the last tick reached its threshold. */
  tick(): void {
    const now = { ...this.#drops() };
    for (const [kind, rule] of Object.entries(SECURITY_KINDS) as [SecurityKind, KindRule][]) {
      const count = Math.max(0, (now[rule.drop] ?? 0) - (this.#last[rule.drop] ?? 0));
      const total = (this.#total.get(kind) ?? 0) + count;
      this.#total.set(kind, total);
      const samples = this.#samples.get(kind) ?? [];
      this.#samples.delete(kind);
      if (count < rule.threshold) continue;
      this.#logger.warn({ event: kind, count, intervalS: this.#intervalMs / 1000, total, ...(samples.length > 0 && { samples }) }, rule.msg);
    }
    this.#last = now;
  }

  /** Writes what the current interval holds and stops. */
  close(): void {
    if (this.#closed) return;
    this.tick();
    this.#closed = true;
    this.#timer.cancel();
  }
}
