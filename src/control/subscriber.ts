/**
 * One subscription on one control connection. Messages are written straight to the socket
 * while it accepts them; once the socket reports backpressure they are buffered up to two
 * bounds (subscriberBufferMessages and subscriberBufferBytes), then dropped and counted, and
 * the subscriber is told {"type":"lost","count":N} at the place in its stream where they were
 * dropped. Nothing here can stall the daemon or another subscriber.
 *
 * What a buffered message costs: the queue holds the JSON body of the event, shared by every
 * subscriber (one string per received message, whatever the number of subscribers), and each
 * subscriber is charged the UTF-8 bytes of the whole line it will write (its id prefix, the
 * base64 payload, the text copy and every field, not just the payload) plus the queue slot.
 * The charge is never below what the subscriber really holds, so the sum of the bounds bounds
 * the memory.
 */
import { streamLine, type RequestId, type WireMessage } from './protocol';

/** The connection side a subscriber writes to. */
export interface LineSink {
  /** Writes one line; false when the socket buffer is full (the caller should wait for drain). */
  write(line: string): boolean;
  readonly blocked: boolean;
  readonly closed: boolean;
}

/** A subscriber's buffer bounds (subscriberBufferMessages, subscriberBufferBytes). */
export interface SubscriberLimits {
  messages: number;
  bytes: number;
}

/**
 * Charged per buffered entry on top of its line bytes: its two array slots (body, charge) with
 * the arrays' growth slack — ~36 bytes measured (800 subscribers × 10,000 entries: +292 MiB).
 */
export const QUEUE_ENTRY_BYTES = 40;

/** UTF-8 bytes of a line built by streamLine(id, body) whose body has `bodyBytes` bytes. */
function lineBytes(prefixBytes: number, bodyBytes: number): number {
  return prefixBytes + bodyBytes; // the body's "{" is replaced by the prefix, a "\n" is added
}

export class Subscriber {
  readonly id: RequestId;
  readonly filter: string | null;
  readonly #sink: LineSink;
  readonly #matches: (m: WireMessage) => boolean;
  /** UTF-8 bytes of `{"v":1,"id":<id>,` (the line prefix) — the "\n" is counted for the body's "{". */
  readonly #prefixBytes: number;
  #limits: SubscriberLimits;
  /** Bodies waiting (shared strings) and their charges, from #head on. */
  #bodies: string[] = [];
  #costs: number[] = [];
  #head = 0;
  #queuedBytes = 0;
  /** Dropped since the last lost notice queued or written. */
  #lost = 0;
  #lostTotal = 0;
  /** Backlog entries at the head of the queue (not counted against the bounds). */
  #preloaded = 0;
  #preloadedBytes = 0;
  #ended = false;

  constructor(id: RequestId, filter: string | null, sink: LineSink, matches: (m: WireMessage) => boolean, limits: SubscriberLimits) {
    this.id = id;
    this.filter = filter;
    this.#sink = sink;
    this.#matches = matches;
    this.#limits = { ...limits };
    this.#prefixBytes = Buffer.byteLength(streamLine(id, '{')) - 1;
  }

  /** Entries buffered (messages and lost notices). */
  get queued(): number {
    return this.#bodies.length - this.#head;
  }

  /** Bytes charged for what is buffered (backlog included). */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Messages dropped for this subscriber since it subscribed. */
  get lostTotal(): number {
    return this.#lostTotal;
  }

  /** Reload: new bounds for what is buffered from now on (what is buffered already stays). */
  setLimits(limits: SubscriberLimits): void {
    this.#limits = { ...limits };
  }

  matches(m: WireMessage): boolean {
    return this.#matches(m);
  }

  /**
   * Queues the inbox backlog ahead of everything else, whatever the bounds (the inbox bounded
   * it); written by the next flush().
   */
  preload(bodies: readonly string[]): void {
    for (const body of bodies) {
      const cost = lineBytes(this.#prefixBytes, Buffer.byteLength(body)) + QUEUE_ENTRY_BYTES;
      this.#enqueue(body, cost);
      this.#preloaded++;
      this.#preloadedBytes += cost;
    }
  }

  /**
   * Offers one message: `body` is the JSON of the event, shared by all subscribers, and
   * `bodyBytes` its UTF-8 length (computed once by the caller for all of them).
   */
  push(body: string, bodyBytes: number = Buffer.byteLength(body)): void {
    if (this.#ended || this.#sink.closed) return;
    if (!this.#sink.blocked && this.queued === 0 && this.#lost === 0) {
      this.#sink.write(streamLine(this.id, body));
      return;
    }
    const cost = lineBytes(this.#prefixBytes, bodyBytes) + QUEUE_ENTRY_BYTES;
    const notice = this.#lost > 0 ? this.#lostBody() : null;
    const noticeCost = notice !== null ? lineBytes(this.#prefixBytes, Buffer.byteLength(notice)) + QUEUE_ENTRY_BYTES : 0;
    const entries = this.queued - this.#preloaded + 1; // a notice is not a message (its bytes count)
    const bytes = this.#queuedBytes - this.#preloadedBytes + cost + noticeCost;
    if (entries > this.#limits.messages || bytes > this.#limits.bytes) {
      this.#lost++;
      this.#lostTotal++;
      return;
    }
    if (notice !== null) {
      // The loss is reported where it happened: before the first message kept after it.
      this.#enqueue(notice, noticeCost);
      this.#lost = 0;
    }
    this.#enqueue(body, cost);
    this.flush();
  }

  /** Writes what the socket accepts (called on drain). */
  flush(): void {
    while (!this.#sink.blocked && !this.#sink.closed) {
      if (this.queued > 0) {
        const body = this.#bodies[this.#head]!;
        const cost = this.#costs[this.#head]!;
        this.#bodies[this.#head] = '';
        this.#head++;
        this.#queuedBytes -= cost;
        if (this.#preloaded > 0) {
          this.#preloaded--;
          this.#preloadedBytes -= cost;
        }
        this.#sink.write(streamLine(this.id, body));
        if (this.#head > 1024 && this.#head * 2 > this.#bodies.length) this.#compact();
      } else if (this.#lost > 0) {
        const notice = this.#lostBody();
        this.#lost = 0;
        this.#sink.write(streamLine(this.id, notice));
      } else {
        break;
      }
    }
    if (this.queued === 0 && this.#head > 0) {
      this.#bodies = [];
      this.#costs = [];
      this.#head = 0;
    }
  }

  /** Ends the stream: what is buffered is handed to the socket (already bounded), then the lost count and an end event. */
  end(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    const rest = this.#bodies.slice(this.#head);
    this.#bodies = [];
    this.#costs = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    this.#preloaded = this.#preloadedBytes = 0;
    if (this.#sink.closed) return;
    for (const body of rest) this.#sink.write(streamLine(this.id, body));
    if (this.#lost > 0) this.#sink.write(streamLine(this.id, this.#lostBody()));
    this.#lost = 0;
    this.#sink.write(streamLine(this.id, JSON.stringify({ type: 'end', reason })));
  }

  #lostBody(): string {
    return JSON.stringify({ type: 'lost', count: this.#lost });
  }

  #enqueue(body: string, cost: number): void {
    this.#bodies.push(body);
    this.#costs.push(cost);
    this.#queuedBytes += cost;
  }

  #compact(): void {
    this.#bodies = this.#bodies.slice(this.#head);
    this.#costs = this.#costs.slice(this.#head);
    this.#head = 0;
  }
}
