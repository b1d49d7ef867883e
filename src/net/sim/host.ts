/**
 * A simulated machine: one or more addresses, transports bound to ports. Its transports
 * implement the Transport interface exactly as the dgram one behaves: datagrams are copied at
 * send, `done` runs in a microtask once the network took them, close() waits for pending
 * `done`s, a closed transport sends nothing and receives nothing.
 */
import { isIP } from 'node:net';
import type { Scheduler } from '../../runtime/scheduler';
import type { Datagram, OnMessage, OpenTransport, Transport, TransportOptions } from '../transport';
import { canonical, familyOf, isWildcard, maxUdpPayload } from './address';
import type { FragmentCounter } from '../fragment-counter';

/** What a host needs from the network. */
export interface HostUplink {
  readonly scheduler: Scheduler;
  /** Runs `run` in its own callback, now (after what is already due now). */
  later(run: () => void): void;
  /** Takes a datagram (already copied) from address:port into the network. */
  carry(data: Buffer, fromAddress: string, fromPort: number, toAddress: string, toPort: number, family: 4 | 6): void;
}

export const EPHEMERAL_FIRST = 49_152;
/** Receive buffer of a frozen host's socket, as udp-transport asks of the kernel. */
export const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;

function sysError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export class SimHost {
  /** The host's addresses, canonical, in the order given. */
  readonly addresses: readonly string[];
  readonly #uplink: HostUplink;
  readonly #ports = new Map<number, SimTransport>();
  #nextEphemeral = EPHEMERAL_FIRST;
  #frozen = false;
  #receiveBufferBytes = 0;
  /** Datagrams that reached a frozen host's sockets, in arrival order. */
  #held: Array<() => void> = [];
  readonly #heldBytes = new Map<SimTransport, number>();
  readonly #fragments = { 4: 0, 6: 0 };

  constructor(addresses: readonly string[], uplink: HostUplink) {
    this.addresses = addresses;
    this.#uplink = uplink;
  }

  /** Binds a transport (an OpenTransport, usable unbound). Port 0 picks the next free ephemeral port. */
  readonly openTransport: OpenTransport = async (o: TransportOptions): Promise<Transport> => {
    const host = canonical(o.host);
    const bound = isWildcard(host) ? [...this.addresses] : this.addresses.filter((a) => a === host);
    if (!isWildcard(host)) familyOf(host);
    if (bound.length === 0) throw sysError('EADDRNOTAVAIL', `bind EADDRNOTAVAIL ${o.host}:${o.port}`);
    if (!(Number.isInteger(o.port) && o.port >= 0 && o.port <= 65_535)) {
      throw Object.assign(new RangeError(`port must be an integer in [0, 65535], got ${o.port}`), { code: 'ERR_SOCKET_BAD_PORT' });
    }
    const port = o.port === 0 ? this.#ephemeral(o.host) : o.port;
    if (this.#ports.has(port)) throw sysError('EADDRINUSE', `bind EADDRINUSE ${o.host}:${port}`);
    const t = new SimTransport(o, bound, port, this.#uplink, () => this.#ports.delete(port));
    this.#ports.set(port, t);
    return t;
  };

  /** IP fragments this host's kernel created, per family (as /proc/net/snmp FragCreates): pass as the node's runtime.fragmentCounter. */
  readonly fragmentCounter: FragmentCounter = (family) => this.#fragments[family];

  /** The network counts fragments this host's kernel cut a datagram into. */
  countFragments(family: 4 | 6, n: number): void {
    this.#fragments[family] += n;
  }

  /** The transport that would receive at address:port now, or null. */
  listener(address: string, port: number): SimTransport | null {
    const t = this.#ports.get(port);
    return t && t.serves(address) ? t : null;
  }

  /** Number of bound ports. */
  get boundPorts(): number {
    return this.#ports.size;
  }

  /**
   * The process died: every transport is gone at once, pending `done`s never run (their
   * close() resolves), datagrams already on the links still arrive elsewhere. openTransport
   * may be called again (a restart).
   */
  crash(): void {
    for (const t of [...this.#ports.values()]) t.kill();
    this.#ports.clear();
    // What waited in the receive buffers is gone with the sockets (traced as noListener).
    this.thaw();
  }

  get frozen(): boolean {
    return this.#frozen;
  }

  /**
   * The process stops reading (SIGSTOP, a blocked event loop): datagrams wait in each socket's
   * receive buffer, up to receiveBufferBytes of payload per socket (beyond it they are dropped:
   * fate 'bufferFull'), until thaw(). Only reception freezes: the application's own timers and
   * sends are the test's to hold.
   */
  freeze(receiveBufferBytes = RECEIVE_BUFFER_BYTES): void {
    if (!(receiveBufferBytes >= 0)) throw new RangeError(`receiveBufferBytes must be >= 0, got ${receiveBufferBytes}`);
    this.#frozen = true;
    this.#receiveBufferBytes = receiveBufferBytes;
  }

  /** Reading resumes: the waiting datagrams are handed over in arrival order, each in its own callback, from now on. */
  thaw(): void {
    this.#frozen = false;
    const held = this.#held;
    this.#held = [];
    this.#heldBytes.clear();
    for (const run of held) this.#uplink.later(run);
  }

  /** Keeps a datagram for a frozen host until thaw() (the network calls this); false when that socket's buffer is full. */
  hold(t: SimTransport, bytes: number, run: () => void): boolean {
    const used = this.#heldBytes.get(t) ?? 0;
    if (used + bytes > this.#receiveBufferBytes) return false;
    this.#heldBytes.set(t, used + bytes);
    this.#held.push(run);
    return true;
  }

  #ephemeral(host: string): number {
    for (let i = 0; i < 65_536 - EPHEMERAL_FIRST; i++) {
      const p = this.#nextEphemeral;
      this.#nextEphemeral = p === 65_535 ? EPHEMERAL_FIRST : p + 1;
      if (!this.#ports.has(p)) return p;
    }
    throw sysError('EADDRINUSE', `bind EADDRINUSE ${host}:0 (no ephemeral port left)`);
  }
}

export class SimTransport implements Transport {
  readonly host: string;
  readonly port: number;
  readonly #bound: readonly string[];
  readonly #uplink: HostUplink;
  readonly #onMessage: OnMessage;
  readonly #unbind: () => void;
  #open = true;
  #killed = false;
  #inFlight = 0;
  #drained: Array<() => void> = [];

  constructor(o: TransportOptions, bound: readonly string[], port: number, uplink: HostUplink, unbind: () => void) {
    this.host = o.host;
    this.port = port;
    this.#bound = bound;
    this.#uplink = uplink;
    this.#onMessage = o.onMessage;
    this.#unbind = unbind;
  }

  hasFamily(family: 4 | 6): boolean {
    return this.#open && this.#source(family) !== null;
  }

  /** Whether it is still bound. */
  get bound(): boolean {
    return this.#open;
  }

  /** Whether it is bound and receives at this address. */
  serves(address: string): boolean {
    return this.#open && this.#bound.includes(address);
  }

  /** Hands a datagram to the application (the network calls this). */
  receive(d: Datagram): void {
    if (this.#open) this.#onMessage(d.data, d.address, d.port);
  }

  send(parts: Uint8Array | readonly Uint8Array[], port: number, address: string, family: 4 | 6, done?: (err: Error | null) => void): boolean {
    const from = this.#open ? this.#source(family) : null;
    if (from === null) return false;
    if (!(Number.isInteger(port) && port >= 1 && port <= 65_535)) {
      throw Object.assign(new RangeError(`Port should be > 0 and < 65536. Received ${port}.`), { code: 'ERR_SOCKET_BAD_PORT' });
    }
    const data = parts instanceof Uint8Array ? Buffer.from(parts) : Buffer.concat(parts as Uint8Array[]);
    const to = canonical(address);
    let err: Error | null = null;
    const toFamily = isIP(to);
    if (toFamily === 0) err = sysError('ENOTFOUND', `getaddrinfo ENOTFOUND ${address}`);
    else if (toFamily !== family) err = sysError('EINVAL', `send EINVAL ${address}:${port}`);
    else if (data.length > maxUdpPayload(family)) err = sysError('EMSGSIZE', `send EMSGSIZE ${address}:${port}`);
    else this.#uplink.carry(data, from, this.port, to, port, family);
    this.#inFlight++;
    this.#uplink.scheduler.microtask(() => {
      this.#inFlight--;
      if (!this.#killed) done?.(err);
      if (this.#inFlight === 0) this.#settle();
    });
    return true;
  }

  async close(): Promise<void> {
    if (this.#inFlight > 0) await new Promise<void>((r) => this.#drained.push(r));
    this.#shut();
  }

  /** Abrupt end (host crash): no `done` runs any more. */
  kill(): void {
    this.#killed = true;
    this.#shut();
    this.#settle();
  }

  #shut(): void {
    if (!this.#open) return;
    this.#open = false;
    this.#unbind();
  }

  #settle(): void {
    const waiting = this.#drained;
    this.#drained = [];
    for (const r of waiting) r();
  }

  #source(family: 4 | 6): string | null {
    return this.#bound.find((a) => familyOf(a) === family) ?? null;
  }
}
