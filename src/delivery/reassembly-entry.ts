/**
 * The held state of reassembly (reassembly.ts): one incomplete message (Entry), a peer's
 * messages and remembered msgIds (PeerState), the linked lists that order them, and the
 * message assembled from its chunks.
 */

export class Entry {
  /** Length of the non-last fragments; 0 while unknown. */
  chunkBytes = 0;
  /** Length of the last fragment; -1 while unknown. */
  lastBytes = -1;
  accountedBytes = 0;
  readonly chunks = new Map<number, Uint8Array>();
  readonly age: Link<Entry> = { value: this, prev: null, next: null };
  readonly lru: Link<Entry> = { value: this, prev: null, next: null };
  constructor(
    readonly peer: PeerState,
    readonly msgId: number,
    readonly count: number,
    readonly createdMs: number,
  ) {}
}

export interface PeerState {
  /** Incomplete messages by msgId. */
  readonly entries: Map<number, Entry>;
  /** The same, least recently active first. */
  readonly lru: List<Entry>;
  bytes: number;
  /** msgId → true when completed, false when abandoned; `ring` holds them oldest first. */
  readonly done: Map<number, boolean>;
  readonly ring: number[];
  ringNext: number;
}

/** Doubly linked list node (Maps iterated from the front after many deletions are slow). */
export interface Link<T> {
  readonly value: T;
  prev: Link<T> | null;
  next: Link<T> | null;
}

export class List<T> {
  head: Link<T> | null = null;
  tail: Link<T> | null = null;
  push(l: Link<T>): void {
    l.prev = this.tail;
    l.next = null;
    if (this.tail) this.tail.next = l;
    else this.head = l;
    this.tail = l;
  }
  remove(l: Link<T>): void {
    if (l.prev) l.prev.next = l.next;
    else this.head = l.next;
    if (l.next) l.next.prev = l.prev;
    else this.tail = l.prev;
    l.prev = l.next = null;
  }
}

export function firstOther(ps: PeerState, keep: Entry | undefined): Entry | undefined {
  const first = ps.lru.head;
  return first?.value === keep ? first?.next?.value : first?.value;
}

export function assemble(e: Entry): Uint8Array {
  const out = new Uint8Array((e.count - 1) * e.chunkBytes + e.lastBytes);
  for (const [index, c] of e.chunks) out.set(c, index * e.chunkBytes);
  return out;
}
