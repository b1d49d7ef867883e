/**
 * What one vault-v2 peer has announced (its X25519 key, when we heard it) and when we
 * announce next; accepting an announcement applies the peer's one trust policy (PeerTrust,
 * the same as for native handshakes: pinned / TOFU / key changed reported once per key).
 */
import { equalBytes } from '../../peer/trust';
import type { Peer } from '../../peer/peer';
import type { VaultV2Announcement } from '../../compat/vault-v2-announce';
import type { NodeContext } from '../context';

export class VaultV2PeerState {
  /** The peer's X25519 key from its last accepted announcement; null when unknown or forgotten. */
  encPk: Uint8Array | null = null;
  /** The identity (key string) whose announcement taught `encPk`. */
  announcedBy: string | null = null;
  /** Monotonic ms of the last accepted announcement. */
  heardAtMs = -Infinity;
  /** Monotonic ms of our next announcement to this peer. */
  nextAnnounceAtMs = 0;

  /** True when we can encrypt to this peer and identify its encrypted datagrams. */
  get hasKeys(): boolean {
    return this.encPk !== null;
  }

  forget(): void {
    this.encPk = null;
    this.announcedBy = null;
    this.heardAtMs = -Infinity;
  }
}

/**
 * Applies a verified announcement (signature and signed content already checked by
 * parseAnnouncement) to `peer`: the announced sign key must be the peer's pinned or recorded
 * key; a peer without a key records it (TOFU, 'tofu' event). A different key is refused with
 * DropError('keyChanged') ('key-changed' once per offered key for TOFU peers). Returns true when
 * the announcement taught us a key we did not hold (first one, after forgetting, or a new
 * X25519 key), false when it only refreshed the known keys.
 */
export function acceptAnnouncement(ctx: NodeContext, peer: Peer, st: VaultV2PeerState, ann: VaultV2Announcement, nowMs: number): boolean {
  peer.verifyingKey(ann.signPk);
  if (peer.recordTofu(ann.signPk)) {
    ctx.log.info({ peer: peer.label(), key: peer.keyString }, 'trust on first use: recorded vault-v2 peer key');
    ctx.persist();
  }
  const learned = st.encPk === null || !equalBytes(st.encPk, ann.encPk);
  st.encPk = new Uint8Array(ann.encPk);
  st.announcedBy = peer.keyString;
  st.heardAtMs = nowMs;
  return learned;
}
