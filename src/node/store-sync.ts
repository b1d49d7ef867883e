/**
 * Applying the hand-editable peer store to a running node (SIGHUP reload, or a control change
 * arriving after a hand edit): additions, removals, renames, key and endpoint changes. A peer
 * whose record changed is removed and added again (a rename or a new key starts a new
 * handshake). Nothing here writes the store: it is already what the user wrote. TOFU keys the
 * journal holds for entries without a key are merged in first (withJournalTofu).
 */
import type { Logger } from '../runtime/log';
import type { Peer } from '../peer/peer';
import type { PeerTable } from '../peer/table';
import type { StoredPeer } from '../store/peer-store';
import type { AddPeerOptions, PeerInfo, PeerStoreChanges } from '../api/types';
import { fromStored, toStored } from './peer-records';
import { isKeyString } from '../crypto/identity';

export interface StoreSyncOps {
  peers: PeerTable;
  add(o: AddPeerOptions): Promise<PeerInfo>;
  remove(p: Peer): Promise<void>;
  /** Trust level and handshake high-water mark recorded in the store. */
  restore(p: Peer, s: StoredPeer): void;
  log: Logger;
  /** Start-up: an entry that cannot be applied fails the whole start (reload logs and goes on). */
  strict?: boolean;
}

export type StoreSyncResult = PeerStoreChanges;

const sameRecord = (p: Peer, s: StoredPeer): boolean => {
  const c = toStored(p);
  return c.key === s.key && c.name === s.name && c.endpoint === s.endpoint && c.compat === s.compat && c.allowPlaintext === s.allowPlaintext;
};

export async function syncWithStore(records: readonly StoredPeer[], ops: StoreSyncOps): Promise<StoreSyncResult> {
  const r: StoreSyncResult = { added: [], removed: [], changed: [], failed: [] };
  const matched = new Set<Peer>();
  for (const s of records) {
    const label = s.name ?? s.key ?? s.endpoint;
    const p = (s.key ? ops.peers.byKey(s.key) : undefined) ?? ops.peers.find(s.endpoint);
    if (p && !matched.has(p) && sameRecord(p, s)) {
      matched.add(p);
      continue;
    }
    if (p && !matched.has(p)) await ops.remove(p);
    try {
      const info = await ops.add(fromStored(s));
      const added = ops.peers.find(info.key ?? info.endpoint);
      if (added) {
        matched.add(added);
        ops.restore(added, s);
      }
      (p ? r.changed : r.added).push(label);
    } catch (e) {
      if (ops.strict) throw e;
      r.failed.push(label);
      ops.log.warn({ peer: label, err: e instanceof Error ? e.message : 'error' }, 'peer store entry not applied');
    }
  }
  for (const p of ops.peers.list()) {
    if (matched.has(p)) continue;
    r.removed.push(p.label());
    await ops.remove(p);
  }
  return r;
}

/** The journal's name for a store entry (TOFU records): its name, else its endpoint as written. */
export function storeRef(s: Pick<StoredPeer, 'name' | 'endpoint'>): string {
  return s.name ?? s.endpoint;
}

/**
 * The store's records with the TOFU keys the journal holds for entries without a key (recorded
 * on first use, not yet folded into the store, or the save was refused because of a hand edit).
 * An entry with a key keeps it: the store wins.
 */
export function withJournalTofu(records: readonly StoredPeer[], journal: { tofuKey(ref: string): string | null } | null): StoredPeer[] {
  if (!journal) return [...records];
  const keys = new Set(records.map((r) => r.key).filter((k): k is string => k !== null));
  return records.map((r) => {
    if (r.key !== null) return r;
    const key = journal.tofuKey(storeRef(r));
    if (key === null || !isKeyString(key) || keys.has(key)) return r;
    keys.add(key);
    return { ...r, key, trust: 'tofu' };
  });
}

/**
 * The handshake high-water mark of a stored peer: the larger of the store's and the journal's
 * (the journal records each confirmed session's mark before trust acts on it; the store catches
 * up with the next save).
 */
export function journalMark(r: StoredPeer, journal: { handshake(key: string): number | null } | null): number | null {
  const j = r.key !== null && journal ? journal.handshake(r.key) : null;
  if (j === null) return r.lastHandshakeTs;
  return r.lastHandshakeTs === null ? j : Math.max(j, r.lastHandshakeTs);
}
