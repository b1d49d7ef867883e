/**
 * Reassembly of datagram-mode fragments ([flags|FRAGMENT, chunk, msgId, index, count]).
 *
 * Validation (per fragment): msgId, index, count are integers with index < count; a
 * fragment other than the last is non-empty and every such fragment of one message has the
 * same length (the sender's chunk size, see fragment.ts); the last is 1..chunk size bytes;
 * the size these imply, (count − 1) × chunk + last, must not exceed maxMessageBytes ('tooLarge',
 * checked from the first fragment on with what is known); count must match the first
 * fragment's ('malformed'). A duplicate fragment is ignored (counted in `duplicates`).
 *
 * Memory policy. `bytesHeld` is what the held state really costs in memory: chunk bytes
 * (copied on arrival, so a held chunk never retains a whole datagram) plus
 * FRAGMENT_OVERHEAD_BYTES per held fragment (its Uint8Array and ArrayBuffer objects, its map
 * entry) plus MESSAGE_OVERHEAD_BYTES per incomplete message (its entry, fragment map and list
 * links, its place in the peer's map). Both constants are measured (V8 heapUsed + arrayBuffers
 * after a full GC, x64: ~240 and ~390 bytes on Node 20, ~272 per fragment on Node 26), rounded up; test/delivery/
 * reassembly-memory.test.ts holds the charge against measured heap growth for floods of first
 * fragments, so a flood of tiny fragments costs what it is charged (before: 65 bytes charged
 * for ~630 held). It never exceeds `perPeerBytes` for one peer nor `totalBytes`:
 *  - A message whose smallest possible accounted size exceeds min(perPeerBytes, totalBytes)
 *    is refused at once ('tooLarge').
 *  - Otherwise a fragment that does not fit evicts other incomplete messages, never the one it
 *    belongs to: first the least recently active messages of the same peer (while the peer is
 *    over its budget), then, while the total is over budget, the least recently active
 *    message of the peer holding the most bytes. Evicted messages are reported in `evicted`
 *    (the node counts them as 'rateLimited' drops).
 *  - Incomplete messages expire `timeoutMs` after their first fragment (sweep(), also run
 *    lazily by add()).
 * Evicted/expired msgIds are remembered like completed ones (bounded FIFO per peer,
 * `completedMemory` ids): later fragments of a completed message are ignored as duplicates
 * (a message is never delivered twice), those of an abandoned one are dropped as 'stale'.
 */
import type { Clock } from '../runtime/clock';
import type { DropReason } from '../errors';
import { Entry, List, assemble, firstOther, type PeerState } from './reassembly-entry';

/** Accounting charge per held fragment on top of its bytes (typed array + buffer objects, map entry). */
export const FRAGMENT_OVERHEAD_BYTES = 288;
/** Accounting charge per incomplete message (entry, its fragment map, list links, map entries). */
export const MESSAGE_OVERHEAD_BYTES = 448;
export const DEFAULT_COMPLETED_MEMORY = 1024;

export interface ReassemblerOptions {
  clock: Clock;
  /** Incomplete messages are discarded this long after their first fragment. */
  timeoutMs: number;
  perPeerBytes: number;
  totalBytes: number;
  maxMessageBytes: number;
  /** Completed/abandoned msgIds remembered per peer (duplicate suppression). */
  completedMemory?: number;
}

export interface ReassemblyResult {
  /** The whole message, when this fragment completed it. */
  message?: Uint8Array;
  /** Why this fragment was refused. */
  drop?: DropReason;
  /** Incomplete messages (of any peer) discarded to make room for this fragment. */
  evicted?: number;
}

const isIndex = (x: number): boolean => Number.isSafeInteger(x) && x >= 0;

export class Reassembler {
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #perPeerBytes: number;
  readonly #totalBytes: number;
  readonly #maxMessageBytes: number;
  readonly #completedMemory: number;
  readonly #peers = new Map<string, PeerState>();
  /** Every incomplete message, oldest first (creation order: expiry). */
  readonly #byAge = new List<Entry>();
  #messages = 0;
  #bytes = 0;
  #duplicates = 0;
  #evictions = 0;
  #expirations = 0;

  constructor(opts: ReassemblerOptions) {
    this.#clock = opts.clock;
    this.#timeoutMs = opts.timeoutMs;
    this.#perPeerBytes = opts.perPeerBytes;
    this.#totalBytes = opts.totalBytes;
    this.#maxMessageBytes = opts.maxMessageBytes;
    this.#completedMemory = Math.max(1, opts.completedMemory ?? DEFAULT_COMPLETED_MEMORY);
  }

