/**
 * The reliable sender's items (queued and in flight) in a ring of slots indexed by
 * `seq mod capacity` (a power of two, grown by doubling; `%`, not `&`: seqs pass 2^32). One
 * typed array per field, no object per item: an item is its seq's slot. Each slot records the
 * seq it holds, so a lookup of a seq that left (or was never added) finds nothing even when
 * another seq shares its slot. What is per message (flags, first/last seq, the promise) lives in
 * one SentMessage shared by its items.
 */

/** Slot state bits. */
export const LIVE = 1;
/** Transmitted at least once. */
export const SENT = 2;
/** Selectively acknowledged (not yet cumulatively). */
export const SACKED = 4;
/** To be retransmitted. */
export const DUE = 8;
/** Counted in the credit of a restarted receiver that has not seen it (ReliableSender.creditRestarted). */
export const RECOUNT = 16;

export interface SentMessage {
  settled: boolean;
  readonly firstSeq: number;
  readonly lastSeq: number;
  /** The items' wire flags (message flags | RELIABLE | FRAGMENT when fragmented). */
  readonly wireFlags: number;
  readonly deadlineMs: number;
  readonly timeoutMs: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

const noop = (): void => undefined;

/** The resolvers of the promise messagePromise() made last: the caller takes them at once, then clear()s. */
export const resolvers = {
  resolve: noop as () => void,
  reject: noop as (err: Error) => void,
  clear(): void {
    this.resolve = this.reject = noop;
  },
};
const capture = (resolve: () => void, reject: (err: Error) => void): void => {
  resolvers.resolve = resolve;
  resolvers.reject = reject;
};
/** A send's promise, its resolvers left in `resolvers` (one shared executor: no closure and context per message, issue 12). */
export const messagePromise = (): Promise<void> => new Promise<void>(capture);

const INITIAL_CAPACITY = 16;

export class SendRing {
  #cap = 0;
  #seq = new Float64Array(0);
  #state = new Uint8Array(0);
  #tx = new Uint32Array(0);
  #sentAt = new Float64Array(0);
  #txOrder = new Float64Array(0);
  #rtoAt = new Float64Array(0);
  #data: (Uint8Array | undefined)[] = [];
  #msg: (SentMessage | undefined)[] = [];
  /** Highest seq added. */
  #hi = 0;

  get capacity(): number { return this.#cap; }

  /** Room for seqs [base, last] (grows, re-indexing the live items from base). */
  ensure(base: number, last: number): void {
    if (last - base < this.#cap) return;
    let cap = Math.max(this.#cap, INITIAL_CAPACITY);
    while (last - base >= cap) cap *= 2;
    const old = { cap: this.#cap, seq: this.#seq, state: this.#state, tx: this.#tx, sentAt: this.#sentAt, txOrder: this.#txOrder, rtoAt: this.#rtoAt, data: this.#data, msg: this.#msg };
    this.#cap = cap;
    this.#seq = new Float64Array(cap);
    this.#state = new Uint8Array(cap);
    this.#tx = new Uint32Array(cap);
    this.#sentAt = new Float64Array(cap);
    this.#txOrder = new Float64Array(cap);
    this.#rtoAt = new Float64Array(cap);
    this.#data = new Array<Uint8Array | undefined>(cap);
    this.#msg = new Array<SentMessage | undefined>(cap);
    if (old.cap === 0) return;
    for (let s = base; s <= this.#hi; s++) {
      const o = s % old.cap;
      if (old.seq[o] !== s || old.state[o] === 0) continue;
      const n = s % cap;
      this.#seq[n] = s;
      this.#state[n] = old.state[o]!;
      this.#tx[n] = old.tx[o]!;
      this.#sentAt[n] = old.sentAt[o]!;
      this.#txOrder[n] = old.txOrder[o]!;
      this.#rtoAt[n] = old.rtoAt[o]!;
      this.#data[n] = old.data[o];
      this.#msg[n] = old.msg[o];
    }
  }

  /** A new, never transmitted item (ensure() made room). */
  add(seq: number, data: Uint8Array, msg: SentMessage): void {
    const i = seq % this.#cap;
    this.#seq[i] = seq;
    this.#state[i] = LIVE;
    this.#tx[i] = 0;
    this.#sentAt[i] = -1;
    this.#txOrder[i] = 0;
    this.#rtoAt[i] = Infinity;
    this.#data[i] = data;
    this.#msg[i] = msg;
    if (seq > this.#hi) this.#hi = seq;
  }

  /** Whether seq is held (neither acknowledged nor abandoned). */
  live(seq: number): boolean {
    if (this.#cap === 0) return false;
    const i = seq % this.#cap;
    return this.#seq[i] === seq && this.#state[i] !== 0;
  }

  /** Whether seq is held and has any of `bits`. */
  has(seq: number, bits: number): boolean {
    if (this.#cap === 0) return false;
    const i = seq % this.#cap;
    return this.#seq[i] === seq && (this.#state[i]! & bits) !== 0;
  }

  /** The state bits of seq (LIVE | …), 0 when it is not held: one lookup for several tests. */
  state(seq: number): number {
    if (this.#cap === 0) return 0;
    const i = seq % this.#cap;
    return this.#seq[i] === seq ? this.#state[i]! : 0;
  }

  set(seq: number, bits: number): void {
    this.#state[seq % this.#cap]! |= bits;
  }

  unset(seq: number, bits: number): void {
    this.#state[seq % this.#cap]! &= ~bits;
  }

  /** Records a transmission of a held item. */
  transmitted(seq: number, nowMs: number, txOrder: number, rtoAtMs: number): void {
    const i = seq % this.#cap;
    this.#tx[i]!++;
    this.#sentAt[i] = nowMs;
    this.#txOrder[i] = txOrder;
    this.#rtoAt[i] = rtoAtMs;
    this.#state[i]! |= SENT;
  }

  // Field reads of a held item (callers check live() first).
  message(seq: number): SentMessage { return this.#msg[seq % this.#cap]!; }
  data(seq: number): Uint8Array { return this.#data[seq % this.#cap]!; }
  transmissions(seq: number): number { return this.#tx[seq % this.#cap]!; }
  sentAt(seq: number): number { return this.#sentAt[seq % this.#cap]!; }
  txOrder(seq: number): number { return this.#txOrder[seq % this.#cap]!; }
  rtoAt(seq: number): number { return this.#rtoAt[seq % this.#cap]!; }

  /** Forgets a held item (acknowledged or abandoned). */
  remove(seq: number): void {
    const i = seq % this.#cap;
    this.#state[i] = 0;
    this.#data[i] = undefined;
    this.#msg[i] = undefined;
  }

  /** Forgets every item in [from, to). */
  clear(from: number, to: number): void {
    for (let s = from; s < to; s++) if (this.live(s)) this.remove(s);
  }
}
