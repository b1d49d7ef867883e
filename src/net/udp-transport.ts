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

export class UdpTransport implements Transport {
  #v4: dgram.Socket | null = null;
  #v6: dgram.Socket | null = null;
  /** Datagrams passed to dgram whose send callback has not run yet. */
  #inFlight = 0;
  #drained: (() => void) | null = null;
  readonly port: number;
  readonly host: string;

  private constructor(v4: dgram.Socket | null, v6: dgram.Socket | null, host: string, port: number) {
    this.#v4 = v4;
    this.#v6 = v6;
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

  send(parts: Uint8Array | readonly Uint8Array[], port: number, address: string, family: 4 | 6, done?: (err: Error | null) => void): boolean {
    const s = family === 6 ? this.#v6 : this.#v4;
    if (!s) return false;
    this.#inFlight++;
    s.send(parts as Buffer[], port, address, (err) => {
      this.#inFlight--;
      if (this.#inFlight === 0 && this.#drained) this.#drained();
      done?.(err ?? null);
    });
    return true;
  }

  async close(): Promise<void> {
    if (this.#inFlight > 0) await new Promise<void>((r) => (this.#drained = r));
    await Promise.all(
      [this.#v4, this.#v6].map((s) => (s ? new Promise<void>((r) => s.close(() => r())) : undefined)),
    );
    this.#v4 = this.#v6 = null;
  }
}
