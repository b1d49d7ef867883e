/**
 * Anti-replay sliding window on a per-session packet counter (RFC 6479).
 *
 * The window remembers the highest counter accepted so far (`highestCounter`) and which of
 * the `windowPackets` most recent counters (highestCounter − windowPackets + 1 … highestCounter)
 * were seen, in a ring of 32-bit blocks. A counter is accepted at most once; a counter
 * `windowPackets` or more behind the highest is refused. Moving forward only zeroes the blocks
 * that slide into the window, so memory is fixed at ⌈windowPackets / 32⌉ + 1 blocks whatever
 * the counters (up to Number.MAX_SAFE_INTEGER = 2^53 − 1) and however far they jump.
 *
 * The ring exists only while counters arrive out of order (issue 12: memory per idle peer): while
 * every counter from 0 to the highest was accepted in order — a session's keepalives, most
 * traffic — the window is just the highest counter; the first gap or late counter builds the
 * ring, marked with every counter of the window up to the highest, and it goes again once every
 * counter of the window up to the highest was received (the gap filled, or left the window).
 * Between the two, a third form (memheap17): the highest counter and the few (≤ MAX_MISSING)
 * counters of the window below it not received — a lost packet leaves one, and an idle session
 * never moves it out of the window (2,048 packets), so the ~0.4 KB ring would stay for the
 * session's life. The forms accept exactly the same counters.
 *
 * Use: `wouldAccept(c)` before decrypting (cheap, no change), `accept(c)` only after the
 * packet authenticated (marks c). Non-integer, negative or unsafe counters are refused.
 */
import { REPLAY_WINDOW_PACKETS } from '../constants';

const BLOCK_BITS = 32;
/** Most counters missing below the highest in the third form (more: the ring). */
export const MAX_MISSING = 8;
/** Upper bound on the window size (512 KiB of bitmap), to keep per-session memory bounded. */
export const MAX_REPLAY_WINDOW_PACKETS = 1 << 22;

export class ReplayWindow {
  readonly windowPackets: number;
  /** null: the in-order form (every counter ≤ #highest accepted, none when !#any). Its length is the block count (ringBlocks). */
  #ring: Uint32Array | null = null;
  /**
   * Highest counter accepted; null before any. Stored as a small integer while below 2^31 (`| 0`):
   * a field of numbers from the receive path's arithmetic is otherwise a boxed double per
   * session (issue 12); null first keeps the field's values in place.
   */
  #highest: number | null = null;
  /** The third form (with #ring null): the counters of the window below #highest not received, ascending; null: none (the in-order form). */
  #missing: number[] | null = null;

  constructor(windowPackets: number = REPLAY_WINDOW_PACKETS) {
    if (!Number.isInteger(windowPackets) || windowPackets < 1 || windowPackets > MAX_REPLAY_WINDOW_PACKETS) {
      throw new RangeError(`replay window must be an integer in [1, ${MAX_REPLAY_WINDOW_PACKETS}] packets`);
    }
    this.windowPackets = windowPackets;
  }

  /** Whether the ring exists (false in the in-order form: nothing out of order seen yet). */
  get hasRing(): boolean {
    return this.#ring !== null;
  }

  /** The storage form: every counter up to the highest received, a few missing, or the ring. */
  get form(): 'in-order' | 'missing' | 'ring' {
    return this.#ring !== null ? 'ring' : this.#missing !== null ? 'missing' : 'in-order';
  }

  /** Highest counter accepted so far, or −1 when none was. */
  get highestCounter(): number {
    return this.#highest ?? -1;
  }

  /** True when `accept(counter)` would succeed now. Does not modify the window. */
  wouldAccept(counter: number): boolean {
    if (!isValidCounter(counter)) return false;
    const ring = this.#ring;
    const highest = this.#highest;
    if (highest === null || counter > highest) return true;
    if (highest - counter >= this.windowPackets) return false;
    if (ring === null) return this.#missing !== null && this.#missing.includes(counter);
    return (ring[blockIndex(ring, counter)]! & bitMask(counter)) === 0;
  }

