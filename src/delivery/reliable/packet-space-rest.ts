/**
 * What a resting PacketSpace (its idle form, packet-space-idle.ts) does with an ack it receives
 * and an ack it sends, without making the parts again. PacketSpace calls these only while it
 * rests; its own fields come in as parameters.
 */
import type { ReceiveCredit, SendCredit } from '../flow';
import { encodeAckInto, encodeOneRangeAckInto, type AckFrame } from '../../wire/ack';
import { DropError } from '../../errors';
import type { AckResult } from './loss';
import type { RttStats } from './rtt';
import { smoothedAfterSample, type IdleSpace } from './packet-space-idle';
import type { SentPacket } from './sent-history';

const NONE: readonly never[] = Object.freeze([]);

/**
 * An ack while resting. Without a light packet out, or one it does not cover, it can only name
 * ack-only datagrams, which the loss detector does not track (LossDetector.onAckReceived: its
 * checks, then nothing acknowledged). One that acknowledges the light packet: its RTT sample
 * (when it is the largest acknowledged, as the loss detector samples) and, if the parts would
 * then be restable, nothing else; null when they would not (the caller makes them again).
 * `probeBusy`: the space's RTT probe is out (not quiet). rttUpdated: the caller notes the sample's time.
 */
export function idleAck<F>(ack: AckFrame, idle: IdleSpace, nowMs: number, rtt: RttStats, sendCredit: SendCredit, probeBusy: boolean): (AckResult<F> & { unblocked: boolean }) | null {
  const largest = ack.ranges.length > 0 ? ack.ranges[0]!.largest : -1;
  if (largest >= idle.nextPacketNumber) throw new DropError('malformed', 'ack for a packet number not sent yet');
  const f = idle.flight;
  let covered = false;
  if (f !== null) for (let k = 0; k < ack.ranges.length && !covered; k++) covered = ack.ranges[k]!.smallest <= f.pn && f.pn <= ack.ranges[k]!.largest;
  if (f === null || !covered || probeBusy) {
    if (covered) return null;
    return { acked: NONE, lost: NONE, rttUpdated: false, persistentCongestion: false, unblocked: sendCredit.onCredit(ack) };
  }
  const sample = f.pn === largest;
  const before = rtt.smoothedMs;
  const after = sample ? smoothedAfterSample(rtt, nowMs - f.sentAtMs, ack.ackDelayMs) : before;
  const budget = idle.budgetAfterAck(nowMs, before, after);
  if (budget === null) return null;
  if (sample) rtt.update(nowMs - f.sentAtMs, ack.ackDelayMs);
  idle.pacerBudgetBytes = budget;
  idle.flight = null;
  return { acked: [f as SentPacket<unknown> as SentPacket<F>], lost: NONE, rttUpdated: sample, persistentCongestion: false, unblocked: sendCredit.onCredit(ack) };
}

/** A due ack of a resting space written at out[0…]: its length, 0 for none (PacketSpace.ackToSendInto). */
export function idleAckInto(out: Uint8Array, idle: IdleSpace, nowMs: number, recvCredit: ReceiveCredit): number {
  // the one range of the idle record, encoded without a frame or ranges (memalloc17)
  const delay = idle.takeAckDelay(nowMs);
  if (delay < 0) return 0;
  const l = recvCredit.takeLimits();
  // a gap kept at rest (memheap17: AckResume.lower) needs the ranges; else the one range
  if (idle.lower !== null) return encodeAckInto(out, { ranges: idle.ackRanges(), ackDelayMs: delay, maxBytes: l.maxBytes, maxMessages: l.maxMessages });
  return encodeOneRangeAckInto(out, idle.smallest, idle.largest, delay, l.maxBytes, l.maxMessages);
}
