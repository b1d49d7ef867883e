/**
 * The node facade (SPEC §2): API validation, the peers and their links, the end-of-turn flush,
 * periodic timers, persistence and close. Wiring happens in create.ts.
 */
import { EventEmitter } from 'node:events';
import type { Settings } from '../settings';
import { BadInputError, DeliveryError, UdpVaultError, type DropReason } from '../errors';
import type { PeerStore, StoredPeer } from '../daemon/store';
import type { Timer } from '../runtime/scheduler';
import type { Datagram } from '../net/transport';
import { TokenBucket } from '../net/ratelimit';
import { Peer } from '../peer/peer';
import { resolveEndpoint } from '../peer/endpoint';
import { reresolveHostnames } from './reresolve';
import { countDrop, copyCounters } from '../peer/counters';
import type { NodeContext } from '../engine/context';
import type { PeerLink } from '../engine/link';
import { NativeEngine } from '../engine/native/engine';
import { TICK_MS } from '../engine/native/timers';
import { VaultV2Engine } from '../engine/vault-v2/engine';
import { BoundedStream } from './subscription';
import { TurnFlush } from './flush';
import { dispatchDatagram } from './dispatch';
import { fromStored, limitsOf, matchExisting, parseAddPeer } from './peer-records';
import { nodeSettings } from '../config/parse';
import { StoreWriter } from './persist';
import { Inbox, type InboxLimits } from './inbox';
import { writeInboxFile } from './inbox-file';
import type {
  AddPeerOptions, MessageEvent, NodeEvents, NodeStatus, PeerEvent, PeerInfo, PeerRef, SendOptions, UdpVaultNode,
} from './types';

/** Hostname endpoints of peers without a working session are resolved again this often. */
const RERESOLVE_INTERVAL_MS = 30_000;

const inboxLimits = (s: Settings): InboxLimits => ({ maxMessages: s.inboxMaxMessages, maxBytes: s.inboxMaxBytes });

export type NodeContextBase = Omit<NodeContext, 'emitMessage' | 'receiveCredit' | 'drop' | 'persist' | 'scheduleFlush' | 'isOpen'>;

export class Node extends EventEmitter implements UdpVaultNode {
  readonly publicKey: string;
  readonly port: number;
  #ctx: NodeContext;
  #store: StoreWriter;
  #native: NativeEngine;
  #v2: VaultV2Engine;
  #links = new Map<Peer, PeerLink>();
  #flush: TurnFlush;
  #tick: Timer;
  #resolveTimer: Timer;
  #streams = new Set<BoundedStream<MessageEvent>>();
  /** Readers attached with attachReader() (the control server while it has subscribers). */
  #readers = new Set<(ev: MessageEvent) => void>();
  #inbox: Inbox;
  /** A `message` listener was attached while the inbox held messages: they go to it first. */
  #drainTimer: Timer | null = null;
  #closed = false;
  /** close() was called: new sends and peers are refused while the grace runs. */
  #stopping = false;
  #closing: Promise<void> | null = null;
  #startedAt: string;

  /** The home the inbox is written to (clean stop; every change with inboxFsync), or null. */
  #inboxHome: string | null;
  #inboxWrite = false;

