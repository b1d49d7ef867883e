/**
 * The control client (SPEC §2, out-of-process API): `connect({home})` → a ControlClient that
 * speaks docs/CONTROL.md over home/control.sock. The CLI uses nothing else.
 */
import * as net from 'node:net';
import { UdpVaultError } from '../errors';
import { homePaths, resolveHome } from '../store/home';
import { LineSplitter } from './lines';
import {
  CONTROL_PROTOCOL_VERSION,
  errorFromBody,
  type ControlOp,
  type ControlResponse,
  type HelloResult,
  type OpArgs,
  type OpResults,
  type AddPeerRequest,
  type RequestId,
  type SendResult,
  type StatusResult,
} from './protocol';
import { Subscription, type SubscribeOptions } from './subscription';
import type { PeerJson } from './views';

export type { SubscribedMessage, SubscribeOptions } from './subscription';
export type { CountersJson, DaemonInfo, MtuSource, PeerJson } from './views';
export type { AddPeerRequest, StatusResult } from './protocol';
export { Subscription } from './subscription';

export interface ConnectOptions {
  /** The daemon's home (default: $UDPVAULT_HOME, else ~/.udpvault). */
  home?: string;
  /** Explicit socket path (default home/control.sock). */
  socketPath?: string;
  /** Timeout of requests other than send, ms (default 30 s; 0 = none). */
  requestTimeoutMs?: number;
}

export interface ClientSendOptions {
  reliable?: boolean;
  /** Milliseconds until the send fails (handed to the daemon). */
  timeoutMs?: number;
}

/** Client-side line bound: the daemon is trusted, this only stops a runaway. */
const CLIENT_MAX_LINE = 256 * 1024 * 1024;

function notRunning(home: string, socketPath: string, detail: string): UdpVaultError {
  return new UdpVaultError(
    'ERR_DAEMON_NOT_RUNNING',
    `no udpvault daemon is running for home ${home} (control socket ${socketPath} not reachable${detail}); start one with: udpvault daemon --home ${home}`,
  );
}

/** Opens the control socket, mapping "nobody listens" to ERR_DAEMON_NOT_RUNNING. */
export function openControlSocket(home: string, socketPath: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      s.destroy();
      if (e.code === 'EACCES' || e.code === 'EPERM') {
        reject(new UdpVaultError('ERR_DAEMON_NOT_RUNNING', `cannot open the control socket ${socketPath} of home ${home} (permission denied); run this as the user that runs the daemon`));
      } else {
        reject(notRunning(home, socketPath, e.code === 'ENOENT' ? '' : `: ${e.code ?? e.message}`));
      }
    });
  });
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | null;
}

export class ControlClient {
  readonly home: string;
  readonly socketPath: string;
  readonly #socket: net.Socket;
  readonly #timeoutMs: number;
  readonly #pending = new Map<RequestId, Pending>();
  readonly #subscriptions = new Set<Subscription>();
  #nextId = 1;
  /** Set once the connection is closed (by us or by the daemon): what later requests fail with. */
  #closeError: UdpVaultError | null = null;

  constructor(socket: net.Socket, home: string, socketPath: string, requestTimeoutMs: number) {
    this.#socket = socket;
    this.home = home;
    this.socketPath = socketPath;
    this.#timeoutMs = requestTimeoutMs;
    const lines = new LineSplitter(CLIENT_MAX_LINE);
    socket.on('data', (chunk: Buffer) => {
      if (!lines.push(chunk, (l) => this.#onLine(l))) this.#failAll(new UdpVaultError('ERR_CONTROL_PROTOCOL', 'the daemon sent an over-long line'));
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.#closeError ??= new UdpVaultError('ERR_DAEMON_NOT_RUNNING', `the connection to the udpvault daemon of home ${home} was closed (control socket ${socketPath})`);
      this.#failAll(this.#closeError);
    });
  }

  #onLine(line: string): void {
    let msg: ControlResponse;
    try {
      msg = JSON.parse(line) as ControlResponse;
    } catch {
      return;
    }
    if (typeof msg !== 'object' || msg === null || !('ok' in msg)) return;
    if (msg.id === null) {
      if (!msg.ok) {
        // Not tied to a request (e.g. ERR_TOO_MANY_CONNECTIONS before the first one was sent):
        // what every pending and later request of this connection fails with.
        const e = errorFromBody(msg.error);
        this.#closeError ??= e;
        this.#failAll(e);
      }
      return;
    }
    const p = this.#pending.get(msg.id);
    if (!p) return;
    this.#pending.delete(msg.id);
    if (p.timer) clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(errorFromBody(msg.error));
  }

  #failAll(e: Error): void {
    for (const p of this.#pending.values()) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(e);
    }
    this.#pending.clear();
  }

