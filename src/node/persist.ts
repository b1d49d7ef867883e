/**
 * Saving the peer store, and the trust records that go to the journal first.
 *
 * - A change a caller is told about (addPeer/removePeer resolving, and so the control socket's
 *   ok) is saved durably before that (`commit`).
 * - A TOFU key is a journal record fsync'd before anything acts on it (`recordTofu`: before the
 *   'tofu' event, the endpoint move and the first delivery), so a crash right after the
 *   confirmation never forgets it. It is folded into peers.json by the next save, and the
 *   journal record is then withdrawn (a `tofu … null` record), so a later hand edit of the key
 *   is the user's to make. A save refused because of a hand edit not yet applied leaves the
 *   record in the journal; applying the edit merges it back (store-sync.ts withJournalTofu), so
 *   neither the edit nor the key is lost.
 * - Other changes the node makes on its own (handshake timestamps, endpoints) are coalesced
 *   (`schedule`): a lost endpoint move is re-learnt from the next authenticated packet.
 * - A final save on close.
 */
import type { PeerStore } from '../store/peer-store';
import type { Journal } from '../store/journal';
import type { Logger } from '../runtime/log';
import type { Scheduler, Timer } from '../runtime/scheduler';
import type { PeerTable } from '../peer/table';
import type { Peer } from '../peer/peer';
import { toStored } from './peer-records';
import { storeRef } from './store-sync';

const PERSIST_DELAY_MS = 200;

export class StoreWriter {
  readonly #store: PeerStore | null;
  readonly #peers: PeerTable;
  readonly #scheduler: Scheduler;
  readonly #log: Logger;
  readonly #journal: Journal | null;
  #timer: Timer | null = null;
  #stopped = false;

  constructor(store: PeerStore | null, peers: PeerTable, scheduler: Scheduler, log: Logger, journal: Journal | null = null) {
    this.#store = store;
    this.#peers = peers;
    this.#scheduler = scheduler;
    this.#log = log;
    this.#journal = journal;
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
   * A key was recorded on first use: a journal record, fsync'd now (before the caller goes on),
   * then a store save soon. Without a journal (no home) only the save. Never throws: a journal
   * that cannot write is logged, and the store save remains.
   */
  recordTofu(peer: Peer): void {
    if (this.#journal && peer.keyString !== null && this.#store) {
      try {
        this.#journal.appendSync({ type: 'tofu', ref: storeRef(toStored(peer)), key: peer.keyString });
      } catch (e) {
        this.#log.error({ peer: peer.label(), err: e instanceof Error ? e.message : 'error' }, 'recording the TOFU key in the journal failed; it is saved with the peer store only');
      }
    }
    this.schedule();
  }

  /**
   * A peer was removed by the user: a TOFU key the journal still holds for its store entry is
   * withdrawn (durably, as the removal), so adding the entry again does not bring it back.
   */
  forgetTofu(peer: Peer): void {
    const ref = storeRef(toStored(peer));
    if (!this.#journal || this.#journal.state.tofuKey(ref) === null) return;
    try {
      this.#journal.appendSync({ type: 'tofu', ref, key: null });
    } catch (e) {
      this.#log.error({ peer: peer.label(), err: e instanceof Error ? e.message : 'error' }, 'withdrawing the TOFU key from the journal failed');
    }
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
    this.#folded();
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
      return;
    }
    this.#folded();
  }

  /** The store now holds the TOFU keys: withdraw their journal records (grouped, not waited for). */
  #folded(): void {
    const j = this.#journal;
    if (!j) return;
    for (const p of this.#peers.list()) {
      if (p.trust.level !== 'tofu' || p.keyString === null) continue;
      const ref = storeRef(toStored(p));
      if (j.state.tofuKey(ref) !== p.keyString) continue;
      j.append({ type: 'tofu', ref, key: null }).catch((e: unknown) => this.#log.error({ err: e instanceof Error ? e.message : 'error' }, 'journal append failed'));
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
