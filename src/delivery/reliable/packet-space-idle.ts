/**
 * The idle form of a PacketSpace (issue 12: memory per idle peer). An established peer that
 * only exchanges keepalives needs no congestion controller, loss detector, pacer or ack ranges
 * between them: after an idle period PacketSpace.rest() drops them (~1.2 KB) and keeps this
 * record, from which the next use makes them again with the state a caller can observe:
 *
 * - the controller: window, slow-start threshold, W_max (CUBIC), the bytes acknowledged towards
 *   the next increase (NewReno) and datagram size (ControllerResume).
 *   Only a window not above the initial one rests: a larger one would restart at the next send
 *   after an idle period (idle-restart.ts, RFC 9002 §7.8), so the space rests after that send.
 *   Rounds (HyStart++, the queue signal) start again, as after any restart.
 * - the loss detector: the next packet number. Nothing is in flight and no probe timeout is
 *   backed off, so nothing else of it is state (the lost-packet count is kept by PacketSpace).
 * - the pacer: the bucket at the last send. Once it has refilled to max(burst, that bucket) —
 *   what it holds from then on until the next send — a pacer made with that bucket as its
 *   initial one gives the same.
 * - the ack tracker: its one range, its floor, whether something arrived since the last ack
 *   (AckTracker.rest()); nothing is owed.
 */
import type { CongestionController, ControllerResume } from '../congestion/controller';
import { initialWindowBytes } from '../congestion/newreno';
import type { Pacer } from '../congestion/pacer';
import type { AckPolicy, AckResume, AckTracker, PendingAck } from './ack-tracker';
import type { LossDetector } from './loss';

/** The shortest idle period (nothing sent or received) after which a space rests. */
export const REST_AFTER_MS = 1_000;

/**
 * One object per resting space: the controller's and the ack tracker's resume records in one
 * (issue 12). A resting space also receives and acknowledges in it (idle15: an idle peer's
 * keepalive exchange does not make the parts again on the side that answers): a packet that
 * extends the one range in order and does not make an ack due at once (receive()), the delayed
 * ack it owes (ackDeadline(), takeAck()), ack-only datagrams sent (their packet numbers), and
 * acks of them (nothing is in flight: they acknowledge nothing the loss detector would track).
 */
export class IdleSpace implements ControllerResume, AckResume {
  readonly maxDatagramBytes: number;
  readonly windowBytes: number;
  readonly ssthreshBytes: number;
  readonly lastMaxWindowBytes: number;
  readonly avoidanceAckedBytes: number;
  nextPacketNumber: number;
  readonly pacerBudgetBytes: number;
  readonly policy: AckPolicy;
  readonly floor: number;
  readonly smallest: number;
  largest: number;
  largestReceivedAtMs: number;
  readonly duplicates: number;
  changed: boolean;
  /** Ack-eliciting packets received since the last ack, and when the first of them arrived (null: no ack owed). */
  unackedEliciting = 0;
  firstUnackedElicitingAtMs: number | null = null;

  constructor(cc: CongestionController, nextPacketNumber: number, pacerBudgetBytes: number, acks: AckResume) {
    this.maxDatagramBytes = cc.maxDatagramBytes;
    this.windowBytes = cc.windowBytes;
    this.ssthreshBytes = cc.ssthreshBytes;
    const extra = cc as { lastMaxWindowBytes?: number; avoidanceAckedBytes?: number };
    this.lastMaxWindowBytes = extra.lastMaxWindowBytes ?? 0;
    this.avoidanceAckedBytes = extra.avoidanceAckedBytes ?? 0;
    this.nextPacketNumber = nextPacketNumber;
    this.pacerBudgetBytes = pacerBudgetBytes;
    this.policy = acks.policy;
    this.floor = acks.floor;
    this.smallest = acks.smallest;
    this.largest = acks.largest;
    this.largestReceivedAtMs = acks.largestReceivedAtMs;
    this.duplicates = acks.duplicates;
    this.changed = acks.changed;
  }

  /**
   * Records a received packet as AckTracker.onPacketReceived would, when that is simple: the
   * next number after the one range, and (ack-eliciting) not the one that makes an ack due at
   * once. false: the caller makes the parts again and records it there.
   */
  receive(pn: number, ackEliciting: boolean, nowMs: number): boolean {
    if (this.largest < 0 || pn !== this.largest + 1 || pn < this.floor) return false;
    if (ackEliciting && this.unackedEliciting + 1 >= this.policy.ackEveryPackets) return false;
    this.largest = pn;
    this.largestReceivedAtMs = nowMs;
    if (ackEliciting) {
      this.changed = true; // pure acks are no news (AckTracker.hasNewInfo)
      this.unackedEliciting++;
      if (this.firstUnackedElicitingAtMs === null) this.firstUnackedElicitingAtMs = nowMs;
    }
    return true;
  }

  /** When the owed delayed ack falls due (AckTracker.deadline), or null. */
  ackDeadline(): number | null {
    const first = this.firstUnackedElicitingAtMs;
    return first === null ? null : first + this.policy.maxAckDelayMs;
  }

  /** The ack to send now, as AckTracker.takeAck (null without a range). */
  takeAck(nowMs: number): PendingAck | null {
    if (this.largest < 0) return null;
    this.unackedEliciting = 0;
    this.firstUnackedElicitingAtMs = null;
    this.changed = false;
    return { ranges: [{ smallest: this.smallest, largest: this.largest }], ackDelayMs: Math.max(0, nowMs - this.largestReceivedAtMs) };
  }
}

/**
 * The record to rest on, or null while the parts still hold state: something in flight or a
 * timer armed, a backed-off probe timeout, a recovery period, a window above the initial one,
 * an ack owed, a pacer's bucket not yet refilled.
 */
export function restable<F>(cc: CongestionController, loss: LossDetector<F>, pacer: Pacer, acks: AckTracker, lastSentMs: number, nowMs: number): IdleSpace | null {
  if (loss.history.size > 0 || loss.bytesInFlight !== 0 || loss.deadline() !== null || loss.ptoCount !== 0) return null;
  if (cc.inRecovery || cc.windowBytes > initialWindowBytes(cc.maxDatagramBytes)) return null;
  // The bucket right after the last send (before any send: the initial one, whatever the time),
  // and whether it has refilled since to what it holds from now on: max(burst, that bucket).
  const budget = pacer.budget(lastSentMs === -Infinity ? nowMs : lastSentMs);
  if (pacer.budget(nowMs) < Math.max(budget, pacer.maxBurstBytes())) return null;
  const ackState = acks.rest();
  if (ackState === null) return null;
  return new IdleSpace(cc, loss.nextPacketNumber, budget, ackState);
}
