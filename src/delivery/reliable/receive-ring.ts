/**
 * What a reliable receiver holds above its cumulative point: a ring of slots indexed by
 * `seq mod capacity` (a power of two, grown by doubling; `%`, not `&`: seqs pass 2^32), each
 * empty, a whole item (a copy: a buffered item never retains a datagram), or a fragment's
 * message. A fragmented message is one `Assembly` whose buffer has the message's size: every
 * fragment is copied once, to its place, and the complete message is a view of that buffer
 * (no concatenation). The assembly occupies the slots of all its seqs from its first fragment
 * on; `present` says which of them arrived.
 *
 * Bytes are what is held: a whole item's length; an assembly's buffer, or before it exists the
 * copies of its fragments (the buffer comes with the first fragment that gives the chunk size
 * for messages ≤ 64 KiB, once an eighth arrived for larger ones).
 */
import { FLAG_FRAGMENT } from '../../wire/frame';

/** A whole (unfragmented) item waiting for the items before it. */
export interface WholeItem {
  readonly flags: number;
  readonly data: Uint8Array;
}

/** A fragmented message of at most this size gets its buffer with the fragment that gives the chunk size. */
export const EAGER_BUFFER_BYTES = 64 * 1024;
/**
 * A larger one once 1/BUFFER_AFTER_PART of it arrived: until then its fragments are copied
 * aside (and moved into the buffer then), so a few datagrams cannot pin a large buffer.
 */
export const BUFFER_AFTER_PART = 8;

/** One fragmented message being received (fragments of `chunk` bytes, the last 1…chunk). */
export class Assembly {
  /** Non-last fragment length; 0 until one arrived. */
  chunk = 0;
  /** Last fragment length; -1 until it arrived. */
  lastBytes = -1;
  /** Fragments received. */
  got = 0;
  /** The message buffer (min(count × chunk, maxMessageBytes) bytes), once allocated. */
  buf: Uint8Array | null = null;
  /** Fragments copied before the buffer exists, by index. */
  #held: (Uint8Array | undefined)[] | null = null;
  /** Bytes held (charged to the receiver's budget). */
  bytes = 0;
  /** Fragment bytes received (flow-control credit counts these), and whether the first fragment is among them. */
  received = 0;
  hasFirst = false;
  /** The message is larger than the buffer allows (maxMessageBytes): refused when it reaches the head. */
  oversize = false;

  constructor(
    readonly firstSeq: number,
    readonly count: number,
    /** The message's flags (FRAGMENT stripped). */
    readonly flags: number,
  ) {}

  get lastSeq(): number { return this.firstSeq + this.count - 1; }
  get complete(): boolean { return this.got === this.count; }
  /** Message size once complete. */
  get total(): number { return (this.count - 1) * this.chunk + this.lastBytes; }
  /**
   * Whether fragment `index` of `len` bytes agrees with the message: one length for all but the
   * last, the last 1…that length (as fragment() cuts them).
   */
  fits(index: number, len: number): boolean {
    if (len === 0) return false;
    if (index === this.count - 1) return this.chunk === 0 || len <= this.chunk;
    return this.chunk !== 0 ? len === this.chunk : this.lastBytes <= len;
  }

