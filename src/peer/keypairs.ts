/**
 * One peer's sessions (wireguard-go device/keypair.go, generalised): `current` is the newest
 * confirmed, unexpired session (the one we send on), `previous` ones stay receivable for a
 * grace period, `next` is a responder session the initiator has not confirmed yet; the total
 * is bounded. This is the only writer of a peer's sessions and of their bindings in the table.
 */
import type { Session, SessionLimits } from '../crypto/session';

/** Current, crossing ones of simultaneous starts/rekeys, answers to retries awaiting confirmation, and ones in their grace period (each is ~0.5 KiB). */
export const MAX_SESSIONS_PER_PEER = 8;

/**
 * Two sessions of opposite initiators created this close together (on our clock) are a crossing
 * pair (simultaneous first contact or rekeys): both sides prefer the one the greater key
 * initiated (PROTOCOL §5.5). Far below the rekey interval, so a rekey is never taken for one.
 */
export const CROSSING_WINDOW_MS = 10_000;

/** Where a session's local id leads to (the peer table). */
export interface SessionIndex<P> {
  bindSession(peer: P, session: Session): void;
  unbindSession(session: Session): void;
}

export interface RetireRules {
  limits: SessionLimits;
  // Helpers are `static #`, not private instance methods: those give every instance a brand field (8 B per idle peer; mem22, issue 12).
  /** A superseded session retires after this long without receiving. */
  graceMs: number;
  /** A never-confirmed session retires after this long. */
  unconfirmedMs: number;
}

/** No older sessions (shared by every peer with one session or none, never written). */
const NO_SESSIONS: readonly never[] = Object.freeze([]);

export class Keypairs<P> {
  /**
   * Newest first: the newest in #first (null: none), the older ones in #older — replaced, never
   * grown in place (exactly as long as it is), the shared empty array while there are none. An
   * idle peer's one session costs a field, not an array and its elements (rest18: 56 B).
   */
  #first: Session | null = null;
  #older: readonly Session[] = NO_SESSIONS;
  readonly #owner: P;
  #version = 0;
  /** Our key is bytewise greater than the peer's: of a crossing pair, the session we initiated wins. */
  #ownWins = false;
  readonly #index: SessionIndex<P>;

  constructor(owner: P, index: SessionIndex<P>) {
    this.#owner = owner;
    this.#index = index;
  }

