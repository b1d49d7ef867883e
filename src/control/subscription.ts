/**
 * A subscription as an async iterator of received messages (client side). It has its own
 * connection; when the consumer falls behind, the socket is paused, so the daemon sees
 * backpressure and, past its bound, drops for this subscriber only and reports the loss
 * (`onLost`, `lost`).
 */
import type * as net from 'node:net';
import { UdpVaultError } from '../errors';
import { LineSplitter } from './lines';
import { CONTROL_PROTOCOL_VERSION, errorFromBody, type ControlErrorBody, type WireMessage } from './protocol';

/** A received message: the wire fields (SPEC §1) plus the decoded payload bytes. */
export interface SubscribedMessage extends WireMessage {
  data: Uint8Array;
}

export interface SubscribeOptions {
  /** Only messages of this peer (name, key or host:port). */
  peer?: string;
  /** First the messages the daemon kept in its inbox while no reader was attached (`--backlog`). */
  backlog?: boolean;
  /** Called when the daemon reports messages dropped for this (slow) subscriber. */
  onLost?: (count: number) => void;
  /** Messages buffered before the socket is paused (default 1000). */
  highWaterMark?: number;
}

type StreamLine =
  | { id: unknown; ok: true }
  | { id: unknown; ok: false; error: ControlErrorBody }
  | (WireMessage & { id: unknown })
  | { id: unknown; type: 'lost'; count: number }
  | { id: unknown; type: 'end'; reason: string };

const MAX_LINE = 256 * 1024 * 1024;
const SUB_ID = 1;

export class Subscription implements AsyncIterableIterator<SubscribedMessage> {
  readonly #open: () => Promise<net.Socket>;
  readonly #home: string;
  readonly #opts: SubscribeOptions;
  readonly #high: number;
  #socket: net.Socket | null = null;
  #queue: SubscribedMessage[] = [];
  #waiters: { resolve(r: IteratorResult<SubscribedMessage>): void; reject(e: Error): void }[] = [];
  #ready: Promise<void> | null = null;
  #readyResolve: (() => void) | null = null;
  #readyReject: ((e: Error) => void) | null = null;
  #error: Error | null = null;
  #done = false;
  #lost = 0;
  #endReason: string | null = null;
  #closedResolve!: () => void;
  /** Settles when the subscription is over (ended, failed or closed). */
  readonly closed: Promise<void> = new Promise((r) => (this.#closedResolve = r));

  constructor(open: () => Promise<net.Socket>, home: string, opts: SubscribeOptions = {}) {
    this.#open = open;
    this.#home = home;
    this.#opts = opts;
    this.#high = Math.max(1, opts.highWaterMark ?? 1000);
  }

  /** Messages the daemon dropped for this subscriber so far. */
  get lost(): number {
    return this.#lost;
  }

  /** Why the daemon ended the stream (e.g. "daemon stopping"), or null. */
  get endReason(): string | null {
    return this.#endReason;
  }

  /** Connects and subscribes; resolves once the daemon confirmed (messages from then on are delivered). */
  ready(): Promise<void> {
    if (!this.#ready) {
      this.#ready = new Promise<void>((resolve, reject) => {
        this.#readyResolve = resolve;
        this.#readyReject = reject;
      });
      this.#ready.catch(() => undefined);
      this.#start().catch((e: Error) => this.#fail(e));
    }
    return this.#ready;
  }

  async #start(): Promise<void> {
    const socket = await this.#open();
    if (this.#done) {
      socket.destroy();
      return;
    }
    this.#socket = socket;
    const lines = new LineSplitter(MAX_LINE);
    socket.on('data', (chunk: Buffer) => {
      if (!lines.push(chunk, (l) => this.#onLine(l))) this.#fail(new UdpVaultError('ERR_CONTROL_PROTOCOL', 'the daemon sent an over-long line'));
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      if (!this.#done) this.#fail(new UdpVaultError('ERR_DAEMON_NOT_RUNNING', `lost the connection to the udpvault daemon of home ${this.#home}`));
    });
    const req = { v: CONTROL_PROTOCOL_VERSION, id: SUB_ID, op: 'subscribe', ...(this.#opts.peer !== undefined && { peer: this.#opts.peer }), ...(this.#opts.backlog === true && { backlog: true }) };
    socket.write(`${JSON.stringify(req)}\n`);
  }

  #onLine(line: string): void {
    let m: StreamLine;
    try {
      m = JSON.parse(line) as StreamLine;
    } catch {
      return;
    }
    if ('ok' in m) {
      if (m.ok) {
        this.#readyResolve?.();
      } else {
        this.#fail(errorFromBody(m.error));
      }
      return;
    }
    if (!('type' in m)) return;
    if (m.type === 'message') {
      const { id: _id, v: _v, ...wire } = m as WireMessage & { id: unknown; v?: unknown };
      this.#push({ ...wire, data: new Uint8Array(Buffer.from(wire.base64, 'base64')) });
    } else if (m.type === 'lost') {
      this.#lost += m.count;
      this.#opts.onLost?.(m.count);
    } else if (m.type === 'end') {
      this.#endReason = m.reason;
      this.#finish();
    }
  }

  #push(msg: SubscribedMessage): void {
    const w = this.#waiters.shift();
    if (w) {
      w.resolve({ value: msg, done: false });
      return;
    }
    this.#queue.push(msg);
    if (this.#queue.length >= this.#high) this.#socket?.pause();
  }

  #fail(e: Error): void {
    if (this.#done) return;
    this.#error = e;
    this.#readyReject?.(e);
    this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#readyReject?.(this.#error ?? new UdpVaultError('ERR_CLOSED', 'the subscription was closed'));
    this.#socket?.destroy();
    for (const w of this.#waiters.splice(0)) {
      if (this.#error) w.reject(this.#error);
      else w.resolve({ value: undefined, done: true });
    }
    this.#closedResolve();
  }

  next(): Promise<IteratorResult<SubscribedMessage>> {
    const msg = this.#queue.shift();
    if (msg) {
      if (this.#queue.length <= this.#high / 2 && this.#socket?.isPaused()) this.#socket.resume();
      return Promise.resolve({ value: msg, done: false });
    }
    if (this.#done) {
      const e = this.#error;
      this.#error = null;
      return e ? Promise.reject(e) : Promise.resolve({ value: undefined, done: true });
    }
    void this.ready();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Stops the subscription (for-await `break` calls this). */
  return(): Promise<IteratorResult<SubscribedMessage>> {
    this.close();
    return Promise.resolve({ value: undefined, done: true });
  }

  close(): void {
    this.#queue = [];
    this.#finish();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
