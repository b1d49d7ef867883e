/**
 * mac1 / mac2 and cookie replies for handshake v4, in the style of wireguard-go device/cookie.go
 * (BLAKE2b in place of BLAKE2s):
 *
 *   mac1 key    = BLAKE2b-256("mac1----" ‖ receiver static)      receiver static = its X25519 key,
 *   cookie key  = BLAKE2b-256("cookie--" ‖ receiver static)      or 0^32 when the sender does not
 *                                                                know it (XX msg1, XX msg2)
 *   mac1        = BLAKE2b-128(key = mac1 key, msg[0 .. len−32))
 *   cookie      = BLAKE2b-128(key = secret, source address ‖ port)    secret: 32 random bytes,
 *                                                                     replaced every 2 minutes
 *   mac2        = BLAKE2b-128(key = cookie, msg[0 .. len−16))      (0^16 without a fresh cookie)
 *   reply       = 0x47 ‖ mac1[0..4) ‖ nonce (24, random) ‖ XChaCha20-Poly1305(cookie key, nonce,
 *                 cookie, AD = mac1 of the answered message)
 *
 * CookieChecker is the responder's side (check mac1, check mac2, make a reply); CookieGenerator
 * the initiator's (fill in mac1/mac2, take a reply). Time and randomness are injected.
 */
import type { Clock } from '../runtime/clock';
import type { Random } from '../runtime/random';
import { COOKIE_BYTES, COOKIE_NONCE_BYTES, encodeCookieReply, MAC_BYTES, MACS_BYTES, parseCookieReply } from '../wire/handshake-v4';
import { aeadDecrypt, aeadEncrypt, blake2bScrubbed, constantTimeEqual, scrubWasmStack, wipe } from './sodium';

export const COOKIE_SECRET_ROTATION_MS = 120_000;
/** As wireguard-go: an initiator uses a cookie for at most 2 minutes after it arrived. */
export const COOKIE_VALID_MS = 120_000;
export const ANONYMOUS_STATIC = new Uint8Array(32);

const enc = new TextEncoder();
const MAC1_LABEL = enc.encode('mac1----');
const COOKIE_LABEL = enc.encode('cookie--');

function labelled(label: Uint8Array, key: Uint8Array): Uint8Array {
  const m = new Uint8Array(label.length + key.length);
  m.set(label);
  m.set(key, label.length);
  return blake2bScrubbed(32, m);
}
export const mac1Key = (receiverStatic: Uint8Array): Uint8Array => labelled(MAC1_LABEL, receiverStatic);
export const cookieKey = (receiverStatic: Uint8Array): Uint8Array => labelled(COOKIE_LABEL, receiverStatic);
const mac = (key: Uint8Array, data: Uint8Array): Uint8Array => blake2bScrubbed(MAC_BYTES, data, key);

/** All 16 bytes zero (not secret: the mac2 field of a message sent without a cookie). */
function isZero(b: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < b.length; i++) acc |= b[i]!;
  return acc === 0;
}

export interface CookieCheckerOptions {
  /** This node's X25519 static, or ANONYMOUS_STATIC for the messages sent to an unknown key. */
  receiverStatic: Uint8Array;
  clock: Clock;
  random: Random;
  /**
   * Cookie-reply nonces drawn from `random` per draw (default 1). The node's gate draws 64 at a
   * time: under a flood one randomFillSync per reply cost about as much as the reply's AEAD.
   * Nonces need only be unique; they stay random.
   */
  noncesPerDraw?: number;
}

/** The responder's side. One per receiver static. */
export class CookieChecker {
  readonly #mac1Key: Uint8Array;
  readonly #cookieKey: Uint8Array;
  readonly #clock: Clock;
  readonly #random: Random;
  #secret: Uint8Array | null = null;
  #secretSetMs = 0;
  #nonces: Uint8Array = new Uint8Array(0);
  #nonceAt = 0;
  readonly #noncesPerDraw: number;

  constructor(o: CookieCheckerOptions) {
    this.#noncesPerDraw = Math.max(1, Math.floor(o.noncesPerDraw ?? 1));
    this.#mac1Key = mac1Key(o.receiverStatic);
    this.#cookieKey = cookieKey(o.receiverStatic);
    this.#clock = o.clock;
    this.#random = o.random;
  }

