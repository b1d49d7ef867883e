/**
 * The IPC messages between bench/run.ts (the parent) and a bench process (bench/worker.ts).
 * Every bench process answers `init` with its address, then takes commands; each command that
 * expects an answer gets exactly one reply, in order.
 */

/** What a contender process is: the kind of endpoint it runs. */
export type Role = 'raw' | 'udpvault' | 'secret-stream' | 'crowd' | 'floor' | 'ladder';

/** How the sender sends: one datagram/message per send, or a reliable stream/ordered send. */
export type BlastMode = 'datagram' | 'reliable';

export interface Hello {
  port: number;
  /** udpvault: the node's public key string; secret-stream: unused. */
  key: string;
}

export type Command =
  | { cmd: 'connect'; port: number; key: string; initiator: boolean }
  | { cmd: 'count' }
  | { cmd: 'report' }
  | { cmd: 'blast'; mode: BlastMode; size: number; batch: number; port: number; inflight: number }
  | { cmd: 'stop' }
  | { cmd: 'rss' }
  | { cmd: 'alloc' }
  | { cmd: 'links' }
  | { cmd: 'alloc-profile' }
  | { cmd: 'heap-snapshot'; path: string }
  | { cmd: 'gc' }
  /** V8 flags set at run time (rss18's experiments: `--optimize-for-size` for a while). */
  | { cmd: 'v8-flags'; flags: string }
  | { cmd: 'add'; port: number; key: string; wait: boolean; host?: string }
  | { cmd: 'remove'; key: string }
  /** A fresh node (udpvault: on `host`, default 127.0.0.1). */
  | { cmd: 'renew'; host?: string }
  | { cmd: 'pairs'; n: number }
  | { cmd: 'spawn'; n: number; firstIndex: number; port: number; key: string }
  | { cmd: 'join'; port: number; key: string; from: number; count: number }
  | { cmd: 'add-peers'; peers: CrowdMember[] }
  | { cmd: 'established' }
  | { cmd: 'exit' };

export interface Connected {
  /** Milliseconds from the connect command to an established session. */
  ms: number;
  /** The transport's MTU as the contender reports it (secret-stream: udx's probed MTU). */
  mtu: number | null;
}

export interface Counted {
  count: number;
  bytes: number;
  /** CPU time (user + system) the process spent between `count` and `report`, µs. */
  cpuUs: number;
  /**
   * Voluntary context switches of the process over the same window: each is a thread going to
   * sleep (the event loop blocking in epoll with nothing to read, or a V8/libuv helper thread).
   */
  sleeps: number;
}

export interface Memory {
  rss: number;
  heapUsed: number;
  /** Bytes the V8 heap holds from the system (used + free space in its pages, new space included). */
  heapCommitted: number;
  /** V8's new space (semi-spaces) committed: grows with allocation bursts, shrinks only when V8 reduces memory. */
  newSpace: number;
  /** Memory of ArrayBuffers and other off-heap objects V8 knows of (WebAssembly memory included). */
  external: number;
  /** Each V8 space's used and committed bytes (rss18). */
  spaces?: Record<string, { used: number; committed: number }>;
  /** Memory V8 itself holds from malloc (zones, remembered sets' slot sets, …). */
  malloced?: number;
}

/** 127.x.y.z addresses for crowd node `i` (one source address each: per-IP limits stay untouched). */
export function crowdHost(i: number): string {
  return `127.${1 + Math.floor(i / 62_500)}.${1 + (Math.floor(i / 250) % 250)}.${1 + (i % 250)}`;
}

/** One node of the crowd (the 10,000 idle peers). */
export interface CrowdMember {
  host: string;
  port: number;
  key: string;
}
