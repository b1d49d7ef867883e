/**
 * Receiver side of packet acknowledgement for one peer (quic-go internal/ackhandler
 * received_packet_tracker.go / received_packet_history.go are the model). Pure: the caller
 * passes `nowMs` and arms one timer at deadline().
 *
 * - Received packet numbers are kept as merged ranges, largest first, at most 32 (the oldest
 *   range is dropped; anything below the lowest kept number is then ignored as too old — the
 *   sender has declared it lost long ago).
 * - When to ack (RFC 9000 §13.2.1 and the ack-frequency extension): once `ackEveryPackets`
 *   (default 2) ack-eliciting packets arrived since the last ack, or `maxAckDelayMs` (≤ 25 ms)
 *   after the first unacknowledged ack-eliciting one, whichever comes first; at once when a
 *   ack-eliciting packet arrives out of order or reveals a gap (fast loss detection), unless
 *   `ignoreOrder`.
 *   Bulk transfers may thin acks (e.g. every 10th packet, 25 ms, ignoreOrder) with setPolicy().
 * - Non-ack-eliciting packets (pure acks) are recorded but never cause an ack by themselves,
 *   nor make a piggybacked ack worth sending (hasNewInfo; quic-go's hasNewAck): a data sender
 *   that receives the peer's ack-only datagrams does not acknowledge each of them in its data
 *   (ack16: that was ~1 ack frame encoded, carried and decoded per ack received). They are
 *   reported by the next ack that goes for another reason.
 */
import { MAX_ACK_RANGES, type AckRange } from '../../wire/ack';
import { MAX_ACK_DELAY_MS } from './rtt';

export interface AckPolicy {
  /** Ack after this many ack-eliciting packets (2 = RFC 9000's default). */
  ackEveryPackets: number;
  /** Longest an ack-eliciting packet waits for its ack (≤ 25 ms, the sender's assumption). */
  maxAckDelayMs: number;
  /** Do not ack at once on reordering or gaps (bulk thinning). */
  ignoreOrder: boolean;
}

export const DEFAULT_ACK_POLICY: AckPolicy = Object.freeze({ ackEveryPackets: 2, maxAckDelayMs: MAX_ACK_DELAY_MS, ignoreOrder: false });
/**
 * Fixed thinning for bulk transfers (every 10th packet, 25 ms). Only right when the sender's
 * window holds ≥ 40 datagrams; prefer ackPolicyForWindow, which the sender can ask for (the
 * ack-frequency extension's ACK_FREQUENCY frame) as its window changes.
 */
export const BULK_ACK_POLICY: AckPolicy = Object.freeze({ ackEveryPackets: 10, maxAckDelayMs: MAX_ACK_DELAY_MS, ignoreOrder: false });

/**
 * The ack policy a sender with this window should request (draft-ietf-quic-ack-frequency
 * §9.2 reasoning): about four acks per window, so the ack clock and the packet-threshold loss
 * detection keep working — every 2nd packet (RFC 9000) up to every 10th — while gaps are
 * still acknowledged at once.
 */
export function ackPolicyForWindow(windowBytes: number, maxDatagramBytes: number): AckPolicy {
  return { ackEveryPackets: adaptiveAckEvery(windowBytes / maxDatagramBytes), maxAckDelayMs: MAX_ACK_DELAY_MS, ignoreOrder: false };
}

/** Ack every n-th ack-eliciting packet for a window of `windowPackets`: about `acksPerWindow` acks per window, n in 2…maxEvery (10 unless given). */
export function adaptiveAckEvery(windowPackets: number, acksPerWindow = 4, maxEvery = 10): number {
  return Math.min(maxEvery, Math.max(2, Math.floor(windowPackets / acksPerWindow)));
}

interface MutableRange {
  smallest: number;
  largest: number;
}

export interface PendingAck {
  readonly ranges: readonly AckRange[];
  readonly ackDelayMs: number;
}

/**
 * What an AckTracker keeps over an idle period (PacketSpace's idle form, issue 12): its one
 * range of received numbers (or none), the floor below which numbers are too old, and whether a
 * piggybacked ack would say something new; nothing waits for an ack then.
 */
export interface AckResume {
  readonly policy: AckPolicy;
  readonly floor: number;
  /** The range (−1, −1: none). */
  readonly smallest: number;
  readonly largest: number;
  readonly largestReceivedAtMs: number;
  readonly duplicates: number;
  readonly changed: boolean;
  /**
   * The ranges below the first, largest first, as [smallest, largest, …] (null: none). A lost
   * packet's gap stays in every ack until the peer has one of them (pruneBelow); an idle peer
   * rarely sends an acknowledged ack, so its space rests with the gap (memheap17).
   */
  readonly lower?: readonly number[] | null;
  /** An ack owed (a resting space received while idle, idle15): ack-eliciting packets since the last ack, and when the first arrived. */
  readonly unackedEliciting?: number;
  readonly firstUnackedElicitingAtMs?: number | null;
}

