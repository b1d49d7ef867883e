/**
 * The reliable sender's processing of one delivery ack [stream, cum, ranges]
 * (reliable-sender.ts, PROTOCOL §14): the cumulative walk (items forgotten, messages settled),
 * the SACK walk (retransmission suppressed; reneging detected), the RTT sample (Karn: items
 * sent once) and fast retransmit (without packet-level loss detection). The sender keeps the
 * protocol; this walks its SendWindow.
 */
import { MAX_ACK_RANGES } from '../../wire/frame';
import { RECOUNT, SACKED } from './send-ring';
import type { SendWindow } from './send-window';
import type { ItemRto } from './item-rto';
import { sanitizeRanges } from './ack-ranges';
import { REORDER_THRESHOLD, type SenderCredit } from './sender-options';

/** What the walk asks of the sender. */
export interface AckWalkHost {
  /** Removes an acknowledged item; `st`: its state bits. */
  forget(seq: number, st: number): void;
  /** A message's last item was cumulatively acknowledged (and forgotten): settle it and call `resolve`, its promise's. */
  delivered(resolve: () => void): void;
}

export class AckWalk {
  readonly #w: SendWindow;
  readonly #rto: ItemRto;
  readonly #credit: SenderCredit | null;
  readonly #packetLoss: boolean;
  readonly #host: AckWalkHost;
  /** Highest seq cumulatively acknowledged. */
  cumAcked = 0;
  #highestDeliveredTx = 0;
  /** Per-ack scratch (no closure per ack): newest send time of a once-sent newly acked item, highest txOrder. */
  #sampleSentAtMs = -1;
  #deliveredTx = 0;

  constructor(w: SendWindow, rto: ItemRto, credit: SenderCredit | null, packetLoss: boolean, host: AckWalkHost) {
    this.#w = w;
    this.#rto = rto;
    this.#credit = credit;
    this.#packetLoss = packetLoss;
    this.#host = host;
  }

  /** One ack of our stream (`cum` a safe integer), at `nowMs`. */
  onAck(cum: number, ranges: readonly number[], nowMs: number): void {
    const w = this.#w;
    const ring = w.ring;
    const highestSent = w.sendNext - 1;
    this.#sampleSentAtMs = -1;
    this.#deliveredTx = 0;
    const c = Math.min(cum, highestSent);
    const fresh = cum >= this.cumAcked;
    if (c > this.cumAcked) {
      for (let seq = Math.max(this.cumAcked + 1, w.base); seq <= c; seq++) {
        const st = ring.state(seq);
        if (st === 0) continue;
        if ((st & RECOUNT) !== 0) this.#credit?.refund(ring.data(seq).byteLength, w.startsMessage(seq)); // delivered before the restart: never counted there
        if ((st & SACKED) === 0) this.#observe(seq);
        if (ring.last(seq) === seq) {
          // The message's last item (held: the message is unsettled): its resolver is read before the slot is forgotten.
          const resolve = ring.resolver(seq);
          this.#host.forget(seq, st);
          this.#host.delivered(resolve);
        } else {
          this.#host.forget(seq, st);
        }
      }
      this.cumAcked = c;
    }
    if (ranges.length >= 2) {
      const pairs = sanitizeRanges(ranges, w.base, highestSent);
      for (const [s, e] of pairs) {
        for (let seq = s; seq <= e; seq++) {
          if (!ring.live(seq) || ring.has(seq, SACKED)) continue;
          this.#observe(seq);
          w.sack(seq);
        }
      }
      if (fresh && w.sacked > 0) w.detectReneging(pairs, ranges.length >= 2 * MAX_ACK_RANGES, highestSent);
    } else if (fresh && w.sacked > 0) {
      w.detectReneging([], false, highestSent);
    }
    if (this.#sampleSentAtMs >= 0) this.#rto.sample(nowMs - this.#sampleSentAtMs);
    const deliveredTx = this.#deliveredTx;
    if (deliveredTx > this.#highestDeliveredTx && !this.#packetLoss) {
      this.#highestDeliveredTx = deliveredTx;
      w.markReordered(deliveredTx, REORDER_THRESHOLD); // fast retransmit (O(candidates), not O(window))
    }
    this.announceBase();
  }

  /**
   * When base is above what the receiver acknowledged (seqs were abandoned), some item must
   * carry the new base to it even if everything in flight was SACKed: resend the item at base
   * (its retransmission timer then repeats it until acknowledged).
   */
  announceBase(): void {
    const w = this.#w;
    const base = w.base;
    if (base > this.cumAcked + 1 && base < w.nextSeq && w.ring.has(base, SACKED)) w.markDue(base);
  }

  #observe(seq: number): void {
    const ring = this.#w.ring;
    if (ring.transmissions(seq) === 1 && ring.sentAt(seq) > this.#sampleSentAtMs) this.#sampleSentAtMs = ring.sentAt(seq);
    if (ring.txOrder(seq) > this.#deliveredTx) this.#deliveredTx = ring.txOrder(seq);
  }
}
