/**
 * Loss detection for one peer's packet-number space, RFC 9002 §6 and Appendix A
 * (quic-go internal/ackhandler/sent_packet_handler.go is the model). Pure: the caller passes
 * `nowMs` (monotonic) and arms one timer at deadline().
 *
 * - onPacketSent: every datagram gets the next packet number; ack-eliciting or in-flight
 *   ones are tracked in the SentHistory with their opaque frame refs.
 * - onAckReceived: newly acknowledged packets are found through the history's skip pointers
 *   (an ack that covers nothing new does no per-packet work and returns at once); an RTT
 *   sample is taken when the largest acknowledged is newly acknowledged and something newly
 *   acknowledged was ack-eliciting; then losses are detected: a packet below the largest
 *   acknowledged is lost when 3 later packets were acknowledged (packet threshold) or it was
 *   sent more than 9/8 × max(smoothed, latest RTT) ago (time threshold); the controller hears
 *   about losses (one congestion event) and acks, and persistent congestion (§7.6: ack-eliciting
 *   losses spanning > 3 × PTO with no acknowledgement between them, all sent after the first
 *   RTT sample) collapses the window.
 * - onTimeout: the earliest loss time fires time-threshold detection; otherwise the probe
 *   timeout (PTO = smoothed + max(4 × rttvar, 1 ms) + max ack delay, × 2^ptoCount, capped)
 *   asks the sender for `probes` ack-eliciting packets that bypass window and pacing.
 * - resetForNewPath: RTT and controller back to initial; packets already sent (old path) stay
 *   tracked for their frames but no longer count in flight nor feed RTT or the controller.
 */
import { DropError } from '../../errors';
import type { AckRange } from '../../wire/ack';
import type { CongestionController } from '../congestion/controller';
import { GRANULARITY_MS, type RttStats } from './rtt';
import { SentHistory, type SentPacket } from './sent-history';

export const PACKET_THRESHOLD = 3;
export const TIME_THRESHOLD = 9 / 8;
export const PERSISTENT_CONGESTION_THRESHOLD = 3;
/** Probe packets asked for on a PTO (RFC 9002 §6.2.4 allows one or two). */
export const PTO_PROBES = 2;
export const DEFAULT_MAX_PTO_MS = 60_000;

export interface LossDetectorOptions {
  rtt: RttStats;
  cc: CongestionController;
  /** First packet number (0 for a fresh space). */
  firstPacketNumber?: number;
  /** Cap on the backed-off probe timeout. */
  maxPtoMs?: number;
}

export interface AckResult<F> {
  /** Newly acknowledged packets, in number order. */
  readonly acked: readonly SentPacket<F>[];
  /** Packets declared lost by this ack, in number order (their frames need requeueing). */
  readonly lost: readonly SentPacket<F>[];
  readonly rttUpdated: boolean;
  readonly persistentCongestion: boolean;
}

export interface TimeoutResult<F> {
  readonly lost: readonly SentPacket<F>[];
  /** Ack-eliciting probe packets to send now, regardless of window and pacing. */
  readonly probes: number;
}

const NOTHING: AckResult<never> = Object.freeze({ acked: [], lost: [], rttUpdated: false, persistentCongestion: false });

export class LossDetector<F> {
  readonly #rtt: RttStats;
  readonly #cc: CongestionController;
  readonly #history: SentHistory<F>;
  readonly #maxPtoMs: number;
  #largestAcked = -1;
  #bytesInFlight = 0;
  #ackElicitingInFlight = 0;
  #lastAckElicitingSentMs: number | null = null;
  #lossTimeMs: number | null = null;
  #ptoCount = 0;
  /** Send time of the packet that gave the first RTT sample on this path (§7.6.2). */
  #firstSampleSentMs: number | null = null;
  /** Packets numbered below this were sent on an earlier path. */
  #pathStartPn: number;
  #lostPackets = 0;
  #lostBytes = 0;
  #persistentCongestionEvents = 0;