export class AckTracker {
  /** Largest first, disjoint, non-adjacent. */
  #ranges: MutableRange[] = [];
  #policy: AckPolicy;
  /** Numbers below this are ignored (their range was dropped for the cap). */
  #floor = 0;
  #largestReceivedAtMs = 0;
  #unackedEliciting = 0;
  #firstUnackedElicitingAtMs: number | null = null;
  #ackNow = false;
  /** Something new and ack-eliciting arrived since the last ack was built. */
  #changed = false;
  #duplicates = 0;
  /** Set by #insert: the packet arrived below the largest or opened a gap. */
  #outOfOrder = false;

  constructor(policy: AckPolicy = DEFAULT_ACK_POLICY, resume?: AckResume) {
    this.#policy = AckTracker.#check(resume?.policy ?? policy);
    if (resume) {
      if (resume.largest >= 0) this.#ranges.push({ smallest: resume.smallest, largest: resume.largest });
      const lower = resume.lower;
      if (lower) for (let k = 0; k + 1 < lower.length; k += 2) this.#ranges.push({ smallest: lower[k]!, largest: lower[k + 1]! });
      this.#floor = resume.floor;
      this.#largestReceivedAtMs = resume.largestReceivedAtMs;
      this.#duplicates = resume.duplicates;
      this.#changed = resume.changed;
      this.#unackedEliciting = resume.unackedEliciting ?? 0;
      this.#firstUnackedElicitingAtMs = resume.firstUnackedElicitingAtMs ?? null;
    }
  }

