/**
 * The reliable sender's unsettled messages ordered by deadline (reliable-sender.ts): each entry a
 * message's last seq and its deadline, in a circular buffer of two Float64Arrays (no object per
 * message and no array growth per push, issue 12), sorted by deadline — an insert is usually an
 * append; an earlier deadline than the newest moves the later entries up by one. A message is
 * settled once its last item left the ring (SendRing: acknowledged, abandoned or failed).
 * Settled entries at the head are skipped on every push() and first() (messages settle about in
 * the order they were pushed, so a fast flow holds about what is unsettled); when the buffer is
 * full, settled entries anywhere are dropped before it grows (doubling) — it grows only when
 * more than half of it is unsettled.
 */
import type { SendRing } from './send-ring';

const INITIAL_CAPACITY = 16;

export class DeadlineQueue {
  readonly #ring: SendRing;
  #seqs = new Float64Array(INITIAL_CAPACITY);
  #deadlines = new Float64Array(INITIAL_CAPACITY);
  /** Capacity − 1 (a power of two − 1): entry k is at index k & #mask. */
  #mask = INITIAL_CAPACITY - 1;
  /** Entries are [#head, #tail) (ever-increasing counters). */
  #head = 0;
  #tail = 0;

  /** `ring`: where a message is held while unsettled (its last seq live). */
  constructor(ring: SendRing) {
    this.#ring = ring;
  }

  /** Entries held (settled ones not yet dropped included). */
  get length(): number {
    return this.#tail - this.#head;
  }

  /** Slots of the buffer. */
  get capacity(): number {
    return this.#mask + 1;
  }

  /** The message whose last item is `lastSeq`, due at `deadlineMs`. */
  push(lastSeq: number, deadlineMs: number): void {
    this.#trim();
    if (this.#tail - this.#head > this.#mask) this.#makeRoom();
    const seqs = this.#seqs;
    const ds = this.#deadlines;
    const mask = this.#mask;
    let at = this.#tail;
    while (at > this.#head && ds[(at - 1) & mask]! > deadlineMs) {
      seqs[at & mask] = seqs[(at - 1) & mask]!;
      ds[at & mask] = ds[(at - 1) & mask]!;
      at--;
    }
    seqs[at & mask] = lastSeq;
    ds[at & mask] = deadlineMs;
    this.#tail++;
  }

  /** The last seq of the unsettled message with the earliest deadline, or 0: none. */
  first(): number {
    this.#trim();
    return this.#head < this.#tail ? this.#seqs[this.#head & this.#mask]! : 0;
  }

  /** The earliest deadline of an unsettled message, or Infinity. */
  firstDeadline(): number {
    this.#trim();
    return this.#head < this.#tail ? this.#deadlines[this.#head & this.#mask]! : Infinity;
  }

  /** Moves past settled entries at the head. */
  #trim(): void {
    const ring = this.#ring;
    const seqs = this.#seqs;
    const mask = this.#mask;
    let head = this.#head;
    while (head < this.#tail && !ring.live(seqs[head & mask]!)) head++;
    this.#head = head;
  }

  /** The buffer is full: drops settled entries (order kept); doubles it if more than half is still unsettled. */
  #makeRoom(): void {
    const ring = this.#ring;
    const cap = this.#mask + 1;
    let n = 0;
    const keepS = new Float64Array(cap);
    const keepD = new Float64Array(cap);
    for (let k = this.#head; k < this.#tail; k++) {
      const seq = this.#seqs[k & this.#mask]!;
      if (!ring.live(seq)) continue;
      keepS[n] = seq;
      keepD[n++] = this.#deadlines[k & this.#mask]!;
    }
    const size = n * 2 > cap ? cap * 2 : cap;
    this.#seqs = size === cap ? keepS : new Float64Array(size);
    this.#deadlines = size === cap ? keepD : new Float64Array(size);
    if (size !== cap) {
      this.#seqs.set(keepS.subarray(0, n));
      this.#deadlines.set(keepD.subarray(0, n));
    }
    this.#mask = size - 1;
    this.#head = 0;
    this.#tail = n;
  }
}
