/**
 * Admission to handshake verification work (DH / signature operations), issue 10 deliverable 2:
 *
 * - a global budget (token bucket, operations per second) caps the CPU the node spends;
 * - each source (an IPv4 address, or an IPv6 /64) draws from its own bucket, refilled at its
 *   fair share: min(perSourcePerSecond, globalPerSecond / active sources), so the sum of the
 *   shares never exceeds the global budget and a thousand busy sources cannot starve one quiet
 *   one (max-min fairness, computed in O(1) from a count of sources active in the last second;
 *   only sources that were admitted at least once count, so a stream of never-admitted spoofed
 *   addresses cannot dilute everyone's share);
 * - a source seen for the first time gets one operation from a newcomer budget (a quarter of the
 *   global rate), so first contact is immediate but rotating addresses cannot drain the budget
 *   of sources with history;
 * - the global budget keeps headroom: sources with history may draw it down only to a reserve
 *   (half the newcomer burst), newcomers to half of that, and priority sources — the exact
 *   address and port of a configured peer, proving a cookie when one is required — to zero. So
 *   however many cookie-proving sources share the budget (each at its fair share, together using
 *   all of it), a peer's handshake from its known endpoint is admitted at once;
 * - cookie replies are budgeted per source too (COOKIE_REPLIES_PER_SECOND, burst
 *   COOKIE_REPLY_BURST): a blind spoofer's thousand addresses cost a few replies a second each,
 *   not one per message. A legitimate initiator needs one cookie per 2 minutes; a configured
 *   peer's endpoint (priority) is always answered, so spoofing a peer's IP cannot starve it;
 * - the table is fixed-size (oldest evicted, recently active ones get a second chance) and every
 *   check is O(1): the same
 *   cost with 10 or 10,000 sources.
 *
 * `check()` also says when a cookie round trip is needed (under load, or always for TOFU first
 * contact): the node answers with a cookie reply instead of doing the work.
 */
import type { Clock } from '../runtime/clock';
import { Bucket, wholeMs } from './admission-bucket';
import { CookieBudgets } from './cookie-budget';

export interface AdmissionOptions {
  /** Verification operations per second for the whole node. */
  globalPerSecond: number;
  globalBurst: number;
  /** Ceiling of one source's rate (its share is lower when many sources are active). */
  perSourcePerSecond: number;
  perSourceBurst: number;
  /** Most sources tracked (memory bound); see #evictOne. */
  maxSources: number;
  /** Fraction of the global rate for sources seen for the first time (default 0.25). */
  newcomerShare?: number;
  clock: Clock;
}

export const DEFAULT_ADMISSION = {
  globalPerSecond: 2000,
  globalBurst: 500,
  perSourcePerSecond: 50,
  perSourceBurst: 10,
  maxSources: 65536,
  newcomerShare: 0.25,
} as const;

export { COOKIE_REPLIES_PER_SECOND, COOKIE_REPLY_BURST } from './cookie-budget';

export type AdmissionVerdict =
  | 'admit' // do the work (the tokens are taken)
  | 'cookie' // answer with a cookie reply, do no asymmetric work
  | 'source' // this source is over its share (or its cookie-reply budget): drop, count rateLimited
  | 'global'; // the node is over its budget: drop, count rateLimited

interface Entry {
  credit: number;
  /** Whole ms (the refill counts whole ms of the clock): a small integer in place, not a boxed double per source (issue 12). */
  lastMs: number;
  epoch: number;
  /** Admitted at least once: only such sources count as active (divide the budget). */
  known: boolean;
}

const EPOCH_MS = 1000;
const EVICTION_SCAN = 8;
/** Under load for this long after the global budget ran low (hysteresis). */
export const LOAD_HOLD_MS = 1000;

export class Admission {
  readonly #o: Required<AdmissionOptions>;
  readonly #sources = new Map<string, Entry>();
  /** Cookie-reply budgets, at most maxSources (the oldest goes first). */
  readonly #cookieBudgets: CookieBudgets;
  readonly #global: Bucket;
  readonly #newcomers: Bucket;
  /** Demand: handshake messages offered (mac1-valid), admitted or not, at half the global rate. */
  readonly #demand: Bucket;
  #epoch = 0;
  #activeNow = 0;
  #activePrev = 0;
  #loadUntilMs = -Infinity;
  /** Global credit that sources with history leave untouched (newcomers leave half of it). */
  readonly #reserve: number;
  readonly counters = { admitted: 0, cookies: 0, refusedSource: 0, refusedGlobal: 0, evicted: 0, priority: 0, cookiesRefused: 0 };

