/**
 * Everything one peer's packet-number space needs, composed for the node's send/receive path:
 * RTT, loss detection, the congestion controller, pacing, packet acks and flow credit.
 * Pure and clock-free (every call takes `nowMs`, monotonic); the caller owns one timer, armed
 * at deadline(). docs/CONGESTION.md §Integration shows the call sequence.
 *
 * Send side: sendDelay() says when the next datagram may go (0 now, Infinity until an ack or a
 * timer changes things); onDatagramSent() numbers it. Receive side: onPacketReceived() per
 * authenticated datagram; ackToSend() gives the encoded ack (with credit) when one is due.
 */
import { NewReno } from '../congestion/newreno';
import { Pacer } from '../congestion/pacer';
import type { CongestionController } from '../congestion/controller';
import { ReceiveCredit, SendCredit, type CreditLimits, type WindowSource } from '../flow';
import { decodeAck, encodeAck } from '../../wire/ack';
import { AckTracker, DEFAULT_ACK_POLICY, adaptiveAckEvery, type AckPolicy } from './ack-tracker';
import { LossDetector, type AckResult, type TimeoutResult } from './loss';
import { MAX_ACK_DELAY_MS, RttStats } from './rtt';
import { RttProbe } from './rtt-probe';

/**
 * Acks per round trip the receiver aims at when it thins acks. Eight, not the draft's four: the
 * estimate lags a round and two flows sharing a bottleneck stayed fair with eight (1.04 in
 * test/sim/congestion.test.ts) but not with four (1.54).
 */
export const ACKS_PER_ROUND = 8;
/**
 * Thinning only from this arrival rate on (5,000 ack-eliciting packets/s, ~56 Mbit/s of full
 * datagrams): acks cost CPU per packet only at such rates, while on slower paths the ack clock
 * of every 2nd packet keeps the queue and the sharing of a bottleneck as RFC 9002 expects (with
 * thinning at 10 Mbit/s the sim's bulk overflowed the queue more, 3.4% against < 3%, and two
 * flows split the link 1.74 : 1).
 */
export const THIN_MIN_PACKETS_PER_MS = 5;
/** Before the first RTT sample, the arrival rate is judged over rounds of this length (RTT probes, rtt-probe.ts). */
export const RTT_PROBE_ROUND_MS = MAX_ACK_DELAY_MS;

export interface PacketSpaceOptions {
  maxDatagramBytes: number;
  /** What this node can buffer from the peer (inbox + reassembly budget): fixed, or read when an ack is built. */
  receiveWindow: WindowSource;
  /** What the peer may send before our first ack (INITIAL_CREDIT between nodes); default: the window. */
  initialReceiveCredit?: CreditLimits;
  /** The peer's credit before its first ack (its receive window, from the handshake or a default). */
  initialSendCredit: CreditLimits;
  /**
   * A fixed ack policy. Without it the policy adapts (ack thinning for bulk flows): every 2nd
   * ack-eliciting packet (RFC 9000), up to every 10th once about 80 arrive per round trip.
   */
  ackPolicy?: AckPolicy;
  maxPtoMs?: number;
  /** A different controller (tests, future CUBIC); default NewReno. */
  controller?: (rtt: RttStats) => CongestionController;
}

export class PacketSpace<F> {
  readonly rtt = new RttStats();
  readonly cc: CongestionController;
  readonly loss: LossDetector<F>;
  readonly pacer: Pacer;
  readonly acks: AckTracker;
  readonly sendCredit: SendCredit;
  readonly recvCredit: ReceiveCredit;
  #probes = 0;
  readonly #adaptiveAcks: boolean;
  /** Ack thinning: start of the current round (one smoothed RTT) and ack-eliciting packets received in it. */
  #roundStartMs = -Infinity;
  #roundPackets = 0;
  /** Whether the current round started with an RTT sample (a round measured without one sets no policy). */
  #roundSampled = false;
  /** Created at the first fast round (idle peers of a crowd never need one). */
  #rttProbe: RttProbe | null = null;
  #lastSampleAtMs = -Infinity;