  /** One request; resolves with its result or rejects with the typed error the daemon returned. */
  request<O extends ControlOp>(op: O, args: OpArgs[O], timeoutMs: number = this.#timeoutMs): Promise<OpResults[O]> {
    if (this.#closeError) return Promise.reject(this.#closeError);
    const id = this.#nextId++;
    return new Promise<OpResults[O]>((resolve, reject) => {
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.#pending.delete(id);
              reject(new UdpVaultError('ERR_CONTROL_PROTOCOL', `the udpvault daemon of home ${this.home} did not answer "${op}" within ${Math.round(timeoutMs / 1000)} s`));
            }, timeoutMs)
          : null;
      this.#pending.set(id, { resolve: (v) => resolve(v as OpResults[O]), reject, timer });
      this.#socket.write(`${JSON.stringify({ v: CONTROL_PROTOCOL_VERSION, id, op, ...args })}\n`);
    });
  }

  hello(): Promise<HelloResult> {
    return this.request('hello', {});
  }

  async id(): Promise<string> {
    return (await this.request('id', {})).publicKey;
  }

  status(): Promise<StatusResult> {
    return this.request('status', {});
  }

  async peers(): Promise<PeerJson[]> {
    return (await this.request('peers', {})).peers;
  }

  /** Adds or updates a peer; changing the recorded key of an existing peer needs `replaceKey: true`. */
  async addPeer(opts: AddPeerRequest): Promise<PeerJson> {
    return (await this.request('peer.add', opts)).peer;
  }

  async removePeer(ref: string): Promise<PeerJson> {
    return (await this.request('peer.remove', { peer: ref })).peer;
  }

  /** Resolves when sent (datagram mode) or acknowledged (reliable); rejects with the daemon's typed error. */
  send(peer: string, data: Uint8Array | string, opts: ClientSendOptions = {}): Promise<SendResult> {
    const payload = typeof data === 'string' ? { text: data } : { base64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64') };
    const args = { peer, ...payload, reliable: opts.reliable ?? false, ...(opts.timeoutMs !== undefined && { timeoutMs: opts.timeoutMs }) };
    // The daemon enforces the timeout; the client only guards against a daemon that never answers.
    const guard = opts.timeoutMs !== undefined ? opts.timeoutMs + 15_000 : 0;
    return this.request('send', args, guard);
  }

  /** Received messages as an async iterator, on a connection of its own (see Subscription). */
  subscribe(opts: SubscribeOptions = {}): Subscription {
    const sub = new Subscription(() => openControlSocket(this.home, this.socketPath), this.home, opts);
    this.#subscriptions.add(sub);
    void sub.closed.then(() => this.#subscriptions.delete(sub));
    return sub;
  }

  /** Closes the connection and every subscription made through this client. */
  close(): void {
    for (const s of this.#subscriptions) s.close();
    this.#subscriptions.clear();
    this.#closeError ??= new UdpVaultError('ERR_CLOSED', 'the control client is closed');
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 1000).unref();
  }
}

/** Connects to the daemon of `home` and checks that it speaks this protocol version. */
export async function connect(opts: ConnectOptions = {}): Promise<ControlClient> {
  const home = resolveHome(opts.home);
  const socketPath = opts.socketPath ?? homePaths(home).control;
  const socket = await openControlSocket(home, socketPath);
  const client = new ControlClient(socket, home, socketPath, opts.requestTimeoutMs ?? 30_000);
  try {
    const hello = await client.hello();
    if (hello.protocol !== CONTROL_PROTOCOL_VERSION) {
      throw new UdpVaultError('ERR_UNSUPPORTED_VERSION', `the daemon of home ${home} speaks control protocol ${hello.protocol}; this client speaks ${CONTROL_PROTOCOL_VERSION}`);
    }
  } catch (e) {
    client.close();
    throw e;
  }
  return client;
}
