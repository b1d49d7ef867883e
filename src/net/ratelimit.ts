/**
 * Token-bucket rate limiting (SPEC §4): `TokenBucket` for one flow (a peer, the whole node),
 * `KeyedRateLimiter` for many flows keyed by a string (handshakes per source IP).
 *
 * Time comes from `Clock.monotonic()` (ms). Tokens are kept as "credit" = tokens × 1000, refilled
 * by elapsedMs × ratePerSecond, so with integer rates and a whole-millisecond clock every amount
 * is an exact integer (no drift from repeated fractional additions).
 */
import { systemClock, type Clock } from '../runtime/clock';

function checkRate(ratePerSecond: number, burst: number): void {
  if (!(Number.isFinite(ratePerSecond) && ratePerSecond > 0)) throw new RangeError('ratePerSecond must be a positive number');
  if (!(Number.isFinite(burst) && burst > 0)) throw new RangeError('burst must be a positive number');
}

/** What buckets of one rate, burst and clock share (one object per combination: issue 12, not four fields per peer). */
interface BucketConfig {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly clock: Clock;
  readonly capacityCredit: number;
}

/** A full bucket at rest (TokenBucket.rested): the shared config it was made with, nothing of its own (mem20). */
export type BucketRest = BucketConfig;

/** Configs by clock, then by "rate/burst" (a node's peers all share one). */
const configs = new WeakMap<Clock, Map<string, BucketConfig>>();
function configFor(ratePerSecond: number, burst: number, clock: Clock): BucketConfig {
  let byRate = configs.get(clock);
  if (byRate === undefined) configs.set(clock, (byRate = new Map()));
  const key = `${ratePerSecond}/${burst}`;
  let c = byRate.get(key);
  if (c === undefined) byRate.set(key, (c = Object.freeze({ ratePerSecond, burst, clock, capacityCredit: burst * 1000 })));
  return c;
}

export class TokenBucket {
  readonly #c: BucketConfig;
  #credit: number;
  #lastMs: number;

  /** Starts full (`burst` tokens); refills at `ratePerSecond` up to `burst`. */
  constructor(ratePerSecond: number, burst: number, clock: Clock = systemClock) {
    checkRate(ratePerSecond, burst);
    this.#c = configFor(ratePerSecond, burst, clock);
    this.#credit = this.#c.capacityCredit;
    this.#lastMs = Math.floor(clock.monotonic());
  }

  /**
   * What this bucket is while full (a full bucket equals a new one): its shared config, which
   * TokenBucket.fromRest makes a bucket again from (mem20: an idle peer keeps no bucket of its
   * own, 56 B). null while not full.
   */
  rested(nowMs = this.#c.clock.monotonic()): BucketRest | null {
    this.#refill(nowMs);
    return this.#credit >= this.#c.capacityCredit ? this.#c : null;
  }

  /** A new (full) bucket of the config `rested()` gave: the same as the bucket that rested. */
  static fromRest(c: BucketRest): TokenBucket {
    return new TokenBucket(c.ratePerSecond, c.burst, c.clock);
  }

  get ratePerSecond(): number {
    return this.#c.ratePerSecond;
  }

  get burst(): number {
    return this.#c.burst;
  }

  /**
   * Takes `n` tokens if available (all or nothing). `nowMs`: the caller's own read of this
   * bucket's clock's monotonic time (the receive path reads it once per datagram), else read here.
   */
  take(n = 1, nowMs = this.#c.clock.monotonic()): boolean {
    if (!(Number.isFinite(n) && n >= 0)) throw new RangeError('token count must be a non-negative number');
    this.#refill(nowMs);
    const cost = n * 1000;
    if (this.#credit < cost) return false;
    this.#credit -= cost;
    return true;
  }

  /** Tokens available now (may be fractional). */
  get tokens(): number {
    this.#refill();
    return this.#credit / 1000;
  }

  /** True when the bucket is at `burst`, i.e. indistinguishable from a new bucket. */
  isFull(): boolean {
    this.#refill();
    return this.#credit >= this.#c.capacityCredit;
  }

  /**
   * Refills by whole milliseconds of the clock (Math.floor): every amount stays an exact integer
   * with integer rates, and the last refill time stays a small integer in its field rather than
   * a boxed double (issue 12: one per peer). The rate over time is the clock's.
   */
  #refill(nowMs = this.#c.clock.monotonic()): void {
    const now = Math.floor(nowMs);
    const elapsedMs = now - this.#lastMs;
    if (elapsedMs <= 0) return; // a clock that stands still or steps back adds nothing
    this.#lastMs = now;
    const c = this.#c;
    if (this.#credit >= c.capacityCredit) return;
    this.#credit = Math.min(c.capacityCredit, this.#credit + elapsedMs * c.ratePerSecond);
  }
}

export interface KeyedRateLimiterOptions {
  ratePerSecond: number;
  burst: number;
  /** Most keys tracked at once (memory bound). */
  maxKeys: number;
  clock?: Clock;
}

/**
 * At most this many least-recently-used entries are examined per new key when the table is full,
 * so a flood of new keys costs O(1) per call.
 */
export const EVICTION_SCAN_LIMIT = 32;

/**
 * One token bucket per key, at most `maxKeys` keys. When a new key arrives and the table is full,
 * the least recently used buckets that have refilled completely are evicted (a full bucket equals
 * a fresh one, so evicting it never grants extra tokens). If none of the examined buckets is full,
 * the new key is denied: a flood of distinct keys cannot grow memory nor reset anyone's bucket.
 */
export class KeyedRateLimiter {
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly maxKeys: number;
  readonly #clock: Clock;
  /** Map iteration order is kept least recently used first (re-inserted on every use). */
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(options: KeyedRateLimiterOptions) {
    const { ratePerSecond, burst, maxKeys } = options;
    if (!(Number.isInteger(maxKeys) && maxKeys >= 1)) throw new RangeError('maxKeys must be a positive integer');
    checkRate(ratePerSecond, burst);
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.maxKeys = maxKeys;
    this.#clock = options.clock ?? systemClock;
  }

  /** Number of keys currently tracked (≤ maxKeys). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token from `key`'s bucket; false when it is empty or the table has no room. */
  allow(key: string): boolean {
    const bucket = this.#buckets.get(key);
    if (bucket !== undefined) {
      this.#buckets.delete(key);
      this.#buckets.set(key, bucket);
      return bucket.take(1);
    }
    if (this.#buckets.size >= this.maxKeys && !this.#evict()) return false;
    const fresh = new TokenBucket(this.ratePerSecond, this.burst, this.#clock);
    this.#buckets.set(key, fresh);
    return fresh.take(1);
  }

  /** Forgets one key (e.g. after a successful handshake). */
  delete(key: string): boolean {
    return this.#buckets.delete(key);
  }

  clear(): void {
    this.#buckets.clear();
  }

  /** Evicts full buckets among the least recently used ones; true when room was made. */
  #evict(): boolean {
    let examined = 0;
    for (const [key, bucket] of this.#buckets) {
      if (examined++ >= EVICTION_SCAN_LIMIT) break;
      if (bucket.isFull()) this.#buckets.delete(key);
    }
    return this.#buckets.size < this.maxKeys;
  }
}
