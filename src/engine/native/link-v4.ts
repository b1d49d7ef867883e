/**
 * What one native link keeps for handshake v4 besides its attempts: the cookie generator
 * toward the peer's static (or the anonymous one while the key is unknown), the cached
 * static-static DH, the replay mark of the peer's identity, the one XX exchange it may answer,
 * and the XX msg3 it may have to repeat with a cookie. destroy() wipes it all; release() drops
 * what only a handshake in progress needs (generator, DH) once the link has a session and no
 * attempt out (issue 12: ~1 KB of an idle peer; the next handshake derives them again).
 */
import { ANONYMOUS_STATIC, CookieGenerator } from '../../crypto/cookie';
import { identityStatic, staticStaticFor, type NoiseStatic } from '../../crypto/noise/common';
import type { IkInitiator } from '../../crypto/noise/ik';
import type { XxInitiator, XxResponder } from '../../crypto/noise/xx';
import { tai64nFromMs, TIMESTAMP_BYTES } from '../../crypto/noise/payload';
import { wipe } from '../../crypto/sodium';
import type { Clock } from '../../runtime/clock';

/** One handshake attempt of ours (the Handshaker keeps a few, by local sid). */
export interface V4Attempt {
  readonly localSid: number;
  // Helpers are `static #`, not private instance methods: those give every instance a brand field (8 B per idle peer; mem22, issue 12).
  /** Our wall clock when it started (the initiator's clock-offset measurement). */
  readonly wallMs: number;
  readonly state: IkInitiator | XxInitiator;
  destroy(): void;
}

export function attemptOf(localSid: number, wallMs: number, state: IkInitiator | XxInitiator): V4Attempt {
  return { localSid, wallMs, state, destroy: () => state.destroy() };
}

/** Handshake timestamps persist in the peer store as ms, rounded up (never below the real mark). */
export function markToStoredMs(ts: Uint8Array): number {
  const v = new DataView(ts.buffer, ts.byteOffset, TIMESTAMP_BYTES);
  const secs = (v.getUint32(0) - 0x40000000) * 0x1_0000_0000 + v.getUint32(4);
  return secs * 1000 + Math.ceil(v.getUint32(8) / 1_000_000);
}

export function markFromStoredMs(ms: number | null): Uint8Array | null {
  if (ms === null) return null;
  const secs = Math.floor(ms / 1000);
  const t = tai64nFromMs(secs * 1000); // exact ms below, not whitened
  new DataView(t.buffer).setUint32(8, (ms - secs * 1000) * 1_000_000);
  return t;
}

/**
 * A peer identity's in-memory handshake replay mark (PROTOCOL §5.2: the greatest timestamp
 * accepted from it), as LinkV4.mark() hands it out.
 */
export interface ReplayMark {
  /** True when `ts` is newer than everything accepted so far (else: a replay). */
  isFresh(ts: Uint8Array): boolean;
  /** Accepts `ts` (after the handshake authenticated and isFresh was true). */
  accept(ts: Uint8Array): void;
  /** The mark's bytes (tests), or null. */
  readonly inMemory: Uint8Array | null;
}

