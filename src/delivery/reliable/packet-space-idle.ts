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
 * - the ack tracker: its ranges (the first as numbers, any below it — a lost packet's gap — in
 *   `lower`), its floor, whether something arrived since the last ack (AckTracker.rest());
 *   nothing is owed.
 *
 * The light send path (memrss16: an idle peer's own keepalive made the parts again, ~1 KB, and
 * dropped them a second later): one ack-eliciting packet may be sent from the record
 * (sendLight) when what the parts would do with it is plain — the controller's window did not
 * limit it (no growth on its ack, no restart: the window is at most the initial one), its pacer
 * bucket holds it, slow start or a window the queue signal leaves alone (fresh HyStart++ and
 * queue-signal rounds answer nothing on one ack). The record keeps it (`flight`: its number,
 * time, bytes, frames, and the bucket before it) for its probe timeout (PacketSpace.deadline) and
 * its acknowledgement (RTT sample). Anything else makes the parts again with the packet sent as
 * it was (PacketSpace's wake replays it). Its ack rests the space again at once when the parts
 * would be restable then (the pacer's bucket refilled at the new rate: the one rule of
 * restable() that an ack can fail here), without waiting for REST_AFTER_MS.
 */
import type { CongestionController, ControllerResume } from '../congestion/controller';
import { NewReno, PACING_GAIN, initialWindowBytes } from '../congestion/newreno';
import { Cubic, PACING_GAIN_AVOIDANCE } from '../congestion/cubic';
import { QUEUE_SIGNAL_MAX_DATAGRAMS } from '../congestion/queue-delay';
import { DEFAULT_BURST_DATAGRAMS, MIN_PACING_DELAY_MS, type Pacer } from '../congestion/pacer';
import { DEFAULT_ACK_POLICY, type AckPolicy, type AckResume, type AckTracker } from './ack-tracker';
import { OWN_CONTROLLER_SLOTS, RECORD_SLOTS, small } from './packet-space-record';
import type { LossDetector } from './loss';
import type { SentPacket } from './sent-history';
import { GRANULARITY_MS, type RttStats } from './rtt';

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
/** The packet sent on the light path (a SentPacket as the loss detector would hold it) and the pacer's bucket before it. */
export interface LightFlight extends SentPacket<unknown> {
  readonly budgetBeforeBytes: number;
}

/** The controller's pacing gain the light path uses: 0 none (not a light-path controller), 1 → 1.0, 2 → 1.25 (a small integer: no boxed number per record). */
type GainCode = 0 | 1 | 2;

/** The window may exceed what is in flight by this many datagrams and still count as the limit (the controllers' MAX_BURST_DATAGRAMS). */
const LIMIT_BURST_DATAGRAMS = 3;

/** What an idle space keeps of its controller, with the light path's gain: shared, frozen, one per distinct value (controllerRecord). */
interface ControllerRecord extends ControllerResume {
  readonly gain: GainCode;
  /** Its place in `shared` (a folded space keeps the number, packet-space-record.ts); -1: a space's own (past the bound: folded after the record's slots). */
  readonly index: number;
}

/**
 * Idle controllers mostly hold the same few states (the initial window, no threshold yet: an
 * Infinity that a field of its own would box): one frozen record per distinct state, up to
 * RECORDS of them, shared by every idle space (issue 12: 5 fields and a boxed number per idle
 * peer → 1 field). Past the bound a space keeps a record of its own.
 */
const records = new Map<string, ControllerRecord>();
/** The shared records in the order made (never removed: an index stays valid). */
const shared: ControllerRecord[] = [];
const RECORDS = 256;
function controllerRecord(cc: CongestionController): ControllerRecord {
  const extra = cc as { lastMaxWindowBytes?: number; avoidanceAckedBytes?: number };
  const inRecovery = cc.inRecovery;
  const gain = inRecovery ? 0 : lightGain(cc); // in recovery, the next send wakes the parts (its ack ends the period)
  const [mss, w, ss, lm, aa, rs] = [cc.maxDatagramBytes, cc.windowBytes, cc.ssthreshBytes, extra.lastMaxWindowBytes ?? 0, extra.avoidanceAckedBytes ?? 0, cc.recoveryStartMs ?? -Infinity];
  const key = `${gain} ${mss} ${w} ${ss} ${lm} ${aa} ${rs} ${inRecovery}`;
  let r = records.get(key);
  if (r === undefined) {
    const index = records.size < RECORDS ? records.size : -1;
    r = Object.freeze({ gain, maxDatagramBytes: mss, windowBytes: w, ssthreshBytes: ss, lastMaxWindowBytes: lm, avoidanceAckedBytes: aa, recoveryStartMs: rs, inRecovery, index });
    if (index >= 0) {
      records.set(key, r);
      shared.push(r);
    }
  }
  return r;
}

/** A controller record of a space's own as writeRecordTail wrote it at r[k…] (fold21): every value as it was. */
function ownRecord(r: readonly number[], k: number): ControllerRecord {
  const gain = r[k] === 2 ? 2 : r[k] === 1 ? 1 : 0;
  return Object.freeze({ gain, maxDatagramBytes: small(r[k + 1]!), windowBytes: small(r[k + 2]!), ssthreshBytes: small(r[k + 3]!), lastMaxWindowBytes: small(r[k + 4]!), avoidanceAckedBytes: small(r[k + 5]!), recoveryStartMs: small(r[k + 6]!), inRecovery: r[k + 7] === 1, index: -1 });
}

/** The ack state fromRecord starts from (then overwritten: no object per wake). */
const NO_ACKS: AckResume = Object.freeze({ policy: DEFAULT_ACK_POLICY, floor: 0, smallest: -1, largest: -1, largestReceivedAtMs: 0, duplicates: 0, changed: false, lower: null });
type Writable = { -readonly [K in keyof IdleSpace]: IdleSpace[K] };

export class IdleSpace implements ControllerResume, AckResume {
  /** The controller's state (shared: controllerRecord). */
  readonly #cc: ControllerRecord;
  nextPacketNumber: number;
  /** The pacer's bucket (while a light packet is out: the bucket before it, for the replay). */
  pacerBudgetBytes: number;
  readonly policy: AckPolicy;
  floor: number;
  smallest: number;
  largest: number;
  largestReceivedAtMs: number;
  readonly duplicates: number;
  changed: boolean;
  /** The ack ranges below the one range, largest first, as [smallest, largest, …] (null: none; AckResume.lower). */
  lower: number[] | null;
  /** Ack-eliciting packets received since the last ack, and when the first of them arrived (null: no ack owed). */
  unackedEliciting = 0;
  firstUnackedElicitingAtMs: number | null = null;
  /** The light path's packet in flight (null: none). */
  flight: LightFlight | null = null;

  constructor(cc: CongestionController | ControllerRecord, nextPacketNumber: number, pacerBudgetBytes: number, acks: AckResume) {
    this.#cc = 'index' in cc ? cc : controllerRecord(cc);
    this.nextPacketNumber = nextPacketNumber;
    this.pacerBudgetBytes = pacerBudgetBytes;
    this.policy = acks.policy;
    this.floor = acks.floor;
    this.smallest = acks.smallest;
    this.largest = acks.largest;
    this.largestReceivedAtMs = acks.largestReceivedAtMs;
    this.duplicates = acks.duplicates;
    this.changed = acks.changed;
    this.lower = acks.lower ? acks.lower.slice() : null;
  }

  get maxDatagramBytes(): number { return this.#cc.maxDatagramBytes; }
  get windowBytes(): number { return this.#cc.windowBytes; }
  get ssthreshBytes(): number { return this.#cc.ssthreshBytes; }
  get lastMaxWindowBytes(): number { return this.#cc.lastMaxWindowBytes; }
  get avoidanceAckedBytes(): number { return this.#cc.avoidanceAckedBytes; }
  get recoveryStartMs(): number { return this.#cc.recoveryStartMs ?? -Infinity; }
  get inRecovery(): boolean { return this.#cc.inRecovery ?? false; }

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

  /** AckTracker.pruneBelow on the ranges: the peer has our ack of everything below `pn`. */
  pruneBelow(pn: number): void {
    if (pn <= this.floor) return;
    this.floor = pn;
    const low = this.lower;
    if (low !== null) {
      // the ranges wholly below `pn` go (lowest first), the lowest one left starts at `pn` at the earliest
      let n = low.length;
      while (n > 0 && low[n - 1]! < pn) n -= 2;
      if (n > 0) {
        if (n < low.length) low.length = n;
        if (low[n - 2]! < pn) low[n - 2] = pn;
        return;
      }
      this.lower = null;
    }
    if (this.largest < pn) this.smallest = this.largest = -1;
    else if (this.smallest < pn) this.smallest = pn;
  }

  /**
   * What a pacer made from this record holds before its first send, at the rate of the
   * controller made from it with this smoothed RTT (Pacer.budget before any send; the
   * controllers' pacingRateBytesPerMs, the same operations).
   */
  pacerBudget(smoothedMs: number): number {
    const rate = ((this.#cc.gain === 2 ? PACING_GAIN : PACING_GAIN_AVOIDANCE) * this.windowBytes) / Math.max(smoothedMs, 1);
    return Math.max(this.pacerBudgetBytes, Math.max(DEFAULT_BURST_DATAGRAMS * this.maxDatagramBytes, rate * (MIN_PACING_DELAY_MS + 1)));
  }

  /** Whether the light path may send an ack-eliciting packet of `bytes` now (window and pacer as the parts would judge it). */
  canSendLight(bytes: number, smoothedMs: number): boolean {
    if (this.#cc.gain === 0 || this.flight !== null) return false;
    const w = this.windowBytes;
    // not window-limited with `bytes` in flight (the controllers' #cwndLimited): its ack grows nothing
    if (bytes >= w || (w < this.ssthreshBytes && bytes > w / 2) || w - bytes <= LIMIT_BURST_DATAGRAMS * this.maxDatagramBytes) return false;
    return this.pacerBudget(smoothedMs) >= bytes;
  }

  /** Records the light path's packet (canSendLight was true); returns its number. */
  sendLight(nowMs: number, bytes: number, frames: readonly unknown[]): number {
    const pn = this.nextPacketNumber++;
    this.flight = { pn, sentAtMs: nowMs, bytes, ackEliciting: true, inFlight: true, frames, budgetBeforeBytes: this.pacerBudgetBytes };
    return pn;
  }

  /**
   * The light packet was acknowledged at `nowMs`, the smoothed RTT `smoothedBefore` before the
   * ack's sample and `smoothedAfter` after it: the bucket after its send (what the parts' pacer
   * kept), if the parts would be restable now — the bucket refilled to max(that, the burst at
   * the new rate) —, else null (the caller makes the parts again).
   */
  budgetAfterAck(nowMs: number, smoothedBefore: number, smoothedAfter: number): number | null {
    const f = this.flight!;
    const after = Math.max(0, this.pacerBudget(smoothedBefore) - f.bytes);
    const rate = ((this.#cc.gain === 2 ? PACING_GAIN : PACING_GAIN_AVOIDANCE) * this.windowBytes) / Math.max(smoothedAfter, 1);
    const burst = Math.max(DEFAULT_BURST_DATAGRAMS * this.maxDatagramBytes, rate * (MIN_PACING_DELAY_MS + 1));
    return after + rate * Math.max(0, nowMs - f.sentAtMs) >= Math.max(after, burst) ? after : null;
  }

  /**
   * takeAck without its objects (memalloc17): the ack delay of the ranges ([smallest, largest],
   * and `lower`'s when a gap is kept: ackRanges()) to send now, or −1 without a range (nothing taken).
   */
  takeAckDelay(nowMs: number): number {
    if (this.largest < 0) return -1;
    this.unackedEliciting = 0;
    this.firstUnackedElicitingAtMs = null;
    this.changed = false;
    return Math.max(0, nowMs - this.largestReceivedAtMs);
  }

  /**
   * Writes the record at r[at…] (IDLE_SLOTS; packet-space-record.ts) when it can stand for this
   * object: no light packet out, no ack owed, the default ack policy or `configPolicy` (the
   * space's own). false: it cannot. A controller record of the space's own writes −1 in its
   * index slot: its values follow the record's slots (writeRecordTail).
   */
  writeRecord(r: number[], at: number, configPolicy: AckPolicy): boolean {
    const p = this.policy;
    if (this.flight !== null || this.firstUnackedElicitingAtMs !== null || this.unackedEliciting !== 0 || (p !== DEFAULT_ACK_POLICY && p !== configPolicy)) return false;
    r[at] = this.#cc.index;
    r[at + 1] = this.nextPacketNumber;
    r[at + 2] = this.pacerBudgetBytes;
    r[at + 3] = p === configPolicy ? 1 : 0;
    r[at + 4] = this.floor;
    r[at + 5] = this.smallest;
    r[at + 6] = this.largest;
    r[at + 7] = this.largestReceivedAtMs;
    r[at + 8] = this.duplicates;
    r[at + 9] = this.changed ? 1 : 0;
    return true;
  }

  /**
   * How many slots follow the record's slots (packet-space-record.ts; writeRecordTail): the
   * controller's state when its record is the space's own (OWN_CONTROLLER_SLOTS), then `lower`.
   */
  recordTailSlots(): number {
    return (this.#cc.index < 0 ? OWN_CONTROLLER_SLOTS : 0) + (this.lower?.length ?? 0);
  }

  /** Writes what follows the record's slots into `r` (its length: RECORD_SLOTS + recordTailSlots()). */
  writeRecordTail(r: number[]): void {
    let k = RECORD_SLOTS;
    const c = this.#cc;
    if (c.index < 0) {
      r[k] = c.gain;
      r[k + 1] = c.maxDatagramBytes;
      r[k + 2] = c.windowBytes;
      r[k + 3] = c.ssthreshBytes;
      r[k + 4] = c.lastMaxWindowBytes;
      r[k + 5] = c.avoidanceAckedBytes;
      r[k + 6] = c.recoveryStartMs ?? -Infinity;
      r[k + 7] = c.inRecovery === true ? 1 : 0;
      k += OWN_CONTROLLER_SLOTS;
    }
    const low = this.lower;
    if (low !== null) for (let j = 0; j < low.length; j++) r[k + j] = low[j]!;
  }

  /** The congestion window of the IdleSpace writeRecord wrote at r[at…]. */
  static recordWindowBytes(r: readonly number[], at: number): number {
    const index = r[at]!;
    return index < 0 ? small(r[RECORD_SLOTS + 2]!) : shared[index]!.windowBytes;
  }

  /** The IdleSpace writeRecord wrote at r[at…] (`configPolicy`: the space's own policy, as given there), with writeRecordTail's slots after them. */
  static fromRecord(r: readonly number[], at: number, configPolicy: AckPolicy): IdleSpace {
    const index = r[at]!;
    const idle = new IdleSpace(index < 0 ? ownRecord(r, RECORD_SLOTS) : shared[index]!, small(r[at + 1]!), small(r[at + 2]!), NO_ACKS);
    const s = idle as Writable;
    s.policy = r[at + 3] === 1 ? configPolicy : DEFAULT_ACK_POLICY;
    s.floor = small(r[at + 4]!);
    s.smallest = small(r[at + 5]!);
    s.largest = small(r[at + 6]!);
    s.largestReceivedAtMs = small(r[at + 7]!);
    s.duplicates = small(r[at + 8]!);
    s.changed = r[at + 9] === 1;
    // the ranges below the one range (a gap kept at rest) follow the record's slots and the controller's own state
    const low = index < 0 ? RECORD_SLOTS + OWN_CONTROLLER_SLOTS : RECORD_SLOTS;
    if (r.length > low) s.lower = r.slice(low).map(small);
    return idle;
  }

  /** The ack ranges, largest first (the one range and `lower`'s): for an ack with gaps (rare at rest). */
  ackRanges(): Array<{ smallest: number; largest: number }> {
    const ranges = [{ smallest: this.smallest, largest: this.largest }];
    const low = this.lower;
    if (low !== null) for (let k = 0; k + 1 < low.length; k += 2) ranges.push({ smallest: low[k]!, largest: low[k + 1]! });
    return ranges;
  }

}

/**
 * What keeps the parts from resting now (null: nothing): something in flight or a timer armed,
 * a backed-off probe timeout, a recovery period of a controller that cannot carry it over (ours
 * do: ControllerResume.recoveryStartMs, memheap17), a window above the initial one, a pacer's
 * bucket not yet refilled, an ack owed. Diagnostics (PacketSpace.awakeReason) and restable().
 */
export function restBlocker<F>(cc: CongestionController, loss: LossDetector<F>, pacer: Pacer, acks: AckTracker, lastSentMs: number, nowMs: number): string | null {
  if (loss.history.size > 0 || loss.bytesInFlight !== 0) return 'in flight';
  if (loss.deadline() !== null) return 'loss timer';
  if (loss.ptoCount !== 0) return 'probe timeout backed off';
  if (cc.inRecovery && cc.recoveryStartMs === undefined) return 'recovery'; // a controller that cannot carry it over
  if (cc.windowBytes > initialWindowBytes(cc.maxDatagramBytes)) return 'window above the initial';
  // The bucket right after the last send (before any send: the initial one, whatever the time),
  // and whether it has refilled since to what it holds from now on: max(burst, that bucket).
  const budget = pacer.budget(lastSentMs === -Infinity ? nowMs : lastSentMs);
  if (pacer.budget(nowMs) < Math.max(budget, pacer.maxBurstBytes())) return 'pacer refilling';
  if (acks.deadline() !== null) return 'ack owed';
  return null;
}

/** The record to rest on, or null while the parts still hold state (restBlocker). */
export function restable<F>(cc: CongestionController, loss: LossDetector<F>, pacer: Pacer, acks: AckTracker, lastSentMs: number, nowMs: number): IdleSpace | null {
  if (restBlocker(cc, loss, pacer, acks, lastSentMs, nowMs) !== null) return null;
  const ackState = acks.rest();
  if (ackState === null) return null;
  return new IdleSpace(cc, loss.nextPacketNumber, pacer.budget(lastSentMs === -Infinity ? nowMs : lastSentMs), ackState);
}

/**
 * The light path's pacing gain for a controller at rest: NewReno 1.25; CUBIC 1.25 in slow start
 * and 1.0 in congestion avoidance — there only with a window the queue-delay signal does not
 * cut (a fresh signal may cut at its first ack); any other controller: none.
 */
function lightGain(cc: CongestionController): GainCode {
  if (cc instanceof NewReno) return 2;
  if (!(cc instanceof Cubic)) return 0;
  if (cc.inSlowStart) return 2;
  return cc.windowBytes >= QUEUE_SIGNAL_MAX_DATAGRAMS * cc.maxDatagramBytes ? 1 : 0;
}

/**
 * The smoothed RTT after RttStats.update(latestMs, ackDelayMs), the same operations (the light
 * path decides before the sample whether the ack rests the space again).
 */
export function smoothedAfterSample(rtt: RttStats, latestMs: number, ackDelayMs: number): number {
  const latest = Math.max(latestMs, GRANULARITY_MS);
  if (!rtt.hasSample) return latest;
  const min = latest < rtt.minMs ? latest : rtt.minMs;
  const ackDelay = Math.min(Math.max(0, ackDelayMs), rtt.maxAckDelayMs);
  const adjusted = latest >= min + ackDelay ? latest - ackDelay : latest;
  return 0.875 * rtt.smoothedMs + 0.125 * adjusted;
}
