/**
 * The reliable sender's items (queued and in flight) in a ring of slots indexed by
 * `seq mod capacity` (a power of two, grown by doubling; `%`, not `&`: seqs pass 2^32). One
 * typed array per field, no object per item nor per message (issue 12: "the reliable sender's
 * in-flight state in a ring indexed by sequence number"): an item is its seq's slot, and a
 * message is its last item's slot — every item records its message's first and last seq and
 * wire flags; the last one also the deadline, the timeout and the promise's resolving
 * functions. Each slot records the seq it holds, so a lookup of a seq that left (or was never
 * added) finds nothing even when another seq shares its slot. A message is unsettled exactly
 * while its last item is held (it leaves when the message is acknowledged, abandoned or failed).
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

/** An unsettled message as failAll() settles it (read before the ring forgets it). */
export interface PendingMessage {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly timeoutMs: number;
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
  /** The item's message: its first and last seq, its wire flags. */
  #first = new Float64Array(0);
  #last = new Float64Array(0);
  #flags = new Uint8Array(0);
  /** Per message, in its last item's slot: deadline, timeout, the promise's resolving functions. */
  #deadline = new Float64Array(0);
  #timeout = new Float64Array(0);
  #resolve: ((() => void) | undefined)[] = [];
  #reject: (((err: Error) => void) | undefined)[] = [];
  /** Highest seq added. */
  #hi = 0;