  /**
   * The state to make this tracker again after an idle period (new AckTracker(policy, resume)),
   * or null while an ack is owed (then it is not idle).
   */
  rest(): AckResume | null {
    if (this.#unackedEliciting > 0 || this.#ackNow || this.#firstUnackedElicitingAtMs !== null) return null;
    const rs = this.#ranges;
    const r = rs[0];
    let lower: number[] | null = null;
    for (let k = 1; k < rs.length; k++) (lower ??= []).push(rs[k]!.smallest, rs[k]!.largest);
    return { policy: this.#policy, floor: this.#floor, smallest: r?.smallest ?? -1, largest: r?.largest ?? -1, largestReceivedAtMs: this.#largestReceivedAtMs, duplicates: this.#duplicates, changed: this.#changed, lower };
  }

  get policy(): AckPolicy { return this.#policy; }
  /** Changes the policy; packets already waiting for an ack count toward the new threshold. */
  setPolicy(policy: AckPolicy): void {
    this.#policy = AckTracker.#check(policy);
    if (this.#unackedEliciting >= this.#policy.ackEveryPackets) this.#ackNow = true;
  }

  get largest(): number { return this.#ranges.length > 0 ? this.#ranges[0]!.largest : -1; }
  get rangeCount(): number { return this.#ranges.length; }
  /** Duplicate packet numbers seen (and too-old ones). */
  get duplicates(): number { return this.#duplicates; }

  /**
   * Records a received packet number. Returns false for a duplicate (or one below the kept
   * ranges), which the caller should drop; such a packet changes no ack state.
   * `delayable` (an ack-eliciting packet whose only news is a control the peer needs no quick
   * answer to: its delivery ack): it does not count toward `ackEveryPackets`; it is acknowledged
   * by the next datagram that leaves anyway (hasNewInfo), at the latest after the ack delay,
   * at once if it arrived out of order (ack20: a reliable sender answered every 2nd delivery-ack
   * datagram of its peer with a lone ack).
   */
  onPacketReceived(pn: number, ackEliciting: boolean, nowMs: number, delayable = false): boolean {
    if (!Number.isSafeInteger(pn) || pn < 0) throw new RangeError(`bad packet number ${pn}`);
    if (pn < this.#floor || !this.#insert(pn, nowMs)) {
      this.#duplicates++;
      return false;
    }
    const outOfOrder = this.#outOfOrder;
    this.#outOfOrder = false;
    if (!ackEliciting) return true;
    this.#changed = true;
    if (outOfOrder && !this.#policy.ignoreOrder) this.#ackNow = true;
    if (delayable) {
      // Acknowledged within the ack delay, by the next datagram that leaves anyway (ack20).
      if (this.#firstUnackedElicitingAtMs === null) this.#firstUnackedElicitingAtMs = nowMs;
      return true;
    }
    this.#unackedEliciting++;
    if (this.#firstUnackedElicitingAtMs === null) this.#firstUnackedElicitingAtMs = nowMs;
    if (this.#unackedEliciting >= this.#policy.ackEveryPackets) this.#ackNow = true;
    return true;
  }

  /** Whether an ack should be sent now (count reached, reordering, or the delay expired). */
  ackDue(nowMs: number): boolean {
    if (this.#ackNow) return true;
    const d = this.deadline();
    return d !== null && nowMs >= d;
  }

  /** When the delayed ack falls due, or null (nothing waits for an ack, or it is due now). */
  deadline(): number | null {
    if (this.#ackNow) return this.#firstUnackedElicitingAtMs ?? this.#largestReceivedAtMs;
    if (this.#firstUnackedElicitingAtMs === null) return null;
    return this.#firstUnackedElicitingAtMs + this.#policy.maxAckDelayMs;
  }

  /**
   * The ack to send now (ranges and delay since the largest arrived), and resets the "when"
   * state. null when nothing was received. Call it also to piggyback an ack on data.
   */
  takeAck(nowMs: number): PendingAck | null {
    if (this.#ranges.length === 0) return null;
    this.#unackedEliciting = 0;
    this.#firstUnackedElicitingAtMs = null;
    this.#ackNow = false;
    this.#changed = false;
    const ranges: AckRange[] = this.#ranges.map((r) => ({ smallest: r.smallest, largest: r.largest }));
    return { ranges, ackDelayMs: Math.max(0, nowMs - this.#largestReceivedAtMs) };
  }

  /** Whether anything ack-eliciting arrived since the last takeAck (a piggybacked ack would say something the peer waits for). */
  get hasNewInfo(): boolean { return this.#changed; }

  /**
   * The peer has seen an ack of ours that covered everything below `pn` (the packet carrying
   * it was acknowledged): stop reporting those numbers, and treat any that still arrive as
   * too old (quic-go IgnoreBelow). Keeps acks short under sustained loss.
   */
  pruneBelow(pn: number): void {
    if (pn <= this.#floor) return;
    this.#floor = pn;
    let rs = this.#ranges;
    const had = rs.length;
    while (rs.length > 0 && rs[rs.length - 1]!.largest < pn) rs.pop();
    if (rs.length < had && rs.length <= 1) this.#ranges = rs = rs.slice(); // an array grown by gaps goes back to its size
    const low = rs[rs.length - 1];
    if (low !== undefined && low.smallest < pn) low.smallest = pn;
  }

  /** Forgets everything (new packet-number space: the peer restarted). */
  reset(): void {
    this.#ranges.length = 0;
    this.#floor = 0;
    this.#unackedEliciting = 0;
    this.#firstUnackedElicitingAtMs = null;
    this.#ackNow = false;
    this.#changed = false;
  }

  /** Inserts pn; false when it was already recorded. O(1) for the in-order case, ≤ 32 otherwise. */
  #insert(pn: number, nowMs: number): boolean {
    const rs = this.#ranges;
    const top = rs[0];
    if (top === undefined || pn > top.largest) {
      if (top !== undefined && pn > top.largest + 1) this.#outOfOrder = true; // a gap
      if (top !== undefined && pn === top.largest + 1) top.largest = pn;
      else rs.unshift({ smallest: pn, largest: pn });
      this.#largestReceivedAtMs = nowMs;
      this.#cap();
      return true;
    }
    // Out of order: below the largest.
    for (let k = 0; k < rs.length; k++) {
      const r = rs[k]!;
      if (pn > r.largest) {
        // Between rs[k-1] and r (rs[k-1].smallest > pn + 0).
        const above = rs[k - 1]!;
        this.#reordered();
        if (pn === r.largest + 1 && pn === above.smallest - 1) {
          r.largest = above.largest;
          rs.splice(k - 1, 1);
        } else if (pn === above.smallest - 1) above.smallest = pn;
        else if (pn === r.largest + 1) r.largest = pn;
        else rs.splice(k, 0, { smallest: pn, largest: pn });
        this.#cap();
        return true;
      }
      if (pn >= r.smallest) return false; // inside r: duplicate
    }
    // Below every range.
    const low = rs[rs.length - 1]!;
    this.#reordered();
    if (pn === low.smallest - 1) low.smallest = pn;
    else rs.push({ smallest: pn, largest: pn });
    this.#cap();
    return true;
  }

  #reordered(): void {
    this.#outOfOrder = true;
  }

  #cap(): void {
    while (this.#ranges.length > MAX_ACK_RANGES) {
      const dropped = this.#ranges.pop()!;
      this.#floor = dropped.largest + 1;
    }
  }

  static #check(p: AckPolicy): AckPolicy {
    if (!Number.isSafeInteger(p.ackEveryPackets) || p.ackEveryPackets < 1) throw new RangeError('ackEveryPackets must be a positive integer');
    if (!(p.maxAckDelayMs >= 0 && p.maxAckDelayMs <= MAX_ACK_DELAY_MS)) throw new RangeError(`maxAckDelayMs must be in 0…${MAX_ACK_DELAY_MS}`);
    return Object.isFrozen(p) ? p : Object.freeze({ ...p }); // a frozen policy is shared, not copied per peer
  }
}