  /** Accounted bytes held (chunks + FRAGMENT_OVERHEAD_BYTES per fragment + MESSAGE_OVERHEAD_BYTES per message). */
  get bytesHeld(): number { return this.#bytes; }
  /** Incomplete messages held. */
  get messagesHeld(): number { return this.#messages; }
  /** Duplicate fragments ignored (of held or recently completed messages). */
  get duplicates(): number { return this.#duplicates; }
  /** Incomplete messages discarded to make room. */
  get evictions(): number { return this.#evictions; }
  /** Incomplete messages discarded by timeout. */
  get expirations(): number { return this.#expirations; }
  /** Accounted bytes held for one peer. */
  peerBytesHeld(peer: string): number {
    return this.#peers.get(peer)?.bytes ?? 0;
  }

  /** Adds one fragment; returns the message when complete, or why the fragment was dropped. */
  add(peer: string, msgId: number, index: number, count: number, chunk: Uint8Array): ReassemblyResult {
    this.sweep();
    if (!isIndex(msgId) || !isIndex(index) || !isIndex(count) || index >= count) return { drop: 'malformed' };
    let ps = this.#peers.get(peer);
    const done = ps?.done.get(msgId);
    if (done !== undefined) {
      if (!done) return { drop: 'stale' };
      this.#duplicates++;
      return {};
    }
    const len = chunk.byteLength;
    if (count === 1) {
      if (len > this.#maxMessageBytes) return { drop: 'tooLarge' };
      this.#markDone(ps ?? this.#peerState(peer), msgId, true);
      return { message: chunk };
    }
    const entry = ps?.entries.get(msgId);
    if (entry) {
      if (entry.count !== count) return { drop: 'malformed' };
      if (entry.chunks.has(index)) {
        this.#duplicates++;
        return {};
      }
    }
    const isLast = index === count - 1;
    let chunkBytes = entry?.chunkBytes ?? 0;
    let lastBytes = entry?.lastBytes ?? -1;
    if (len === 0) return { drop: 'malformed' };
    if (isLast) lastBytes = len;
    else if (chunkBytes !== 0 && chunkBytes !== len) return { drop: 'malformed' };
    else chunkBytes = len;
    if (chunkBytes !== 0 && lastBytes > chunkBytes) return { drop: 'malformed' };
    // Smallest total the claims allow: unknown chunk size ≥ last; unknown last ≥ 1.
    const minTotal = (count - 1) * (chunkBytes || lastBytes) + (lastBytes > 0 ? lastBytes : 1);
    if (minTotal > this.#maxMessageBytes) return { drop: 'tooLarge' };
    if (minTotal + count * FRAGMENT_OVERHEAD_BYTES + MESSAGE_OVERHEAD_BYTES > Math.min(this.#perPeerBytes, this.#totalBytes)) return { drop: 'tooLarge' };

    ps ??= this.#peerState(peer);
    const cost = len + FRAGMENT_OVERHEAD_BYTES + (entry ? 0 : MESSAGE_OVERHEAD_BYTES);
    const evicted = this.#makeRoom(ps, entry, cost);
    if (evicted < 0) return { drop: 'tooLarge' };
    let e = entry;
    if (e) {
      ps.lru.remove(e.lru); // most recently active last
    } else {
      e = new Entry(ps, msgId, count, this.#clock.monotonic());
      this.#byAge.push(e.age);
      ps.entries.set(msgId, e);
      this.#messages++;
    }
    ps.lru.push(e.lru);
    e.chunkBytes = chunkBytes;
    e.lastBytes = lastBytes;
    e.chunks.set(index, new Uint8Array(chunk)); // copy: never retain the datagram buffer
    e.accountedBytes += cost;
    ps.bytes += cost;
    this.#bytes += cost;
    const result: ReassemblyResult = evicted > 0 ? { evicted } : {};
    if (e.chunks.size === count) {
      result.message = assemble(e);
      this.#remove(e);
      this.#markDone(ps, msgId, true);
    }
    return result;
  }

  /** Discards incomplete messages older than timeoutMs; returns how many. */
  sweep(): number {
    const cutoff = this.#clock.monotonic() - this.#timeoutMs;
    let n = 0;
    for (let l = this.#byAge.head; l && l.value.createdMs <= cutoff; l = this.#byAge.head) {
      this.#abandon(l.value);
      n++;
    }
    this.#expirations += n;
    return n;
  }

  /** Forgets everything about a peer (held fragments and remembered msgIds). */
  dropPeer(peer: string): void {
    const ps = this.#peers.get(peer);
    if (!ps) return;
    for (const e of [...ps.entries.values()]) this.#remove(e);
    this.#peers.delete(peer);
  }

  /** Evicts other messages until `cost` more bytes fit; -1 when impossible. */
  #makeRoom(ps: PeerState, keep: Entry | undefined, cost: number): number {
    let evicted = 0;
    while (ps.bytes + cost > this.#perPeerBytes) {
      const victim = firstOther(ps, keep);
      if (!victim) return -1;
      this.#abandon(victim);
      evicted++;
    }
    while (this.#bytes + cost > this.#totalBytes) {
      let victim: Entry | undefined;
      let heaviest = -1;
      for (const p of this.#peers.values()) {
        if (p.bytes <= heaviest) continue;
        const v = firstOther(p, keep);
        if (v) {
          victim = v;
          heaviest = p.bytes;
        }
      }
      if (!victim) return -1;
      this.#abandon(victim);
      evicted++;
    }
    this.#evictions += evicted;
    return evicted;
  }

  #abandon(e: Entry): void {
    this.#remove(e);
    this.#markDone(e.peer, e.msgId, false);
  }

  #remove(e: Entry): void {
    e.peer.entries.delete(e.msgId);
    e.peer.lru.remove(e.lru);
    this.#byAge.remove(e.age);
    this.#messages--;
    e.peer.bytes -= e.accountedBytes;
    this.#bytes -= e.accountedBytes;
  }

  #markDone(ps: PeerState, msgId: number, completed: boolean): void {
    if (!ps.done.has(msgId)) {
      if (ps.ring.length < this.#completedMemory) ps.ring.push(msgId);
      else {
        ps.done.delete(ps.ring[ps.ringNext]!);
        ps.ring[ps.ringNext] = msgId;
        ps.ringNext = (ps.ringNext + 1) % this.#completedMemory;
      }
    }
    ps.done.set(msgId, completed);
  }

  #peerState(name: string): PeerState {
    let ps = this.#peers.get(name);
    if (!ps) {
      ps = { entries: new Map(), lru: new List(), bytes: 0, done: new Map(), ring: [], ringNext: 0 };
      this.#peers.set(name, ps);
    }
    return ps;
  }
}