  /**
   * Marks `counter` as received. Call only for authenticated packets. Returns false (and changes
   * nothing) when the counter was already received, is too old for the window, or is invalid.
   */
  accept(counter: number): boolean {
    if (!isValidCounter(counter)) return false;
    let ring = this.#ring;
    const highest = this.#highest;
    if (ring === null) {
      if (highest === null ? counter === 0 : counter === highest + 1) {
        this.#highest = smallInt(counter); // in order: still no ring
        const missing = this.#missing;
        if (missing !== null && counter - missing[0]! >= this.windowPackets) this.#missing = exact(missing.filter((m) => m >= counter - this.windowPackets + 1));
        return true;
      }
      if (highest !== null && counter <= highest) return ReplayWindow.#fill(this, counter, highest);
      if (ReplayWindow.#skip(this, counter, highest)) return true;
      ring = ReplayWindow.#buildRing(this);
    }
    if (highest === null || counter > highest) {
      advance(ring, highest ?? 0, counter);
      this.#highest = smallInt(counter);
    } else if (highest - counter >= this.windowPackets) {
      return false;
    }
    const index = blockIndex(ring, counter);
    const bit = bitMask(counter);
    const old = ring[index]!;
    if ((old & bit) !== 0) return false;
    ring[index] = old | bit;
    // Back to the in-order form once every counter of the window up to the highest was received:
    // looked at when a late counter filled a gap, or when the highest entered a new block (a gap
    // may have left the window). The forms accept exactly the same counters then.
    if (highest !== null && (counter < highest || (counter & (BLOCK_BITS - 1)) === 0)) {
      const missing = unmarked(ring, this.#highest!, this.windowPackets);
      if (missing !== null) {
        this.#ring = null;
        this.#missing = exact(missing);
      }
    }
    return true;
  }

  /*
   * The helpers below are static, or functions of the module, not private instance methods: a
   * class with private instance methods gives each instance a brand field (8 B per session;
   * mem22, issue 12).
   */

  /** A late counter in the ring-less forms: accepted once if it is one of the missing ones. */
  static #fill(w: ReplayWindow, counter: number, highest: number): boolean {
    const missing = w.#missing;
    if (missing === null || highest - counter >= w.windowPackets) return false;
    if (!missing.includes(counter)) return false;
    w.#missing = exact(missing.filter((m) => m !== counter));
    return true;
  }

  /**
   * A jump forward in the ring-less forms: the counters skipped join the missing ones (those that
   * stay in the window) when no more than MAX_MISSING are then missing; false: the ring is needed.
   */
  static #skip(w: ReplayWindow, counter: number, highest: number | null): boolean {
    const lo = counter - w.windowPackets + 1; // the lowest counter of the window after the move
    const from = Math.max(highest === null ? 0 : highest + 1, lo);
    const kept = w.#missing === null ? 0 : w.#missing.filter((m) => m >= lo).length;
    if (kept + (counter - from) > MAX_MISSING) return false;
    const missing = w.#missing === null ? [] : w.#missing.filter((m) => m >= lo);
    for (let c = from; c < counter; c++) missing.push(c);
    w.#missing = exact(missing);
    w.#highest = smallInt(counter);
    return true;
  }

  /** Forgets every counter (as if newly constructed). */
  reset(): void {
    this.#ring = null;
    this.#highest = null;
    this.#missing = null;
  }

  /** The ring of a ring-less form: every counter of the window up to the highest marked but the missing ones. */
  static #buildRing(w: ReplayWindow): Uint32Array {
    // One block more than the window needs: the block of the highest counter is partly "future".
    const ring = new Uint32Array(Math.ceil(w.windowPackets / BLOCK_BITS) + 1);
    w.#ring = ring;
    const highest = w.#highest;
    if (highest !== null) {
      for (let c = Math.max(0, highest - w.windowPackets + 1); c <= highest; c++) ring[blockIndex(ring, c)]! |= bitMask(c);
      for (const m of w.#missing ?? []) if (highest - m < w.windowPackets) ring[blockIndex(ring, m)]! &= ~bitMask(m);
    }
    w.#missing = null;
    return ring;
  }
}

/**
 * The missing counters as kept: null when none, else an array of exactly their number (a list
 * grown by push or made by filter has room for 17: 152 B where one counter needs 24 B; mem22).
 */
function exact(missing: number[]): number[] | null {
  return missing.length === 0 ? null : missing.slice();
}

/** A counter as a field value: a small integer while below 2^31 (a field of numbers from the receive path's arithmetic is otherwise a boxed double per session, issue 12). */
function smallInt(counter: number): number {
  return counter <= 0x7fffffff ? counter | 0 : counter;
}

function blockIndex(ring: Uint32Array, counter: number): number {
  return Math.floor(counter / BLOCK_BITS) % ring.length;
}

/** Moves the highest counter from `highest` to `counter`, zeroing the ring's blocks that enter the window. */
function advance(ring: Uint32Array, highest: number, counter: number): void {
  const current = Math.floor(highest / BLOCK_BITS);
  const target = Math.floor(counter / BLOCK_BITS);
  if (target - current >= ring.length) {
    ring.fill(0);
  } else {
    for (let block = current + 1; block <= target; block++) ring[block % ring.length] = 0;
  }
}

/**
 * The counters of the window up to `hi` that are not marked in the ring, ascending, or null when
 * more than MAX_MISSING are (O(window / 32)).
 */
function unmarked(ring: Uint32Array, hi: number, windowPackets: number): number[] | null {
  const lo = Math.max(0, hi - windowPackets + 1);
  let out: number[] | null = null;
  for (let b = Math.floor(lo / BLOCK_BITS); b <= Math.floor(hi / BLOCK_BITS); b++) {
    const base = b * BLOCK_BITS;
    const from = Math.max(lo, base) - base;
    const to = Math.min(hi, base + BLOCK_BITS - 1) - base;
    const mask = to - from === BLOCK_BITS - 1 ? 0xffffffff : (((1 << (to - from + 1)) - 1) << from) >>> 0;
    const holes = (~ring[b % ring.length]! & mask) >>> 0;
    if (holes === 0) continue;
    for (let i = from; i <= to; i++) {
      if ((holes & (1 << i)) === 0) continue;
      if ((out ??= []).length === MAX_MISSING) return null;
      out.push(base + i);
    }
  }
  return out ?? [];
}

function isValidCounter(counter: number): boolean {
  return Number.isSafeInteger(counter) && counter >= 0;
}

/** `counter & 31` is exact for safe integers (ToInt32 is modulo 2^32). */
function bitMask(counter: number): number {
  return (1 << (counter & (BLOCK_BITS - 1))) >>> 0;
}
