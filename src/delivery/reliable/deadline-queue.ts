/**
 * The reliable sender's unsettled messages ordered by deadline (reliable-sender.ts): a sorted
 * array (an insert is usually an append) whose settled entries are skipped lazily from a head
 * index and compacted away once they are most of it.
 */
import type { SentMessage } from './send-ring';

export class DeadlineQueue {
  #q: SentMessage[] = [];
  #head = 0;

  push(m: SentMessage): void {
    const q = this.#q;
    let at = q.length;
    while (at > this.#head && q[at - 1]!.deadlineMs > m.deadlineMs) at--;
    if (at === q.length) q.push(m);
    else q.splice(at, 0, m);
  }

  /** The unsettled message with the earliest deadline. */
  first(): SentMessage | undefined {
    const q = this.#q;
    while (this.#head < q.length && q[this.#head]!.settled) this.#head++;
    if (this.#head > 1024 && this.#head * 2 > q.length) {
      this.#q = q.slice(this.#head).filter((m) => !m.settled);
      this.#head = 0;
    }
    return this.#q[this.#head];
  }
}
