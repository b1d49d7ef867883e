/** Saving the peer store: soon after a change (coalesced), and at once on close. */
import type { PeerStore } from '../daemon/store';
import type { Logger } from '../log';
import type { Scheduler, Timer } from '../runtime/scheduler';
import type { PeerTable } from '../peer/table';
import { toStored } from './peer-records';

const PERSIST_DELAY_MS = 200;

export class StoreWriter {
  readonly #store: PeerStore | null;
  readonly #peers: PeerTable;
  readonly #scheduler: Scheduler;
  readonly #log: Logger;
  #timer: Timer | null = null;
  #stopped = false;

  constructor(store: PeerStore | null, peers: PeerTable, scheduler: Scheduler, log: Logger) {
    this.#store = store;
    this.#peers = peers;
    this.#scheduler = scheduler;
    this.#log = log;
  }

  get store(): PeerStore | null {
    return this.#store;
  }

  /** Saves within PERSIST_DELAY_MS (one save for many changes). */
  schedule(): void {
    if (!this.#store || this.#timer || this.#stopped) return;
    this.#timer = this.#scheduler.timeout(() => {
      this.#timer = null;
      this.saveNow();
    }, PERSIST_DELAY_MS);
  }

  saveNow(): void {
    if (!this.#store) return;
    try {
      this.#store.save(this.#peers.list().map(toStored));
    } catch (e) {
      this.#log.error({ err: (e as Error).message }, 'could not save the peer store');
    }
  }

  /** Final save; nothing is scheduled afterwards. */
  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = null;
    this.saveNow();
  }
}
