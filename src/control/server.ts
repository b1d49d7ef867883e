/**
 * The control socket server (SPEC §2): a Unix domain socket (mode 0600) in the home, serving
 * the line protocol of docs/CONTROL.md for any UdpVaultNode, and fanning every received
 * message out to every subscriber without letting a slow one stall anything.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { MessageEvent, UdpVaultNode } from '../node/types';
import { silentLogger, type Logger } from '../runtime/log';
import { UdpVaultError, BadInputError, createError } from '../errors';
import { Connection, type ConnectionHost } from './connection';
import { handleRequest, type HandlerContext, type Request } from './handlers';
import { errorBody, maxRequestLineBytes, responseLine, toWireMessage, type RequestId, type WireMessage } from './protocol';
import { Subscriber, type SubscriberLimits } from './subscriber';
import type { DaemonInfo } from './views';
import { controlSettings, type ControlSettings, type ControlSettingsInput } from './control-settings';

export type { ControlSettings, ControlSettingsInput } from './control-settings';

/** A refused connection gets its error line; its socket is closed at the latest this much later. */
const REFUSED_CLOSE_MS = 1000;

export interface ControlServerOptions {
  /** Socket path (home/control.sock). */
  path: string;
  node: UdpVaultNode;
  settings: ControlSettingsInput;
  home?: string | null;
  /** What `status` reports about the daemon (MTU source, config file, ...). */
  daemonInfo?: () => DaemonInfo;
  logger?: Logger;
}

