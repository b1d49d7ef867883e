/**
 * The network seam. The node sends and receives datagrams only through a Transport: the
 * dgram implementation (udp-transport.ts) in production, the simulated network (net/sim/)
 * in deterministic tests.
 */

import { isIP } from 'node:net';

/**
 * Canonical form of an address seen on an IPv6 socket (IPv4-mapped IPv6 becomes IPv4). An IPv4
 * socket's addresses are canonical already: the transport calls this for IPv6 sockets only.
 */
export function canonicalAddress(a: string): string {
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

/**
 * A received datagram as one object, for the receive paths that keep or pass it around (the
 * handshakes, vault-v2, the simulated network). The transport itself hands datagrams over
 * positionally (`TransportOptions.onMessage`): no object per datagram on the data path.
 */
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

/** The receive callback: one datagram's bytes (handed over), canonical source address and port. */
export type OnMessage = (data: Buffer, address: string, port: number) => void;

export interface TransportOptions {
  host: string;
  port: number;
  /**
   * One received datagram, positionally (no object per datagram): its bytes, the canonical
   * source address (IPv4-mapped IPv6 unmapped) and port. `data` is handed over: the node
   * decrypts it in place and a received message's bytes are a view of it (issue 12: no copy per
   * datagram), so the transport must give each datagram its own memory and never reuse or
   * modify it afterwards (dgram does: a new buffer per datagram).
   */
  onMessage: OnMessage;
  onError(e: Error): void;
}

/** Opens a transport (binds). Rejects with the bind error (e.g. EADDRINUSE). */
export type OpenTransport = (o: TransportOptions) => Promise<Transport>;
