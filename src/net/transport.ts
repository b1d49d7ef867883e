/**
 * The network seam. The node sends and receives datagrams only through a Transport: the
 * dgram implementation (udp-transport.ts) in production, the simulated network (net/sim/)
 * in deterministic tests.
 */

import { isIP } from 'node:net';

/** Canonical form of an address seen on a socket (IPv4-mapped IPv6 becomes IPv4). */
export function canonicalAddress(a: string): string {
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

export interface Datagram {
  data: Buffer;
  /** Canonical source address (IPv4-mapped IPv6 unmapped). */
  address: string;
  port: number;
}

export interface Transport {
  /** The bound address as configured. */
  readonly host: string;
  /** The bound port (the actual one when 0 was asked). */
  readonly port: number;
  /** Whether a socket serves this address family. */
  hasFamily(family: 4 | 6): boolean;
  /**
   * Hands one datagram (the concatenation of `parts`, not copied: the caller must not reuse
   * them until `done`) to the network. `done` runs once the kernel (or the simulated link)
   * has taken it, or with the error. Datagrams are handed over in call order. Returns false,
   * sending nothing and never calling `done`, when no socket serves that family.
   */
  send(parts: Uint8Array | readonly Uint8Array[], port: number, address: string, family: 4 | 6, done?: (err: Error | null) => void): boolean;
  /** Waits until every datagram already passed to send() was handed over, then closes. */
  close(): Promise<void>;
}

export interface TransportOptions {
  host: string;
  port: number;
  /**
   * One received datagram. Its `data` is handed over: the node decrypts it in place and a
   * received message's bytes are a view of it (issue 12: no copy per datagram), so the transport
   * must give each datagram its own memory and never reuse or modify it afterwards (dgram does:
   * a new buffer per datagram).
   */
  onMessage(d: Datagram): void;
  onError(e: Error): void;
}

/** Opens a transport (binds). Rejects with the bind error (e.g. EADDRINUSE). */
export type OpenTransport = (o: TransportOptions) => Promise<Transport>;