/** True when something accepts connections on `path` (a live daemon). */
export function probeSocket(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    const done = (v: boolean): void => {
      clearTimeout(t);
      s.destroy();
      resolve(v);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export class ControlServer {
  readonly path: string;
  readonly #server: net.Server;
  readonly #node: UdpVaultNode;
  readonly #home: string | null;
  readonly #daemonInfo: (() => DaemonInfo) | null;
  readonly #logger: Logger;
  #settings: ControlSettings;
  /** Connections refused since the cap was last reached (one warn line per episode). */
  #refused = 0;
  /** Refused sockets still open (waiting for the client to close). */
  #lingering = 0;
  readonly #connections = new Set<Connection>();
  readonly #subscribers = new Set<Subscriber>();
  readonly #onMessage = (ev: MessageEvent): void => this.#fanOut(ev);
  /** Detaches #onMessage from the node; set only while there are subscribers (else the node keeps messages in its inbox). */
  #detach: (() => void) | null = null;
  #closing: Promise<void> | null = null;

  private constructor(server: net.Server, opts: ControlServerOptions) {
    this.path = opts.path;
    this.#server = server;
    this.#node = opts.node;
    this.#home = opts.home ?? null;
    this.#daemonInfo = opts.daemonInfo ?? null;
    this.#logger = opts.logger ?? silentLogger;
    this.#settings = controlSettings(opts.settings);
    server.on('connection', (socket) => this.#accept(socket));
    server.on('error', (e) => this.#logger.error({ err: e }, 'control socket error'));
  }

  /** The node sees a reader only while someone subscribes: without one, messages wait in its inbox. */
  #syncReader(): void {
    if (this.#subscribers.size > 0 && this.#detach === null && !this.#closing) {
      const node = this.#node;
      if (node.attachReader) this.#detach = node.attachReader(this.#onMessage);
      else {
        node.on('message', this.#onMessage);
        this.#detach = () => void node.off('message', this.#onMessage);
      }
    } else if (this.#subscribers.size === 0 && this.#detach !== null) {
      this.#detach();
      this.#detach = null;
    }
  }

  /** Listens on opts.path (mode 0600). A stale socket file is replaced; a live one means another daemon. */
  static async listen(opts: ControlServerOptions): Promise<ControlServer> {
    if (fs.existsSync(opts.path)) {
      if (await probeSocket(opts.path)) {
        throw new UdpVaultError('ERR_HOME_LOCKED', `another udpvault daemon is already serving the control socket ${opts.path}; stop it first or use another --home`);
      }
      fs.rmSync(opts.path, { force: true });
    }
    const server = net.createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // The socket file is created by bind(), synchronously inside listen(): never group/world accessible.
      const umask = process.umask(0o177);
      try {
        server.listen(opts.path, () => {
          server.off('error', reject);
          resolve();
        });
      } finally {
        process.umask(umask);
      }
    }).catch((e: NodeJS.ErrnoException) => {
      throw new BadInputError('ERR_BAD_ARGUMENT', `cannot create the control socket ${opts.path} (${e.code ?? e.message})`);
    });
    fs.chmodSync(opts.path, 0o600);
    return new ControlServer(server, opts);
  }

  get connections(): number {
    return this.#connections.size;
  }

  get subscribers(): number {
    return this.#subscribers.size;
  }

  /** The settings in force. */
  get settings(): Readonly<ControlSettings> {
    return this.#settings;
  }

  /**
   * SIGHUP: new bounds, applied at once. Connections and subscriptions beyond a lowered cap stay
   * (further ones are refused); a lowered buffer bound applies to what is buffered from now on.
   */
  updateSettings(s: ControlSettingsInput): void {
    this.#settings = controlSettings(s);
    const limits = this.#limits();
    for (const sub of this.#subscribers) sub.setLimits(limits);
  }

  #limits(): SubscriberLimits {
    return { messages: this.#settings.subscriberBufferMessages, bytes: this.#settings.subscriberBufferBytes };
  }

  #accept(socket: net.Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    const max = this.#settings.maxControlConnections;
    if (this.#connections.size >= max) {
      this.#refuse(socket, max);
      return;
    }
    const host: ConnectionHost = {
      logger: this.#logger,
      maxLineBytes: () => maxRequestLineBytes(this.#settings.maxMessageBytes),
      handle: (conn, req) => handleRequest(this.#context(conn), req as Request),
      onClose: (conn) => {
        this.#connections.delete(conn);
        this.#logger.debug({ connections: this.#connections.size }, 'control connection closed');
        for (const s of conn.subscribers.values()) this.#subscribers.delete(s);
        conn.subscribers.clear();
        this.#syncReader();
      },
    };
    const conn = new Connection(socket, host);
    this.#connections.add(conn);
    this.#refused = 0; // below the limit again: the next refusal opens a new episode (warn)
    this.#logger.debug({ connections: this.#connections.size }, 'control connection opened');
  }

  /**
   * A connection beyond maxControlConnections: one error line and our end of the stream. What
   * it sends meanwhile is read and discarded (so that its first request does not fail with
   * EPIPE before it reads why), and the socket is closed when the client closes its side, at
   * the latest REFUSED_CLOSE_MS later. At most maxControlConnections refused sockets linger so;
   * beyond that they are closed as soon as the line is handed to the kernel.
   */
  #refuse(socket: net.Socket, max: number): void {
    if (this.#refused++ === 0) this.#logger.warn({ connections: this.#connections.size, maxControlConnections: max }, 'control connections at the limit: further ones are refused (ERR_TOO_MANY_CONNECTIONS)');
    else this.#logger.debug({ refused: this.#refused }, 'control connection refused');
    const err = createError('ERR_TOO_MANY_CONNECTIONS', `the daemon serves at most ${max} control connections at once (setting maxControlConnections); close one and retry`);
    const line = responseLine({ v: 1, id: null, ok: false, error: errorBody(err) });
    socket.on('error', () => socket.destroy());
    if (this.#lingering >= max) {
      socket.end(line, () => socket.destroy());
      return;
    }
    this.#lingering++;
    const timer = setTimeout(() => socket.destroy(), REFUSED_CLOSE_MS);
    timer.unref();
    socket.on('close', () => {
      this.#lingering--;
      clearTimeout(timer);
    });
    socket.on('data', () => undefined);
    socket.on('end', () => socket.destroy());
    socket.end(line);
  }

  #context(conn: Connection): HandlerContext {
    return {
      node: this.#node,
      home: this.#home,
      daemonInfo: () => this.#daemonInfo?.() ?? null,
      maxMessageBytes: () => this.#settings.maxMessageBytes,
      subscriberCount: () => this.#subscribers.size,
      connectionCount: () => this.#connections.size,
      subscribe: (id: RequestId, filter: string | null, matches: (m: WireMessage) => boolean, backlog: boolean) => {
        if (conn.subscribers.has(id)) throw new BadInputError('ERR_BAD_REQUEST', `op "subscribe": this connection already has a subscription with id ${JSON.stringify(id)}`);
        const cap = this.#settings.maxSubscriptionsPerConnection;
        if (conn.subscribers.size >= cap) {
          throw createError('ERR_TOO_MANY_SUBSCRIPTIONS', `this connection holds ${conn.subscribers.size} subscriptions, the most allowed (setting maxSubscriptionsPerConnection = ${cap}); unsubscribe one or use another connection`);
        }
        const sub = new Subscriber(id, filter, conn, matches, this.#limits());
        let taken = 0;
        if (backlog && this.#node.takeInbox) {
          // Taken now, before the node sees the reader: the backlog comes first, then new messages.
          const lines: string[] = [];
          for (const ev of this.#node.takeInbox((ev) => matches(toWireMessage(ev)))) {
            try {
              lines.push(JSON.stringify(toWireMessage(ev)));
            } catch (e) {
              this.#logger.error({ err: (e as Error).message }, 'cannot encode a kept message for a subscriber');
            }
          }
          sub.preload(lines);
          taken = lines.length;
        }
        conn.subscribers.set(id, sub);
        this.#subscribers.add(sub);
        this.#syncReader();
        if (taken > 0) setImmediate(() => sub.flush()); // after the subscribe response line
        return taken;
      },
      unsubscribe: (id: RequestId) => {
        const sub = conn.subscribers.get(id);
        if (!sub) return false;
        sub.end('unsubscribed');
        conn.subscribers.delete(id);
        this.#subscribers.delete(sub);
        this.#syncReader();
        return true;
      },
    };
  }

  #fanOut(ev: MessageEvent): void {
    if (this.#subscribers.size === 0) return;
    let wire: WireMessage;
    let body: string;
    let bodyBytes: number;
    try {
      wire = toWireMessage(ev);
      body = JSON.stringify(wire);
      bodyBytes = Buffer.byteLength(body);
    } catch (e) {
      this.#logger.error({ err: e }, 'cannot encode a received message for subscribers');
      return;
    }
    for (const sub of this.#subscribers) {
      try {
        if (sub.matches(wire)) sub.push(body, bodyBytes);
      } catch (e) {
        this.#logger.error({ err: e }, 'subscriber delivery failed');
      }
    }
  }

  /** Ends every subscription ({"type":"end"}), closes every connection, removes the socket file. */
  close(reason = 'daemon stopping', graceMs = 2000): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#closing = (async () => {
      this.#detach?.();
      this.#detach = null;
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const c of this.#connections) c.end(reason);
      this.#subscribers.clear();
      const timer = setTimeout(() => {
        for (const c of this.#connections) c.destroy();
      }, graceMs);
      await closed;
      clearTimeout(timer);
      fs.rmSync(this.path, { force: true });
    })();
    return this.#closing;
  }
}