  /** The buffer size if fragment `index` of `len` bytes makes it allocated now, else 0. */
  #allocates(index: number, len: number, maxMessageBytes: number): number {
    if (this.buf !== null) return 0;
    const chunk = this.chunk !== 0 ? this.chunk : index !== this.count - 1 ? len : 0;
    if (chunk === 0) return 0;
    const size = Math.min(this.count * chunk, maxMessageBytes);
    return size <= EAGER_BUFFER_BYTES || (this.bytes + len) * BUFFER_AFTER_PART >= size ? size : 0;
  }

  /** Bytes that writing fragment `index` of `len` bytes adds (negative: the buffer replaces larger copies). */
  cost(index: number, len: number, maxMessageBytes: number): number {
    if (this.buf !== null) return 0;
    const size = this.#allocates(index, len, maxMessageBytes);
    return size > 0 ? size - this.bytes : len;
  }

  /** Copies fragment `index` to its place (fits() said it agrees); returns the bytes added. */
  write(index: number, data: Uint8Array, maxMessageBytes: number): number {
    const len = data.byteLength;
    const extra = this.cost(index, len, maxMessageBytes);
    const size = this.#allocates(index, len, maxMessageBytes);
    if (index === this.count - 1) this.lastBytes = len;
    else if (this.chunk === 0) this.chunk = len;
    if (size > 0) {
      this.buf = new Uint8Array(size);
      for (const [i, h] of (this.#held ?? []).entries()) if (h !== undefined) this.#place(i, h);
      this.#held = null;
    }
    if (this.buf !== null) this.#place(index, data);
    else (this.#held ??= [])[index] = new Uint8Array(data);
    this.bytes += extra;
    this.got++;
    this.received += len;
    if (index === 0) this.hasFirst = true;
    return extra;
  }

  /** A fragment into the buffer (a last one beyond it: larger than maxMessageBytes allows). */
  #place(index: number, data: Uint8Array): void {
    const at = index * this.chunk;
    if (at + data.byteLength > this.buf!.byteLength) this.oversize = true;
    else this.buf!.set(data, at);
  }

  /** The complete message (a view of the buffer; a complete message always has one). */
  message(): Uint8Array {
    return this.buf === null ? new Uint8Array(0) : this.buf.subarray(0, this.total);
  }
}

export type Slot = WholeItem | Assembly;

const INITIAL_CAPACITY = 16;

export class ReceiveRing {
  #cap = 0;
  #slots: (Slot | undefined)[] = [];
  #present = new Uint8Array(0);
  /** Items (whole or fragments) present. */
  items = 0;
  /** Bytes held (whole items + assemblies' buffers). */
  bytes = 0;
  /** Highest present seq (0: none). */
  highest = 0;
  /** Highest seq with a slot in use (an assembly reserves its seqs); ≥ highest. */
  #top = 0;

  get capacity(): number { return this.#cap; }

  get(seq: number): Slot | undefined {
    return this.#cap === 0 || seq > this.#top ? undefined : this.#slots[seq % this.#cap];
  }

  has(seq: number): boolean {
    return this.#cap !== 0 && seq <= this.#top && this.#present[seq % this.#cap] === 1;
  }

  /** Stores a copy of a whole item at seq (above `floor`, the receiver's cum). */
  putWhole(floor: number, seq: number, flags: number, data: Uint8Array): void {
    this.#ensure(floor, seq);
    const i = seq % this.#cap;
    this.#slots[i] = { flags, data: new Uint8Array(data) };
    this.#mark(i, seq);
    this.bytes += data.byteLength;
  }

  /** Reserves the slots of a new assembly (its seqs must be free and above `floor`). */
  addAssembly(floor: number, a: Assembly): void {
    this.#ensure(floor, a.lastSeq);
    for (let seq = a.firstSeq; seq <= a.lastSeq; seq++) this.#slots[seq % this.#cap] = a;
    if (a.lastSeq > this.#top) this.#top = a.lastSeq;
  }

  /** Whether seqs first…last hold nothing. */
  free(first: number, last: number): boolean {
    if (this.#cap === 0) return true;
    for (let seq = first; seq <= Math.min(last, this.#top); seq++) if (this.#slots[seq % this.#cap] !== undefined) return false;
    return true;
  }

  /** Fragment `seq` of an assembly in the ring arrived (its bytes were written and charged). */
  markFragment(seq: number): void {
    this.#mark(seq % this.#cap, seq);
  }

  /** Removes a whole item. */
  removeWhole(seq: number): void {
    const i = seq % this.#cap;
    const w = this.#slots[i] as WholeItem;
    this.#slots[i] = undefined;
    this.#unmark(i);
    this.bytes -= w.data.byteLength;
    this.#lowered(seq);
  }

  /** Removes an assembly and its fragments; returns how many fragments were present. */
  removeAssembly(a: Assembly): number {
    let n = 0;
    for (let seq = a.firstSeq; seq <= a.lastSeq; seq++) {
      const i = seq % this.#cap;
      if (this.#slots[i] !== a) continue;
      this.#slots[i] = undefined;
      if (this.#present[i] === 1) {
        this.#unmark(i);
        n++;
      }
    }
    this.bytes -= a.bytes;
    this.#lowered(a.lastSeq);
    return n;
  }

  /** Removes whatever holds seq; returns how many items left. */
  remove(seq: number): number {
    const s = this.get(seq);
    if (s === undefined) return 0;
    if (s instanceof Assembly) return this.removeAssembly(s);
    if (!this.has(seq)) return 0;
    this.removeWhole(seq);
    return 1;
  }

  /** Ack ranges of present seqs above `cum` (inclusive pairs, at most `maxRanges`). */
  ranges(cum: number, maxRanges: number): number[] {
    const out: number[] = [];
    let start = 0;
    for (let seq = cum + 1; seq <= this.highest && out.length < 2 * maxRanges; seq++) {
      const has = this.#present[seq % this.#cap] === 1;
      if (has && start === 0) start = seq;
      else if (!has && start !== 0) {
        out.push(start, seq - 1);
        start = 0;
      }
    }
    if (start !== 0 && out.length < 2 * maxRanges) out.push(start, this.highest);
    return out;
  }

  clear(): void {
    this.#slots.fill(undefined);
    this.#present.fill(0);
    this.items = this.bytes = this.highest = this.#top = 0;
  }

  #mark(i: number, seq: number): void {
    this.#present[i] = 1;
    this.items++;
    if (seq > this.highest) this.highest = seq;
    if (seq > this.#top) this.#top = seq;
  }

  #unmark(i: number): void {
    this.#present[i] = 0;
    this.items--;
  }

  /** Something at or below `seq` left: lowers highest/top when they were there. */
  #lowered(seq: number): void {
    if (this.items === 0) {
      this.highest = 0;
      // Reserved slots of assemblies may remain (none when nothing is present: an assembly is created with its first fragment).
      this.#top = 0;
      return;
    }
    if (seq < this.highest && seq < this.#top) return;
    let s = this.#top;
    while (s > 0 && this.#slots[s % this.#cap] === undefined) s--;
    this.#top = s;
    s = Math.min(s, this.highest);
    while (s > 0 && this.#present[s % this.#cap] !== 1) s--;
    this.highest = s;
  }

  /** Room for seqs (floor, seq]: grows the ring (re-indexing what it holds). */
  #ensure(floor: number, seq: number): void {
    if (seq - floor <= this.#cap) return;
    let cap = Math.max(this.#cap, INITIAL_CAPACITY);
    while (seq - floor > cap) cap *= 2;
    const slots = new Array<Slot | undefined>(cap);
    const present = new Uint8Array(cap);
    if (this.#cap > 0) {
      for (let s = floor + 1; s <= this.#top; s++) {
        slots[s % cap] = this.#slots[s % this.#cap];
        present[s % cap] = this.#present[s % this.#cap]!;
      }
    }
    this.#cap = cap;
    this.#slots = slots;
    this.#present = present;
  }
}

/** The message flags of a fragment's wire flags. */
export const messageFlags = (flags: number): number => flags & ~FLAG_FRAGMENT;
