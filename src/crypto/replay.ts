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
 *
 * Use: `wouldAccept(c)` before decrypting (cheap, no change), `accept(c)` only after the
 * packet authenticated (marks c). Non-integer, negative or unsafe counters are refused.
 */
import { REPLAY_WINDOW_PACKETS } from '../constants';

const BLOCK_BITS = 32;
/** Upper bound on the window size (512 KiB of bitmap), to keep per-session memory bounded. */
export const MAX_REPLAY_WINDOW_PACKETS = 1 << 22;

export class ReplayWindow {
  readonly windowPackets: number;
  /** null: the in-order form (every counter ≤ #highest accepted, none when !#any). */
  #ring: Uint32Array | null = null;
  readonly #ringBlocks: number;
  /**
   * Highest counter accepted; null before any. Stored as a small integer while below 2^31 (`| 0`):
   * a field of numbers from the receive path's arithmetic is otherwise a boxed double per
   * session (issue 12); null first keeps the field's values in place.
   */
  #highest: number | null = null;

  constructor(windowPackets: number = REPLAY_WINDOW_PACKETS) {
    if (!Number.isInteger(windowPackets) || windowPackets < 1 || windowPackets > MAX_REPLAY_WINDOW_PACKETS) {
      throw new RangeError(`replay window must be an integer in [1, ${MAX_REPLAY_WINDOW_PACKETS}] packets`);
    }
    this.windowPackets = windowPackets;
    // One block more than the window needs: the block of the highest counter is partly "future".
    this.#ringBlocks = Math.ceil(windowPackets / BLOCK_BITS) + 1;
  }

  /** Whether the ring exists (false in the in-order form: nothing out of order seen yet). */
  get hasRing(): boolean {
    return this.#ring !== null;
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
    if (ring === null) return false;
    if (highest - counter >= this.windowPackets) return false;
    return (ring[this.#blockIndex(counter)]! & bitMask(counter)) === 0;
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
        this.#setHighest(counter); // in order: still no ring
        return true;
      }
      if (highest !== null && counter <= highest) return false;
      ring = this.#buildRing();
    }
    if (highest === null || counter > highest) {
      this.#advance(counter);
    } else if (highest - counter >= this.windowPackets) {
      return false;
    }
    const index = this.#blockIndex(counter);
    const bit = bitMask(counter);
    const old = ring[index]!;
    if ((old & bit) !== 0) return false;
    ring[index] = old | bit;
    // Back to the in-order form once every counter of the window up to the highest was received:
    // looked at when a late counter filled a gap, or when the highest entered a new block (a gap
    // may have left the window). The forms accept exactly the same counters then.
    if (highest !== null && (counter < highest || (counter & (BLOCK_BITS - 1)) === 0) && this.#complete(ring)) this.#ring = null;
    return true;
  }

  /** Every counter of the window up to the highest is marked (O(window / 32)). */
  #complete(ring: Uint32Array): boolean {
    const hi = this.#highest!;
    const lo = Math.max(0, hi - this.windowPackets + 1);
    for (let b = Math.floor(lo / BLOCK_BITS); b <= Math.floor(hi / BLOCK_BITS); b++) {
      const base = b * BLOCK_BITS;
      const from = Math.max(lo, base) - base;
      const to = Math.min(hi, base + BLOCK_BITS - 1) - base;
      const mask = to - from === BLOCK_BITS - 1 ? 0xffffffff : (((1 << (to - from + 1)) - 1) << from) >>> 0;
      if ((ring[b % this.#ringBlocks]! & mask) >>> 0 !== mask) return false;
    }
    return true;
  }

  /** Forgets every counter (as if newly constructed). */
  reset(): void {
    this.#ring = null;
    this.#highest = null;
  }

  #setHighest(counter: number): void {
    this.#highest = counter <= 0x7fffffff ? counter | 0 : counter;
  }

  /** The ring of the in-order form: every counter of the window up to the highest marked. */
  #buildRing(): Uint32Array {
    const ring = new Uint32Array(this.#ringBlocks);
    this.#ring = ring;
    const highest = this.#highest;
    if (highest !== null) {
      for (let c = Math.max(0, highest - this.windowPackets + 1); c <= highest; c++) ring[this.#blockIndex(c)]! |= bitMask(c);
    }
    return ring;
  }

  /** Moves the highest counter forward, zeroing the blocks that enter the window. */
  #advance(counter: number): void {
    const ring = this.#ring!;
    const current = Math.floor((this.#highest ?? 0) / BLOCK_BITS);
    const target = Math.floor(counter / BLOCK_BITS);
    const steps = target - current;
    if (steps >= this.#ringBlocks) {
      ring.fill(0);
    } else {
      for (let block = current + 1; block <= target; block++) ring[block % this.#ringBlocks] = 0;
    }
    this.#setHighest(counter);
  }

  #blockIndex(counter: number): number {
    return Math.floor(counter / BLOCK_BITS) % this.#ringBlocks;
  }
}

function isValidCounter(counter: number): boolean {
  return Number.isSafeInteger(counter) && counter >= 0;
}

/** `counter & 31` is exact for safe integers (ToInt32 is modulo 2^32). */
function bitMask(counter: number): number {
  return (1 << (counter & (BLOCK_BITS - 1))) >>> 0;
}