  constructor(opts: PacketSpaceOptions) {
    this.cc = opts.controller?.(this.rtt) ?? new NewReno({ rtt: this.rtt, maxDatagramBytes: opts.maxDatagramBytes });
    this.loss = new LossDetector<F>({ rtt: this.rtt, cc: this.cc, ...(opts.maxPtoMs !== undefined ? { maxPtoMs: opts.maxPtoMs } : {}) });
    this.pacer = new Pacer({ rate: () => this.cc.pacingRateBytesPerMs(), maxDatagramBytes: opts.maxDatagramBytes });
    this.acks = new AckTracker(opts.ackPolicy ?? DEFAULT_ACK_POLICY);
    this.#adaptiveAcks = opts.ackPolicy === undefined;
    this.sendCredit = new SendCredit(opts.initialSendCredit);
    this.recvCredit = new ReceiveCredit(opts.receiveWindow, opts.initialReceiveCredit);
  }

  /** Probe datagrams owed after a PTO (sent regardless of window and pacing). */
  get probesPending(): number { return this.#probes; }

  /**
   * Milliseconds until an ack-eliciting datagram of `bytes` may be sent: 0 = now; Infinity =
   * the window is full (an ack or onTimeout will change that). Ack-only datagrams are never
   * held back by the window or the pacer.
   */
  sendDelay(nowMs: number, bytes: number): number {
    if (this.#probes > 0) return 0;
    if (!this.cc.canSend(this.loss.bytesInFlight)) return Infinity;
    return this.pacer.timeUntilSend(nowMs, bytes);
  }

  /** A datagram was handed to the kernel; returns the packet number it carries. */
  onDatagramSent(nowMs: number, bytes: number, ackEliciting: boolean, frames: readonly F[] = []): number {
    if (ackEliciting) {
      if (this.#probes > 0) this.#probes--;
      this.pacer.onPacketSent(nowMs, bytes);
    }
    const pn = this.loss.onPacketSent(nowMs, bytes, ackEliciting, frames);
    this.#rttProbe?.onSent(pn, nowMs, ackEliciting);
    return pn;
  }

  /**
   * Peer's ack (decoded here; a malformed one throws DropError 'malformed'). The loss detector
   * samples the RTT when the largest acknowledged is newly acknowledged and ack-eliciting. For
   * our RTT probe (takeRttProbe) RFC 9002 §5.1's wider rule applies: the largest acknowledged
   * may be an ack-only datagram sent after the probe (the loss detector keeps no record of
   * those; RttProbe keeps their send times while the probe is out) — the peer's ack of a probe usually
   * covers them too, and the probe would otherwise rarely give a sample.
   */
  onAckFrame(bytes: Uint8Array, nowMs: number): AckResult<F> & { unblocked: boolean } {
    const ack = decodeAck(bytes);
    const largestBefore = this.loss.largestAcked;
    const res = this.loss.onAckReceived(ack.ranges, ack.ackDelayMs, nowMs);
    const unblocked = this.sendCredit.onCredit(ack);
    let rttUpdated = res.rttUpdated;
    const probe = this.#rttProbe;
    if (!rttUpdated && probe && res.acked.length > 0) {
      const latest = probe.latestFor(ack.ranges[0]!.largest, largestBefore, (pn) => res.acked.some((p) => p.pn === pn), nowMs);
      if (latest !== null) {
        this.rtt.update(latest, ack.ackDelayMs);
        rttUpdated = true;
      }
    }
    if (rttUpdated) {
      this.#lastSampleAtMs = nowMs;
      probe?.onSample();
    }
    return { acked: res.acked, lost: res.lost, rttUpdated, persistentCongestion: res.persistentCongestion, unblocked };
  }

  /**
   * Whether this side should ask the peer for an RTT sample now (and forget the request): a
   * fast flow arrives and no sample is fresher than 8 srtt (25 ms … 1 s, rtt-probe.ts). The
   * caller sends a keepalive (ack-eliciting, the peer acknowledges it): at most one per interval.
   */
  takeRttProbe(): boolean {
    return this.#rttProbe?.take() ?? false;
  }

  /** An authenticated datagram from the peer; false = a duplicate packet number (drop it). */
  onPacketReceived(pn: number, ackEliciting: boolean, nowMs: number): boolean {
    if (ackEliciting && this.#adaptiveAcks) this.#countRound(nowMs);
    return this.acks.onPacketReceived(pn, ackEliciting, nowMs);
  }

  /**
   * Ack thinning (the ack-frequency draft's reasoning, decided by the receiver): the ack-eliciting
   * packets that arrive in one smoothed RTT estimate the peer's window in packets; about eight
   * acks per window (ACKS_PER_ROUND) keep its ack clock and packet-threshold loss detection working;
   * while thinned, the ack delay is a quarter of the smoothed RTT (1…25 ms), so the tail of a
   * burst is not held 25 ms. Only once this side has an RTT sample and at ≥
   * THIN_MIN_PACKETS_PER_MS. Gaps and reordering are still acknowledged at once; a window that
   * shrank is seen one round later. Before a sample, rounds of RTT_PROBE_ROUND_MS judge the rate
   * only: a fast flow without a sample fresher than 8 srtt (25 ms … 1 s) asks for one
   * (takeRttProbe; a pure receiver of datagram-mode traffic sends nothing else ack-eliciting).
   */
  #countRound(nowMs: number): void {
    const sampled = this.rtt.hasSample;
    if (nowMs - this.#roundStartMs >= (sampled ? Math.max(this.rtt.smoothedMs, 1) : RTT_PROBE_ROUND_MS)) {
      if (this.#roundStartMs !== -Infinity) this.#endRound(nowMs, sampled);
      this.#roundStartMs = nowMs;
      this.#roundPackets = 0;
      this.#roundSampled = sampled;
    }
    this.#roundPackets++;
  }

  #endRound(nowMs: number, sampled: boolean): void {
    const fast = this.#roundPackets / (nowMs - this.#roundStartMs) >= THIN_MIN_PACKETS_PER_MS;
    // No sample, or only an old one (this side sends nothing ack-eliciting): ask for one.
    if (fast) (this.#rttProbe ??= new RttProbe()).onFastRound(nowMs, this.#lastSampleAtMs, this.rtt.smoothedMs);
    if (!sampled || !this.#roundSampled) return; // a round measured without an RTT sample says nothing of the window
    const every = fast ? adaptiveAckEvery(this.#roundPackets, ACKS_PER_ROUND) : DEFAULT_ACK_POLICY.ackEveryPackets;
    // Thinned, the last packets of a burst wait for the delay: a quarter RTT (≥ 1 ms), not 25 ms.
    const delay = every > DEFAULT_ACK_POLICY.ackEveryPackets ? Math.min(MAX_ACK_DELAY_MS, Math.max(1, Math.ceil(this.rtt.smoothedMs / 4))) : DEFAULT_ACK_POLICY.maxAckDelayMs;
    const p = this.acks.policy;
    if (every !== p.ackEveryPackets || delay !== p.maxAckDelayMs) this.acks.setPolicy({ ...p, ackEveryPackets: every, maxAckDelayMs: delay });
  }

  /**
   * The encoded ack to put in the next datagram, or null. `piggyback`: a datagram is leaving
   * anyway, so include an ack if it says anything new, even when none is due yet.
   */
  ackToSend(nowMs: number, piggyback = false): Uint8Array | null {
    const due = this.acks.ackDue(nowMs) || this.recvCredit.updateDue(nowMs) || (piggyback && this.acks.hasNewInfo);
    if (!due) return null;
    const ack = this.acks.takeAck(nowMs);
    if (ack === null) return null;
    return encodeAck({ ...ack, ...this.recvCredit.takeLimits() });
  }

  /** When onTimeout must run (loss timer, probe timeout or delayed ack), or null. */
  deadline(): number | null {
    const a = this.loss.deadline();
    const b = this.acks.deadline();
    return a === null ? b : b === null ? a : Math.min(a, b);
  }

  /**
   * Runs the loss/PTO timer if due. Lost packets' frames must be requeued by the caller; after
   * a PTO, `probes` datagrams may go at once. A due delayed ack is then given by ackToSend().
   */
  onTimeout(nowMs: number): TimeoutResult<F> {
    const res = this.loss.onTimeout(nowMs);
    this.#probes = Math.max(this.#probes, res.probes);
    return res;
  }

  /** The peer's address changed (roaming, NAT rebinding): fresh RTT, window and pacing. */
  resetForNewPath(): void {
    this.loss.resetForNewPath();
    this.pacer.reset();
    this.#probes = 0;
    this.#rttProbe?.reset();
    this.#lastSampleAtMs = -Infinity;
  }
}
