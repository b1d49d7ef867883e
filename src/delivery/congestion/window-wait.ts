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

/** Entries are parallel arrays (item, bytes, deadline), not an object per message (issue 12). */
export class WindowWaitQueue<T> {
  readonly #limits: WindowWaitLimits;
  #items: T[] = [];
  #sizes: number[] = [];
  #deadlines: number[] = [];
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

  /** Queues a message until `deadlineMs`; false when the queue is full (the caller rejects it at once). */
  push(item: T, bytes: number, deadlineMs: number): boolean {
    if (!this.hasRoom(bytes)) return false;
    const ds = this.#deadlines;
    let i = ds.length;
    while (i > this.#head && ds[i - 1]! > deadlineMs) i--;
    if (i === ds.length) {
      // the usual case (one wait setting): arrival order
      this.#items.push(item);
      this.#sizes.push(bytes);
      ds.push(deadlineMs);
    } else {
      this.#items.splice(i, 0, item);
      this.#sizes.splice(i, 0, bytes);
      ds.splice(i, 0, deadlineMs);
    }
    this.#bytes += bytes;
    return true;
  }

  /** The next message to send and its size, without removing it. */
  peek(): { item: T; bytes: number } | undefined {
    const h = this.#head;
    return h < this.#items.length ? { item: this.#items[h]!, bytes: this.#sizes[h]! } : undefined;
  }

  /** The next message to send, without removing it (peek() without the object: the send pump's form). */
  first(): T | undefined {
    return this.#head < this.#items.length ? this.#items[this.#head] : undefined;
  }

  /** Removes and returns the next message (it is being sent). */
  shift(): T | undefined {
    const h = this.#head;
    if (h >= this.#items.length) return undefined;
    const item = this.#items[h]!;
    this.#items[h] = undefined as T; // let it go
    this.#head++;
    this.#bytes -= this.#sizes[h]!;
    this.#compact();
    return item;
  }

  /** Removes and returns every message whose deadline is ≤ nowMs (they are dropped). */
  expire(nowMs: number): T[] {
    const out: T[] = [];
    while (this.#head < this.#items.length && this.#deadlines[this.#head]! <= nowMs) {
      const h = this.#head++;
      this.#bytes -= this.#sizes[h]!;
      out.push(this.#items[h]!);
      this.#items[h] = undefined as T;
    }
    this.#compact();
    return out;
  }

  /** Earliest deadline, or null when empty. */
  nextDeadline(): number | null {
    return this.#head < this.#items.length ? this.#deadlines[this.#head]! : null;
  }

  /** Empties the queue (close, peer removed); returns what was waiting. */
  clear(): T[] {
    const out = this.#items.slice(this.#head);
    this.#items = [];
    this.#sizes = [];
    this.#deadlines = [];
    this.#head = 0;
    this.#bytes = 0;
    return out;
  }

  #compact(): void {
    if (this.#head > 64 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#sizes = this.#sizes.slice(this.#head);
      this.#deadlines = this.#deadlines.slice(this.#head);
      this.#head = 0;
    }
  }
}
