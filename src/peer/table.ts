/**
 * The peer table: O(1) lookup by key, handshake static, name, endpoint, configured host:port, source address and
 * local session id (maps kept current by the peers' own change methods, no scans). Session ids
 * are bound only by a peer's Keypairs (sessions) and Handshaker (attempts).
 */
import type { Session } from '../crypto/session';
import { isKeyString } from '../crypto/identity';
import { formatEndpoint } from './endpoint';
import type { Peer, PeerIndex, PeerIndexKeys } from './peer';
import type { SessionIndex } from './keypairs';
import type { AttemptIndex } from './handshaker';

/**
 * Values by string key, in insertion order. A key with one value (the common case: one peer
 * per address and per endpoint) holds it directly; a Set only from the second value on (issue
 * 12: three one-entry Sets per peer were ~0.4 KB of an idle peer).
 */
class MultiMap<V extends object> {
  #m = new Map<string, V | Set<V>>();
  add(k: string, v: V): void {
    const e = this.#m.get(k);
    if (e === undefined) this.#m.set(k, v);
    else if (e instanceof Set) e.add(v);
    else if (e !== v) this.#m.set(k, new Set([e, v]));
  }
  delete(k: string, v: V): void {
    const e = this.#m.get(k);
    if (e === undefined) return;
    if (!(e instanceof Set)) {
      if (e === v) this.#m.delete(k);
      return;
    }
    e.delete(v);
    if (e.size === 1) this.#m.set(k, e.values().next().value!);
  }
  first(k: string): V | undefined {
    const e = this.#m.get(k);
    return e instanceof Set ? e.values().next().value : e;
  }
  all(k: string): readonly V[] {
    const e = this.#m.get(k);
    return e === undefined ? [] : e instanceof Set ? [...e] : [e];
  }
}

export class PeerTable implements SessionIndex<Peer>, AttemptIndex<Peer>, PeerIndex {
  #all = new Set<Peer>();
  #byKey = new Map<string, Peer>();
  #byStatic = new Map<string, Peer>();
  #byName = new Map<string, Peer>();
  #byEndpoint = new MultiMap<Peer>();
  #bySpec = new MultiMap<Peer>();
  #byAddress = new MultiMap<Peer>();
  /** Keyed by the session id as int32 (`sid | 0`): a small integer key, not a boxed uint32 above 2^31 (issue 12). */
  #bySid = new Map<number, Session>();
  #pendingBySid = new Map<number, Peer>();

  get size(): number {
    return this.#all.size;
  }

