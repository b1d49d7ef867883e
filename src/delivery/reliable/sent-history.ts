/**
 * Packets sent to one peer and not yet acknowledged or declared lost, indexed by packet number
 * (quic-go internal/ackhandler/sent_packet_history.go plays this part there).
 *
 * A ring of slots indexed by `pn mod capacity` (a power of two; `%`, not `&`: numbers pass 2^32) covers [head, next): O(1) append and lookup, growing by
 * doubling when the span is full. Each slot is LIVE (tracked), ACKED, LOST or EMPTY (the number
 * went to a datagram that is not tracked: ack-only). When the last live packet goes, the ring
 * drops its arrays (its head is then its next number: nothing older is looked at) and allocates
 * them again, at the initial size, for the next tracked packet: an idle peer holds none (issue 12). Dead slots carry a forward "skip" pointer
 * compressed on use (union-find style), so finding the next live packet at or after any number
 * costs amortised O(1): an acknowledgement that covers nothing new visits no packet, whatever
 * the size of its ranges. `visits` counts the slots examined (tests assert on it).
 *
 * What a packet carried is kept as opaque frame references (`frames`), returned with the packet
 * when it is acknowledged or lost, so the sender can settle or requeue that data.
 */

export interface SentPacket<F> {
  readonly pn: number;
  readonly sentAtMs: number;
  /** Datagram bytes on the wire (what congestion control counts). */
  readonly bytes: number;
  /** Carries something the peer must acknowledge (data, probe); ack-only datagrams do not. */
  readonly ackEliciting: boolean;
  /** Counts toward bytes in flight. */
  readonly inFlight: boolean;
  /** Whatever the sender needs to settle or requeue this packet's content. */
  readonly frames: readonly F[];
}

const EMPTY = 0;
const LIVE = 1;
const ACKED = 2;
const LOST = 3;

/**
 * Slots of a new (or emptied) ring: enough for an idle peer's keepalives and acks; a busy
 * sender doubles from here. An emptied ring goes back to this size (issue 12: memory per idle peer).
 */
const INITIAL_CAPACITY = 8;
/** The arrays of an empty history (never read or written: with no live packet, head = next). */
const NO_SLOTS: never[] = [];
const NO_STATE = new Uint8Array(0);
const NO_SKIP = new Float64Array(0);

export class SentHistory<F> {
  #cap = INITIAL_CAPACITY;
  #slots: (SentPacket<F> | undefined)[] = NO_SLOTS;
  #state = NO_STATE;
  #skip = NO_SKIP;
  /** Every pn below head is dead and out of the ring. */
  #head: number;
  #next: number;
  #live = 0;
  /** Slots examined by lookups of the next live packet (a work counter for tests). */
  visits = 0;

  constructor(firstPacketNumber = 0) {
    if (!Number.isSafeInteger(firstPacketNumber) || firstPacketNumber < 0) throw new RangeError('firstPacketNumber must be a safe non-negative integer');
    this.#head = firstPacketNumber;
    this.#next = firstPacketNumber;
  }

