/**
 * One peer's handshake attempts: the current one, a few older ones still answerable (a slow
 * peer's late answer completes the handshake), the retry backoff with jitter, and the crossing
 * rule. Every exit path — answered, superseded, trimmed, cancelled, peer removed, node closed —
 * destroys the attempt (which wipes its ephemeral secret and handshake state).
 */
import type { Random } from '../runtime/random';
import { HANDSHAKE_FIRST_RETRY_MS, HANDSHAKE_RETRY_MAX_MS } from '../constants';

/**
 * Earlier handshake attempts still answerable besides the current one: with the retry schedule
 * (~0.4, 1.2, 2.8, 6, 12.4 s, then every ~12 s) an answer that waited ~20 s in a busy
 * responder's backlog still completes the handshake (it answers the oldest of our inits first).
 */
export const MAX_OLDER_ATTEMPTS = 5;

/** Where an attempt's local session id leads to (the peer table). */
export interface AttemptIndex<P> {
  bindPending(peer: P, sid: number): void;
  unbindPending(sid: number): void;
  sidInUse(sid: number): boolean;
}

/** One attempt: its local session id, and destroy() wiping what it holds (idempotent). */
export interface Attempt {
  readonly localSid: number;
  destroy(): void;
}

/** No older attempts (shared by every idle peer, never written: issue 12). */
const NO_ATTEMPTS: readonly never[] = Object.freeze([]);

export class Handshaker<P, A extends Attempt = Attempt> {
  #current: A | null = null;
  /** Newest first, bounded; the shared empty array while there are none. */
  #older: readonly A[] = NO_ATTEMPTS;
  #attempts = 0;
  /**
   * When the current attempt started and when the first of this run of attempts did; null while
   * none is out (read only while one is). Not numbers throughout: a field that only ever held
   * `performance.now()` readings keeps a boxed double per peer (issue 12).
   */
  #startedAtMs: number | null = null;
  #firstAttemptAtMs: number | null = null;
  #resent = false;
  readonly #owner: P;
  readonly #index: AttemptIndex<P>;
  readonly #random: Random;

  constructor(owner: P, index: AttemptIndex<P>, random: Random) {
    this.#owner = owner;
    this.#index = index;
    this.#random = random;
  }

  /** Nothing out and nothing counted: what a new Handshaker holds (the owner may drop it and make one again). */
  get idle(): boolean {
    return this.#current === null && this.#older.length === 0 && this.#attempts === 0 && this.#startedAtMs === null && this.#firstAttemptAtMs === null;
  }

  /** The newest attempt, or null when none is outstanding. */
  get pending(): A | null {
    return this.#current;
  }
  /** Attempts since the last success (or reset). */
  get attempts(): number {
    return this.#attempts;
  }
  /** When the current attempt started (0 while none is out). */
  get startedAtMs(): number {
    return this.#startedAtMs ?? 0;
  }
  /** When the first attempt since the last success started (0 while none is out). */
  get firstAttemptAtMs(): number {
    return this.#firstAttemptAtMs ?? 0;
  }
  /** The current attempt was already repeated once for a crossing handshake. */
  get resent(): boolean {
    return this.#resent;
  }

  /**
   * Starts a new attempt (the previous one stays answerable): `build` makes it from a fresh
   * session id (and destroys what it made if it throws). Returns it and the jittered delay until
   * the retry.
   */
  start(nowMs: number, build: (localSid: number) => A): { pending: A; retryInMs: number } {
    const pending = build(this.newSessionId());
    if (this.#current) {
      const older = [this.#current, ...this.#older];
      while (older.length > MAX_OLDER_ATTEMPTS) this.#end(older.pop()!);
      this.#older = older;
    }
    if (!this.#current && this.#attempts === 0) this.#firstAttemptAtMs = nowMs;
    this.#current = pending;
    this.#resent = false;
    this.#index.bindPending(this.#owner, pending.localSid);
    this.#startedAtMs = nowMs;
    this.#attempts++;
    const backoffMs = Math.min(HANDSHAKE_RETRY_MAX_MS, HANDSHAKE_FIRST_RETRY_MS * 2 ** (this.#attempts - 1));
    return { pending, retryInMs: backoffMs * (0.8 + 0.4 * this.#random.float()) }; // jitter: no retry storms in step
  }

  /** A fresh local session id not in use by any session or attempt of the node. */
  newSessionId(): number {
    for (;;) {
      const sid = this.#random.int(1, 0xffffffff);
      if (!this.#index.sidInUse(sid)) return sid;
    }
  }

  /** Marks the current attempt as repeated (crossing handshakes repeat once). */
  markResent(): void {
    this.#resent = true;
  }

  /** Every outstanding attempt, newest first. */
  outstanding(): readonly A[] {
    return this.#current ? [this.#current, ...this.#older] : [...this.#older];
  }

  /** The outstanding attempt with this local session id. */
  find(localSid: number): A | undefined {
    if (this.#current?.localSid === localSid) return this.#current;
    return this.#older.find((p) => p.localSid === localSid);
  }

  /** Ends every outstanding attempt (answered, superseded by the peer's, peer removed, closed). */
  cancel(): void {
    for (const p of [this.#current, ...this.#older]) if (p) this.#end(p);
    this.#current = null;
    this.#older = NO_ATTEMPTS;
    this.#attempts = 0;
    this.#startedAtMs = null;
    this.#firstAttemptAtMs = null;
  }

  /** Counts from zero again (a session was installed, or the user asked to retry now). */
  resetAttempts(): void {
    this.#attempts = 0;
  }

  /**
   * Crossing handshakes: when both sides start (or rekey) at once, the side with the higher key
   * keeps its own attempt (the peer answers it), so it costs one handshake, not two. Only while
   * our attempt is young and went to where the peer's init comes from: otherwise our inits may
   * not be reaching the peer (stale endpoint, NAT), and we must answer theirs.
   */
  keepsOwnAttempt(nowMs: number, ownKey: Uint8Array, remoteKey: Uint8Array, fromOurEndpoint: boolean, youngMs: number): boolean {
    return this.#current !== null && this.#attempts <= 1 && nowMs - this.startedAtMs < youngMs && fromOurEndpoint && compareBytes(ownKey, remoteKey) > 0;
  }

  #end(p: A): void {
    this.#index.unbindPending(p.localSid);
    p.destroy();
  }
}

/** Bytewise order of two keys (the crossing tie-break: PROTOCOL §5.5). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
