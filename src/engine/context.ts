/** What the engines (native, vault-v2) share with the node that built them (node/node.ts). */
import type { Clock } from '../runtime/clock';
import type { Scheduler } from '../runtime/scheduler';
import type { Random } from '../runtime/random';
import type { Identity } from '../crypto/identity';
import type { Logger } from '../runtime/log';
import type { Settings } from '../config/schema';
import type { Transport } from '../net/transport';
import type { PeerTable } from '../peer/table';
import type { Peer } from '../peer/peer';
import type { Counters, MessageEvent, RefusedEvent } from '../api/types';
import type { TokenBucket } from '../net/ratelimit';
import type { SessionLimits } from '../crypto/session';
import type { DropReason } from '../errors';
import type { Journal } from '../store/journal';
import type { FragmentCounter } from '../net/fragment-counter';

export interface NodeContext {
  identity: Identity;
  settings: Settings;
  clock: Clock;
  scheduler: Scheduler;
  random: Random;
  log: Logger;
  peers: PeerTable;
  transport: Transport;
  counters: Counters;
  /** Largest datagram per address family (MTU − IP − UDP headers). */
  maxDatagram: { 4: number; 6: number };
  mtu: number;
  /**
   * The kernel's count of IP fragments it created (per family), for the path MTU search; absent
   * when unknown (not Linux, or a simulated network without one).
   */
  fragmentCounter?: FragmentCounter;
  limits: SessionLimits;
  globalLimiter: TokenBucket;
  /**
   * The home's journal (stream epochs, delivered floors; handshake marks and TOFU records),
   * or null without a home (then the reliable layer keeps its records in memory only).
   */
  journal: Journal | null;
  /** False once the node started closing: nothing may be sent or scheduled after that. */
  isOpen(): boolean;
  /**
   * Hands a received message to the readers, or keeps it in the inbox when none is attached;
   * false when there is no reader and the inbox is full (nothing was kept).
   */
  emitMessage(ev: MessageEvent): boolean;
  /** A handshake refused because its sender is not a peer (the daemon's security log samples it). */
  emitRefused(ev: RefusedEvent): void;
  /** Datagram-mode sends to `peer` are taken again after an ERR_QUEUE_FULL (the 'writable' event). */
  emitWritable(peer: Peer): void;
  /**
   * What this node can still take from `peer` now (its fair share of the inbox room: messages
   * and bytes), for the receive window advertised in acks (flow control). With a reader
   * attached it is the whole inbox size. `null`: a peer with nothing in the inbox. `waiting`:
   * keys of peers whose reliable data waits in reassembly for room (they count for the share).
   */
  receiveCredit(peer: Peer | null, waiting?: ReadonlySet<string>): { bytes: number; messages: number };
  /** Records a dropped datagram (global and, when known, per peer). */
  drop(reason: DropReason, peer?: Peer, detail?: string): void;
  /** Peer store changed (TOFU key, handshake timestamp, endpoint): persist soon. */
  persist(): void;
  /** Schedules the end-of-turn flush of this peer's link (same-turn coalescing). */
  scheduleFlush(peer: Peer): void;
}

/** Counts a datagram sent to `peer` (peer and global counters). */
export function countSent(ctx: NodeContext, peer: Peer, bytes: number): void {
  peer.counters.packetsOut++;
  peer.counters.bytesOut += bytes;
  ctx.counters.packetsOut++;
  ctx.counters.bytesOut += bytes;
}

/** Counts a datagram received from `peer` (the global count was taken on arrival). */
export function countReceived(peer: Peer, bytes: number): void {
  peer.counters.packetsIn++;
  peer.counters.bytesIn += bytes;
}