  constructor(options: AdmissionOptions) {
    const o = { newcomerShare: DEFAULT_ADMISSION.newcomerShare, ...options };
    for (const k of ['globalPerSecond', 'globalBurst', 'perSourcePerSecond', 'perSourceBurst', 'maxSources'] as const) {
      if (!(Number.isFinite(o[k]) && o[k] > 0)) throw new RangeError(`${k} must be a positive number`);
    }
    if (!(o.newcomerShare > 0 && o.newcomerShare <= 1)) throw new RangeError('newcomerShare must be in (0, 1]');
    this.#o = o;
    const now = o.clock.monotonic();
    this.#global = new Bucket(o.globalPerSecond, o.globalBurst, now);
    this.#newcomers = new Bucket(o.globalPerSecond * o.newcomerShare, Math.max(1, o.globalBurst * o.newcomerShare), now);
    this.#demand = new Bucket(o.globalPerSecond / 2, o.globalBurst, now);
    this.#reserve = (o.globalBurst * o.newcomerShare) / 2;
    this.#cookieBudgets = new CookieBudgets(o.maxSources);
    this.#epoch = Math.floor(now / EPOCH_MS);
  }

  /** Whether `source` has an entry now. */
  tracks(source: string): boolean {
    return this.#sources.has(source);
  }

  /** Sources tracked now (≤ maxSources). */
  get size(): number {
    return this.#sources.size;
  }

