/**
 * The inbox (SPEC §2, §4): received messages kept, in arrival order, while no reader is
 * attached (no `message` listener, no iterator, no control subscriber). Bounded in messages
 * and bytes (settings inboxMaxMessages, inboxMaxBytes); a message that does not fit is
 * refused — the reliable layer then withholds its acknowledgement (and credit), a datagram
 * message is dropped and counted (`inboxFull`). A reader attached later takes the inbox first.
 *
 * The inbox is shared by all peers; flow control gives each a fair share of it (shareFor): the
 * inbox size divided among the peers that hold messages in it or wait for room (counting the
 * asking one), less what that peer already holds, never more than the free room. One peer
 * alone may fill it; once others send, each is held to its share of what is freed. Credit
 * already granted is never taken back, so a share shrinks only as the peer's own messages
 * fill it (a latecomer to an inbox one peer filled alone waits for a reader).
 *
 * The inbox lives in memory; a clean daemon stop writes it to the home (inbox-file.ts) and a
 * start restores it. A crash loses what was never read unless `inboxFsync` is set.
 */
import type { MessageEvent } from '../api/types';

export interface InboxLimits {
  maxMessages: number;
  maxBytes: number;
}

/** What the inbox can still take (the receive budget offered to senders). */
export interface InboxRoom {
  messages: number;
  bytes: number;
}

interface Held {
  messages: number;
  bytes: number;
}

export class Inbox {
  #items: MessageEvent[] = [];
  #head = 0;
  #bytes = 0;
  /** What each peer (MessageEvent.peer) holds in the inbox. */
  #byPeer = new Map<string, Held>();
  #limits: InboxLimits;
  /** Messages ever kept / refused (diagnostics, tests). */
  kept = 0;
  refused = 0;

  constructor(limits: InboxLimits) {
    this.#limits = { ...limits };
  }

  setLimits(limits: InboxLimits): void {
    this.#limits = { ...limits };
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  room(): InboxRoom {
    return { messages: Math.max(0, this.#limits.maxMessages - this.size), bytes: Math.max(0, this.#limits.maxBytes - this.#bytes) };
  }

  /**
   * The part of the inbox `peer` may still fill (its flow-control window while no reader is
   * attached): min(free room, ⌈size ÷ n⌉ − what it holds), where n counts the peers that hold
   * messages here or wait for room (`waiting`: data buffered for lack of it), and `peer`.
   */
  shareFor(peer: string, waiting: ReadonlySet<string> = new Set()): InboxRoom {
    const own = this.#byPeer.get(peer);
    let n = this.#byPeer.size + (own ? 0 : 1);
    for (const k of waiting) if (k !== peer && !this.#byPeer.has(k)) n++;
    const room = this.room();
    return {
      messages: Math.max(0, Math.min(room.messages, Math.ceil(this.#limits.maxMessages / n) - (own?.messages ?? 0))),
      bytes: Math.max(0, Math.min(room.bytes, Math.ceil(this.#limits.maxBytes / n) - (own?.bytes ?? 0))),
    };
  }

  /** Peers with messages in the inbox. */
  get peers(): number {
    return this.#byPeer.size;
  }

  /** Whether a message of `bytes` would be kept now. */
  fits(bytes: number): boolean {
    return this.size < this.#limits.maxMessages && this.#bytes + bytes <= this.#limits.maxBytes;
  }

  /** Keeps the message when it fits; false (nothing kept) otherwise. */
  offer(ev: MessageEvent): boolean {
    if (!this.fits(ev.data.byteLength)) {
      this.refused++;
      return false;
    }
    this.#push(ev);
    this.kept++;
    return true;
  }

  #push(ev: MessageEvent): void {
    this.#items.push(ev);
    this.#bytes += ev.data.byteLength;
    this.#count(ev, 1);
  }

  #count(ev: MessageEvent, sign: 1 | -1): void {
    const h = this.#byPeer.get(ev.peer) ?? { messages: 0, bytes: 0 };
    h.messages += sign;
    h.bytes += sign * ev.data.byteLength;
    if (h.messages <= 0) this.#byPeer.delete(ev.peer);
    else this.#byPeer.set(ev.peer, h);
  }

  /** Removes and returns, in order, the kept messages `pick` selects (all without a predicate). */
  take(pick?: (ev: MessageEvent) => boolean): MessageEvent[] {
    const all = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#byPeer.clear();
    if (!pick) return all;
    const taken: MessageEvent[] = [];
    for (const ev of all) {
      if (pick(ev)) taken.push(ev);
      else this.#push(ev);
    }
    return taken;
  }

  /** Puts taken messages back at the head, in order (whatever the limits: they were kept before). */
  requeue(events: readonly MessageEvent[]): void {
    const rest = this.#items.slice(this.#head);
    this.#items = [...events, ...rest];
    this.#head = 0;
    for (const ev of events) {
      this.#bytes += ev.data.byteLength;
      this.#count(ev, 1);
    }
  }

  /** The kept messages, in order, without removing them (persistence). */
  peek(): readonly MessageEvent[] {
    return this.#items.slice(this.#head);
  }
}
