/**
 * The reliable sender's unsettled messages ordered by deadline (reliable-sender.ts): a sorted
 * array (an insert is usually an append) whose settled entries are skipped lazily from a head
 * index and compacted away once they are most of it. Every push() also lets go of the settled
 * entries at the head (messages settle about in the order they were pushed): otherwise a fast
 * flow would keep ~1 s of settled messages (and their promises' resolvers) alive until the next
 * timer tick, long enough for the GC to promote them all to the old generation.
 */
import type { SentMessage } from './send-ring';

const COMPACT_MIN = 1024;

export class DeadlineQueue {
  #q: (SentMessage | undefined)[] = [];
  #head = 0;

  /** Entries held (settled ones not yet let go included). */
  get length(): number {
    return this.#q.length - this.#head;
  }

  push(m: SentMessage): void {
    this.#trim();
    const q = this.#q;
    let at = q.length;
    while (at > this.#head && q[at - 1]!.deadlineMs > m.deadlineMs) at--;
    if (at === q.length) q.push(m);
    else q.splice(at, 0, m);
  }

  /** The unsettled message with the earliest deadline. */
  first(): SentMessage | undefined {
    this.#trim();
    return this.#q[this.#head];
  }

  /** Lets go of settled entries at the head; compacts once the let-go part is most of the array. */
  #trim(): void {
    const q = this.#q;
    let head = this.#head;
    while (head < q.length && q[head]!.settled) q[head++] = undefined;
    if (head > COMPACT_MIN && head * 2 > q.length) {
      this.#q = q.slice(head).filter((m) => !m!.settled);
      head = 0;
    }
    this.#head = head;
  }
}
