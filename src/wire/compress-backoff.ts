/**
 * When a peer's messages are worth a zstd attempt (issue 12: no zstd attempts on
 * incompressible streams). Every attempt that does not make the payload smaller doubles the
 * number of messages sent without trying afterwards — 16, 32, … up to 1024 — and a success
 * resets it: random or already-compressed data (the bench's 1 KiB payloads; encrypted
 * application data) costs one attempt per 1024 messages instead of one per 17, while a stream
 * that turns compressible is noticed within 1024 messages. Counted in messages, not time: no
 * clock read on the hot path.
 */
export const BACKOFF_FIRST_SKIP = 16;
export const BACKOFF_MAX_SKIP = 1024;

export class CompressionBackoff {
  #skip = 0;
  #next = BACKOFF_FIRST_SKIP;

  /** Whether to try compressing the next message (counts a skipped one). */
  shouldTry(): boolean {
    if (this.#skip === 0) return true;
    this.#skip--;
    return false;
  }

  /** The outcome of an attempt: `smaller` resets the backoff; a failure skips the next 16, 32, … 1024 messages. */
  record(smaller: boolean): void {
    if (smaller) {
      this.#next = BACKOFF_FIRST_SKIP;
      return;
    }
    this.#skip = this.#next;
    this.#next = Math.min(BACKOFF_MAX_SKIP, this.#next * 2);
  }

  /** Messages still to be sent without an attempt (a stat, and for tests). */
  get skipping(): number {
    return this.#skip;
  }
}
