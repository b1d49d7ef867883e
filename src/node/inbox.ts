/**
 * The inbox (SPEC §2, §4): received messages kept, in arrival order, while no reader is
 * attached (no `message` listener, no iterator, no control subscriber). Bounded in messages
 * and bytes (settings inboxMaxMessages, inboxMaxBytes); a message that does not fit is
 * refused — the reliable layer then withholds its acknowledgement (and credit), a datagram
 * message is dropped and counted (`inboxFull`). A reader attached later takes the inbox first.
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

export class Inbox {
  #items: MessageEvent[] = [];
  #head = 0;
  #bytes = 0;
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
    this.#items.push(ev);
    this.#bytes += ev.data.byteLength;
    this.kept++;
    return true;
  }

  /** Removes and returns, in order, the kept messages `pick` selects (all without a predicate). */
  take(pick?: (ev: MessageEvent) => boolean): MessageEvent[] {
    const all = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
    if (!pick) return all;
    const taken: MessageEvent[] = [];
    for (const ev of all) {
      if (pick(ev)) taken.push(ev);
      else {
        this.#items.push(ev);
        this.#bytes += ev.data.byteLength;
      }
    }
    return taken;
  }

  /** Puts taken messages back at the head, in order (whatever the limits: they were kept before). */
  requeue(events: readonly MessageEvent[]): void {
    const rest = this.#items.slice(this.#head);
    this.#items = [...events, ...rest];
    this.#head = 0;
    for (const ev of events) this.#bytes += ev.data.byteLength;
  }

  /** The kept messages, in order, without removing them (persistence). */
  peek(): readonly MessageEvent[] {
    return this.#items.slice(this.#head);
  }
}
