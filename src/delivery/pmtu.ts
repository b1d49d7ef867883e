/**
 * Datagram packetization layer path MTU discovery (DPLPMTUD, RFC 8899) for one path: start at a
 * size every path carries (the base), probe upward with padded probe packets, raise the size a
 * probe confirmed (acknowledged), and fall back to the base on a black hole (full-size packets
 * lost repeatedly while nothing full-size gets through). Pure: the caller passes `nowMs` and
 * tells it what was sent, acknowledged and lost.
 *
 * Search: binary, between the confirmed size and the interface maximum; a size whose probe was
 * lost MAX_PROBES times in a row is taken as too big (the upper bound drops below it); within
 * 2 × SEARCH_GRANULARITY of the upper bound the bound itself is probed. The search ends when the
 * bound was confirmed or a failure left less than SEARCH_GRANULARITY to gain, and starts again after
 * RAISE_INTERVAL_MS (the path may have grown) or after a fallback.
 *
 * Probes are not congestion controlled packets (they are not in flight, and their loss is no
 * congestion signal, RFC 8899 §4.4): the caller sends them outside the window and the loss
 * detector, one at a time.
 */

/** Smallest UDP payload an IPv4 path must carry for udpvault (QUIC's 1200, RFC 9000 §14). */
export const PMTU_BASE_IPV4 = 1200;
/** IPv6 minimum link MTU 1280 − 40 (IPv6) − 8 (UDP). */
export const PMTU_BASE_IPV6 = 1232;
export const MAX_PROBES = 3;
export const SEARCH_GRANULARITY = 16;
export const RAISE_INTERVAL_MS = 600_000;
/** Packets above the base size lost, all sent after the last one above the base that was acknowledged: a black hole. */
export const BLACK_HOLE_LOSSES = 6;

export interface PmtuOptions {
  baseBytes: number;
  maxBytes: number;
}

export class PmtuSearch {
  readonly #base: number;
  readonly #max: number;
  #current: number;
  #hi: number;
  #probe: { pn: number; size: number; deadlineMs: number } | null = null;
  #failures = 0;
  #failedSize = 0;
  #searchAgainAtMs = 0;
  #fullSizeLost = 0;
  #lastLargeAckedSentAtMs = -Infinity;
  #fallbacks = 0;
  #probesSent = 0;

  constructor(o: PmtuOptions) {
    this.#max = o.maxBytes;
    this.#base = Math.min(o.baseBytes, o.maxBytes);
    this.#current = this.#base;
    this.#hi = this.#max;
  }

  /** The confirmed largest datagram (UDP payload bytes): frames and padding follow it. */
  get current(): number { return this.#current; }
  get base(): number { return this.#base; }
  get fallbacks(): number { return this.#fallbacks; }
  get probesSent(): number { return this.#probesSent; }
  get searching(): boolean { return this.#hi > this.#current; }
  /** The probe in flight, if any. */
  get outstanding(): { pn: number; size: number; deadlineMs: number } | null { return this.#probe; }

  /** Size to probe now, or null (a probe in flight, search done, or not yet time). */
  nextProbeSize(nowMs: number): number | null {
    if (this.#probe) return null;
    if (!this.searching) {
      if (nowMs < this.#searchAgainAtMs || this.#current >= this.#max) return null;
      this.#hi = this.#max; // periodic re-search: the path may carry more now
    }
    if (this.#failures > 0) return this.#failedSize; // retry the same size
    const gap = this.#hi - this.#current;
    return gap <= 2 * SEARCH_GRANULARITY ? this.#hi : this.#current + Math.ceil(gap / 2);
  }

  /** A probe of `size` bytes went out as packet `pn`; it counts as lost at `deadlineMs`. */
  onProbeSent(pn: number, size: number, deadlineMs: number): void {
    this.#probe = { pn, size, deadlineMs };
    this.#probesSent++;
  }

  /** When the outstanding probe is declared lost (null: none). */
  deadline(): number | null {
    return this.#probe?.deadlineMs ?? null;
  }

  /** An ack arrived; `acked(pn)` says whether it covers a packet number. */
  onAck(acked: (pn: number) => boolean, nowMs: number): void {
    const p = this.#probe;
    if (p && acked(p.pn)) {
      this.#probe = null;
      this.#failures = 0;
      this.#current = p.size;
      this.#fullSizeLost = 0;
      if (!this.searching) this.#searchAgainAtMs = nowMs + RAISE_INTERVAL_MS;
    }
  }

  /** Runs the probe timer: a probe unanswered at its deadline failed once more. */
  onTimeout(nowMs: number): void {
    const p = this.#probe;
    if (!p || nowMs < p.deadlineMs) return;
    this.#probe = null;
    this.#failures++;
    this.#failedSize = p.size;
    if (this.#failures >= MAX_PROBES) {
      this.#failures = 0;
      this.#hi = p.size - 1;
      if (this.#hi - this.#current < SEARCH_GRANULARITY) this.#hi = this.#current; // close enough: done
      if (!this.searching) this.#searchAgainAtMs = nowMs + RAISE_INTERVAL_MS;
    }
  }

  /** A data packet of the congestion-controlled flow was acknowledged (size, send time). */
  onPacketAcked(bytes: number, sentAtMs: number): void {
    if (bytes > this.#base && sentAtMs > this.#lastLargeAckedSentAtMs) {
      this.#lastLargeAckedSentAtMs = sentAtMs;
      this.#fullSizeLost = 0;
    }
  }

  /**
   * A data packet was declared lost. A loss counts toward a black hole only when the packet was
   * above the base and sent after the last such packet that got through (queue drops are
   * followed by packets that do get through, so congestion does not look like a black hole).
   * Returns true when the size fell back to the base.
   */
  onPacketLost(bytes: number, sentAtMs: number, nowMs: number): boolean {
    if (bytes <= this.#base || sentAtMs <= this.#lastLargeAckedSentAtMs) return false;
    if (++this.#fullSizeLost < BLACK_HOLE_LOSSES) return false;
    this.#fallbacks++;
    this.#fullSizeLost = 0;
    this.#current = this.#base;
    this.#hi = Math.max(this.#base, bytes - 1);
    this.#probe = null;
    this.#failures = 0;
    this.#searchAgainAtMs = nowMs;
    return true;
  }
}
