/** The peer table: lookup by key, name, endpoint and local session id. */
import type { Peer } from './peer';
import type { Session } from '../crypto/session';
import { isKeyString } from '../crypto/identity';
import { formatEndpoint } from './endpoint';

export class PeerTable {
  #all = new Set<Peer>();
  #bySid = new Map<number, { peer: Peer; session: Session }>();
  #pendingBySid = new Map<number, Peer>();

  get size(): number {
    return this.#all.size;
  }

  list(): Peer[] {
    return [...this.#all];
  }

  has(p: Peer): boolean {
    return this.#all.has(p);
  }

  add(p: Peer): void {
    this.#all.add(p);
  }

  remove(p: Peer): void {
    this.#all.delete(p);
    for (const s of p.sessions) this.#bySid.delete(s.localSid);
    if (p.pending) this.#pendingBySid.delete(p.pending.localSid);
    for (const o of p.olderPendings) this.#pendingBySid.delete(o.localSid);
  }

  byKey(keyString: string): Peer | undefined {
    for (const p of this.#all) if (p.keyString === keyString) return p;
    return undefined;
  }

  byName(name: string): Peer | undefined {
    for (const p of this.#all) if (p.name === name) return p;
    return undefined;
  }

  byEndpoint(address: string, port: number): Peer | undefined {
    const want = formatEndpoint({ address, port });
    for (const p of this.#all) if (p.endpointString === want) return p;
    return undefined;
  }

  /** Resolves a user reference: name, key string, or host:port. */
  find(ref: string): Peer | undefined {
    const byName = this.byName(ref);
    if (byName) return byName;
    if (isKeyString(ref)) {
      const k = this.byKey(ref);
      if (k) return k;
    }
    for (const p of this.#all) if (p.endpointString === ref || `${p.spec.host}:${p.spec.port}` === ref) return p;
    return undefined;
  }

  sidInUse(sid: number): boolean {
    return this.#bySid.has(sid) || this.#pendingBySid.has(sid);
  }

  bindSession(peer: Peer, session: Session): void {
    this.#bySid.set(session.localSid, { peer, session });
  }

  unbindSession(session: Session): void {
    this.#bySid.delete(session.localSid);
  }

  session(sid: number): { peer: Peer; session: Session } | undefined {
    return this.#bySid.get(sid);
  }

  bindPending(peer: Peer, sid: number): void {
    this.#pendingBySid.set(sid, peer);
  }

  unbindPending(sid: number): void {
    this.#pendingBySid.delete(sid);
  }

  pendingPeer(sid: number): Peer | undefined {
    return this.#pendingBySid.get(sid);
  }
}
