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

export class RttStats {
  readonly #initialRttMs: number;
  #maxAckDelayMs: number;
  #latest = 0;
  #min = 0;
  #smoothed: number;
  #rttvar: number;
  #hasSample = false;

  constructor(opts: RttOptions = {}) {
    this.#initialRttMs = opts.initialRttMs ?? INITIAL_RTT_MS;
    this.#maxAckDelayMs = opts.maxAckDelayMs ?? MAX_ACK_DELAY_MS;
    if (!(this.#initialRttMs > 0)) throw new RangeError('initialRttMs must be > 0');
    if (!(this.#maxAckDelayMs >= 0)) throw new RangeError('maxAckDelayMs must be >= 0');
    this.#smoothed = this.#initialRttMs;
    this.#rttvar = this.#initialRttMs / 2;
  }

  get hasSample(): boolean { return this.#hasSample; }
  get latestMs(): number { return this.#latest; }
  /** Minimum RTT seen on this path (0 before the first sample). */
  get minMs(): number { return this.#min; }
  get smoothedMs(): number { return this.#smoothed; }
  get rttvarMs(): number { return this.#rttvar; }
  get maxAckDelayMs(): number { return this.#maxAckDelayMs; }
  set maxAckDelayMs(ms: number) {
    if (!(ms >= 0)) throw new RangeError('maxAckDelayMs must be >= 0');
    this.#maxAckDelayMs = ms;
  }

  /**
   * Adds a sample. `latestMs` = now − send time of the largest newly acknowledged packet;
   * `ackDelayMs` = the delay the receiver reported in that ack (capped at maxAckDelayMs).
   * Samples ≤ 0 are clamped to GRANULARITY_MS (a same-millisecond ack is still a sample).
   */
  update(latestMs: number, ackDelayMs: number): void {
    const latest = Math.max(latestMs, GRANULARITY_MS);
    this.#latest = latest;
    if (!this.#hasSample) {
      this.#hasSample = true;
      this.#min = latest;
      this.#smoothed = latest;
      this.#rttvar = latest / 2;
      return;
    }
    if (latest < this.#min) this.#min = latest;
    const ackDelay = Math.min(Math.max(0, ackDelayMs), this.#maxAckDelayMs);
    const adjusted = latest >= this.#min + ackDelay ? latest - ackDelay : latest;
    this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#smoothed - adjusted);
    this.#smoothed = 0.875 * this.#smoothed + 0.125 * adjusted;
  }

  /** Probe timeout base (§6.2.1): smoothed + max(4·rttvar, granularity) + max ack delay. */
  ptoMs(): number {
    return this.#smoothed + Math.max(4 * this.#rttvar, GRANULARITY_MS) + this.#maxAckDelayMs;
  }

  /** Back to the state before any sample (new path, RFC 9000 §9.4). */
  reset(): void {
    this.#hasSample = false;
    this.#latest = 0;
    this.#min = 0;
    this.#smoothed = this.#initialRttMs;
    this.#rttvar = this.#initialRttMs / 2;
  }
}
