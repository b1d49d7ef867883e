/**
 * RTT probes of a receiver that sends nothing ack-eliciting of its own (PROTOCOL §7.6): the
 * receiver of a datagram-mode flood only sends packet acks, which are never acknowledged, so it
 * has no RTT sample and could not thin its acks. While a fast flow arrives and no sample is
 * fresher than the probe interval, it asks for one: the caller sends a keepalive, which the
 * peer acknowledges like any ack-eliciting packet — at most one probe per interval, nothing at
 * all for idle or slow peers, and the peer's answer is a plain packet ack (nothing ack-eliciting
 * comes back: no ack ping-pong). The interval is 8 smoothed RTTs, within 25 ms … 1 s: a first
 * sample taken while a queue built up (slow start) is corrected within a few RTTs, not seconds
 * (one sample a second at the smoothing's 1/8 weight took ~10 s), and a probe rides on about
 * one ack in 64 of a thinned flow (8 acks per RTT).
 *
 * The sample follows RFC 9002 §5.1: the largest acknowledged must be newly acknowledged and
 * something newly acknowledged ack-eliciting. The peer's ack of the probe usually also covers
 * the ack-only datagrams sent after it, of which the loss detector keeps no record: their send
 * times are kept here while the probe is out (a 2 KiB array, allocated at the first probe, so
 * only for peers that did receive a fast flow).
 */

/** Longest probe interval (also the retry interval before any sample: the initial 333 ms RTT × 8 is above it). */
export const RTT_PROBE_INTERVAL_MS = 1_000;
/** Shortest probe interval. */
export const RTT_PROBE_MIN_INTERVAL_MS = 25;
/** The probe interval in smoothed RTTs. */
export const RTT_PROBE_RTTS = 8;

/** At most one probe per this interval, and none while a sample is this fresh. */
export function rttProbeIntervalMs(smoothedRttMs: number): number {
  return Math.min(RTT_PROBE_INTERVAL_MS, Math.max(RTT_PROBE_MIN_INTERVAL_MS, RTT_PROBE_RTTS * smoothedRttMs));
}
/** Ack-only datagrams after the probe whose send times are kept (more: no sample, a probe next interval). */
const AFTER_PROBE_SLOTS = 256;

export class RttProbe {
  #askedAtMs = -Infinity;
  #wanted = false;
  /** Asked, and no sample came since. */
  #outstanding = false;
  /** The probe's packet number: the first ack-eliciting datagram sent since asking (-1: not yet). */
  #pn = -1;
  /** Send times of the ack-only datagrams numbered #pn + 1 … (index pn − #pn); NaN: not recorded. */
  #after: Float64Array | null = null;

  /**
   * A round of fast arrivals ended: ask for a sample when none is fresh (`lastSampleAtMs`; at
   * most once per interval of `smoothedRttMs`, even when the probe or its ack was lost).
   */
  onFastRound(nowMs: number, lastSampleAtMs: number, smoothedRttMs: number): void {
    const interval = rttProbeIntervalMs(smoothedRttMs);
    if (nowMs - lastSampleAtMs < interval || nowMs - this.#askedAtMs < interval) return;
    this.#wanted = true;
    this.#outstanding = true;
    this.#askedAtMs = nowMs;
    this.#pn = -1;
    this.#after ??= new Float64Array(AFTER_PROBE_SLOTS);
    this.#after.fill(NaN);
  }

  /** No probe wanted and none out (nothing here an idle peer must keep: PacketSpace's idle form). */
  get quiet(): boolean {
    return !this.#wanted && !this.#outstanding;
  }

  /** Whether a probe should go now (the request is consumed). */
  take(): boolean {
    const want = this.#wanted;
    this.#wanted = false;
    return want;
  }

  /** A datagram numbered `pn` was sent. */
  onSent(pn: number, nowMs: number, ackEliciting: boolean): void {
    if (!this.#outstanding) return;
    if (this.#pn < 0) {
      if (ackEliciting) this.#pn = pn;
      return;
    }
    const k = pn - this.#pn - 1;
    if (!ackEliciting && k >= 0 && k < AFTER_PROBE_SLOTS) this.#after![k] = nowMs;
  }

  /**
   * The latest RTT for an ack the loss detector took no sample from: `largest` is its largest
   * acknowledged (newly: above `largestBefore`), `probeAcked` whether it newly acknowledged the
   * probe. null when it gives none.
   */
  latestFor(largest: number, largestBefore: number, probeAcked: (pn: number) => boolean, nowMs: number): number | null {
    if (!this.#outstanding || this.#pn < 0 || largest <= largestBefore || largest <= this.#pn || !probeAcked(this.#pn)) return null;
    const k = largest - this.#pn - 1;
    const at = k < AFTER_PROBE_SLOTS ? this.#after![k]! : NaN;
    return Number.isNaN(at) ? null : nowMs - at;
  }

  /** An RTT sample was taken (from the probe or anything else): the probe is done. */
  onSample(): void {
    this.#outstanding = false;
  }

  /** A new path: no sample yet, ask again as soon as a fast flow arrives. */
  reset(): void {
    this.#askedAtMs = -Infinity;
    this.#wanted = false;
    this.#outstanding = false;
    this.#pn = -1;
  }
}
