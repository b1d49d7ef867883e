/**
 * Token-bucket pacing (RFC 9002 §7.7; quic-go internal/congestion/pacer.go is the model).
 * The bucket refills at the controller's pacing rate (1.25 × window / smoothed RTT) and holds
 * at most a small burst: `burstDatagrams` full datagrams, or what the rate delivers in 2 ms
 * (the minimum pacing delay plus timer granularity) when that is more, so a 1 ms timer can
 * still reach a fast path's rate. A datagram is sent when the bucket holds its bytes;
 * otherwise timeUntilSend() says how long to wait (never less than 1 ms, so a sender does
 * not spin on sub-millisecond timers).
 */
export const MIN_PACING_DELAY_MS = 1;
const TIMER_GRANULARITY_MS = 1;
export const DEFAULT_BURST_DATAGRAMS = 10;

export interface PacerOptions {
  /** Current pacing rate in bytes per millisecond (CongestionController.pacingRateBytesPerMs). */
  rate: () => number;
  maxDatagramBytes: number;
  burstDatagrams?: number;
}

export class Pacer {
  readonly #rate: () => number;
  readonly #burstDatagrams: number;
  #mss: number;
  #budgetAtLastSent: number;
  #lastSentMs: number | null = null;

  constructor(opts: PacerOptions) {
    this.#rate = opts.rate;
    this.#mss = opts.maxDatagramBytes;
    this.#burstDatagrams = opts.burstDatagrams ?? DEFAULT_BURST_DATAGRAMS;
    this.#budgetAtLastSent = this.maxBurstBytes();
  }

  /** The bucket size: max(burstDatagrams × mss, rate × 2 ms). */
  maxBurstBytes(): number {
    return Math.max(this.#burstDatagrams * this.#mss, this.#rate() * (MIN_PACING_DELAY_MS + TIMER_GRANULARITY_MS));
  }

  /** Bytes that may be sent at `nowMs` without waiting. */
  budget(nowMs: number): number {
    const max = this.maxBurstBytes();
    if (this.#lastSentMs === null) return max;
    const elapsed = Math.max(0, nowMs - this.#lastSentMs);
    return Math.min(max, this.#budgetAtLastSent + this.#rate() * elapsed);
  }

  /** Milliseconds to wait before a datagram of `bytes` may go (0: now). */
  timeUntilSend(nowMs: number, bytes: number): number {
    const b = this.budget(nowMs);
    if (b >= bytes) return 0;
    const rate = this.#rate();
    if (!(rate > 0)) return Infinity;
    return Math.max(MIN_PACING_DELAY_MS, (bytes - b) / rate);
  }

  onPacketSent(nowMs: number, bytes: number): void {
    this.#budgetAtLastSent = Math.max(0, this.budget(nowMs) - bytes);
    this.#lastSentMs = nowMs;
  }

  setMaxDatagramBytes(bytes: number): void {
    this.#mss = bytes;
  }

  /** A full bucket (new path). */
  reset(): void {
    this.#lastSentMs = null;
    this.#budgetAtLastSent = this.maxBurstBytes();
  }
}