  /**
   * The session to send on: the newest confirmed, unexpired one — unless it is the loser of a
   * crossing pair (PROTOCOL §5.5): then the pair's winner (initiated by the greater key), once
   * the peer has sent on the winner after the loser was made (proof the peer still holds it and
   * has it confirmed). Both sides compute the same winner, so both end up sending on it and the
   * loser is superseded (retire).
   */
  current(nowMs: number, limits: SessionLimits): Session | null {
    const n = this.size;
    let k = 0;
    while (k < n && (!Keypairs.#at(this, k).confirmed || Keypairs.#at(this, k).expired(nowMs, limits))) k++;
    if (k === n) return null;
    const newest = Keypairs.#at(this, k);
    if (newest.initiator === this.#ownWins) return newest;
    for (let j = k + 1; j < n; j++) {
      const s = Keypairs.#at(this, j);
      if (newest.createdAtMs - s.createdAtMs > CROSSING_WINDOW_MS) break;
      if (s.confirmed && s.initiator === this.#ownWins && s.lastReceivedAtMs > newest.createdAtMs && !s.expired(nowMs, limits)) return s;
    }
    return newest;
  }

  /** The newest unconfirmed (responder) session, if any. */
  get next(): Session | null {
    for (let k = 0; k < this.size; k++) if (!Keypairs.#at(this, k).confirmed) return Keypairs.#at(this, k);
    return null;
  }

  get size(): number {
    return this.#first === null ? 0 : 1 + this.#older.length;
  }

  /** The k-th session, newest first (k < size). */
  static #at<P>(self: Keypairs<P>, k: number): Session {
    return k === 0 ? self.#first! : self.#older[k - 1]!;
  }

  /** Changes with every session installed or dropped (the link's quiet tick checks it). */
  get version(): number {
    return this.#version;
  }

  /** True when an unconfirmed session younger than `ms` exists (the peer's handshake is completing). */
  hasYoungUnconfirmed(nowMs: number, ms: number): boolean {
    for (let k = 0; k < this.size; k++) {
      const s = Keypairs.#at(this, k);
      if (!s.confirmed && nowMs - s.createdAtMs < ms) return true;
    }
    return false;
  }

  /**
   * Installs a new session (newest), evicting beyond the bound. `ownWins`: our key is bytewise
   * greater than the peer's (which session of a crossing pair wins; see current).
   */
  install(session: Session, nowMs: number, rules: RetireRules, ownWins = this.#ownWins): void {
    this.#version++;
    this.#ownWins = ownWins;
    if (this.#first !== null) this.#older = [this.#first].concat(this.#older); // exactly as long (a spread or filter leaves room to grow)
    this.#first = session;
    this.#index.bindSession(this.#owner, session);
    while (this.size > MAX_SESSIONS_PER_PEER) Keypairs.#drop(this, Keypairs.#evictionIndex(this, nowMs, rules));
  }

  /** Wipes sessions past their use: expired, superseded beyond the grace period, never confirmed. */
  retire(nowMs: number, rules: RetireRules): void {
    const current = this.current(nowMs, rules.limits);
    for (let k = this.size - 1; k >= 0; k--) {
      const s = Keypairs.#at(this, k);
      if (s === current) continue;
      // Superseded: an older session (or the newer loser of a crossing pair, see current)
      // retires once it has been idle for the grace period (after crossing rekeys the peer may
      // still send on it: its newest session can be our older one) and the peer sent on the
      // current one since — while the peer's last packet came on this one, it is the peer's
      // current session, and retiring it would blackhole the peer's next keepalive.
      const replaced = current !== null && (s.createdAtMs < current.createdAtMs || (s.confirmed && s.initiator !== current.initiator));
      const superseded = replaced && current.lastReceivedAtMs > Math.max(current.createdAtMs, s.lastReceivedAtMs) && nowMs - Math.max(current.createdAtMs, s.lastReceivedAtMs) >= rules.graceMs;
      const unconfirmed = !s.confirmed && nowMs - s.createdAtMs >= rules.unconfirmedMs;
      if (s.expired(nowMs, rules.limits) || superseded || unconfirmed) Keypairs.#drop(this, k);
    }
  }

  /** Wipes one session (refused after the fact). */
  remove(session: Session): void {
    for (let k = 0; k < this.size; k++) {
      if (Keypairs.#at(this, k) === session) {
        Keypairs.#drop(this, k);
        return;
      }
    }
  }

  /** Wipes every session (peer removed, re-keyed, node closed). */
  wipeAll(): void {
    while (this.#first !== null) Keypairs.#drop(this, 0);
  }

  static #drop<P>(self: Keypairs<P>, k: number): void {
    const s = Keypairs.#at(self, k);
    self.#version++;
    const older = self.#older;
    if (k === 0) self.#first = older.length > 0 ? older[0]! : null;
    // a copy, not grown: filter's result has room to grow (issue 12)
    if (older.length <= 1) self.#older = NO_SESSIONS;
    else {
      const rest = older.slice();
      rest.splice(k === 0 ? 0 : k - 1, 1);
      self.#older = rest;
    }
    self.#index.unbindSession(s);
    s.wipe();
  }

  /**
   * Which session to drop when there are too many: never-confirmed ones first (answers to
   * superseded retries), then ones the peer has not sent on lately, then the oldest — never
   * the newest (just installed).
   */
  static #evictionIndex<P>(self: Keypairs<P>, nowMs: number, rules: RetireRules): number {
    const current = self.current(nowMs, rules.limits);
    const n = self.size;
    for (let k = n - 1; k > 0; k--) if (!Keypairs.#at(self, k).confirmed) return k;
    for (let k = n - 1; k > 0; k--) {
      if (Keypairs.#at(self, k) !== current && nowMs - Keypairs.#at(self, k).lastReceivedAtMs >= rules.graceMs) return k;
    }
    return n - 1;
  }
}