  get capacity(): number { return this.#cap; }

  /** The slot of seq: a mask while seq fits a small integer (the usual case: no division), else `%` (seqs pass 2^32). */
  #at(seq: number): number {
    return seq <= 0x3fffffff ? seq & (this.#cap - 1) : seq % this.#cap;
  }

  /** Room for seqs [base, last] (grows, re-indexing the live items from base). */
  ensure(base: number, last: number): void {
    if (last - base < this.#cap) return;
    let cap = Math.max(this.#cap, INITIAL_CAPACITY);
    while (last - base >= cap) cap *= 2;
    const o = { cap: this.#cap, seq: this.#seq, state: this.#state, tx: this.#tx, sentAt: this.#sentAt, txOrder: this.#txOrder, rtoAt: this.#rtoAt, data: this.#data, first: this.#first, last: this.#last, flags: this.#flags, deadline: this.#deadline, timeout: this.#timeout, resolve: this.#resolve, reject: this.#reject };
    this.#cap = cap;
    this.#seq = new Float64Array(cap);
    this.#state = new Uint8Array(cap);
    this.#tx = new Uint32Array(cap);
    this.#sentAt = new Float64Array(cap);
    this.#txOrder = new Float64Array(cap);
    this.#rtoAt = new Float64Array(cap);
    this.#data = new Array<Uint8Array | undefined>(cap);
    this.#first = new Float64Array(cap);
    this.#last = new Float64Array(cap);
    this.#flags = new Uint8Array(cap);
    this.#deadline = new Float64Array(cap);
    this.#timeout = new Float64Array(cap);
    this.#resolve = new Array<(() => void) | undefined>(cap);
    this.#reject = new Array<((err: Error) => void) | undefined>(cap);
    if (o.cap === 0) return;
    for (let s = base; s <= this.#hi; s++) {
      const i = s % o.cap;
      if (o.seq[i] !== s || o.state[i] === 0) continue;
      const n = s % cap;
      this.#seq[n] = s;
      this.#state[n] = o.state[i]!;
      this.#tx[n] = o.tx[i]!;
      this.#sentAt[n] = o.sentAt[i]!;
      this.#txOrder[n] = o.txOrder[i]!;
      this.#rtoAt[n] = o.rtoAt[i]!;
      this.#data[n] = o.data[i];
      this.#first[n] = o.first[i]!;
      this.#last[n] = o.last[i]!;
      this.#flags[n] = o.flags[i]!;
      this.#deadline[n] = o.deadline[i]!;
      this.#timeout[n] = o.timeout[i]!;
      this.#resolve[n] = o.resolve[i];
      this.#reject[n] = o.reject[i];
    }
  }

  /** A new, never transmitted item of the message [first, last] (ensure() made room). */
  add(seq: number, data: Uint8Array, first: number, last: number, wireFlags: number): void {
    const i = this.#at(seq);
    this.#seq[i] = seq;
    this.#state[i] = LIVE;
    this.#tx[i] = 0;
    this.#sentAt[i] = -1;
    this.#txOrder[i] = 0;
    this.#rtoAt[i] = Infinity;
    this.#data[i] = data;
    this.#first[i] = first;
    this.#last[i] = last;
    this.#flags[i] = wireFlags;
    if (seq > this.#hi) this.#hi = seq;
  }

  /** The message whose last item is `last` (added): its deadline, timeout and resolving functions. */
  setMessage(last: number, deadlineMs: number, timeoutMs: number, resolve: () => void, reject: (err: Error) => void): void {
    const i = this.#at(last);
    this.#deadline[i] = deadlineMs;
    this.#timeout[i] = timeoutMs;
    this.#resolve[i] = resolve;
    this.#reject[i] = reject;
  }

  /** Whether seq is held (neither acknowledged nor abandoned). */
  live(seq: number): boolean {
    if (this.#cap === 0) return false;
    const i = this.#at(seq);
    return this.#seq[i] === seq && this.#state[i] !== 0;
  }

  /** Whether seq is held and has any of `bits`. */
  has(seq: number, bits: number): boolean {
    if (this.#cap === 0) return false;
    const i = this.#at(seq);
    return this.#seq[i] === seq && (this.#state[i]! & bits) !== 0;
  }

  /** The state bits of seq (LIVE | …), 0 when it is not held: one lookup for several tests. */
  state(seq: number): number {
    if (this.#cap === 0) return 0;
    const i = this.#at(seq);
    return this.#seq[i] === seq ? this.#state[i]! : 0;
  }

  set(seq: number, bits: number): void {
    this.#state[this.#at(seq)]! |= bits;
  }

  unset(seq: number, bits: number): void {
    this.#state[this.#at(seq)]! &= ~bits;
  }

  /** Records a transmission of a held item. */
  transmitted(seq: number, nowMs: number, txOrder: number, rtoAtMs: number): void {
    const i = this.#at(seq);
    this.#tx[i]!++;
    this.#sentAt[i] = nowMs;
    this.#txOrder[i] = txOrder;
    this.#rtoAt[i] = rtoAtMs;
    this.#state[i]! |= SENT;
  }

  // Field reads of a held item (callers check live() first).
  data(seq: number): Uint8Array { return this.#data[this.#at(seq)]!; }
  transmissions(seq: number): number { return this.#tx[this.#at(seq)]!; }
  sentAt(seq: number): number { return this.#sentAt[this.#at(seq)]!; }
  txOrder(seq: number): number { return this.#txOrder[this.#at(seq)]!; }
  rtoAt(seq: number): number { return this.#rtoAt[this.#at(seq)]!; }
  /** The first / last seq of the item's message, its wire flags. */
  first(seq: number): number { return this.#first[this.#at(seq)]!; }
  last(seq: number): number { return this.#last[this.#at(seq)]!; }
  wireFlags(seq: number): number { return this.#flags[this.#at(seq)]!; }
  // Message fields, read at its last seq while it is held.
  deadline(last: number): number { return this.#deadline[this.#at(last)]!; }
  timeout(last: number): number { return this.#timeout[this.#at(last)]!; }
  resolver(last: number): () => void { return this.#resolve[this.#at(last)]!; }
  rejecter(last: number): (err: Error) => void { return this.#reject[this.#at(last)]!; }

  /** Forgets a held item (acknowledged or abandoned). */
  remove(seq: number): void {
    const i = this.#at(seq);
    this.#state[i] = 0;
    this.#data[i] = undefined;
    this.#resolve[i] = undefined;
    this.#reject[i] = undefined;
  }

  /** Forgets every item in [from, to). */
  clear(from: number, to: number): void {
    for (let s = from; s < to; s++) if (this.live(s)) this.remove(s);
  }
}
