/**
 * Token-bucket pacing (RFC 9002 §7.7; quic-go internal/congestion/pacer.go and Linux fq's
 * quantum / initial quantum are the models). The bucket refills at the controller's pacing rate
 * (1.25 × window / smoothed RTT; CUBIC 1.0 × in congestion avoidance) and holds at most a small
 * burst: `burstDatagrams` (2) full datagrams, or what the rate delivers in 2 ms (the minimum
 * pacing delay plus timer granularity) when that is more, so a 1 ms timer can still reach a fast
 * path's rate. A new path starts with
 * `initialBurstDatagrams` (10: the initial window) in the bucket, spent once. A wake-up timer
 * that fired late (an event-loop stall) may catch up on what the rate delivered since it was
 * due, ≤ 8 datagrams and only when ≤ 10 ms late (later means the window held the sender, and
 * a burst then would hit the queue). A datagram is
 * sent when the bucket holds its bytes; otherwise timeUntilSend() says how long to wait (never
 * less than 1 ms, so a sender does not spin on sub-millisecond timers).
 *
 * Why 2 and not 10: on the 2 Mbit/s test bed the tbf queue holds 8 datagrams; bursts of 10 after
 * an ack lost datagrams that a paced flow would not, and next to a TCP flow udpvault's loss rate
 * was 5× TCP's (docs/CONGESTION.md §9 has the figures).
 */
export const MIN_PACING_DELAY_MS = 1;
const TIMER_GRANULARITY_MS = 1;
export const DEFAULT_BURST_DATAGRAMS = 2;
export const DEFAULT_INITIAL_BURST_DATAGRAMS = 10;
/** A late wake-up may send at most this many datagrams beyond the quantum (event-loop stalls on a loaded machine). */
export const MAX_CATCH_UP_DATAGRAMS = 8;
/** Lateness beyond this is not a late timer (the window held the sender): no catch-up. */
export const MAX_TIMER_LATENESS_MS = 10;

export interface PacerOptions {
  /** Current pacing rate in bytes per millisecond (CongestionController.pacingRateBytesPerMs). */
  rate: () => number;
  maxDatagramBytes: number;
  burstDatagrams?: number;
  initialBurstDatagrams?: number;
  /**
   * The bucket to start with instead of the initial burst (PacketSpace's idle form: what the
   * bucket held at the last send; it refills to at least the burst as after any pause). A new
   * path (reset) still starts with initialBurstDatagrams.
   */
  initialBudgetBytes?: number;
}

export class Pacer {
  readonly #rate: () => number;
  readonly #burstDatagrams: number;
  readonly #initialBurstDatagrams: number;
  #mss: number;
  #budgetAtLastSent: number;
  #lastSentMs: number | null = null;
  /** When the last wait told the caller to come back (null: no wait pending). */
  #wakeAtMs: number | null = null;

  constructor(opts: PacerOptions) {
    this.#rate = opts.rate;
    this.#mss = opts.maxDatagramBytes;
    this.#burstDatagrams = opts.burstDatagrams ?? DEFAULT_BURST_DATAGRAMS;
    this.#initialBurstDatagrams = Math.max(this.#burstDatagrams, opts.initialBurstDatagrams ?? DEFAULT_INITIAL_BURST_DATAGRAMS);
    this.#budgetAtLastSent = opts.initialBudgetBytes ?? this.#initialBudget();
  }

  /** The bucket size: max(burstDatagrams × mss, rate × 2 ms). */
  maxBurstBytes(): number {
    return this.#maxBurst(this.#rate());
  }

  #maxBurst(rate: number): number {
    return Math.max(this.#burstDatagrams * this.#mss, rate * (MIN_PACING_DELAY_MS + TIMER_GRANULARITY_MS));
  }

  /**
   * Bytes that may be sent at `nowMs` without waiting (the initial allowance is spent, not
   * clipped). A timer that fired late does not cost the path its rate: the bucket may also hold
   * what the rate delivered since the wake-up was due (at most MAX_CATCH_UP_DATAGRAMS more).
   */
  budget(nowMs: number): number {
    return this.#budget(nowMs, this.#rate());
  }

  /** budget() at the pacing rate read once by the caller (the hot path reads it once per datagram). */
  #budget(nowMs: number, rate: number): number {
    if (this.#lastSentMs === null) return Math.max(this.#budgetAtLastSent, this.#maxBurst(rate));
    const lateMs = this.#wakeAtMs === null ? 0 : nowMs - this.#wakeAtMs;
    // Later than a stalled timer would be, the sender was held by something else (the window): no catch-up.
    const late = lateMs > 0 && lateMs <= MAX_TIMER_LATENESS_MS ? Math.min(lateMs * rate, MAX_CATCH_UP_DATAGRAMS * this.#mss) : 0;
    const cap = Math.max(this.#maxBurst(rate) + late, this.#budgetAtLastSent);
    const elapsed = Math.max(0, nowMs - this.#lastSentMs);
    return Math.min(cap, this.#budgetAtLastSent + rate * elapsed);
  }

  /** Milliseconds to wait before a datagram of `bytes` may go (0: now). */
  timeUntilSend(nowMs: number, bytes: number): number {
    const rate = this.#rate();
    const b = this.#budget(nowMs, rate);
    if (b >= bytes) return 0;
    if (!(rate > 0)) return Infinity;
    const wait = Math.max(MIN_PACING_DELAY_MS, (bytes - b) / rate);
    if (this.#wakeAtMs === null) this.#wakeAtMs = nowMs + wait;
    return wait;
  }

  onPacketSent(nowMs: number, bytes: number): void {
    this.#budgetAtLastSent = Math.max(0, this.budget(nowMs) - bytes);
    this.#lastSentMs = nowMs;
    this.#wakeAtMs = null;
  }

  setMaxDatagramBytes(bytes: number): void {
    this.#mss = bytes;
  }

  /** A full initial bucket (new path). */
  reset(): void {
    this.#lastSentMs = null;
    this.#wakeAtMs = null;
    this.#budgetAtLastSent = this.#initialBudget();
  }

  #initialBudget(): number {
    return Math.max(this.#initialBurstDatagrams * this.#mss, this.maxBurstBytes());
  }
}