  list(): Peer[] {
    return [...this.#all];
  }

  /** The peers in the order they were added, without a copy (a peer removed meanwhile is skipped, one added is visited). */
  values(): IterableIterator<Peer> {
    return this.#all.values();
  }

  has(p: Peer): boolean {
    return this.#all.has(p);
  }

  add(p: Peer): void {
    this.#all.add(p);
    this.#index(p, p.indexKeys(), true, true);
    p.attachIndex(this);
  }

  /**
   * A peer changed what it is indexed by (its own change methods call this): only the indexes
   * whose key changed are touched (a delete and a set of the same key leave a deleted entry
   * that grows a Map's table: issue 12, ~30 B per peer and index after a TOFU record).
   */
  reindex(peer: Peer, before: PeerIndexKeys): void {
    const after = peer.indexKeys();
    const gone: PeerIndexKeys = { keyString: null, staticKey: null, name: null, endpoint: before.endpoint, address: null, spec: before.spec };
    const added: PeerIndexKeys = { keyString: null, staticKey: null, name: null, endpoint: after.endpoint, address: null, spec: after.spec };
    for (const k of ['keyString', 'staticKey', 'name', 'address'] as const) {
      if (before[k] === after[k]) continue;
      gone[k] = before[k];
      added[k] = after[k];
    }
    this.#unindex(peer, gone, before.endpoint !== after.endpoint, before.spec !== after.spec);
    this.#index(peer, added, before.endpoint !== after.endpoint, before.spec !== after.spec);
  }

  /** Removes the peer and every session id bound to it (its link wipes the secrets). */
  remove(p: Peer): void {
    if (!this.#all.delete(p)) return;
    p.attachIndex(null);
    this.#unindex(p, p.indexKeys(), true, true);
    for (const [sid, s] of this.#bySid) {
      if (s.owner !== p) continue;
      s.owner = null;
      this.#bySid.delete(sid);
    }
    for (const [sid, q] of this.#pendingBySid) if (q === p) this.#pendingBySid.delete(sid);
  }

  byKey(keyString: string): Peer | undefined {
    return this.#byKey.get(keyString);
  }

  /** By handshake static (X25519 form of the key, as trust.ts staticKeyString): O(1). */
  byStatic(staticKey: string): Peer | undefined {
    return this.#byStatic.get(staticKey);
  }

  byName(name: string): Peer | undefined {
    return this.#byName.get(name);
  }

  byEndpoint(address: string, port: number): Peer | undefined {
    return this.#byEndpoint.first(formatEndpoint({ address, port }));
  }

  /**
   * Every vault-v2 peer whose endpoint is at this address (any port): the vault-v2 engine finds
   * a datagram's candidates by it. Native peers are found by session id and are not indexed by
   * address (issue 12: one map entry less per peer).
   */
  vaultV2AtAddress(address: string): readonly Peer[] {
    return this.#byAddress.all(address);
  }

  /** Resolves a user reference: name, key string, or host:port (as seen or as configured). */
  find(ref: string): Peer | undefined {
    return this.#byName.get(ref) ?? (isKeyString(ref) ? this.#byKey.get(ref) : undefined) ?? this.#byEndpoint.first(ref) ?? this.#bySpec.first(ref);
  }

  sidInUse(sid: number): boolean {
    return this.#bySid.has(sid | 0) || this.#pendingBySid.has(sid | 0);
  }

  bindSession(peer: Peer, session: Session): void {
    const sid = session.localSid | 0;
    const before = this.#bySid.get(sid);
    if (before !== undefined && before !== session) before.owner = null;
    session.owner = peer;
    this.#bySid.set(sid, session);
  }

  unbindSession(session: Session): void {
    const sid = session.localSid | 0;
    if (this.#bySid.get(sid) !== session) return;
    session.owner = null;
    this.#bySid.delete(sid);
  }

  /** The session bound to this id (its peer: ownerOf). */
  session(sid: number): Session | undefined {
    return this.#bySid.get(sid | 0);
  }

  /** The peer a session found by session() is bound to (Session.owner; undefined: none). */
  ownerOf(session: Session | undefined): Peer | undefined {
    return (session?.owner as Peer | null | undefined) ?? undefined;
  }

  bindPending(peer: Peer, sid: number): void {
    this.#pendingBySid.set(sid | 0, peer);
  }

  unbindPending(sid: number): void {
    this.#pendingBySid.delete(sid | 0);
  }

  pendingPeer(sid: number): Peer | undefined {
    return this.#pendingBySid.get(sid | 0);
  }

  /** Indexes `p` by the non-null keys of `k` (and by endpoint and spec when those are asked for). */
  #index(p: Peer, k: PeerIndexKeys, endpoint: boolean, spec: boolean): void {
    if (k.keyString) this.#byKey.set(k.keyString, p);
    if (k.staticKey) this.#byStatic.set(k.staticKey, p);
    if (k.name) this.#byName.set(k.name, p);
    if (endpoint) this.#byEndpoint.add(k.endpoint, p);
    // A configured host:port that is the endpoint itself (an address, not a name) is found
    // through #byEndpoint (find() looks there first): no second entry (issue 12).
    if ((endpoint || spec) && k.spec !== k.endpoint) this.#bySpec.add(k.spec, p);
    if (k.address !== null) this.#byAddress.add(k.address, p);
  }

  #unindex(p: Peer, k: PeerIndexKeys, endpoint: boolean, spec: boolean): void {
    if (k.keyString && this.#byKey.get(k.keyString) === p) this.#byKey.delete(k.keyString);
    if (k.staticKey && this.#byStatic.get(k.staticKey) === p) this.#byStatic.delete(k.staticKey);
    if (k.name && this.#byName.get(k.name) === p) this.#byName.delete(k.name);
    if (endpoint) this.#byEndpoint.delete(k.endpoint, p);
    if ((endpoint || spec) && k.spec !== k.endpoint) this.#bySpec.delete(k.spec, p);
    if (k.address !== null) this.#byAddress.delete(k.address, p);
  }
}
