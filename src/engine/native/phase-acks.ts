/**
 * Delivery acks batched per I/O phase (reliable.ts): the links whose reliable receiver has news
 * are collected and, once the current phase's datagrams were all read (setImmediate), each is
 * told it wants a delivery ack — one ack covering every datagram read in the phase.
 */
import type { Scheduler, Timer } from '../../runtime/scheduler';

export class PhaseAcks<L> {
  readonly #scheduler: Scheduler;
  /** Calls `want(link, nowMs)` for each collected link (still known to the caller). */
  readonly #flush: (links: ReadonlySet<L>) => void;
  #links = new Set<L>();
  #scheduled = false;
  /** Immediates not yet run (cancelled on close). */
  #immediates = new Set<Timer>();
  #closed = false;

  constructor(scheduler: Scheduler, flush: (links: ReadonlySet<L>) => void) {
    this.#scheduler = scheduler;
    this.#flush = flush;
  }

  /** `link` has news for its peer: a delivery ack after the current I/O phase. */
  schedule(link: L): void {
    this.#links.add(link);
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    const t = this.#scheduler.immediate(() => {
      this.#immediates.delete(t);
      this.#scheduled = false;
      this.#flush(this.#links);
      this.#links.clear();
    });
    this.#immediates.add(t);
  }

  forget(link: L): void {
    this.#links.delete(link);
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#immediates) t.cancel();
    this.#immediates.clear();
  }
}
