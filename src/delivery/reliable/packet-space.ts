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
    return this.loss.onPacketSent(nowMs, bytes, ackEliciting, frames);
  }

  /** Peer's ack (decoded here; a malformed one throws DropError 'malformed'). */
  onAckFrame(bytes: Uint8Array, nowMs: number): AckResult<F> & { unblocked: boolean } {
    const ack = decodeAck(bytes);
    const res = this.loss.onAckReceived(ack.ranges, ack.ackDelayMs, nowMs);
    const unblocked = this.sendCredit.onCredit(ack);
    return { ...res, unblocked };
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
   * burst is not held 25 ms. Only once this side has an RTT sample (a pure receiver of
   * datagram-mode traffic never thins) and at ≥ THIN_MIN_PACKETS_PER_MS. Gaps and reordering
   * are still acknowledged at once; a window that shrank is seen one round later.
   */
  #countRound(nowMs: number): void {
    if (!this.rtt.hasSample) return;
    if (nowMs - this.#roundStartMs >= Math.max(this.rtt.smoothedMs, 1)) {
      if (this.#roundStartMs !== -Infinity) {
        const rate = this.#roundPackets / (nowMs - this.#roundStartMs);
        const every = rate >= THIN_MIN_PACKETS_PER_MS ? adaptiveAckEvery(this.#roundPackets, ACKS_PER_ROUND) : DEFAULT_ACK_POLICY.ackEveryPackets;
        // Thinned, the last packets of a burst wait for the delay: a quarter RTT (≥ 1 ms), not 25 ms.
        const delay = every > DEFAULT_ACK_POLICY.ackEveryPackets ? Math.min(MAX_ACK_DELAY_MS, Math.max(1, Math.ceil(this.rtt.smoothedMs / 4))) : DEFAULT_ACK_POLICY.maxAckDelayMs;
        const p = this.acks.policy;
        if (every !== p.ackEveryPackets || delay !== p.maxAckDelayMs) this.acks.setPolicy({ ...p, ackEveryPackets: every, maxAckDelayMs: delay });
      }
      this.#roundStartMs = nowMs;
      this.#roundPackets = 0;
    }
    this.#roundPackets++;
  }

  /**
   * The encoded ack to put in the next datagram, or null. `piggyback`: a datagram is leaving
   * anyway, so include an ack if it says anything new, even when none is due yet.
   */
  ackToSend(nowMs: number, piggyback = false): Uint8Array | null {
    const due = this.acks.ackDue(nowMs) || this.recvCredit.updateDue() || (piggyback && this.acks.hasNewInfo);
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
  }
}