  constructor(base: NodeContextBase, store: PeerStore | null, inboxHome: string | null = null) {
    super();
    this.#flush = new TurnFlush(base.scheduler, (peer, draining) => this.#flushPeer(peer, draining), () => !this.#closed);
    this.#ctx = Object.assign(base, {
      emitMessage: (ev: MessageEvent) => this.#emitMessage(ev),
      receiveCredit: () => this.#receiveCredit(),
      drop: (reason: DropReason, peer?: Peer, detail?: string) => this.#drop(reason, peer, detail),
      persist: () => this.#store.schedule(),
      scheduleFlush: (peer: Peer) => this.#flush.schedule(peer),
      isOpen: () => !this.#closed,
    });
    this.#startedAt = new Date(base.clock.now()).toISOString();
    this.#inbox = new Inbox(inboxLimits(base.settings));
    this.#inboxHome = inboxHome;
    this.#store = new StoreWriter(store, base.peers, base.scheduler, base.log);
    this.#native = new NativeEngine(this.#ctx);
    this.#v2 = new VaultV2Engine(this.#ctx);
    this.publicKey = base.identity.keyString;
    this.port = base.transport.port;
    this.#tick = base.scheduler.interval(() => this.#onTick(), TICK_MS);
    this.#resolveTimer = base.scheduler.interval(() => void reresolveHostnames(this.#ctx), RERESOLVE_INTERVAL_MS);
  }

  /** Receive entry point (bound to the transport). */
  onDatagram(d: Datagram): void {
    if (!this.#closed) dispatchDatagram(this.#ctx, d, this.#native, this.#v2);
  }

  get context(): NodeContext {
    return this.#ctx;
  }

  /** The link of a peer (tests and diagnostics). */
  linkOf(ref: PeerRef): PeerLink | undefined {
    const p = this.#ctx.peers.find(ref);
    return p ? this.#links.get(p) : undefined;
  }

  /** The one place that picks a peer's protocol. */
  #pickLink(peer: Peer): PeerLink {
    return peer.compat === 'vault-v2' ? this.#v2.open(peer) : this.#native.open(peer);
  }

  /** Whether a reader is attached: a `message` listener, an iterator (control subscribers listen). */
  #hasReader(): boolean {
    return this.listenerCount('message') > 0 || this.#streams.size > 0 || this.#readers.size > 0;
  }

  /**
   * Attaches a reader that does not take the inbox (it takes it explicitly, with takeInbox(),
   * e.g. for `subscribe --backlog`); returns the detach function.
   */
  attachReader(reader: (ev: MessageEvent) => void): () => void {
    this.#readers.add(reader);
    if (!this.#closed) this.#native.reliable.resume();
    return () => void this.#readers.delete(reader);
  }

  #emitMessage(ev: MessageEvent): boolean {
    if (!this.#hasReader() || this.#drainTimer !== null) { // keep order behind the backlog
      if (!this.#inbox.offer(ev)) return false;
      this.#inboxChanged();
      return true;
    }
    if (this.listenerCount('message') > 0) this.emit('message', ev);
    for (const s of this.#streams) s.push(ev);
    for (const r of this.#readers) r(ev);
    return true;
  }

  #receiveCredit(): { bytes: number; messages: number } {
    const r = this.#inbox.room();
    if (!this.#hasReader()) return { bytes: r.bytes, messages: r.messages };
    const s = this.#ctx.settings;
    return { bytes: s.inboxMaxBytes, messages: s.inboxMaxMessages };
  }

  /** Messages waiting in the inbox (no reader was attached when they arrived). */
  get inboxSize(): number {
    return this.#inbox.size;
  }

  /**
   * Takes, in order, the messages that waited in the inbox (those `pick` selects; all
   * without it) — the backlog of `subscribe --backlog`. Frees room: held reliable messages
   * are then delivered and acknowledged.
   */
  takeInbox(pick?: (ev: MessageEvent) => boolean): MessageEvent[] {
    const taken = this.#inbox.take(pick);
    if (taken.length > 0) {
      this.#inboxChanged();
      // Held messages are delivered after this I/O phase: the caller attaches its reader first.
      this.#ctx.scheduler.immediate(() => {
        if (!this.#closed) this.#native.reliable.resume();
      });
    }
    return taken;
  }

  /**
   * inboxFsync: the inbox is on disk (fsync'd) before the message is acknowledged. The write
   * runs once per turn (a microtask: before the acks, which go out after the I/O phase).
   */
  #inboxChanged(): void {
    if (this.#inboxHome === null || !this.#ctx.settings.inboxFsync || this.#inboxWrite) return;
    this.#inboxWrite = true;
    this.#ctx.scheduler.microtask(() => {
      this.#inboxWrite = false;
      if (this.#inboxHome === null || this.#closed) return;
      try {
        writeInboxFile(this.#inboxHome, this.#inbox.peek());
      } catch (e) {
        this.#ctx.log.error({ err: e instanceof Error ? e.message : 'error' }, 'writing the inbox failed');
      }
    });
  }

  /** Restores messages kept by a previous run (clean stop), before any new message. */
  restoreInbox(events: readonly MessageEvent[]): void {
    for (const ev of events) this.#inbox.offer(ev);
  }

  /** The inbox's messages, in order, without taking them (written to the home on a clean stop). */
  inboxMessages(): readonly MessageEvent[] {
    return this.#inbox.peek();
  }

  /** A `message` listener was attached: it takes the inbox first (after this turn), then new messages. */
  #onListenerAdded(): void {
    if (this.#closed) return;
    if (this.#inbox.size === 0) {
      this.#native.reliable.resume();
      return;
    }
    this.#drainTimer ??= this.#ctx.scheduler.immediate(() => {
      this.#drainTimer = null;
      if (this.#closed || this.listenerCount('message') === 0) return;
      const backlog = this.#inbox.take();
      for (let i = 0; i < backlog.length; i++) {
        if (this.listenerCount('message') === 0 && this.#streams.size === 0) { // a `once` listener is gone: keep the rest
          this.#inbox.requeue(backlog.slice(i));
          break;
        }
        const ev = backlog[i]!;
        this.emit('message', ev);
        for (const s of this.#streams) s.push(ev);
      }
      this.#inboxChanged();
      this.#native.reliable.resume();
    });
  }

  #emitPeer(ev: PeerEvent): void {
    if (ev.type === 'key-changed') {
      const replaced = ev.offeredKey !== undefined && ev.offeredKey === ev.peer.key;
      this.#ctx.log.warn({ peer: ev.peer.name ?? ev.peer.key ?? ev.peer.endpoint, offeredKey: ev.offeredKey }, replaced ? 'peer key replaced' : 'peer offered a key other than the recorded one; refused');
    }
    this.emit('peer', ev);
  }

  #drop(reason: DropReason, peer?: Peer, detail?: string): void {
    countDrop(this.#ctx.counters, reason);
    if (peer) countDrop(peer.counters, reason);
    this.#ctx.log.debug({ reason, peer: peer?.label(), detail }, 'datagram dropped');
  }

  #flushPeer(peer: Peer, draining: boolean): void {
    try {
      this.#links.get(peer)?.flush(draining);
    } catch (e) {
      this.#ctx.log.error({ peer: peer.label(), err: e instanceof Error ? e.message : 'error' }, 'flush failed');
    }
  }

  #onTick(): void {
    const now = this.#ctx.clock.monotonic();
    this.#native.sweep();
    for (const link of [...this.#links.values()]) {
      try {
        link.tick(now);
      } catch (e) {
        this.#ctx.log.error({ peer: link.peer.label(), err: e instanceof Error ? e.message : 'error' }, 'peer timer failed');
      }
    }
  }

  #find(ref: PeerRef): Peer {
    const p = this.#ctx.peers.find(ref);
    if (!p) throw new BadInputError('ERR_UNKNOWN_PEER', `unknown peer "${ref.slice(0, 100)}": not a peer name, key or host:port (see "udpvault peer list")`);
    return p;
  }

  /**
   * Adds a peer, or updates the one with this key, name or endpoint. Never re-keys or renames
   * silently: another key needs `replaceKey` (ERR_KEY_CONFLICT otherwise), a name already used
   * by another peer or a different name for a named peer is ERR_NAME_CONFLICT.
   */
  async addPeer(o: AddPeerOptions): Promise<PeerInfo> {
    this.#assertOpen();
    const { spec, key } = parseAddPeer(o, this.publicKey);
    const endpoint = await resolveEndpoint(spec);
    this.#assertOpen(); // closed while resolving
    const peers = this.#ctx.peers;
    let peer = matchExisting(peers, o, key, endpoint);
    let rekeyed = false;
    if (!peer) {
      const limiter = new TokenBucket(this.#ctx.settings.peerPacketsPerSecond, this.#ctx.settings.peerPacketBurst, this.#ctx.clock);
      peer = new Peer({
        key, trust: key ? 'pinned' : 'unknown', name: o.name ?? null, spec, endpoint, compat: o.compat ?? null,
        allowPlaintext: o.allowPlaintext ?? false, lastHandshakeTs: null, lastHandshakeAt: null, limiter, emit: (ev) => this.#emitPeer(ev),
      });
      peers.add(peer);
      this.#links.set(peer, this.#pickLink(peer));
    } else {
      if (key && peer.key === null) peer.pinKey(key);
      else if (key && peer.keyString !== o.key) {
        peer.replaceKey(key);
        rekeyed = true;
      }
      const protocolChanged = o.compat !== undefined && o.compat !== peer.compat;
      const u: Parameters<Peer['update']>[0] = { spec, endpoint };
      if (o.name !== undefined) u.name = o.name;
      if (o.compat !== undefined) u.compat = o.compat;
      if (o.allowPlaintext !== undefined) u.allowPlaintext = o.allowPlaintext;
      peer.update(u);
      if (protocolChanged) {
        this.#links.get(peer)?.close(new UdpVaultError('ERR_UNKNOWN_PEER', `peer ${peer.label()} changed protocol before the message was sent`));
        this.#links.set(peer, this.#pickLink(peer));
      }
    }
    this.#store.schedule();
    this.#emitPeer({ type: 'added', peer: peer.info() });
    this.#links.get(peer)!.start(rekeyed);
    return peer.info();
  }

  async removePeer(ref: PeerRef): Promise<PeerInfo> {
    this.#assertOpen();
    const peer = this.#find(ref);
    // The link rejects what waits, wipes sessions and the ephemeral secrets of pending attempts.
    this.#links.get(peer)?.close(new UdpVaultError('ERR_UNKNOWN_PEER', `peer ${peer.label()} was removed`));
    this.#links.delete(peer);
    this.#ctx.peers.remove(peer);
    this.#flush.forget(peer);
    this.#store.schedule();
    const info = peer.info();
    this.#emitPeer({ type: 'removed', peer: info });
    return info;
  }

  peers(): PeerInfo[] {
    return this.#ctx.peers.list().map((p) => p.info());
  }

  send(ref: PeerRef, data: Uint8Array | string, opts: SendOptions = {}): Promise<void> {
    try {
      this.#assertOpen();
      const peer = this.#find(ref);
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      if (!(bytes instanceof Uint8Array)) throw new BadInputError('ERR_BAD_ARGUMENT', 'data must be a Uint8Array or a string');
      if (bytes.length > this.#ctx.settings.maxMessageBytes) {
        throw new BadInputError('ERR_TOO_LARGE', `message of ${bytes.length} bytes exceeds maxMessageBytes (${this.#ctx.settings.maxMessageBytes})`);
      }
      return this.#links.get(peer)!.send(bytes, opts);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  status(): NodeStatus {
    return {
      publicKey: this.publicKey,
      port: this.port,
      host: this.#ctx.transport.host,
      maxDatagramBytes: this.#ctx.maxDatagram[4],
      mtu: this.#ctx.mtu,
      peers: this.#ctx.peers.size,
      counters: copyCounters(this.#ctx.counters),
      startedAt: this.#startedAt,
    };
  }

  /** An independent iterator of received messages; it takes the inbox first (`backlog: false` leaves it). */
  messages(opts: { backlog?: boolean } = {}): AsyncIterableIterator<MessageEvent> {
    const s: BoundedStream<MessageEvent> = new BoundedStream(Math.max(this.#ctx.settings.subscriberBufferMessages, this.#ctx.settings.inboxMaxMessages), () => this.#streams.delete(s));
    if (opts.backlog ?? true) for (const ev of this.#inbox.take()) s.push(ev);
    this.#streams.add(s);
    if (!this.#closed) this.#native.reliable.resume();
    return s;
  }

  async reload(settings?: Partial<Settings>): Promise<void> {
    if (this.#closed) return;
    if (settings) Object.assign(this.#ctx.settings, nodeSettings({ settings: { ...this.#ctx.settings, ...settings } })); // all or nothing: ERR_BAD_CONFIG
    this.#inbox.setLimits(inboxLimits(this.#ctx.settings));
    this.#ctx.limits = limitsOf(this.#ctx.settings);
    const store = this.#store.store;
    if (!store) return;
    for (const s of store.load()) {
      if (!this.#ctx.peers.find(s.key ?? s.endpoint)) await this.addPeer(fromStored(s)).catch(() => undefined);
    }
  }

  async restorePeers(stored: StoredPeer[]): Promise<void> {
    for (const s of stored) {
      const info = await this.addPeer(fromStored(s));
      this.#ctx.peers.find(info.key ?? info.endpoint)?.restore(s.trust, s.lastHandshakeTs, s.lastHandshakeAt);
    }
  }

  #assertOpen(): void {
    if (this.#closed || this.#stopping) throw new UdpVaultError('ERR_CLOSED', 'node is closed');
  }

  /**
   * Safe in any state, any number of times, concurrently (every call gets the same promise).
   * Draining: new sends are refused (ERR_CLOSED); this turn's messages that have a session are
   * sent now and resolve once handed over; reliable messages get `closeGraceMs` (2 s) to be
   * acknowledged while the node keeps running; then those still unacknowledged reject — with
   * ERR_NOT_ACKNOWLEDGED when transmitted (the outcome is unknown: they may still arrive),
   * ERR_CLOSED when never transmitted — as does every other pending send; then no timer, flush
   * or handshake runs again, ephemeral and session secrets are wiped, and the transport closes
   * after the datagrams already handed to it.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#stopping = true;
    try {
      this.#flush.run(true);
      await this.#native.reliable.settled(this.#ctx.settings.closeGraceMs);
      this.#flush.run(true);
    } finally {
      this.#closed = true;
    }
    this.#tick.cancel();
    this.#drainTimer?.cancel();
    this.#drainTimer = null;
    this.#resolveTimer.cancel();
    this.#store.stop();
    const err = new UdpVaultError('ERR_CLOSED', 'node closed before the message was sent');
    this.#native.reliable.close(
      new DeliveryError('ERR_NOT_ACKNOWLEDGED', `node closed before the reliable message was acknowledged (grace ${this.#ctx.settings.closeGraceMs} ms); the outcome is unknown (it may still be delivered)`),
      err,
    );
    this.#native.close(err);
    this.#v2.close(err);
    this.#links.clear();
    for (const s of [...this.#streams]) s.close();
    try {
      await this.#ctx.transport.close();
    } catch (e) {
      this.#ctx.log.warn({ err: e instanceof Error ? e.message : 'error' }, 'transport close failed');
    }
    try {
      await this.#ctx.journal?.close(); // what was appended is durable
    } catch (e) {
      this.#ctx.log.error({ err: e instanceof Error ? e.message : 'error' }, 'closing the journal failed');
    }
    if (this.#inboxHome !== null) {
      try {
        writeInboxFile(this.#inboxHome, this.#inbox.peek()); // restored by the next start
      } catch (e) {
        this.#ctx.log.error({ err: e instanceof Error ? e.message : 'error', messages: this.#inbox.size }, 'writing the inbox failed; its messages are lost');
      }
    }
  }

  override on<E extends keyof NodeEvents>(event: E, listener: (...args: NodeEvents[E]) => void): this {
    super.on(event, listener as (...a: unknown[]) => void);
    if (event === 'message') this.#onListenerAdded();
    return this;
  }
  override off<E extends keyof NodeEvents>(event: E, listener: (...args: NodeEvents[E]) => void): this {
    return super.off(event, listener as (...a: unknown[]) => void);
  }
  override once<E extends keyof NodeEvents>(event: E, listener: (...args: NodeEvents[E]) => void): this {
    super.once(event, listener as (...a: unknown[]) => void);
    if (event === 'message') this.#onListenerAdded();
    return this;
  }
}

export { createNode } from './create';