  constructor(opts: LossDetectorOptions) {
    this.#rtt = opts.rtt;
    this.#cc = opts.cc;
    this.#history = new SentHistory<F>(opts.firstPacketNumber ?? 0);
    this.#maxPtoMs = opts.maxPtoMs ?? DEFAULT_MAX_PTO_MS;
    this.#pathStartPn = this.#history.nextPacketNumber;
  }

  get history(): SentHistory<F> { return this.#history; }
  get bytesInFlight(): number { return this.#bytesInFlight; }
  get largestAcked(): number { return this.#largestAcked; }
  get ptoCount(): number { return this.#ptoCount; }
  get nextPacketNumber(): number { return this.#history.nextPacketNumber; }
  get lostPackets(): number { return this.#lostPackets; }
  get lostBytes(): number { return this.#lostBytes; }
  get persistentCongestionEvents(): number { return this.#persistentCongestionEvents; }

  /** Records a datagram just handed to the kernel; returns its packet number. */
  onPacketSent(nowMs: number, bytes: number, ackEliciting: boolean, frames: readonly F[] = []): number {
    if (!ackEliciting) return this.#history.skip();
    const p = this.#history.add(nowMs, bytes, true, true, frames);
    this.#bytesInFlight += bytes;
    this.#ackElicitingInFlight++;
    this.#lastAckElicitingSentMs = nowMs;
    this.#cc.onPacketSent(nowMs, this.#bytesInFlight, p);
    return p.pn;
  }

  /**
   * Processes one ack (ranges largest first, as decoded). An ack naming a packet number never
   * sent is refused (DropError 'malformed'): the peer is broken or lying.
   */
  onAckReceived(ranges: readonly AckRange[], ackDelayMs: number, nowMs: number): AckResult<F> {
    if (ranges.length === 0) return NOTHING;
    const largest = ranges[0]!.largest;
    if (largest >= this.#history.nextPacketNumber) throw new DropError('malformed', 'ack for a packet number not sent yet');
    if (largest > this.#largestAcked) this.#largestAcked = largest;

    const h = this.#history;
    const acked: SentPacket<F>[] = [];
    for (let k = ranges.length - 1; k >= 0; k--) {
      const r = ranges[k]!;
      for (let pn = h.nextLive(r.smallest); pn <= r.largest; pn = h.nextLive(pn + 1)) acked.push(h.markAcked(pn)!);
    }
    if (acked.length === 0) return NOTHING;

    let rttUpdated = false;
    const newest = acked[acked.length - 1]!;
    if (newest.pn === largest && newest.pn >= this.#pathStartPn) {
      this.#rtt.update(nowMs - newest.sentAtMs, ackDelayMs);
      if (this.#firstSampleSentMs === null) this.#firstSampleSentMs = newest.sentAtMs;
      rttUpdated = true;
    }
    const priorInFlight = this.#bytesInFlight;
    for (const p of acked) this.#leaveFlight(p);
    // Usually every packet is of this path (acked is in number order): no second array then.
    const ackedOnPath = acked[0]!.pn >= this.#pathStartPn ? acked : acked.filter((p) => p.pn >= this.#pathStartPn);
    const { lost, persistent } = this.#detectLost(nowMs);
    this.#cc.onPacketsAcked(ackedOnPath, priorInFlight, nowMs);
    this.#ptoCount = 0;
    return { acked, lost, rttUpdated, persistentCongestion: persistent };
  }

  /** When the caller must call onTimeout (monotonic ms), or null when nothing is armed. */
  deadline(): number | null {
    if (this.#lossTimeMs !== null) return this.#lossTimeMs;
    if (this.#ackElicitingInFlight === 0 || this.#lastAckElicitingSentMs === null) return null;
    return this.#lastAckElicitingSentMs + this.ptoPeriodMs();
  }

  /** The current probe timeout with backoff: PTO × 2^ptoCount, capped at maxPtoMs. */
  ptoPeriodMs(): number {
    return Math.min(this.#rtt.ptoMs() * 2 ** Math.min(this.#ptoCount, 30), this.#maxPtoMs);
  }

  onTimeout(nowMs: number): TimeoutResult<F> {
    const due = this.deadline();
    if (due === null || nowMs < due) return { lost: [], probes: 0 };
    if (this.#lossTimeMs !== null) return { lost: this.#detectLost(nowMs).lost, probes: 0 };
    this.#ptoCount++;
    return { lost: [], probes: PTO_PROBES };
  }

  /** Oldest tracked packet (its frames are what a probe should carry first), if any. */
  oldestUnacked(): SentPacket<F> | undefined {
    return this.#history.get(this.#history.nextLive(this.#history.head));
  }

  /** The path changed: fresh RTT and congestion state; what is in flight stops counting. */
  resetForNewPath(): void {
    this.#rtt.reset();
    this.#cc.reset();
    this.#bytesInFlight = 0;
    this.#ptoCount = 0;
    this.#firstSampleSentMs = null;
    this.#pathStartPn = this.#history.nextPacketNumber;
  }

  #leaveFlight(p: SentPacket<F>): void {
    this.#ackElicitingInFlight--;
    if (p.pn >= this.#pathStartPn) this.#bytesInFlight -= p.bytes;
  }

  #detectLost(nowMs: number): { lost: SentPacket<F>[]; persistent: boolean } {
    this.#lossTimeMs = null;
    const h = this.#history;
    const largest = this.#largestAcked;
    const lossDelay = Math.max(TIME_THRESHOLD * Math.max(this.#rtt.latestMs, this.#rtt.smoothedMs), GRANULARITY_MS);
    const lost: SentPacket<F>[] = [];
    for (let pn = h.nextLive(h.head); pn <= largest; pn = h.nextLive(pn + 1)) {
      const p = h.get(pn)!;
      // sent + delay ≤ now, computed exactly as the loss time is (not now − delay): a timer
      // armed at that loss time must find the packet lost, float rounding notwithstanding.
      const at = p.sentAtMs + lossDelay;
      if (at <= nowMs || largest >= pn + PACKET_THRESHOLD) {
        lost.push(p);
      } else if (this.#lossTimeMs === null || at < this.#lossTimeMs) {
        this.#lossTimeMs = at;
      }
    }
    if (lost.length === 0) return { lost, persistent: false };
    const persistent = this.#persistentCongestion(lost);
    for (const p of lost) {
      h.markLost(p.pn);
      this.#leaveFlight(p);
      this.#lostPackets++;
      this.#lostBytes += p.bytes;
    }
    const lostOnPath = lost[0]!.pn >= this.#pathStartPn ? lost : lost.filter((p) => p.pn >= this.#pathStartPn);
    if (lostOnPath.length > 0) this.#cc.onPacketsLost(lostOnPath, nowMs);
    if (persistent) {
      this.#persistentCongestionEvents++;
      this.#cc.onPersistentCongestion(nowMs);
    }
    return { lost, persistent };
  }

  /** RFC 9002 §7.6.2, over the packets lost in this pass (still in the history, not yet marked). */
  #persistentCongestion(lost: readonly SentPacket<F>[]): boolean {
    if (this.#firstSampleSentMs === null) return false;
    const after = this.#firstSampleSentMs;
    const candidates = lost.filter((p) => p.pn >= this.#pathStartPn && p.sentAtMs > after);
    if (candidates.length < 2) return false;
    const duration = (this.#rtt.smoothedMs + Math.max(4 * this.#rtt.rttvarMs, GRANULARITY_MS) + this.#rtt.maxAckDelayMs) * PERSISTENT_CONGESTION_THRESHOLD;
    if (candidates[candidates.length - 1]!.sentAtMs - candidates[0]!.sentAtMs <= duration) return false;
    let start = candidates[0]!;
    for (let k = 1; k < candidates.length; k++) {
      const prev = candidates[k - 1]!;
      const p = candidates[k]!;
      if (this.#history.ackedBetween(prev.pn, p.pn)) start = p;
      else if (p.sentAtMs - start.sentAtMs > duration) return true;
    }
    return false;
  }
}
