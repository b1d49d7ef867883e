/**
 * The native (v3) link of one peer: its sessions (Keypairs), handshake attempts (Handshaker),
 * outbox and named timers. Sending, receiving, handshaking and the timers act on it; a closed
 * link, or one whose peer was removed, never sends or schedules anything again.
 */
import type { Session } from '../../crypto/session';
import { UdpVaultError } from '../../errors';
import { Keypairs, type RetireRules } from '../../peer/keypairs';
import { Handshaker } from '../../peer/handshaker';
import { Outbox } from '../../peer/outbox';
import { PeerTimers } from '../../peer/timers';
import type { Peer } from '../../peer/peer';
import type { Datagram } from '../../net/transport';
import type { NodeContext } from '../context';
import type { LinkSendOptions, PeerLink } from '../link';
import type { NativeEngine } from './engine';
import { datagramItems, pumpLink } from './send';
import { PacketPath } from './packet-path';
import { receiveData } from './receive';
import { initiateHandshake } from './handshake';
import { tickLink } from './timers';

export class NativeLink implements PeerLink {
  readonly peer: Peer;
  readonly engine: NativeEngine;
  readonly keypairs: Keypairs<Peer>;
  readonly handshaker: Handshaker<Peer>;
  readonly outbox = new Outbox();
  readonly timers = new PeerTimers();
  /** Packet numbers, acks, loss detection, congestion window, pacing (packet-path.ts). */
  readonly path: PacketPath;
  /** Compression attempts to skip after one that did not shrink the payload. */
  readonly compression = { skip: 0 };
  /** Datagram-mode message ids start at a random point so a restarted sender is not taken for a duplicate. */
  #nextMsgId: number;
  #closed = false;

  constructor(engine: NativeEngine, peer: Peer) {
    this.engine = engine;
    this.peer = peer;
    const { ctx } = engine;
    this.keypairs = new Keypairs(peer, ctx.peers);
    this.handshaker = new Handshaker(peer, ctx.peers, ctx.random);
    this.#nextMsgId = ctx.random.int(1, 2 ** 31);
    this.path = new PacketPath(this);
    peer.setTransportStats(() => this.path.stats());
  }

  get ctx(): NodeContext {
    return this.engine.ctx;
  }

  /** Neither closed nor removed, and the node is open: it may send and schedule. */
  get alive(): boolean {
    return !this.#closed && this.ctx.isOpen() && this.ctx.peers.has(this.peer);
  }

  nextMsgId(): number {
    return this.#nextMsgId++;
  }

  /** The session to send on now, or null. */
  current(nowMs = this.ctx.clock.monotonic()): Session | null {
    return this.keypairs.current(nowMs, this.ctx.limits);
  }

  rules(): RetireRules {
    const { settings, limits } = this.ctx;
    return { limits, graceMs: settings.sessionGraceMs, unconfirmedMs: settings.handshakeTimeoutMs };
  }

  send(data: Uint8Array, opts: LinkSendOptions): Promise<void> {
    if (opts.reliable) return this.engine.reliable.send(this, data, opts.timeoutMs ?? this.ctx.settings.reliableTimeoutMs);
    try {
      const items = datagramItems(this, data);
      return new Promise<void>((resolve, reject) => {
        const deadlineMs = this.ctx.clock.monotonic() + (opts.timeoutMs ?? this.ctx.settings.handshakeTimeoutMs);
        this.outbox.push({ items, bytes: data.length, deadlineMs, resolve, reject });
        this.ctx.scheduleFlush(this.peer);
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  start(rekeyed: boolean): void {
    if (rekeyed) {
      this.keypairs.wipeAll();
      this.handshaker.cancel();
      if (this.peer.state === 'established') this.peer.setState('handshaking');
    }
    if (this.keypairs.size > 0) return;
    this.handshaker.resetAttempts();
    initiateHandshake(this);
  }

  onDatagram(d: Datagram): boolean {
    receiveData(this, d);
    return true;
  }

  flush(draining: boolean): void {
    if (!this.alive) return;
    if (!pumpLink(this, draining) && !this.handshaker.pending && !draining) initiateHandshake(this);
  }

  tick(nowMs: number): void {
    if (this.alive) tickLink(this, nowMs);
  }

  close(err: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const m of this.outbox.clear()) m.reject(err);
    this.path.close(err);
    this.peer.setTransportStats(null);
    this.handshaker.cancel(); // wipes the ephemeral secrets of every attempt
    this.keypairs.wipeAll();
    this.timers.stopped();
    this.engine.reliable.dropPeer(this, err instanceof UdpVaultError ? err : new UdpVaultError('ERR_CLOSED', err.message));
    this.engine.forget(this);
  }
}
