/**
 * One subscription on one control connection. Messages are written straight to the socket
 * while it accepts them; once the socket reports backpressure they are buffered up to a
 * bound (messages and bytes), then dropped and counted, and the subscriber is told
 * {"type":"lost","count":N} as soon as it catches up. Nothing here can stall the daemon or
 * another subscriber.
 */
import { streamLine, type RequestId, type WireMessage } from './protocol';

/** The connection side a subscriber writes to. */
export interface LineSink {
  /** Writes one line; false when the socket buffer is full (the caller should wait for drain). */
  write(line: string): boolean;
  readonly blocked: boolean;
  readonly closed: boolean;
}

/** Bytes buffered per subscriber at most, whatever the message bound (1 MiB messages add up). */
export const SUBSCRIBER_BUFFER_BYTES = 64 * 1024 * 1024;

export class Subscriber {
  readonly id: RequestId;
  readonly filter: string | null;
  readonly #sink: LineSink;
  readonly #matches: (m: WireMessage) => boolean;
  #maxMessages: number;
  readonly #maxBytes: number;
  #queue: string[] = [];
  #head = 0;
  #queuedBytes = 0;
  #lost = 0;
  #lostTotal = 0;
  /** Backlog lines at the head of the queue (not counted against the bound). */
  #preloaded = 0;
  #preloadedBytes = 0;
  #ended = false;

  constructor(id: RequestId, filter: string | null, sink: LineSink, matches: (m: WireMessage) => boolean, maxMessages: number, maxBytes = SUBSCRIBER_BUFFER_BYTES) {
    this.id = id;
    this.filter = filter;
    this.#sink = sink;
    this.#matches = matches;
    this.#maxMessages = maxMessages;
    this.#maxBytes = maxBytes;
  }

  get queued(): number {
    return this.#queue.length - this.#head;
  }

  /** Messages dropped for this subscriber since it subscribed. */
  get lostTotal(): number {
    return this.#lostTotal;
  }

  setBufferMessages(n: number): void {
    this.#maxMessages = n;
  }

  matches(m: WireMessage): boolean {
    return this.#matches(m);
  }

  /**
   * Queues the inbox backlog ahead of everything else, whatever the bound (the inbox bounded
   * it); written by the next flush().
   */
  preload(bodies: readonly string[]): void {
    for (const body of bodies) {
      const line = streamLine(this.id, body);
      this.#queue.push(line);
      this.#queuedBytes += line.length;
      this.#preloaded++;
      this.#preloadedBytes += line.length;
    }
  }

  /** Offers one message (`body` = the JSON of the event, shared by all subscribers). */
  push(body: string): void {
    if (this.#ended || this.#sink.closed) return;
    const line = streamLine(this.id, body);
    if (!this.#sink.blocked && this.queued === 0 && this.#lost === 0) {
      this.#sink.write(line);
      return;
    }
    if (this.queued - this.#preloaded >= this.#maxMessages || this.#queuedBytes - this.#preloadedBytes + line.length > this.#maxBytes) {
      this.#lost++;
      this.#lostTotal++;
      return;
    }
    this.#queue.push(line);
    this.#queuedBytes += line.length;
    this.flush();
  }

  /** Writes what the socket accepts (called on drain). */
  flush(): void {
    while (!this.#sink.blocked && !this.#sink.closed) {
      if (this.queued > 0) {
        const line = this.#queue[this.#head]!;
        this.#queue[this.#head++] = '';
        this.#queuedBytes -= line.length;
        if (this.#preloaded > 0) {
          this.#preloaded--;
          this.#preloadedBytes -= line.length;
        }
        this.#sink.write(line);
        if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
          this.#queue = this.#queue.slice(this.#head);
          this.#head = 0;
        }
      } else if (this.#lost > 0) {
        const count = this.#lost;
        this.#lost = 0;
        this.#sink.write(streamLine(this.id, JSON.stringify({ type: 'lost', count })));
      } else {
        break;
      }
    }
    if (this.queued === 0 && this.#head > 0) {
      this.#queue = [];
      this.#head = 0;
    }
  }

  /** Ends the stream: what is buffered is handed to the socket (already bounded), then the lost count and an end event. */
  end(reason: string): void {
    if (this.#ended) return;
    this.#ended = true;
    const rest = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    this.#queuedBytes = 0;
    this.#preloaded = this.#preloadedBytes = 0;
    if (this.#sink.closed) return;
    for (const line of rest) this.#sink.write(line);
    if (this.#lost > 0) this.#sink.write(streamLine(this.id, JSON.stringify({ type: 'lost', count: this.#lost })));
    this.#lost = 0;
    this.#sink.write(streamLine(this.id, JSON.stringify({ type: 'end', reason })));
  }
}
