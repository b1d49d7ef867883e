/**
 * Who reads received messages, and the inbox for when nobody does (SPEC §2, §4). Readers: the
 * node's `message` listeners, its `messages()` iterators, and readers attached with
 * attachReader() (the control server while it has subscribers). Without one, a message goes
 * to the bounded inbox (inbox.ts); emit() says whether it was taken — the reliable layer
 * acknowledges only then. A reader attached later takes the inbox first. The inbox is written
 * to `<home>/inbox.json` on close (and once per turn with inboxFsync: before that turn's acks).
 */
import type { MessageEvent } from '../api/types';
import type { Logger } from '../runtime/log';
import type { Scheduler, Timer } from '../runtime/scheduler';
import type { Settings } from '../config/schema';
import { Inbox, type InboxLimits } from './inbox';
import { writeInboxFile } from './inbox-file';
import { BoundedStream } from './subscription';

export interface ReadersHost {
  readonly scheduler: Scheduler;
  readonly settings: Settings;
  readonly log: Logger;
  /** Number of `message` listeners on the node. */
  listenerCount(): number;
  /** Emits the node's `message` event. */
  emit(ev: MessageEvent): void;
  /** Room was made: the reliable layer delivers (and acknowledges) what it held. */
  resume(): void;
  isClosed(): boolean;
}

const inboxLimits = (s: Settings): InboxLimits => ({ maxMessages: s.inboxMaxMessages, maxBytes: s.inboxMaxBytes });

export class MessageReaders {
  readonly #host: ReadersHost;
  readonly #inbox: Inbox;
  /** The home the inbox is written to, or null. */
  readonly #home: string | null;
  readonly #streams = new Set<BoundedStream<MessageEvent>>();
  readonly #readers = new Set<(ev: MessageEvent) => void>();
  /** A `message` listener was attached while the inbox held messages: they go to it first. */
  #drainTimer: Timer | null = null;
  #writeScheduled = false;

  constructor(host: ReadersHost, home: string | null) {
    this.#host = host;
    this.#home = home;
    this.#inbox = new Inbox(inboxLimits(host.settings));
  }

  get inboxSize(): number {
    return this.#inbox.size;
  }

  /** Whether a reader is attached. */
  get attached(): boolean {
    return this.#host.listenerCount() > 0 || this.#streams.size > 0 || this.#readers.size > 0;
  }

  /** Hands a message to the readers, or keeps it in the inbox; false when neither took it. */
  emit(ev: MessageEvent): boolean {
    const listeners = this.#host.listenerCount(); // read once per message (the hot path)
    if ((listeners === 0 && this.#streams.size === 0 && this.#readers.size === 0) || this.#drainTimer !== null) { // keep order behind the backlog
      if (!this.#inbox.offer(ev)) return false;
      this.#changed();
      return true;
    }
    this.#toReaders(ev, listeners);
    return true;
  }

  /**
   * The receive budget for the peer with key `peer` ('' without a key): its fair share of the
   * inbox room (Inbox.shareFor; `waiting`: keys of peers whose data waits for room), or the
   * whole inbox size while a reader is attached.
   */
  credit(peer: string, waiting?: ReadonlySet<string>): { bytes: number; messages: number } {
    if (this.attached && this.#drainTimer === null) return { bytes: this.#host.settings.inboxMaxBytes, messages: this.#host.settings.inboxMaxMessages };
    const r = this.#inbox.shareFor(peer, waiting);
    return { bytes: r.bytes, messages: r.messages };
  }

  /** Takes the inbox (what `pick` selects) in order; held reliable messages follow in the next phase. */
  takeInbox(pick?: (ev: MessageEvent) => boolean): MessageEvent[] {
    const taken = this.#inbox.take(pick);
    if (taken.length > 0) {
      this.#changed();
      // The caller attaches its reader first (same turn): held messages then reach it.
      this.#host.scheduler.immediate(() => {
        if (!this.#host.isClosed()) this.#host.resume();
      });
    }
    return taken;
  }

  attachReader(reader: (ev: MessageEvent) => void): () => void {
    this.#readers.add(reader);
    if (!this.#host.isClosed()) this.#host.resume();
    return () => void this.#readers.delete(reader);
  }

  /** An iterator that takes the inbox first unless `backlog` is false. */
  stream(backlog: boolean): AsyncIterableIterator<MessageEvent> {
    const { settings } = this.#host;
    const s: BoundedStream<MessageEvent> = new BoundedStream(Math.max(settings.subscriberBufferMessages, settings.inboxMaxMessages), () => this.#streams.delete(s));
    if (backlog) for (const ev of this.takeInbox()) s.push(ev);
    this.#streams.add(s);
    if (!this.#host.isClosed()) this.#host.resume();
    return s;
  }

  /** A `message` listener was attached: it takes the inbox first (after this turn), then new messages. */
  onListenerAdded(): void {
    if (this.#host.isClosed()) return;
    if (this.#inbox.size === 0) {
      this.#host.resume();
      return;
    }
    this.#drainTimer ??= this.#host.scheduler.immediate(() => {
      this.#drainTimer = null;
      if (this.#host.isClosed() || this.#host.listenerCount() === 0) return;
      const backlog = this.#inbox.take();
      for (let i = 0; i < backlog.length; i++) {
        if (!this.attached) { // a `once` listener is gone: keep the rest
          this.#inbox.requeue(backlog.slice(i));
          break;
        }
        this.#toReaders(backlog[i]!);
      }
      this.#changed();
      this.#host.resume();
    });
  }

  /** Messages kept by a previous run (clean stop), before any new one. */
  restore(events: readonly MessageEvent[]): void {
    for (const ev of events) this.#inbox.offer(ev);
  }

  peek(): readonly MessageEvent[] {
    return this.#inbox.peek();
  }

  settingsChanged(): void {
    this.#inbox.setLimits(inboxLimits(this.#host.settings));
  }

  /** Closing: no drain runs again, iterators end; the inbox stays for persist(). */
  close(): void {
    this.#drainTimer?.cancel();
    this.#drainTimer = null;
    for (const s of [...this.#streams]) s.close();
  }

  /** Writes the inbox to the home (the next start restores it). */
  persist(): void {
    if (this.#home === null) return;
    try {
      writeInboxFile(this.#home, this.#inbox.peek());
    } catch (e) {
      this.#host.log.error({ err: e instanceof Error ? e.message : 'error', messages: this.#inbox.size }, 'writing the inbox failed; its messages are lost');
    }
  }

  #toReaders(ev: MessageEvent, listeners = this.#host.listenerCount()): void {
    if (listeners > 0) this.#host.emit(ev);
    if (this.#streams.size > 0) for (const s of this.#streams) s.push(ev);
    if (this.#readers.size > 0) for (const r of this.#readers) r(ev);
  }

  /**
   * inboxFsync: the inbox is on disk (fsync'd) before the message is acknowledged. The write
   * runs once per turn (a microtask: before the acks, which go out after the I/O phase).
   */
  #changed(): void {
    if (this.#home === null || !this.#host.settings.inboxFsync || this.#writeScheduled) return;
    this.#writeScheduled = true;
    this.#host.scheduler.microtask(() => {
      this.#writeScheduled = false;
      if (this.#host.isClosed()) return;
      try {
        writeInboxFile(this.#home!, this.#inbox.peek());
      } catch (e) {
        this.#host.log.error({ err: e instanceof Error ? e.message : 'error' }, 'writing the inbox failed');
      }
    });
  }
}