  /** The number the next datagram gets. */
  get nextPacketNumber(): number { return this.#next; }
  /** Lowest number that may still be live. */
  get head(): number { return this.#head; }
  /** Packets tracked (neither acknowledged nor lost). */
  get size(): number { return this.#live; }
  /** Ring capacity (grows with the span between the oldest live packet and the newest). */
  get capacity(): number { return this.#cap; }
  /** Slots actually allocated: 0 while nothing is tracked (the idle form), else the capacity. */
  get slotsAllocated(): number { return this.#state.length; }

  /** Tracks a sent packet under the next number; returns it. */
  add(sentAtMs: number, bytes: number, ackEliciting: boolean, inFlight: boolean, frames: readonly F[]): SentPacket<F> {
    if (this.#state === NO_STATE) this.#resize(INITIAL_CAPACITY); // empty: head = next, nothing to move
    const pn = this.#claim();
    const p: SentPacket<F> = { pn, sentAtMs, bytes, ackEliciting, inFlight, frames };
    const i = pn % this.#cap;
    this.#slots[i] = p;
    this.#state[i] = LIVE;
    this.#live++;
    return p;
  }

  /** Uses the next number for a datagram that is not tracked (ack-only); returns it. */
  skip(): number {
    const pn = this.#claim();
    if (pn === this.#head && this.#live === 0) {
      this.#head = pn + 1; // nothing tracked: the number is dead at once, no slot needed
      return pn;
    }
    const i = pn % this.#cap;
    this.#slots[i] = undefined;
    this.#state[i] = EMPTY;
    this.#skip[i] = pn + 1;
    if (pn === this.#head) this.#head = pn + 1;
    return pn;
  }

  /** The live packet with this number, if any. O(1). */
  get(pn: number): SentPacket<F> | undefined {
    if (pn < this.#head || pn >= this.#next) return undefined;
    const i = pn % this.#cap;
    return this.#state[i] === LIVE ? this.#slots[i] : undefined;
  }

  /** Smallest live packet number ≥ pn, or nextPacketNumber when there is none. Amortised O(1). */
  nextLive(pn: number): number {
    let y = pn < this.#head ? this.#head : pn;
    const start = y;
    while (y < this.#next && this.#state[y % this.#cap] !== LIVE) {
      this.visits++;
      y = this.#skip[y % this.#cap]!;
    }
    // Path compression: every dead slot walked now points at y.
    let z = start;
    while (z < y) {
      const i = z % this.#cap;
      const n = this.#skip[i]!;
      this.#skip[i] = y;
      z = n;
    }
    return y;
  }

  /** Marks a live packet acknowledged and forgets it; returns it. */
  markAcked(pn: number): SentPacket<F> | undefined {
    return this.#remove(pn, ACKED);
  }
  /** Marks a live packet lost and forgets it; returns it. */
  markLost(pn: number): SentPacket<F> | undefined {
    return this.#remove(pn, LOST);
  }

  /**
   * Whether some packet numbered strictly between a and b (head ≤ a < b) was acknowledged.
   * Costs O(b − a); used only for the rare persistent-congestion check.
   */
  ackedBetween(a: number, b: number): boolean {
    for (let pn = Math.max(a + 1, this.#head); pn < b && pn < this.#next; pn++) {
      if (this.#state[pn % this.#cap] === ACKED) return true;
    }
    return false;
  }

  #remove(pn: number, state: number): SentPacket<F> | undefined {
    const p = this.get(pn);
    if (p === undefined) return undefined;
    const i = pn % this.#cap;
    this.#slots[i] = undefined;
    this.#state[i] = state;
    this.#skip[i] = pn + 1;
    this.#live--;
    if (pn === this.#head) this.#head = this.nextLive(pn);
    if (this.#live === 0) this.#release();
    return p;
  }

  #claim(): number {
    const pn = this.#next;
    if (pn >= Number.MAX_SAFE_INTEGER) throw new RangeError('packet number space exhausted');
    if (pn - this.#head >= this.#cap) this.#grow();
    this.#next = pn + 1;
    return pn;
  }

  #grow(): void {
    this.#resize(this.#cap * 2);
  }

  /** With no live packet (head = next) the ring holds nothing: drop its arrays until the next add. */
  #release(): void {
    this.#cap = INITIAL_CAPACITY;
    this.#slots = NO_SLOTS;
    this.#state = NO_STATE;
    this.#skip = NO_SKIP;
  }

  /** Moves [head, next) into a ring of `cap` slots (cap ≥ next − head). */
  #resize(cap: number): void {
    const slots = new Array<SentPacket<F> | undefined>(cap);
    const state = new Uint8Array(cap);
    const skip = new Float64Array(cap);
    for (let pn = this.#head; pn < this.#next; pn++) {
      const o = pn % this.#cap;
      const n = pn % cap;
      slots[n] = this.#slots[o];
      state[n] = this.#state[o]!;
      skip[n] = this.#skip[o]!;
    }
    this.#cap = cap;
    this.#slots = slots;
    this.#state = state;
    this.#skip = skip;
  }
}
