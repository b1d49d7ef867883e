/**
 * The node facade (SPEC §2): API validation, the peers and their links, the end-of-turn flush,
 * periodic timers, persistence and close. Wiring happens in create.ts.
 */
import { EventEmitter } from 'node:events';
import type { Settings } from '../config/schema';
import { BadInputError, UdpVaultError, type DropReason } from '../errors';
import type { PeerStore, StoredPeer } from '../store/peer-store';
import type { Timer } from '../runtime/scheduler';
import type { Peer } from '../peer/peer';
import { resolveEndpoint } from '../peer/endpoint';
import { reresolveHostnames } from './reresolve';
import { countDrop } from '../peer/counters';
import type { NodeContext } from '../engine/context';
import type { PeerLink } from '../engine/link';
import { NativeEngine } from '../engine/native/engine';
import { TICK_MS } from '../engine/native/timers';
import { VaultV2Engine } from '../engine/vault-v2/engine';
import { TurnFlush } from './flush';
import { dispatchDatagram } from './dispatch';
import { checkKeyAlias, limitsOf, matchExisting, parseAddPeer } from './peer-records';
import { nodeSettings } from '../config/parse';
import { StoreWriter } from './persist';
import { MessageReaders } from './readers';
import { newPeer, updatePeer } from './peer-upsert';
import { nodeStatus } from './status';
import { shutdownNode } from './shutdown';
import { syncWithStore, withJournalTofu, journalMark, type StoreSyncResult } from './store-sync';
import type {
  AddPeerOptions, MessageEvent, NodeEvents, RefusedEvent, NodeStatus, PeerEvent, PeerInfo, PeerRef, SendOptions, UdpVaultNode,
} from './types';

/** Hostname endpoints of peers without a working session are resolved again this often. */
const RERESOLVE_INTERVAL_MS = 30_000;

export type NodeContextBase = Omit<NodeContext, 'emitMessage' | 'emitRefused' | 'emitWritable' | 'receiveCredit' | 'drop' | 'persist' | 'scheduleFlush' | 'isOpen'>;

/** send()'s options when none are given (shared, read only: no object per call). */
const NO_SEND_OPTIONS: SendOptions = Object.freeze({});

/** The link the node set on a peer (Peer keeps it opaque: peer ↛ engine). */
const linkOf = (peer: Peer): PeerLink | null => peer.link as PeerLink | null;

export class Node extends EventEmitter implements UdpVaultNode {
  readonly publicKey: string;
  readonly port: number;
  #ctx: NodeContext;
  #store: StoreWriter;
  #native: NativeEngine;
  #v2: VaultV2Engine;
  /** Every peer's event sink: one function for all (a closure per peer kept addPeer's whole scope: issue 12). */
  readonly #peerEmit = (ev: PeerEvent): void => this.#emitPeer(ev);
  #flush: TurnFlush;
  #tick: Timer;
  #resolveTimer: Timer;
  /** Listeners, iterators, attached readers, and the inbox for when there is none. */
  #readers: MessageReaders;
  #closed = false;
  /** close() was called: new sends and peers are refused while the grace runs. */
  #stopping = false;
  #closing: Promise<void> | null = null;
  /** Applying the peer store to the node: its changes are already on disk (no commit). */
  #applyingStore = false;
  #startedAt: string;

  /** Closes the home this node opened (its lock), after everything else. */
  readonly #closeHome: (() => Promise<void>) | null;

