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
  /** A superseded session retires after this long without receiving. */
  graceMs: number;
  /** A never-confirmed session retires after this long. */
  unconfirmedMs: number;
}

export class Keypairs<P> {
  /** Newest first. Replaced, never grown in place: exactly as long as it is (an idle peer's one session costs one slot, not a grown array's 17). */
  #sessions: Session[] = [];
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
    const ss = this.#sessions;
    let k = 0;
    while (k < ss.length && (!ss[k]!.confirmed || ss[k]!.expired(nowMs, limits))) k++;
    const newest = ss[k];
    if (newest === undefined) return null;
    if (newest.initiator === this.#ownWins) return newest;
    for (let j = k + 1; j < ss.length; j++) {
      const s = ss[j]!;
      if (newest.createdAtMs - s.createdAtMs > CROSSING_WINDOW_MS) break;
      if (s.confirmed && s.initiator === this.#ownWins && s.lastReceivedAtMs > newest.createdAtMs && !s.expired(nowMs, limits)) return s;
    }
    return newest;
  }

  /** The newest unconfirmed (responder) session, if any. */
  get next(): Session | null {
    return this.#sessions.find((s) => !s.confirmed) ?? null;
  }

  get size(): number {
    return this.#sessions.length;
  }

  /** Changes with every session installed or dropped (the link's quiet tick checks it). */
  get version(): number {
    return this.#version;
  }

  /** True when an unconfirmed session younger than `ms` exists (the peer's handshake is completing). */
  hasYoungUnconfirmed(nowMs: number, ms: number): boolean {
    return this.#sessions.some((s) => !s.confirmed && nowMs - s.createdAtMs < ms);
  }

  /**
   * Installs a new session (newest), evicting beyond the bound. `ownWins`: our key is bytewise
   * greater than the peer's (which session of a crossing pair wins; see current).
   */
  install(session: Session, nowMs: number, rules: RetireRules, ownWins = this.#ownWins): void {
    this.#version++;
    this.#ownWins = ownWins;
    this.#sessions = [session].concat(this.#sessions); // exactly as long (a spread or filter leaves room to grow)
    this.#index.bindSession(this.#owner, session);
    while (this.#sessions.length > MAX_SESSIONS_PER_PEER) this.#drop(this.#evictionIndex(nowMs, rules));
  }

  /** Wipes sessions past their use: expired, superseded beyond the grace period, never confirmed. */
  retire(nowMs: number, rules: RetireRules): void {
    const current = this.current(nowMs, rules.limits);
    for (let k = this.#sessions.length - 1; k >= 0; k--) {
      const s = this.#sessions[k]!;
      if (s === current) continue;
      // Superseded: an older session (or the newer loser of a crossing pair, see current)
      // retires once it has been idle for the grace period (after crossing rekeys the peer may
      // still send on it: its newest session can be our older one) and the peer sent on the
      // current one since — while the peer's last packet came on this one, it is the peer's
      // current session, and retiring it would blackhole the peer's next keepalive.
      const replaced = current !== null && (s.createdAtMs < current.createdAtMs || (s.confirmed && s.initiator !== current.initiator));
      const superseded = replaced && current.lastReceivedAtMs > Math.max(current.createdAtMs, s.lastReceivedAtMs) && nowMs - Math.max(current.createdAtMs, s.lastReceivedAtMs) >= rules.graceMs;
      const unconfirmed = !s.confirmed && nowMs - s.createdAtMs >= rules.unconfirmedMs;
      if (s.expired(nowMs, rules.limits) || superseded || unconfirmed) this.#drop(k);
    }
  }

  /** Wipes one session (refused after the fact). */
  remove(session: Session): void {
    const k = this.#sessions.indexOf(session);
    if (k >= 0) this.#drop(k);
  }

  /** Wipes every session (peer removed, re-keyed, node closed). */
  wipeAll(): void {
    while (this.#sessions.length > 0) this.#drop(0);
  }

  #drop(k: number): void {
    const s = this.#sessions[k]!;
    this.#version++;
    const rest = this.#sessions.slice(); // a copy, not grown: filter's result has room to grow (issue 12)
    rest.splice(k, 1);
    this.#sessions = rest;
    this.#index.unbindSession(s);
    s.wipe();
  }

  /**
   * Which session to drop when there are too many: never-confirmed ones first (answers to
   * superseded retries), then ones the peer has not sent on lately, then the oldest — never
   * the newest (just installed).
   */
  #evictionIndex(nowMs: number, rules: RetireRules): number {
    const current = this.current(nowMs, rules.limits);
    const ss = this.#sessions;
    for (let k = ss.length - 1; k > 0; k--) if (!ss[k]!.confirmed) return k;
    for (let k = ss.length - 1; k > 0; k--) {
      if (ss[k] !== current && nowMs - ss[k]!.lastReceivedAtMs >= rules.graceMs) return k;
    }
    return ss.length - 1;
  }
}
