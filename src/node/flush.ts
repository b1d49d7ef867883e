/**
 * Same-turn coalescing: every peer that has something to send in this event-loop turn is
 * flushed once, at the end of the turn (a microtask: no timer, no delay), so messages issued
 * together share datagrams.
 */
import type { Scheduler } from '../runtime/scheduler';
import type { Peer } from '../peer/peer';

export class TurnFlush {
  #queued = new Set<Peer>();
  #scheduled = false;
  readonly #scheduler: Scheduler;
  readonly #flushOne: (peer: Peer, draining: boolean) => void;
  readonly #mayRun: () => boolean;

  constructor(scheduler: Scheduler, flushOne: (peer: Peer, draining: boolean) => void, mayRun: () => boolean) {
    this.#scheduler = scheduler;
    this.#flushOne = flushOne;
    this.#mayRun = mayRun;
  }

  schedule(peer: Peer): void {
    if (!this.#mayRun()) return;
    this.#queued.add(peer);
    if (this.#scheduled) return;
    this.#scheduled = true;
    this.#scheduler.microtask(() => this.run(false));
  }

  /** Flushes every queued peer now (`draining`: the node is closing). */
  run(draining: boolean): void {
    this.#scheduled = false;
    if (!this.#mayRun()) return;
    const peers = [...this.#queued];
    this.#queued.clear();
    for (const p of peers) this.#flushOne(p, draining);
  }

  forget(peer: Peer): void {
    this.#queued.delete(peer);
  }
}
