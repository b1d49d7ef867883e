/**
 * Saving the peer store. A change a caller is told about (addPeer/removePeer resolving, and so
 * the control socket's ok) is saved durably before that (`commit`); changes the node makes on
 * its own (TOFU records, handshake timestamps, endpoints) are coalesced (`schedule`); a final
 * save on close.
 */
import type { PeerStore } from '../store/peer-store';
import type { Logger } from '../runtime/log';
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

  /**
   * Saves now, durably (the atomic writer fsyncs file and directory); throws when it cannot,
   * so the caller does not report a change that is not on disk.
   */
  commit(): void {
    if (!this.#store) return;
    this.#timer?.cancel();
    this.#timer = null;
    this.#store.save(this.#peers.list().map(toStored));
  }

  saveNow(): void {
    if (!this.#store) return;
    if (this.#store.changedOnDisk()) {
      // A hand edit not applied yet: never overwrite it (SIGHUP or the next control change applies it).
      this.#log.warn({ file: this.#store.file }, 'peer store edited on disk and not reloaded yet: not overwriting it (send SIGHUP to apply the edit)');
      return;
    }
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