  /** Sources active in the current or the previous second (the divisor of the fair share). */
  get activeSources(): number {
    this.#roll(this.#o.clock.monotonic());
    return Math.max(1, this.#activeNow, this.#activePrev);
  }

  /** The rate each active source is refilled at now. */
  get fairSharePerSecond(): number {
    return Math.min(this.#o.perSourcePerSecond, this.#o.globalPerSecond / this.activeSources);
  }

  /**
   * True while the demand (messages offered, whether admitted or not) exceeds half the global
   * rate, or the global budget is below half — and for LOAD_HOLD_MS after: handshakes then need
   * a valid mac2 (a cookie round trip), so blind spoofers cause no asymmetric work at all.
   */
  get underLoad(): boolean {
    const now = this.#o.clock.monotonic();
    this.#global.refill(now);
    if (this.#global.credit < this.#global.burst / 2) this.#loadUntilMs = now + LOAD_HOLD_MS;
    return now < this.#loadUntilMs;
  }

  /**
   * Decides about one handshake message from `source` (see sourceKey) whose mac1 was valid.
   * `mac2Valid`: it proves a cookie for its source address (a function: computed only when
   * needed); `cookieRequired`: always gate it (TOFU first contact); `priority`: it comes from the
   * exact endpoint of a configured peer (see admit). Cost 1 = the work of one message (the caller
   * may weigh messages).
   */
  check(source: string, opts: { mac2Valid: boolean | (() => boolean); cookieRequired?: boolean; priority?: boolean }, cost = 1): AdmissionVerdict {
    const now = this.#o.clock.monotonic();
    this.#roll(now);
    this.#demand.refill(now);
    if (this.#demand.credit >= 1) this.#demand.credit -= 1;
    else this.#loadUntilMs = now + LOAD_HOLD_MS;
    const gated = opts.cookieRequired === true || this.underLoad;
    if (opts.priority !== true && this.#hopeless(source, now, cost)) {
      this.counters.refusedSource++;
      return 'source';
    }
    const mac2Valid = typeof opts.mac2Valid === 'function' ? opts.mac2Valid() : opts.mac2Valid;
    if (gated && !mac2Valid) {
      if (opts.priority !== true && !this.#cookieBudgets.allowed(source, now)) {
        this.counters.cookiesRefused++;
        return 'source';
      }
      this.counters.cookies++;
      return 'cookie';
    }
    return this.admit(source, cost, opts.priority === true);
  }

  /**
   * Takes `cost` from the source's share and from the global budget, or refuses. A `priority`
   * message may use the global budget's headroom: the caller vouches that it comes from a
   * configured peer's endpoint and (under load) proved a cookie for that address and port, which a
   * flood of spoofed or cookie-proving sources elsewhere cannot.
   */
  admit(source: string, cost = 1, priority = false): AdmissionVerdict {
    const now = this.#o.clock.monotonic();
    this.#roll(now);
    let e = this.#sources.get(source);
    if (!e) {
      if (this.#sources.size >= this.#o.maxSources) this.#evictOne();
      this.#newcomers.refill(now);
      // A priority source's first operation does not draw on the newcomer budget.
      const gift = priority || this.#newcomers.credit >= 1 ? 1 : 0;
      if (!priority) this.#newcomers.credit -= gift;
      e = { credit: gift, lastMs: wholeMs(now), epoch: -1, known: false };
      this.#sources.set(source, e);
    }
    if (e.known && e.epoch !== this.#epoch) {
      e.epoch = this.#epoch;
      this.#activeNow++;
    }
    // A priority source refills at its ceiling, the others at their fair share.
    const share = priority ? this.#o.perSourcePerSecond : Math.min(this.#o.perSourcePerSecond, this.#o.globalPerSecond / Math.max(1, this.#activeNow, this.#activePrev));
    const wholeNow = wholeMs(now);
    const dt = wholeNow - e.lastMs;
    if (dt > 0) {
      e.credit = Math.min(this.#o.perSourceBurst, e.credit + (dt * share) / 1000);
      e.lastMs = wholeNow;
    }
    const newcomer = !e.known;
    if (e.credit < cost) {
      this.counters.refusedSource++;
      return 'source';
    }
    this.#global.refill(now);
    const floor = priority ? 0 : newcomer ? this.#reserve / 2 : this.#reserve;
    if (this.#global.credit - cost < floor) {
      this.#loadUntilMs = now + LOAD_HOLD_MS;
      this.counters.refusedGlobal++;
      return 'global';
    }
    e.credit -= cost;
    this.#global.credit -= cost;
    if (!e.known) {
      e.known = true;
      e.epoch = this.#epoch;
      this.#activeNow++;
    }
    this.counters.admitted++;
    if (priority) this.counters.priority++;
    return 'admit';
  }

  /**
   * A known source without share credit is refused whatever its mac2 says (with a valid one it
   * would be over its share; without, a cookie would be of no use to it before its share
   * refills): `check` then skips the mac2 hashes (`mac2Valid` may be a function). Reads the
   * credit as it would be refilled now, without changing it.
   */
  #hopeless(source: string, now: number, cost: number): boolean {
    const e = this.#sources.get(source);
    if (!e || !e.known) return false;
    const share = Math.min(this.#o.perSourcePerSecond, this.#o.globalPerSecond / Math.max(1, this.#activeNow, this.#activePrev));
    return Math.min(this.#o.perSourceBurst, e.credit + (Math.max(0, wholeMs(now) - e.lastMs) * share) / 1000) < cost;
  }

  /**
   * CLOCK-style eviction in insertion order: an entry active in this or the previous second gets
   * a second chance (moved to the back), at most EVICTION_SCAN entries are looked at, then the
   * oldest goes regardless. O(1), and lookups never reorder the table.
   */
  #evictOne(): void {
    for (let i = 0; i < EVICTION_SCAN; i++) {
      const [key, entry] = this.#sources.entries().next().value as [string, Entry];
      this.#sources.delete(key);
      if (i < EVICTION_SCAN - 1 && entry.known && entry.epoch >= this.#epoch - 1) {
        this.#sources.set(key, entry);
        continue;
      }
      this.counters.evicted++;
      return;
    }
  }

  #roll(now: number): void {
    const epoch = Math.floor(now / EPOCH_MS);
    if (epoch === this.#epoch) return;
    this.#activePrev = epoch === this.#epoch + 1 ? this.#activeNow : 0;
    this.#activeNow = 0;
    this.#epoch = epoch;
  }
}
