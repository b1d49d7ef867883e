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

interface Entry<T> {
  readonly item: T;
  readonly bytes: number;
  readonly deadlineMs: number;
}

export interface WindowWaitLimits {
  maxMessages: number;
  maxBytes: number;
}

export class WindowWaitQueue<T> {
  readonly #limits: WindowWaitLimits;
  #entries: Entry<T>[] = [];
  #head = 0;
  #bytes = 0;

  constructor(limits: WindowWaitLimits) {
    this.#limits = { ...limits };
  }

  get size(): number { return this.#entries.length - this.#head; }
  get bytes(): number { return this.#bytes; }

  /** Whether push() would take a message of `bytes` now. */
  hasRoom(bytes: number): boolean {
    return this.size < this.#limits.maxMessages && this.#bytes + bytes <= this.#limits.maxBytes;
  }

  /** Queues a message until `deadlineMs`; false when the queue is full (the caller rejects it at once). */
  push(item: T, bytes: number, deadlineMs: number): boolean {
    if (!this.hasRoom(bytes)) return false;
    const e: Entry<T> = { item, bytes, deadlineMs };
    const es = this.#entries;
    let i = es.length;
    while (i > this.#head && es[i - 1]!.deadlineMs > deadlineMs) i--;
    if (i === es.length) es.push(e); // the usual case (one wait setting): arrival order
    else es.splice(i, 0, e);
    this.#bytes += bytes;
    return true;
  }

  /** The next message to send and its size, without removing it. */
  peek(): { item: T; bytes: number } | undefined {
    const e = this.#entries[this.#head];
    return e === undefined ? undefined : { item: e.item, bytes: e.bytes };
  }

  /** The next message to send, without removing it (peek() without the object: the send pump's form). */
  first(): T | undefined {
    return this.#entries[this.#head]?.item;
  }

  /** Removes and returns the next message (it is being sent). */
  shift(): T | undefined {
    const e = this.#entries[this.#head];
    if (e === undefined) return undefined;
    this.#head++;
    this.#bytes -= e.bytes;
    this.#compact();
    return e.item;
  }

  /** Removes and returns every message whose deadline is ≤ nowMs (they are dropped). */
  expire(nowMs: number): T[] {
    const out: T[] = [];
    while (this.#head < this.#entries.length && this.#entries[this.#head]!.deadlineMs <= nowMs) {
      const e = this.#entries[this.#head++]!;
      this.#bytes -= e.bytes;
      out.push(e.item);
    }
    this.#compact();
    return out;
  }

  /** Earliest deadline, or null when empty. */
  nextDeadline(): number | null {
    const e = this.#entries[this.#head];
    return e === undefined ? null : e.deadlineMs;
  }

  /** Empties the queue (close, peer removed); returns what was waiting. */
  clear(): T[] {
    const out = this.#entries.slice(this.#head).map((e) => e.item);
    this.#entries = [];
    this.#head = 0;
    this.#bytes = 0;
    return out;
  }

  #compact(): void {
    if (this.#head > 64 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }
}