  /** mac1 over everything before it: the first check, before any limiter, lookup or DH. */
  checkMac1(msg: Uint8Array): boolean {
    if (msg.length < MACS_BYTES + 1) return false;
    const end = msg.length - MACS_BYTES;
    return constantTimeEqual(mac(this.#mac1Key, msg.subarray(0, end)), msg.subarray(end, end + MAC_BYTES));
  }

  /** mac2 proves the sender received a cookie for `source` (address ‖ port) from this node recently. */
  checkMac2(msg: Uint8Array, source: Uint8Array): boolean {
    if (msg.length < MACS_BYTES + 1) return false;
    const m2 = msg.subarray(msg.length - MAC_BYTES);
    if (isZero(m2)) return false; // "no cookie" (what a sender without one puts there): no hash needed
    const cookie = this.#cookieFor(source);
    const ok = constantTimeEqual(mac(cookie, msg.subarray(0, msg.length - MAC_BYTES)), m2);
    wipe(cookie);
    return ok;
  }

  /** The cookie reply to `msg` (whose mac1 the caller checked), 61 bytes: smaller than any handshake. */
  createReply(msg: Uint8Array, source: Uint8Array): Uint8Array {
    const end = msg.length - MACS_BYTES;
    const mac1 = msg.subarray(end, end + MAC_BYTES);
    const cookie = this.#cookieFor(source);
    if (this.#nonceAt + COOKIE_NONCE_BYTES > this.#nonces.length) {
      this.#nonces = this.#random.bytes(COOKIE_NONCE_BYTES * this.#noncesPerDraw);
      this.#nonceAt = 0;
    }
    const nonce = this.#nonces.subarray(this.#nonceAt, (this.#nonceAt += COOKIE_NONCE_BYTES));
    const sealed = aeadEncrypt(cookie, mac1, nonce, this.#cookieKey);
    wipe(cookie);
    return encodeCookieReply(mac1.subarray(0, 4), nonce, sealed);
  }

  #cookieFor(source: Uint8Array): Uint8Array {
    const now = this.#clock.monotonic();
    if (!this.#secret || now - this.#secretSetMs >= COOKIE_SECRET_ROTATION_MS) {
      if (this.#secret) wipe(this.#secret);
      this.#secret = this.#random.bytes(32);
      this.#secretSetMs = now;
    }
    return mac(this.#secret, source);
  }

  destroy(): void {
    if (this.#secret) wipe(this.#secret);
    this.#secret = null;
    scrubWasmStack('hash');
  }
}

/**
 * What a fresh CookieGenerator's addMacs writes (mac1 to `receiverStatic`, mac2 zero: a fresh
 * generator holds no cookie), without the generator and its cookie key: for a message sent once
 * and never answered with a cookie reply of ours to take (a responder's answer; rekeyalloc17).
 */
export function addFreshMacs(msg: Uint8Array, receiverStatic: Uint8Array): void {
  const end = msg.length - MACS_BYTES;
  msg.set(mac(mac1Key(receiverStatic), msg.subarray(0, end)), end);
  msg.fill(0, end + MAC_BYTES, end + MACS_BYTES);
}

export interface CookieGeneratorOptions {
  /** The receiver's X25519 static, or ANONYMOUS_STATIC when it is not known (XX msg1, msg2). */
  receiverStatic: Uint8Array;
  clock: Clock;
}

/** The initiator's side. One per peer (and per receiver static). */
export class CookieGenerator {
  readonly #mac1Key: Uint8Array;
  readonly #cookieKey: Uint8Array;
  readonly #clock: Clock;
  #lastMac1: Uint8Array | null = null;
  #cookie: Uint8Array | null = null;
  #cookieSetMs = 0;

  constructor(o: CookieGeneratorOptions) {
    this.#mac1Key = mac1Key(o.receiverStatic);
    this.#cookieKey = cookieKey(o.receiverStatic);
    this.#clock = o.clock;
  }

  /** Fills in mac1 and (with a fresh cookie) mac2 in place; remembers mac1 for the reply. */
  addMacs(msg: Uint8Array): void {
    const end = msg.length - MACS_BYTES;
    const m1 = mac(this.#mac1Key, msg.subarray(0, end));
    msg.set(m1, end);
    this.#lastMac1 = m1;
    const m2 = this.hasFreshCookie() ? mac(this.#cookie!, msg.subarray(0, end + MAC_BYTES)) : new Uint8Array(MAC_BYTES);
    msg.set(m2, end + MAC_BYTES);
  }

  hasFreshCookie(): boolean {
    return this.#cookie !== null && this.#clock.monotonic() - this.#cookieSetMs < COOKIE_VALID_MS;
  }

  /** The reply's lookup key: the first 4 bytes of the last mac1 sent (null before any). */
  get lastRef(): Uint8Array | null {
    return this.#lastMac1 ? this.#lastMac1.slice(0, 4) : null;
  }

  /**
   * Takes a cookie reply to the last message sent. False (and nothing changes) when it answers
   * another message, does not authenticate, or the last message's reply was already taken.
   */
  consumeReply(bytes: Uint8Array): boolean {
    if (!this.#lastMac1) return false;
    let reply;
    try {
      reply = parseCookieReply(bytes);
    } catch {
      return false;
    }
    if (!constantTimeEqual(reply.ref, this.#lastMac1.subarray(0, 4))) return false;
    const cookie = aeadDecrypt(reply.sealedCookie, this.#lastMac1, reply.nonce, this.#cookieKey);
    if (!cookie || cookie.length !== COOKIE_BYTES) return false;
    if (this.#cookie) wipe(this.#cookie);
    this.#cookie = cookie;
    this.#cookieSetMs = this.#clock.monotonic();
    this.#lastMac1 = null;
    return true;
  }

  destroy(): void {
    if (this.#cookie) wipe(this.#cookie);
    this.#cookie = null;
    this.#lastMac1 = null;
  }
}