  /** `inboxHome`: the home the inbox is written to (clean stop; each turn with inboxFsync), or null. */
  constructor(base: NodeContextBase, store: PeerStore | null, closeHome: (() => Promise<void>) | null = null, inboxHome: string | null = null) {
    super();
    this.#closeHome = closeHome;
    this.#flush = new TurnFlush(base.scheduler, (peer, draining) => this.#flushPeer(peer, draining), () => !this.#closed);
    this.#ctx = Object.assign(base, {
      emitMessage: (ev: MessageEvent) => this.#readers.emit(ev),
      emitRefused: (ev: RefusedEvent) => void (this.listenerCount('refused') > 0 && this.emit('refused', ev)),
      emitWritable: (peer: Peer) => void (this.listenerCount('writable') > 0 && this.emit('writable', { peer: peer.info() })),
      receiveCredit: (peer: Peer | null, waiting?: ReadonlySet<string>) => this.#readers.credit(peer?.keyString ?? '', waiting),
      drop: (reason: DropReason, peer?: Peer, detail?: string) => this.#drop(reason, peer, detail),
      persist: () => this.#store.schedule(),
      scheduleFlush: (peer: Peer) => this.#flush.schedule(peer),
      isOpen: () => !this.#closed,
    });
    this.#startedAt = new Date(base.clock.now()).toISOString();
    const node = this;
    this.#readers = new MessageReaders({
      scheduler: base.scheduler, log: base.log,
      get settings() { return node.#ctx.settings; },
      listenerCount: () => this.listenerCount('message'),
      emit: (ev) => void this.emit('message', ev),
      resume: () => this.#native.reliable.resume(),
      isClosed: () => this.#closed,
    }, inboxHome);
    this.#store = new StoreWriter(store, base.peers, base.scheduler, base.log, base.journal);
    this.#native = new NativeEngine(this.#ctx);
    this.#v2 = new VaultV2Engine(this.#ctx);
    this.publicKey = base.identity.keyString;
    this.port = base.transport.port;
    this.#tick = base.scheduler.interval(() => this.#onTick(), TICK_MS);
    this.#resolveTimer = base.scheduler.interval(() => void reresolveHostnames(this.#ctx), RERESOLVE_INTERVAL_MS);
  }

  /** Receive entry point (bound to the transport). */
  onDatagram(data: Buffer, address: string, port: number): void {
    if (!this.#closed) dispatchDatagram(this.#ctx, data, address, port, this.#native, this.#v2);
  }

  get context(): NodeContext {
    return this.#ctx;
  }

  /** The link of a peer (tests and diagnostics). */
  linkOf(ref: PeerRef): PeerLink | undefined {
    const p = this.#ctx.peers.find(ref);
    return p ? (linkOf(p) ?? undefined) : undefined;
  }

  /** The one place that picks a peer's protocol. */
  #pickLink(peer: Peer): PeerLink {
    return peer.compat === 'vault-v2' ? this.#v2.open(peer) : this.#native.open(peer);
  }

  /**
   * Attaches a reader that does not take the inbox (it takes it explicitly, with takeInbox(),
   * e.g. for `subscribe --backlog`); returns the detach function.
   */
  attachReader(reader: (ev: MessageEvent) => void): () => void {
    return this.#readers.attachReader(reader);
  }

  /** Messages waiting in the inbox (no reader was attached when they arrived). */
  get inboxSize(): number {
    return this.#readers.inboxSize;
  }

  /**
   * Takes, in order, the messages that waited in the inbox (those `pick` selects; all
   * without it) — the backlog of `subscribe --backlog`. Frees room: held reliable messages
   * are then delivered (to the reader attached in the same turn) and acknowledged.
   */
  takeInbox(pick?: (ev: MessageEvent) => boolean): MessageEvent[] {
    return this.#readers.takeInbox(pick);
  }

  /** Restores messages kept by a previous run (clean stop), before any new message. */
  restoreInbox(events: readonly MessageEvent[]): void {
    this.#readers.restore(events);
  }

  /** The inbox's messages, in order, without taking them. */
  inboxMessages(): readonly MessageEvent[] {
    return this.#readers.peek();
  }

  #emitPeer(ev: PeerEvent): void {
    if (ev.type === 'tofu') {
      // Durable (journal, fsync) before the event, the endpoint move and any delivery act on it.
      const peer = ev.peer.key !== null ? this.#ctx.peers.byKey(ev.peer.key) : undefined;
      if (peer) this.#store.recordTofu(peer);
    }
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
      linkOf(peer)?.flush(draining);
    } catch (e) {
      this.#ctx.log.error({ peer: peer.label(), err: e instanceof Error ? e.message : 'error' }, 'flush failed');
    }
  }

  #onTick(): void {
    const now = this.#ctx.clock.monotonic();
    this.#native.sweep();
    // The table's Set itself, not a copy (issue 12: an array of every link every 100 ms kept V8's
    // new space at its largest with 10,000 peers): a peer removed by a tick is skipped, which Set
    // iteration allows; one added meanwhile is ticked too, harmlessly.
    for (const peer of this.#ctx.peers.values()) {
      const link = linkOf(peer);
      if (link === null) continue;
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
    const edit = this.#applyHandEdit(); // null unless a hand edit waits: otherwise no await (same turn)
    if (edit) await edit;
    const { spec, key } = parseAddPeer(o, this.publicKey);
    const endpoint = await resolveEndpoint(spec);
    this.#assertOpen(); // closed while resolving
    const peers = this.#ctx.peers;
    let peer = matchExisting(peers, o, key, endpoint);
    checkKeyAlias(peers, key, this.publicKey, peer);
    let rekeyed = false;
    if (!peer) {
      peer = newPeer(this.#ctx, o, key, spec, endpoint, this.#peerEmit);
      peers.add(peer);
      peer.setLink(this.#pickLink(peer));
    } else {
      const protocolChanged = o.compat !== undefined && o.compat !== peer.compat;
      rekeyed = updatePeer(peer, o, key, spec, endpoint);
      if (protocolChanged) {
        linkOf(peer)?.close(new UdpVaultError('ERR_UNKNOWN_PEER', `peer ${peer.label()} changed protocol before the message was sent`));
        peer.setLink(this.#pickLink(peer));
      }
    }
    if (!this.#applyingStore) this.#store.commit(); // on disk before the caller (and the control socket's ok) hears of it
    this.#emitPeer({ type: 'added', peer: peer.info() });
    linkOf(peer)!.start(rekeyed);
    return peer.info();
  }

  async removePeer(ref: PeerRef): Promise<PeerInfo> {
    this.#assertOpen();
    const edit = this.#applyHandEdit(); // null unless a hand edit waits: otherwise no await (same turn)
    if (edit) await edit;
    const peer = this.#find(ref);
    // The link rejects what waits, wipes sessions and the ephemeral secrets of pending attempts.
    linkOf(peer)?.close(new UdpVaultError('ERR_UNKNOWN_PEER', `peer ${peer.label()} was removed`));
    peer.setLink(null);
    this.#ctx.peers.remove(peer);
    this.#flush.forget(peer);
    this.#store.forgetTofu(peer); // re-adding the entry must not bring back a key learnt for it
    if (!this.#applyingStore) this.#store.commit(); // on disk before the caller (and the control socket's ok) hears of it
    const info = peer.info();
    this.#emitPeer({ type: 'removed', peer: info });
    return info;
  }

  peers(): PeerInfo[] {
    return this.#ctx.peers.list().map((p) => p.info());
  }

  send(ref: PeerRef, data: Uint8Array | string, opts: SendOptions = NO_SEND_OPTIONS): Promise<void> {
    try {
      this.#assertOpen();
      const peer = this.#find(ref);
      const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
      if (!(bytes instanceof Uint8Array)) throw new BadInputError('ERR_BAD_ARGUMENT', 'data must be a Uint8Array or a string');
      if (bytes.length > this.#ctx.settings.maxMessageBytes) {
        throw new BadInputError('ERR_TOO_LARGE', `message of ${bytes.length} bytes exceeds maxMessageBytes (${this.#ctx.settings.maxMessageBytes})`);
      }
      return linkOf(peer)!.send(bytes, opts);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  status(): NodeStatus {
    return nodeStatus(this.#ctx, this.publicKey, this.port, this.#startedAt);
  }

  /** An independent iterator of received messages; it takes the inbox first (`backlog: false` leaves it). */
  messages(opts: { backlog?: boolean } = {}): AsyncIterableIterator<MessageEvent> {
    return this.#readers.stream(opts.backlog ?? true);
  }

  async reload(settings?: Partial<Settings>): Promise<StoreSyncResult | null> {
    if (this.#closed) return null;
    if (settings) Object.assign(this.#ctx.settings, nodeSettings({ settings: { ...this.#ctx.settings, ...settings } })); // all or nothing: ERR_BAD_CONFIG
    this.#readers.settingsChanged();
    this.#ctx.limits = limitsOf(this.#ctx.settings);
    const store = this.#store.store;
    return store ? this.#applyStore(store.load()) : null;
  }

  async restorePeers(stored: StoredPeer[]): Promise<void> {
    await this.#applyStore(stored, true);
  }

  /** A control change after a hand edit applies the edit first, so the save cannot undo it. */
  #applyHandEdit(): Promise<StoreSyncResult> | null {
    const store = this.#store.store;
    return !this.#applyingStore && store?.changedOnDisk() ? this.#applyStore(store.load()) : null;
  }

  async #applyStore(records: StoredPeer[], strict = false): Promise<StoreSyncResult> {
    this.#applyingStore = true;
    try {
      return await syncWithStore(withJournalTofu(records, this.#ctx.journal?.state ?? null), {
        peers: this.#ctx.peers,
        add: (o) => this.addPeer(o),
        remove: async (p) => void (await this.removePeer(p.keyString ?? p.endpointString)),
        restore: (p, s) => p.restore(s.trust, journalMark(s, this.#ctx.journal?.state ?? null), s.lastHandshakeAt),
        log: this.#ctx.log,
        strict,
      });
    } finally {
      this.#applyingStore = false;
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

  #shutdown(): Promise<void> {
    this.#stopping = true;
    return shutdownNode({
      ctx: this.#ctx, flush: this.#flush, native: this.#native, v2: this.#v2, store: this.#store, readers: this.#readers,
      timers: [this.#tick, this.#resolveTimer], closeHome: this.#closeHome,
      markClosed: () => void (this.#closed = true),
    });
  }

  override on<E extends keyof NodeEvents>(event: E, listener: (...args: NodeEvents[E]) => void): this {
    super.on(event, listener as (...a: unknown[]) => void);
    if (event === 'message') this.#readers.onListenerAdded();
    return this;
  }
  override off<E extends keyof NodeEvents>(event: E, listener: (...args: NodeEvents[E]) => void): this {
    return super.off(event, listener as (...a: unknown[]) => void);
  }
  override once<E extends keyof NodeEvents>(event: E, listener: (...args: NodeEvents[E]) => void): this {
    super.once(event, listener as (...a: unknown[]) => void);
    if (event === 'message') this.#readers.onListenerAdded();
    return this;
  }
}

export { createNode } from './create';
