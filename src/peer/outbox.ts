/**
 * What waits to be sent to one peer: this turn's batch (coalesced at the end-of-turn flush),
 * the bounded pre-session queue where every message expires at its own deadline, and control
 * items (acks, keepalives) for the next datagram.
 */
import type { ControlItem } from '../wire/frame';

/**
 * A message accepted by send() whose datagrams are not on the wire yet, as the outbox sees it
 * (its content is the engine's: engine/native/send.ts DatagramMessage).
 */
export interface OutMessage {
  bytes: number;
  deadlineMs: number;
  /** How long it may wait for a session (deadlineMs − the time it was sent), for the error message. */
  timeoutMs?: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

export interface QueueLimits {
  maxMessages: number;
  maxBytes: number;
}

/** What expire() returns when nothing is due (shared, never written). */
const NONE: readonly never[] = Object.freeze([]);

/**
 * The batch, queue and controls are null while empty (issue 12: three empty arrays were ~100 B
 * of every idle peer).
 */
export class Outbox<M extends OutMessage = OutMessage> {
  #batch: M[] | null = null;
  #queue: M[] | null = null;
  #queueBytes = 0;
  #controls: ControlItem[] | null = null;
  /** Earliest deadline in the queue (null when empty: no boxed double per idle peer): expiry costs nothing until then. */
  #nextDeadline: number | null = null;

  /**
   * Adds a message to this turn's batch; true when it is the batch's first (the caller schedules
   * the flush that takes the batch once, not at every message: s64).
   */
  push(m: M): boolean {
    const b = this.#batch;
    if (b !== null) {
      b.push(m);
      return false;
    }
    this.#batch = [m];
    return true;
  }

  /** Adds a message to the queue; false (nothing added) when the queue is full. */
  enqueue(m: M, limits: QueueLimits): boolean {
    if (this.queued >= limits.maxMessages || this.#queueBytes + m.bytes > limits.maxBytes) return false;
    (this.#queue ??= []).push(m);
    this.#queueBytes += m.bytes;
    if (this.#nextDeadline === null || m.deadlineMs < this.#nextDeadline) this.#nextDeadline = m.deadlineMs;
    return true;
  }

  /**
   * Moves this turn's batch to the queue; returns the messages refused for lack of room. With
   * `nowMs` (the flush's time), each message is due at nowMs + its timeoutMs: a batch is timed
   * from the end-of-turn flush that queues it, so send() reads no clock (s64).
   */
  batchToQueue(limits: QueueLimits, nowMs?: number): M[] {
    const batch = this.#batch;
    this.#batch = null;
    if (batch === null) return [];
    if (nowMs !== undefined) for (const m of batch) m.deadlineMs = nowMs + (m.timeoutMs ?? 0);
    return batch.filter((m) => !this.enqueue(m, limits));
  }

  /** The queue then the batch, in order, leaving both empty. */
  takeAll(): M[] {
    const q = this.#queue;
    const b = this.#batch;
    const all = q === null ? (b ?? []) : b === null ? q : [...q, ...b];
    this.#queue = null;
    this.#queueBytes = 0;
    this.#batch = null;
    this.#nextDeadline = null;
    return all;
  }

  /** The first `n` queued messages, in order (paced senders). */
  takeQueued(n: number): M[] {
    const out = this.#queue?.splice(0, n) ?? [];
    if (this.#queue?.length === 0) this.#queue = null;
    for (const m of out) this.#queueBytes -= m.bytes;
    this.#recomputeDeadline();
    return out;
  }

  /** Removes and returns every queued message whose deadline passed, wherever it is in the queue. */
  expire(nowMs: number): readonly M[] {
    if (this.#nextDeadline === null || nowMs < this.#nextDeadline) return NONE; // every tick of every link: no allocation
    const expired: M[] = [];
    const keep: M[] = [];
    for (const m of this.#queue ?? NONE) (m.deadlineMs <= nowMs ? expired : keep).push(m);
    this.#queue = keep.length > 0 ? keep : null;
    for (const m of expired) this.#queueBytes -= m.bytes;
    this.#recomputeDeadline();
    return expired;
  }

  pushControl(c: ControlItem): void {
    (this.#controls ??= []).push(c);
  }

  /** The controls to send (the caller may add to the array it gets). */
  takeControls(): ControlItem[] {
    const c = this.#controls;
    this.#controls = null;
    return c ?? [];
  }

  /** Empties everything; returns the messages (batch and queue) for the caller to reject. */
  clear(): M[] {
    this.#controls = null;
    return this.takeAll();
  }

  /** Nothing batched, queued or waiting as a control (what a new Outbox holds). */
  get empty(): boolean {
    return this.#batch === null && this.#queue === null && this.#controls === null && this.#queueBytes === 0 && this.#nextDeadline === null;
  }

  /** Control items wait for the next datagram. */
  get hasControls(): boolean {
    return this.#controls !== null;
  }

  get queued(): number {
    return this.#queue?.length ?? 0;
  }
  get queuedBytes(): number {
    return this.#queueBytes;
  }
  get batched(): number {
    return this.#batch?.length ?? 0;
  }
  get nextDeadline(): number {
    return this.#nextDeadline ?? Infinity;
  }

  #recomputeDeadline(): void {
    this.#nextDeadline = null;
    for (const m of this.#queue ?? NONE) if (this.#nextDeadline === null || m.deadlineMs < this.#nextDeadline) this.#nextDeadline = m.deadlineMs;
  }
}
