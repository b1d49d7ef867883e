/**
 * Token-bucket pacing (RFC 9002 §7.7; quic-go internal/congestion/pacer.go and Linux fq's
 * quantum / initial quantum are the models). The bucket refills at the controller's pacing rate
 * (1.25 × window / smoothed RTT) and holds at most a small burst: `burstDatagrams` (2) full
 * datagrams, or what the rate delivers in 2 ms (the minimum pacing delay plus timer granularity)
 * when that is more, so a 1 ms timer can still reach a fast path's rate. A new path starts with
 * `initialBurstDatagrams` (10: the initial window) in the bucket, spent once. A datagram is
 * sent when the bucket holds its bytes; otherwise timeUntilSend() says how long to wait (never
 * less than 1 ms, so a sender does not spin on sub-millisecond timers).
 *
 * Why 2 and not 10: on the 2 Mbit/s test bed the tbf queue holds 5 datagrams; bursts of 10 after
 * an ack lost datagrams that a paced flow would not, and next to a TCP flow udpvault's loss rate
 * was 5× TCP's (docs/CONGESTION.md §9 has the figures).
 */
export const MIN_PACING_DELAY_MS = 1;
const TIMER_GRANULARITY_MS = 1;
export const DEFAULT_BURST_DATAGRAMS = 2;
export const DEFAULT_INITIAL_BURST_DATAGRAMS = 10;

export interface PacerOptions {
  /** Current pacing rate in bytes per millisecond (CongestionController.pacingRateBytesPerMs). */
  rate: () => number;
  maxDatagramBytes: number;
  burstDatagrams?: number;
  initialBurstDatagrams?: number;
}

export class Pacer {
  readonly #rate: () => number;
  readonly #burstDatagrams: number;
  readonly #initialBurstDatagrams: number;
  #mss: number;
  #budgetAtLastSent: number;
  #lastSentMs: number | null = null;

  constructor(opts: PacerOptions) {
    this.#rate = opts.rate;
    this.#mss = opts.maxDatagramBytes;
    this.#burstDatagrams = opts.burstDatagrams ?? DEFAULT_BURST_DATAGRAMS;
    this.#initialBurstDatagrams = Math.max(this.#burstDatagrams, opts.initialBurstDatagrams ?? DEFAULT_INITIAL_BURST_DATAGRAMS);
    this.#budgetAtLastSent = this.#initialBudget();
  }

  /** The bucket size: max(burstDatagrams × mss, rate × 2 ms). */
  maxBurstBytes(): number {
    return Math.max(this.#burstDatagrams * this.#mss, this.#rate() * (MIN_PACING_DELAY_MS + TIMER_GRANULARITY_MS));
  }

  /** Bytes that may be sent at `nowMs` without waiting (the initial allowance is spent, not clipped). */
  budget(nowMs: number): number {
    if (this.#lastSentMs === null) return Math.max(this.#budgetAtLastSent, this.maxBurstBytes());
    const cap = Math.max(this.maxBurstBytes(), this.#budgetAtLastSent);
    const elapsed = Math.max(0, nowMs - this.#lastSentMs);
    return Math.min(cap, this.#budgetAtLastSent + this.#rate() * elapsed);
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

  /** A full initial bucket (new path). */
  reset(): void {
    this.#lastSentMs = null;
    this.#budgetAtLastSent = this.#initialBudget();
  }

  #initialBudget(): number {
    return Math.max(this.#initialBurstDatagrams * this.#mss, this.maxBurstBytes());
  }
}
