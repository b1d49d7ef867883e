/**
 * Opening a home, the same way for the daemon and createNode({home}): create it (0700), take
 * the lock (one process per home), remove temp files interrupted writes left behind, load or
 * create the identity, and open the peer store and the journal. Everything after the lock is
 * undone (lock released) when a later step throws, so a refused start leaves the home as it was.
 */
import type { Identity } from '../crypto/identity';
import type { Scheduler } from '../runtime/scheduler';
import { cleanupTemps } from './atomic-file';
import { nodeFs, type FileSystem } from './fs';
import { ensureHome, type HomePaths } from './home';
import { HomeLock, type LockHolderKind } from './home-lock';
import { loadOrCreateIdentity } from './identity-file';
import { Journal } from './journal';
import { PeerStore } from './peer-store';

export interface OpenHomeOptions {
  /** Who opens it: named in the refusal a second process gets. */
  kind: LockHolderKind;
  fs?: FileSystem;
  scheduler?: Scheduler;
  /** Journal compaction bound (see JournalOptions). */
  compactMinBytes?: number;
  /** Told when the journal fails (log it: later changes are not durable). */
  onJournalError?: (e: Error) => void;
  /** Liveness check for lock holders and temp-file writers (tests). */
  isAlive?: (pid: number) => boolean;
}

export interface OpenedHome {
  readonly paths: HomePaths;
  readonly lock: HomeLock;
  readonly identity: Identity;
  /** True when the identity key file was created now. */
  readonly identityCreated: boolean;
  /** The peer store (not loaded yet: load() reports a corrupt store to the caller). */
  readonly peerStore: PeerStore;
  readonly journal: Journal;
  /** Names of the temp files removed at open. */
  readonly removedTemps: readonly string[];
  /** Makes pending journal appends durable, closes the journal, releases the lock. */
  close(): Promise<void>;
}

export function openHome(home: string, opts: OpenHomeOptions): OpenedHome {
  const fs = opts.fs ?? nodeFs;
  const paths = ensureHome(home, fs);
  const lock = HomeLock.acquire(paths, { kind: opts.kind, fs, ...(opts.isAlive && { isAlive: opts.isAlive }) });
  try {
    const removedTemps = cleanupTemps(paths.home, { fs, ...(opts.isAlive && { isAlive: opts.isAlive }) });
    const { identity, created } = loadOrCreateIdentity(paths.identity, fs);
    const journal = Journal.open({
      file: paths.journal,
      snapshot: paths.journalSnapshot,
      fs,
      ...(opts.scheduler && { scheduler: opts.scheduler }),
      ...(opts.compactMinBytes !== undefined && { compactMinBytes: opts.compactMinBytes }),
      ...(opts.onJournalError && { onError: opts.onJournalError }),
    });
    let closing: Promise<void> | null = null;
    return {
      paths,
      lock,
      identity,
      identityCreated: created,
      peerStore: new PeerStore(paths.peers, fs),
      journal,
      removedTemps,
      close: () =>
        (closing ??= (async () => {
          try {
            await journal.close();
          } finally {
            lock.release();
          }
        })()),
    };
  } catch (e) {
    lock.release();
    throw e;
  }
}