/** Three bytes big endian (< 2^24: a Smi). */
const chunk = (b: Uint8Array, i: number): number => (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
/** Sign of ts − the mark's chunks (big endian: the first differing chunk decides). */
function cmp(ts: Uint8Array, c0: number, c1: number, c2: number, c3: number): number {
  return chunk(ts, 0) - c0 || chunk(ts, 3) - c1 || chunk(ts, 6) - c2 || chunk(ts, 9) - c3;
}

/** What holds a peer's persisted handshake mark (the Peer). */
export interface StoredMark {
  readonly lastHandshakeTs: number | null;
}

/**
 * What a handshake leaves on the link for a while (the cookie generator, the cached
 * static-static DH, an XX exchange being answered, our last XX msg3): one object made when the
 * first of them is, dropped when the last goes (rest18: six fields of every idle link → one).
 */
interface HandshakeMaterial {
  generator: CookieGenerator | null;
  generatorKey: string | null;
  ss: Uint8Array | null;
  ssKey: string | null;
  xx: { sid: number; state: XxResponder } | null;
  /** Our last XX msg3 (bytes and the generator that macs it), repeated once with a cookie if asked. */
  msg3: { bytes: Uint8Array; gen: CookieGenerator } | null;
}

export class LinkV4 {
  /** Null while the link holds no handshake material (HandshakeMaterial). */
  #m: HandshakeMaterial | null = null;
  /**
   * The replay mark of the identity #markKey (null: not made yet): the 12 timestamp bytes in four
   * 24-bit big-endian chunks (Smis, compared as the bytes are: compareTimestamps), #c0 = −1 while
   * nothing was accepted or persisted. Fields of the link, not an object with a 12-byte array of
   * its own (issue 12: ~300 B of every idle peer). The journal's value comes from the session.
   */
  #markKey: string | null = null;
  #c0 = -1;
  #c1 = 0;
  #c2 = 0;
  #c3 = 0;
  /** Where the peer's persisted mark (ms, rounded up) is read when a mark is first needed (after restore): the peer, not a closure. */
  readonly #stored: StoredMark;
  readonly #clock: Clock;
  /** The key of this link's entry in the node's cookie-reply index (V4Handshakes), or null. */
  cookieRef: number | null = null;

  constructor(clock: Clock, stored: StoredMark) {
    this.#clock = clock;
    this.#stored = stored;
  }

  /** The material to write (made first if none). */
  static #w(self: LinkV4): HandshakeMaterial {
    return (self.#m ??= { generator: null, generatorKey: null, ss: null, ssKey: null, xx: null, msg3: null });
  }

  /** Drops the material object once it holds nothing. */
  static #tidy(self: LinkV4): void {
    const m = self.#m;
    if (m !== null && m.generator === null && m.generatorKey === null && m.ss === null && m.ssKey === null && m.xx === null && m.msg3 === null) self.#m = null;
  }

  /** The generator for messages to the peer's static (anonymous while `key` is null). */
  generator(key: Uint8Array | null, keyString: string | null): CookieGenerator {
    const m = LinkV4.#w(this);
    if (!m.generator || m.generatorKey !== keyString) {
      m.generator?.destroy();
      const rs = key ? identityStatic(key) : null;
      m.generator = new CookieGenerator({ receiverStatic: rs ?? ANONYMOUS_STATIC, clock: this.#clock });
      m.generatorKey = keyString;
    }
    return m.generator;
  }

  /** DH(local static, the peer's static), cached per key (wiped when the key changes). */
  staticStatic(local: NoiseStatic, key: Uint8Array, keyString: string): Uint8Array | undefined {
    const m = LinkV4.#w(this);
    if (m.ssKey !== keyString) {
      if (m.ss) wipe(m.ss);
      m.ss = staticStaticFor(local, key);
      m.ssKey = keyString;
    }
    return m.ss ? m.ss.slice() : undefined;
  }

  /** The replay mark of the identity `keyString` (a new identity starts a new mark). */
  mark(keyString: string): ReplayMark {
    if (this.#markKey !== keyString) {
      // The persisted value belongs to the current key (a replaced key clears it).
      const persisted = markFromStoredMs(this.#stored.lastHandshakeTs);
      this.#c0 = -1;
      if (persisted) LinkV4.#setMark(this, persisted);
      this.#markKey = keyString;
    }
    return this;
  }

  /** ReplayMark (through mark()). */
  isFresh(ts: Uint8Array): boolean {
    if (ts.length !== TIMESTAMP_BYTES) throw new RangeError('a timestamp is 12 bytes');
    return this.#c0 < 0 || cmp(ts, this.#c0, this.#c1, this.#c2, this.#c3) > 0;
  }

  /** ReplayMark (through mark()). */
  accept(ts: Uint8Array): void {
    if (!this.isFresh(ts)) throw new RangeError('timestamp not newer than the mark');
    LinkV4.#setMark(this, ts);
  }

  /** ReplayMark (through mark()). */
  get inMemory(): Uint8Array | null {
    if (this.#c0 < 0) return null;
    const b = new Uint8Array(TIMESTAMP_BYTES);
    [this.#c0, this.#c1, this.#c2, this.#c3].forEach((c, i) => b.set([c >>> 16, (c >>> 8) & 0xff, c & 0xff], i * 3));
    return b;
  }

  static #setMark(self: LinkV4, ts: Uint8Array): void {
    if (ts.length !== TIMESTAMP_BYTES) throw new RangeError('a timestamp is 12 bytes');
    self.#c0 = chunk(ts, 0);
    self.#c1 = chunk(ts, 3);
    self.#c2 = chunk(ts, 6);
    self.#c3 = chunk(ts, 9);
  }

  /** The XX exchange this (key-less) peer may answer: at most one; a new msg1 replaces it. */
  setXxResponder(sid: number, state: XxResponder): { sid: number } | null {
    const w = LinkV4.#w(this);
    const old = w.xx;
    old?.state.destroy();
    w.xx = { sid, state };
    return old ? { sid: old.sid } : null;
  }

  xxResponder(sid: number): XxResponder | null {
    const xx = this.#m?.xx ?? null;
    return xx && xx.sid === sid ? xx.state : null;
  }

  /** Ends the XX exchange (completed or refused); returns its sid to unbind. */
  endXxResponder(): number | null {
    const w = this.#m;
    const old = w?.xx ?? null;
    if (!w || !old) return null;
    old.state.destroy();
    w.xx = null;
    LinkV4.#tidy(this);
    return old.sid;
  }

  setMsg3(bytes: Uint8Array, gen: CookieGenerator): void {
    LinkV4.#w(this).msg3 = { bytes, gen };
  }

  /** A cookie reply to our last XX msg3: the msg3 again with mac2, or null. */
  msg3WithCookie(reply: Uint8Array): { bytes: Uint8Array; gen: CookieGenerator } | null {
    const w = this.#m;
    const m = w?.msg3 ?? null;
    if (!w || !m || !m.gen.consumeReply(reply)) return null;
    w.msg3 = null;
    LinkV4.#tidy(this);
    m.gen.addMacs(m.bytes);
    return m;
  }

  /** Our last XX msg3 is kept (a cookie reply may still ask for it). */
  get holdsMsg3(): boolean {
    return (this.#m?.msg3 ?? null) !== null;
  }

  /** What release() would drop (tests, stats): the cookie generator, the cached DH, a msg3. */
  get held(): { generator: boolean; staticStatic: boolean; msg3: boolean } {
    const m = this.#m;
    return { generator: (m?.generator ?? null) !== null, staticStatic: (m?.ss ?? null) !== null, msg3: (m?.msg3 ?? null) !== null };
  }

  /** @internal Whether the handshake material object exists (tests: an idle link holds none). */
  get holdsMaterial(): boolean {
    return this.#m !== null;
  }

  /**
   * The handshake is over (a session, no attempt out): drops the cookie generator (a late
   * cookie reply to an init then matches nothing) and wipes the cached static-static DH (one
   * X25519 again at the next handshake we start). The replay mark, an XX exchange being
   * answered and our last XX msg3 (with its generator: a responder under load may still ask for
   * it with a cookie) stay.
   */
  release(): void {
    const m = this.#m;
    if (m === null) return;
    m.generator?.destroy();
    m.generator = null;
    m.generatorKey = null;
    if (m.ss) wipe(m.ss);
    m.ss = null;
    m.ssKey = null;
    LinkV4.#tidy(this);
  }

  destroy(): number | null {
    const m = this.#m;
    if (m === null) return null;
    m.generator?.destroy();
    m.generator = null;
    if (m.ss) wipe(m.ss);
    m.ss = null;
    m.msg3?.gen.destroy();
    m.msg3 = null;
    const sid = this.endXxResponder();
    LinkV4.#tidy(this);
    return sid;
  }
}
