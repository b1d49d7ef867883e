/**
 * Datagram-mode messages waiting for room in the congestion window (and the pacer), each for
 * at most `datagramWindowWaitMs` (default 50 ms): what is still waiting at its deadline is
 * dropped at the sender — counted as `congestion`, its send() rejected with ERR_CONGESTION —
 * instead of being blasted into a full path. Bounded (messages and bytes). Pure: the caller
 * passes `nowMs` and arms one timer at nextDeadline().
 *
 * Ordered by deadline, then arrival: with one wait setting that is arrival order; if the
 * setting is lowered at runtime, newer messages with earlier deadlines go (and expire) first.
 */
export const DATAGRAM_WINDOW_WAIT_MS = 50;

export interface WindowWaitLimits {
  maxMessages: number;
  maxBytes: number;
}

/** What the queue holds: a message that carries its size and a deadline field the queue sets. */
export interface WindowWaitEntry {
  readonly bytes: number;
  deadlineMs: number;
}

/**
 * One array of the messages themselves (q23): each carries its `bytes` and gets its deadline in
 * its own `deadlineMs` (send.ts DatagramMessage has both), so a message queued makes no entry,
 * where three parallel arrays (item, bytes, deadline) took three slots and a boxed double each.
 */
export class WindowWaitQueue<T extends WindowWaitEntry> {
  readonly #limits: WindowWaitLimits;
  #items: T[] = [];
  #head = 0;
  #bytes = 0;

  constructor(limits: WindowWaitLimits) {
    this.#limits = { ...limits };
  }

  get size(): number { return this.#items.length - this.#head; }
  get bytes(): number { return this.#bytes; }

  /** At its message limit: push() takes nothing now, whatever the size. */
  get full(): boolean {
    return this.size >= this.#limits.maxMessages;
  }

  /** At most half its message and byte limits taken (the 'writable' event's low-water mark). */
  get halfEmpty(): boolean {
    return this.size * 2 <= this.#limits.maxMessages && this.#bytes * 2 <= this.#limits.maxBytes;
  }

  /** Whether push() would take a message of `bytes` now. */
  hasRoom(bytes: number): boolean {
    return this.size < this.#limits.maxMessages && this.#bytes + bytes <= this.#limits.maxBytes;
  }

  /**
   * Queues a message until `deadlineMs` (written to its `deadlineMs`); false when the queue is
   * full (the caller rejects it at once; the message is left as it was).
   */
  push(item: T, deadlineMs: number): boolean {
    const bytes = item.bytes;
    if (!this.hasRoom(bytes)) return false;
    item.deadlineMs = deadlineMs;
    const items = this.#items;
    let i = items.length;
    while (i > this.#head && items[i - 1]!.deadlineMs > deadlineMs) i--;
    if (i === items.length) items.push(item); // the usual case (one wait setting): arrival order
    else items.splice(i, 0, item);
    this.#bytes += bytes;
    return true;
  }

  /** The next message to send, without removing it. */
  first(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  /** Removes and returns the next message (it is being sent). */
  shift(): T | undefined {
    const h = this.#head;
    if (h >= this.#items.length) return undefined;
    const item = this.#items[h]!;
    this.#items[h] = undefined as unknown as T; // let it go
    this.#head++;
    this.#bytes -= item.bytes;
    this.#compact();
    return item;
  }

  /** Removes and returns every message whose deadline is ≤ nowMs (they are dropped). */
  expire(nowMs: number): T[] {
    const out: T[] = [];
    const items = this.#items;
    while (this.#head < items.length && items[this.#head]!.deadlineMs <= nowMs) {
      const h = this.#head++;
      const item = items[h]!;
      this.#bytes -= item.bytes;
      out.push(item);
      items[h] = undefined as unknown as T;
    }
    this.#compact();
    return out;
  }

  /** Earliest deadline, or null when empty. */
  nextDeadline(): number | null {
    return this.#head < this.#items.length ? this.#items[this.#head]!.deadlineMs : null;
  }

  /** Empties the queue (close, peer removed); returns what was waiting. */
  clear(): T[] {
    const out = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
    return out;
  }

  #compact(): void {
    if (this.#head > 64 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
  }
}
