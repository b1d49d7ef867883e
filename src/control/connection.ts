/**
 * One client connection on the control socket: line framing with a length bound, request
 * parsing (every malformed input gets an error response with a stable code, never a crash),
 * concurrent requests answered by id, and backpressure in both directions.
 */
import type * as net from 'node:net';
import type { Logger } from '../runtime/log';
import { createError, UdpVaultError, type ErrorCode } from '../errors';
import { LineSplitter } from './lines';
import { errorBody, responseLine, type ControlErrorBody, type RequestId } from './protocol';
import type { LineSink, Subscriber } from './subscriber';
import type { Request } from './handlers';

/** Requests of one connection being handled at once; beyond this the socket is not read. */
const MAX_INFLIGHT = 1024;
/** Unread response bytes of one connection beyond which its requests are not read. */
const MAX_UNREAD_BYTES = 16 * 1024 * 1024;

export interface ConnectionHost {
  maxLineBytes(): number;
  handle(conn: Connection, req: Request): Promise<unknown>;
  onClose(conn: Connection): void;
  readonly logger: Logger;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class Connection implements LineSink {
  readonly subscribers = new Map<RequestId, Subscriber>();
  readonly #socket: net.Socket;
  readonly #host: ConnectionHost;
  readonly #lines: LineSplitter;
  #inflight = 0;
  #closed = false;
  #ending = false;
  /** The daemon is stopping: no further request is read. */
  #stopping = false;

  constructor(socket: net.Socket, host: ConnectionHost) {
    this.#socket = socket;
    this.#host = host;
    this.#lines = new LineSplitter(host.maxLineBytes());
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => this.#onDrain());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.#closed = true;
      host.onClose(this);
    });
    socket.on('end', () => {
      // The client closed its side: finish pending answers, then close ours (subscriptions end with it).
      if (this.subscribers.size === 0 && this.#inflight === 0) socket.end();
      else this.#ending = true;
    });
  }

  get blocked(): boolean {
    return this.#socket.writableNeedDrain;
  }

  get closed(): boolean {
    return this.#closed || this.#socket.destroyed || !this.#socket.writable;
  }

  write(line: string): boolean {
    if (this.closed) return false;
    return this.#socket.write(line);
  }

  /**
   * Ends every subscription of this connection and closes it (daemon stopping). Requests in
   * flight still get their answer: no further request is read, and the socket ends after the
   * last answer.
   */
  end(reason: string): void {
    for (const s of this.subscribers.values()) s.end(reason);
    this.subscribers.clear();
    if (this.#socket.destroyed) return;
    if (this.#inflight === 0) this.#socket.end();
    else {
      this.#ending = this.#stopping = true;
      this.#socket.pause();
    }
  }

  destroy(): void {
    this.#socket.destroy();
  }

  /** Writes an error response that is not tied to a handled request. */
  sendError(id: RequestId | null, code: ErrorCode, message: string): void {
    this.#respondError(id, errorBody(createError(code, message)));
  }

  #respondError(id: RequestId | null, error: ControlErrorBody): void {
    this.write(responseLine({ v: 1, id, ok: false, error }));
  }

  #onData(chunk: Buffer): void {
    if (this.closed) return;
    const ok = this.#lines.push(chunk, (line) => this.#onLine(line));
    if (!ok) {
      const max = this.#host.maxLineBytes();
      this.sendError(null, 'ERR_LINE_TOO_LONG', `request line longer than ${max} bytes; the connection is closed`);
      // Further input is read and discarded (closed is now true) so the client can see our end.
      this.#socket.end();
      this.#socket.resume();
      setTimeout(() => this.#socket.destroy(), 2000).unref();
      return;
    }
    this.#throttle();
  }

  #onLine(line: string): void {
    if (this.closed || this.#stopping || line.trim() === '') return;
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      this.sendError(null, 'ERR_BAD_JSON', 'request is not valid JSON; send one JSON object per line, e.g. {"v":1,"id":1,"op":"hello"}');
      return;
    }
    if (!isObject(msg)) {
      this.sendError(null, 'ERR_BAD_REQUEST', 'a request must be a JSON object, e.g. {"v":1,"id":1,"op":"hello"}');
      return;
    }
    const id = msg.id;
    const idOk = (typeof id === 'number' && Number.isSafeInteger(id)) || (typeof id === 'string' && id.length <= 128);
    if (!idOk) {
      this.sendError(null, 'ERR_BAD_REQUEST', 'field "id" is required: an integer or a string of at most 128 characters');
      return;
    }
    if (msg.v !== 1) {
      const v = JSON.stringify(msg.v) ?? 'missing';
      this.sendError(id, 'ERR_UNSUPPORTED_VERSION', `protocol version ${v.slice(0, 20)} is not supported; this daemon speaks version 1 ("v":1)`);
      return;
    }
    if (typeof msg.op !== 'string') {
      this.sendError(id, 'ERR_BAD_REQUEST', 'field "op" is required and must be a string');
      return;
    }
    this.#dispatch(msg as Request);
  }

  #dispatch(req: Request): void {
    this.#inflight++;
    const started = performance.now();
    // trace: one line per request with its op and outcome, never its fields (payloads, keys).
    const trace = (outcome: string): void => this.#host.logger.trace({ op: req.op.slice(0, 40), id: req.id, outcome, ms: Math.round((performance.now() - started) * 10) / 10 }, 'control request');
    this.#host
      .handle(this, req)
      .then(
        (result) => {
          trace('ok');
          this.write(responseLine({ v: 1, id: req.id, ok: true, result }));
        },
        (e: unknown) => {
          trace(e instanceof UdpVaultError ? e.code : 'ERR_INTERNAL');
          if (e instanceof UdpVaultError) {
            this.#respondError(req.id, errorBody(e));
          } else {
            this.#host.logger.error({ op: req.op, err: e }, 'control request failed');
            this.#respondError(req.id, errorBody(createError('ERR_INTERNAL', 'internal error in the daemon (details in its log)')));
          }
        },
      )
      .finally(() => {
        this.#inflight--;
        if (this.#ending && this.#inflight === 0 && this.subscribers.size === 0) this.#socket.end();
        this.#throttle();
      });
  }

  /** Stops reading while too many requests are pending or the client does not read its answers. */
  #throttle(): void {
    if (this.closed || this.#stopping) return;
    const busy = this.#inflight >= MAX_INFLIGHT || this.#socket.writableLength > MAX_UNREAD_BYTES;
    if (busy && !this.#socket.isPaused()) this.#socket.pause();
    else if (!busy && this.#socket.isPaused()) this.#socket.resume();
  }

  #onDrain(): void {
    for (const s of this.subscribers.values()) s.flush();
    this.#throttle();
  }
}
