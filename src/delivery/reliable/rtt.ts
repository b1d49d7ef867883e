/**
 * Round-trip time estimation per RFC 9002 §5 (quic-go internal/utils/rtt_stats.go is the model).
 * All times are monotonic milliseconds; nothing here reads a clock.
 *
 * - latest: the newest sample (ack time − send time of the largest newly acknowledged packet).
 * - min: the smallest latest sample since the path started (ack delay NOT subtracted).
 * - smoothed / rttvar: EWMA (1/8, 1/4) of the sample with the peer's reported ack delay
 *   subtracted, capped at the peer's max ack delay, and only when that does not take the
 *   sample below min (§5.3).
 * - Before the first sample: smoothed = initialRtt (333 ms, §6.2.2), rttvar = initialRtt / 2.
 */

import { small } from './packet-space-record';

/** RFC 9002 kInitialRtt. */
export const INITIAL_RTT_MS = 333;
/** RFC 9002 kGranularity: the timer granularity assumed for loss and PTO timers. */
export const GRANULARITY_MS = 1;
/** The receiver's max_ack_delay (AckTracker never delays an ack longer). */
export const MAX_ACK_DELAY_MS = 25;

export interface RttOptions {
  initialRttMs?: number;
  /** The peer's max ack delay (what it promises; caps the reported ack delay). */
  maxAckDelayMs?: number;
}

/** The two settings of an RttStats (shared and frozen: one per distinct pair, the default one for every peer). */
interface RttConfig {
  readonly initialRttMs: number;
  readonly maxAckDelayMs: number;
}
const DEFAULT_CONFIG: RttConfig = Object.freeze({ initialRttMs: INITIAL_RTT_MS, maxAckDelayMs: MAX_ACK_DELAY_MS });
const configOf = (initialRttMs: number, maxAckDelayMs: number): RttConfig =>
  initialRttMs === INITIAL_RTT_MS && maxAckDelayMs === MAX_ACK_DELAY_MS ? DEFAULT_CONFIG : Object.freeze({ initialRttMs, maxAckDelayMs });

export class RttStats {
  /** Initial RTT and the peer's max ack delay in one shared record (rest18: a field, not two, per peer). */
  #config: RttConfig;
  /** 0 before the first sample (a sample is ≥ GRANULARITY_MS: hasSample is `#latest > 0`, not a field of its own). */
  #latest = 0;
  #min = 0;
  #smoothed: number;
  #rttvar: number;

  constructor(opts: RttOptions = {}) {
    const initialRttMs = opts.initialRttMs ?? INITIAL_RTT_MS;
    const maxAckDelayMs = opts.maxAckDelayMs ?? MAX_ACK_DELAY_MS;
    if (!(initialRttMs > 0)) throw new RangeError('initialRttMs must be > 0');
    if (!(maxAckDelayMs >= 0)) throw new RangeError('maxAckDelayMs must be >= 0');
    this.#config = configOf(initialRttMs, maxAckDelayMs);
    this.#smoothed = initialRttMs;
    this.#rttvar = initialRttMs / 2;
  }

  get hasSample(): boolean { return this.#latest > 0; }
  get latestMs(): number { return this.#latest; }
  /** Minimum RTT seen on this path (0 before the first sample). */
  get minMs(): number { return this.#min; }
  get smoothedMs(): number { return this.#smoothed; }
  get rttvarMs(): number { return this.#rttvar; }
  get maxAckDelayMs(): number { return this.#config.maxAckDelayMs; }
  set maxAckDelayMs(ms: number) {
    if (!(ms >= 0)) throw new RangeError('maxAckDelayMs must be >= 0');
    this.#config = configOf(this.#config.initialRttMs, ms);
  }

  /**
   * Adds a sample. `latestMs` = now − send time of the largest newly acknowledged packet;
   * `ackDelayMs` = the delay the receiver reported in that ack (capped at maxAckDelayMs).
   * Samples ≤ 0 are clamped to GRANULARITY_MS (a same-millisecond ack is still a sample).
   */
  update(latestMs: number, ackDelayMs: number): void {
    const latest = Math.max(latestMs, GRANULARITY_MS);
    const first = this.#latest === 0;
    this.#latest = latest;
    if (first) {
      this.#min = latest;
      this.#smoothed = latest;
      this.#rttvar = latest / 2;
      return;
    }
    if (latest < this.#min) this.#min = latest;
    const ackDelay = Math.min(Math.max(0, ackDelayMs), this.#config.maxAckDelayMs);
    const adjusted = latest >= this.#min + ackDelay ? latest - ackDelay : latest;
    this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#smoothed - adjusted);
    this.#smoothed = 0.875 * this.#smoothed + 0.125 * adjusted;
  }

  /** Probe timeout base (§6.2.1): smoothed + max(4·rttvar, granularity) + max ack delay. */
  ptoMs(): number {
    return this.#smoothed + Math.max(4 * this.#rttvar, GRANULARITY_MS) + this.#config.maxAckDelayMs;
  }

  /**
   * Writes the four estimates at r[at…] (RTT_SLOTS; packet-space-record.ts) when the settings
   * are the default ones (every peer's); false: they are not (no record).
   */
  writeRecord(r: number[], at: number): boolean {
    if (this.#config !== DEFAULT_CONFIG) return false;
    r[at] = this.#latest;
    r[at + 1] = this.#min;
    r[at + 2] = this.#smoothed;
    r[at + 3] = this.#rttvar;
    return true;
  }

  /** The RttStats writeRecord wrote at r[at…], every field as it was. */
  static fromRecord(r: readonly number[], at: number): RttStats {
    const s = new RttStats();
    s.#latest = small(r[at]!);
    s.#min = small(r[at + 1]!);
    s.#smoothed = small(r[at + 2]!);
    s.#rttvar = small(r[at + 3]!);
    return s;
  }

  /** Back to the state before any sample (new path, RFC 9000 §9.4). */
  reset(): void {
    this.#latest = 0;
    this.#min = 0;
    this.#smoothed = this.#config.initialRttMs;
    this.#rttvar = this.#config.initialRttMs / 2;
  }
}
