/**
 * The dgram Transport: one UDP socket per address family on the same port. With host
 * '0.0.0.0' (default) an IPv6 socket on '::' is added when the machine has IPv6.
 */
import * as dgram from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP } from 'node:net';
import { canonicalAddress } from './transport';
import type { Datagram, Transport, TransportOptions } from './transport';

const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * The sockets' address lookup: an IP literal (every address this transport sends to) is
 * answered synchronously, so dgram.send() goes to the kernel in the same call. dgram's default
 * (dns.lookup) answers even a literal on process.nextTick: a deferred call and a closure per
 * datagram on the hot path. Names still go to dns.lookup.
 */
export function literalLookup(address: string, family: number | { family?: number }, cb: LookupCallback): void {
  const fam = isIP(address);
  if (fam !== 0) return cb(null, address, fam);
  dnsLookup(address, typeof family === 'number' ? family : (family.family ?? 0), cb);
}

function bind(type: 'udp4' | 'udp6', host: string, port: number, onMessage: (d: Datagram) => void, onError: (e: Error) => void): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket({ type, ipv6Only: type === 'udp6', reuseAddr: false, lookup: literalLookup as unknown as dgram.SocketOptions['lookup'] });
    const fail = (e: Error): void => {
      s.close();
      reject(e);
    };
    s.once('error', fail);
    s.bind(port, host, () => {
      s.off('error', fail);
      s.on('error', onError);
      for (const set of [(n: number) => s.setRecvBufferSize(n), (n: number) => s.setSendBufferSize(n)]) {
        try {
          set(SOCKET_BUFFER_BYTES);
        } catch {
          /* the kernel caps it; the default still works */
        }
      }
      s.on('message', (data, r) => onMessage({ data, address: canonicalAddress(r.address), port: r.port }));
      resolve(s);
    });
  });
}

type Done = (err: Error | null) => void;

/**
 * One socket's datagrams passed to dgram whose callback has not run yet: their `done`s in a
 * ring, in call order, and one callback for every send (issue 12: no closure per datagram).
 * dgram calls back in call order: a send that completed (or failed) synchronously calls back on
 * process.nextTick; once one is queued in libuv every later one queues behind it
 * (uv_udp_try_send refuses while the queue is not empty), and libuv completes its queue in
 * order, each callback run before the next send can be made. Every address sent to is an IP
 * literal (literalLookup answers synchronously), so no send waits for a lookup.
 */
class PendingSends {
  #ring: (Done | undefined)[] = new Array<Done | undefined>(64).fill(undefined);
  #head = 0;
  /** Callbacks owed by dgram (all sockets' sends are counted by the transport too). */
  size = 0;
  readonly #settled: () => void;

  constructor(settled: () => void) {
    this.#settled = settled;
  }

  /** A send just passed to dgram (it did not throw): its `done` is called by onSent, in order. */
  push(done: Done | undefined): void {
    if (this.size === this.#ring.length) this.#grow();
    this.#ring[(this.#head + this.size) & (this.#ring.length - 1)] = done;
    this.size++;
  }

  /** dgram's callback for every send of this socket. */
  readonly onSent = (err: Error | null): void => {
    const ring = this.#ring;
    const h = this.#head;
    const done = ring[h];
    ring[h] = undefined;
    this.#head = (h + 1) & (ring.length - 1);
    this.size--;
    this.#settled();
    if (done !== undefined) done(err ?? null);
  };

  #grow(): void {
    const old = this.#ring;
    const ring = new Array<Done | undefined>(old.length * 2).fill(undefined);
    for (let i = 0; i < this.size; i++) ring[i] = old[(this.#head + i) & (old.length - 1)];
    this.#ring = ring;
    this.#head = 0;
  }
}

export class UdpTransport implements Transport {
  #v4: dgram.Socket | null = null;
  #v6: dgram.Socket | null = null;
  /** Each socket's sends whose callback has not run yet (v4, v6). */
  readonly #pending4: PendingSends;
  readonly #pending6: PendingSends;
  #drained: (() => void) | null = null;
  readonly #settled = (): void => {
    if (this.#drained !== null && this.#pending4.size === 0 && this.#pending6.size === 0) this.#drained();
  };
  readonly port: number;
  readonly host: string;

  private constructor(v4: dgram.Socket | null, v6: dgram.Socket | null, host: string, port: number) {
    this.#v4 = v4;
    this.#v6 = v6;
    this.#pending4 = new PendingSends(this.#settled);
    this.#pending6 = new PendingSends(this.#settled);
    this.host = host;
    this.port = port;
  }

  static async open(o: TransportOptions): Promise<UdpTransport> {
    const { host, port, onMessage, onError } = o;
    const fam = isIP(host);
    if (fam === 6) {
      const s = await bind('udp6', host, port, onMessage, onError);
      return new UdpTransport(null, s, host, s.address().port);
    }
    if (fam !== 4) throw new Error(`bind address must be an IP address, got "${host}"`);
    const v4 = await bind('udp4', host, port, onMessage, onError);
    const actual = v4.address().port;
    let v6: dgram.Socket | null = null;
    if (host === '0.0.0.0') {
      v6 = await bind('udp6', '::', actual, onMessage, onError).catch(() => null);
    } else if (host === '127.0.0.1') {
      v6 = await bind('udp6', '::1', actual, onMessage, onError).catch(() => null);
    }
    return new UdpTransport(v4, v6, host, actual);
  }

  hasFamily(family: 4 | 6): boolean {
    return (family === 6 ? this.#v6 : this.#v4) !== null;
  }

  send(parts: Uint8Array | readonly Uint8Array[], port: number, address: string, family: 4 | 6, done?: Done): boolean {
    const v6 = family === 6;
    const s = v6 ? this.#v6 : this.#v4;
    if (!s) return false;
    const pending = v6 ? this.#pending6 : this.#pending4;
    s.send(parts as Buffer[], port, address, pending.onSent); // never calls back before it returns
    pending.push(done);
    return true;
  }

  async close(): Promise<void> {
    if (this.#pending4.size > 0 || this.#pending6.size > 0) await new Promise<void>((r) => (this.#drained = r));
    await Promise.all(
      [this.#v4, this.#v6].map((s) => (s ? new Promise<void>((r) => s.close(() => r())) : undefined)),
    );
    this.#v4 = this.#v6 = null;
  }
}
