/**
 * Same-turn coalescing: every peer that has something to send in this event-loop turn is
 * flushed once, at the end of the turn (a microtask: no timer, no delay), so messages issued
 * together share datagrams.
 *
 * Nothing is allocated per flush (issue 12, memrss16: an idle crowd's centre flushes once per
 * keepalive, ack and timer; a spread of the queue, a closure per microtask and a bound function
 * were ~15% of what it allocated): the microtask runs one callback made with the object, and
 * the queue is two sets used in turn (the one being flushed is emptied as it goes; peers queued
 * meanwhile go to the other).
 */
import type { Scheduler } from '../runtime/scheduler';
import type { Peer } from '../peer/peer';

export class TurnFlush {
  #queued = new Set<Peer>();
  /** The other set: empty except while run() flushes it. */
  #spare = new Set<Peer>();
  #scheduled = false;
  #running = false;
  readonly #scheduler: Scheduler;
  readonly #flushOne: (peer: Peer, draining: boolean) => void;
  readonly #mayRun: () => boolean;
  /** The end-of-turn callback (one per node, not one per flush). */
  readonly #atTurnEnd = (): void => this.run(false);
  /** Whether the run under way drains (the node is closing), for #flushEach. */
  #draining = false;
  /** Flushes one peer of the run under way (Set.forEach: no iterator or result objects per peer). */
  readonly #flushEach = (p: Peer): void => this.#flushOne(p, this.#draining);

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
    this.#scheduler.microtask(this.#atTurnEnd);
  }

  /** Flushes every queued peer now (`draining`: the node is closing). */
  run(draining: boolean): void {
    this.#scheduled = false;
    if (!this.#mayRun()) return;
    if (this.#running) {
      // Called from inside a flush (a peer's flush closing the node): a copy, as the set in use is being iterated.
      const peers = [...this.#queued];
      this.#queued.clear();
      for (const p of peers) this.#flushOne(p, draining);
      return;
    }
    const peers = this.#queued;
    if (peers.size === 0) return;
    this.#queued = this.#spare;
    this.#spare = peers;
    this.#running = true;
    this.#draining = draining;
    try {
      peers.forEach(this.#flushEach);
    } finally {
      peers.clear();
      this.#running = false;
    }
  }

  forget(peer: Peer): void {
    this.#queued.delete(peer);
  }
}
