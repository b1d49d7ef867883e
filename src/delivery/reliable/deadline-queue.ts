/**
 * The reliable sender's unsettled messages ordered by deadline (reliable-sender.ts): each entry a
 * message's last seq and its deadline in two number arrays (no object per message, issue 12),
 * sorted by deadline (an insert is usually an append). A message is settled once its last item
 * left the ring (SendRing: acknowledged, abandoned or failed); settled entries are skipped lazily
 * from a head index and compacted away once they are most of it. Every push() also moves past
 * the settled entries at the head (messages settle about in the order they were pushed), so a
 * fast flow holds only about what is unsettled.
 */
import type { SendRing } from './send-ring';

const COMPACT_MIN = 1024;

export class DeadlineQueue {
  readonly #ring: SendRing;
  #seqs: number[] = [];
  #deadlines: number[] = [];
  #head = 0;

  /** `ring`: where a message is held while unsettled (its last seq live). */
  constructor(ring: SendRing) {
    this.#ring = ring;
  }

  /** Entries held (settled ones not yet let go included). */
  get length(): number {
    return this.#seqs.length - this.#head;
  }

  /** The message whose last item is `lastSeq`, due at `deadlineMs`. */
  push(lastSeq: number, deadlineMs: number): void {
    this.#trim();
    const seqs = this.#seqs;
    const ds = this.#deadlines;
    let at = seqs.length;
    while (at > this.#head && ds[at - 1]! > deadlineMs) at--;
    if (at === seqs.length) {
      seqs.push(lastSeq);
      ds.push(deadlineMs);
    } else {
      seqs.splice(at, 0, lastSeq);
      ds.splice(at, 0, deadlineMs);
    }
  }

  /** The last seq of the unsettled message with the earliest deadline, or 0: none. */
  first(): number {
    this.#trim();
    return this.#head < this.#seqs.length ? this.#seqs[this.#head]! : 0;
  }

  /** The earliest deadline of an unsettled message, or Infinity. */
  firstDeadline(): number {
    this.#trim();
    return this.#head < this.#seqs.length ? this.#deadlines[this.#head]! : Infinity;
  }

  /** Moves past settled entries at the head; compacts once the let-go part is most of the arrays. */
  #trim(): void {
    const seqs = this.#seqs;
    const ring = this.#ring;
    let head = this.#head;
    while (head < seqs.length && !ring.live(seqs[head]!)) head++;
    if (head > COMPACT_MIN && head * 2 > seqs.length) {
      const ds = this.#deadlines;
      const keepS: number[] = [];
      const keepD: number[] = [];
      for (let k = head; k < seqs.length; k++) {
        if (!ring.live(seqs[k]!)) continue;
        keepS.push(seqs[k]!);
        keepD.push(ds[k]!);
      }
      this.#seqs = keepS;
      this.#deadlines = keepD;
      head = 0;
    }
    this.#head = head;
  }
}
