/**
 * The optional bench-only dependencies @hyperswarm/secret-stream and udx-native, loaded at run
 * time (they ship no TypeScript types; these are the parts the bench uses). Absent packages
 * leave the harness running without the secret-stream contender.
 */
import type { EventEmitter } from 'node:events';

export interface UdxSocket {
  bind(port: number, host: string): void;
  address(): { port: number };
  setRecvBufferSize(n: number): void;
  setSendBufferSize(n: number): void;
  close(): Promise<void>;
}

export interface UdxStream extends EventEmitter {
  readonly mtu: number;
  connect(socket: UdxSocket, remoteId: number, port: number, host: string): void;
}

export interface Udx {
  createSocket(): UdxSocket;
  createStream(id: number): UdxStream;
}

/** @hyperswarm/secret-stream's SecretStream (a streamx Duplex with an unordered message API). */
export interface SecretStream extends EventEmitter {
  readonly opened: Promise<boolean>;
  /** Encrypts and sends one unordered, unreliable message over the udx stream (no promise). */
  trySend(data: Uint8Array): void;
  /** An ordered, reliable stream write; false when the stream wants a 'drain' first. */
  write(data: Uint8Array): boolean;
  destroy(): void;
}

export interface Hyperswarm {
  Udx: new () => Udx;
  SecretStream: new (isInitiator: boolean, rawStream: UdxStream) => SecretStream;
  versions: string;
}

/** The packages, or the reason they cannot be loaded. */
export function loadHyperswarm(): Hyperswarm | { missing: string } {
  try {
    const Udx = require('udx-native') as new () => Udx;
    const SecretStream = require('@hyperswarm/secret-stream') as new (i: boolean, s: UdxStream) => SecretStream;
    const v = (name: string): string => (require(`${name}/package.json`) as { version: string }).version;
    return { Udx, SecretStream, versions: `@hyperswarm/secret-stream ${v('@hyperswarm/secret-stream')}, udx-native ${v('udx-native')}` };
  } catch (e) {
    return { missing: (e as Error).message.split('\n')[0] ?? 'not installed' };
  }
}
