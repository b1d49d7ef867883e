/**
 * The reliable sender's retransmission timeout, RFC 6298: SRTT/RTTVAR from samples of items
 * sent once (Karn: the caller only samples those), RTO = SRTT + max(G, 4 × RTTVAR) clamped to
 * [min, max], doubled on a timeout at most once per RTO round (items sent before the last
 * backoff do not back off again).
 */
const CLOCK_GRANULARITY_MS = 1;

export class ItemRto {
  readonly #minMs: number;
  readonly #maxMs: number;
  #srttMs: number | null = null;
  #rttvarMs = 0;
  #rtoMs: number;
  #lastBackoffAtMs = -Infinity;

  constructor(initialMs: number, minMs: number, maxMs: number) {
    this.#minMs = minMs;
    this.#maxMs = Math.max(minMs, maxMs);
    this.#rtoMs = this.#clamp(initialMs);
  }

  /** Smoothed RTT, null before the first sample. */
  get srttMs(): number | null { return this.#srttMs; }
  /** Current timeout (with backoff). */
  get rtoMs(): number { return this.#rtoMs; }

  sample(r: number): void {
    if (this.#srttMs === null) {
      this.#srttMs = r;
      this.#rttvarMs = r / 2;
    } else {
      this.#rttvarMs = 0.75 * this.#rttvarMs + 0.25 * Math.abs(this.#srttMs - r);
      this.#srttMs = 0.875 * this.#srttMs + 0.125 * r;
    }
    this.#rtoMs = this.#clamp(this.#srttMs + Math.max(CLOCK_GRANULARITY_MS, 4 * this.#rttvarMs));
  }

  /** Whether a timed-out item sent at `sentAtMs` belongs to a new RTO round (it backs off). */
  newRound(sentAtMs: number): boolean {
    return sentAtMs >= this.#lastBackoffAtMs;
  }

  /** Doubles the timeout (capped) at `nowMs`. */
  backoff(nowMs: number): void {
    this.#rtoMs = Math.min(this.#rtoMs * 2, this.#maxMs);
    this.#lastBackoffAtMs = nowMs;
  }

  #clamp(ms: number): number {
    return Math.min(this.#maxMs, Math.max(this.#minMs, ms));
  }
}
