/**
 * Composition root: createNode() wires identity, peer store, settings, transport, the
 * send/receive paths and timers into a started node with the public API of SPEC §2.
 */
import { EventEmitter } from 'node:events';
import * as path from 'node:path';
import { isIP } from 'node:net';
import { systemClock } from '../runtime/clock';
import { systemScheduler, type Timer } from '../runtime/scheduler';
import { systemRandom } from '../runtime/random';
import { DEFAULT_SETTINGS, type Settings } from '../settings';
import { BadInputError, UdpVaultError, type DropReason } from '../errors';
import { sodiumReady, wipe } from '../crypto/sodium';
import { identityFromSeed, loadOrCreateIdentity, type Identity } from '../crypto/identity';
import { PeerStore, type StoredPeer } from '../daemon/store';
import { silentLogger, type Logger } from '../log';
import { resolveMtu, maxDatagramBytes } from '../net/mtu';
import { KeyedRateLimiter, TokenBucket } from '../net/ratelimit';
import type { Datagram } from '../net/transport';
import { UdpTransport } from '../net/udp-transport';
import { Peer, type OutMessage } from '../peer/peer';
import { PeerTable } from '../peer/peers';
import { resolveEndpoint } from '../peer/endpoint';
import { newCounters, countDrop, copyCounters } from '../peer/counters';
import { handleDatagram, type ReceiveHooks } from './receive';
import { datagramItems, flushPeer } from './send';
import { cancelHandshake, initiateHandshake } from './handshake-io';
import { tickPeer, TICK_MS } from './timers';
import { BoundedStream } from './subscription';
import type { NodeContext } from './context';
import { fromStored, limitsOf, parseAddPeer, toStored, validateSettings } from './peer-records';
import { VaultV2Mode } from '../compat/vault-v2-peer';
import { Reassembler } from '../delivery/reassembly';
import { ReliableDelivery } from './reliable';
import type { PayloadItem } from '../wire/frame';
import type {
  AddPeerOptions, CreateNodeOptions, MessageEvent, NodeEvents, NodeStatus, PeerEvent, PeerInfo, PeerRef, SendOptions, UdpVaultNode,
} from './types';

const PERSIST_DELAY_MS = 200;
/** Hostname endpoints of peers without a working session are resolved again this often. */
const RERESOLVE_INTERVAL_MS = 30_000;
const HANDSHAKE_LIMITER_KEYS = 4096;

class Node extends EventEmitter implements UdpVaultNode {
  readonly publicKey: string;
  readonly port: number;
  #ctx: NodeContext;
  #store: PeerStore | null;
  #hooks: ReceiveHooks;
  #compat: VaultV2Mode;
  #reassembler: Reassembler;
  #reliable: ReliableDelivery;
  #flushQueued = new Set<Peer>();
  #flushScheduled = false;
  #tick: Timer;
  #resolveTimer: Timer;
  #persistTimer: Timer | null = null;
  #streams = new Set<BoundedStream<MessageEvent>>();
  #closed = false;
  #closing: Promise<void> | null = null;
  #startedAt: string;

  constructor(ctx: Omit<NodeContext, 'emitMessage' | 'emitPeer' | 'drop' | 'persist' | 'scheduleFlush' | 'isOpen'>, store: PeerStore | null) {
    super();
    this.#ctx = Object.assign(ctx, {
      emitMessage: (ev: MessageEvent) => this.#emitMessage(ev),
      emitPeer: (ev: PeerEvent) => this.emit('peer', ev),
      drop: (reason: DropReason, peer?: Peer, detail?: string) => this.#drop(reason, peer, detail),
      persist: () => this.#schedulePersist(),
      scheduleFlush: (peer: Peer) => this.#scheduleFlush(peer),
      isOpen: () => !this.#closed,
    });
    this.#startedAt = new Date(ctx.clock.now()).toISOString();
    this.#store = store;
    this.#compat = new VaultV2Mode(this.#ctx);
    const st = this.#ctx.settings;
    this.#reassembler = new Reassembler({
      clock: this.#ctx.clock, timeoutMs: st.reassemblyTimeoutMs, perPeerBytes: st.reassemblyPeerBytes,
      totalBytes: st.reassemblyTotalBytes, maxMessageBytes: st.maxMessageBytes,
    });
    this.#reliable = new ReliableDelivery(this.#ctx);
    this.#hooks = {
      compat: (d) => this.#compat.onDatagram(d),
      reliable: (peer, frame, d) => this.#reliable.onFrame(peer, frame, d),
      reassemble: (peer, item) => this.#reassemble(peer, item),
    };
    this.publicKey = ctx.identity.keyString;
    this.port = ctx.transport.port;
    this.#tick = ctx.scheduler.interval(() => this.#onTick(), TICK_MS);
    this.#resolveTimer = ctx.scheduler.interval(() => void this.#reresolve(), RERESOLVE_INTERVAL_MS);
  }

  /** Receive entry point (bound to the transport). */
  onDatagram(d: Datagram): void {
    if (!this.#closed) handleDatagram(this.#ctx, d, this.#hooks);
  }

  get context(): NodeContext {
    return this.#ctx;
  }

  #emitMessage(ev: MessageEvent): void {
    if (this.listenerCount('message') > 0) this.emit('message', ev);
    for (const s of this.#streams) s.push(ev);
  }

  #drop(reason: DropReason, peer?: Peer, detail?: string): void {
    countDrop(this.#ctx.counters, reason);
    if (peer) countDrop(peer.counters, reason);
    this.#ctx.log.debug({ reason, peer: peer?.label(), detail }, 'datagram dropped');
  }

  #scheduleFlush(peer: Peer): void {
    if (this.#closed || !this.#ctx.peers.has(peer)) return;
    this.#flushQueued.add(peer);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    this.#ctx.scheduler.microtask(() => this.#flush());
  }

  /** End-of-turn flush (also run once by close(), with `draining`: no new handshake then). */
  #flush(draining = false): void {
    this.#flushScheduled = false;
    if (this.#closed) return;
    const peers = [...this.#flushQueued];
    this.#flushQueued.clear();
    for (const peer of peers) {
      if (!this.#ctx.peers.has(peer)) continue; // removed in this turn: nothing of it may be sent
      const controls = peer.controls;
      peer.controls = [];
      try {
        const rel = peer.sendSession(this.#ctx.clock.monotonic(), this.#ctx.limits) ? this.#reliable.take(peer) : null;
        if (!flushPeer(this.#ctx, peer, controls, rel?.items, rel?.r) && !peer.pending && !draining) initiateHandshake(this.#ctx, peer);
      } catch (e) {
        this.#ctx.log.error({ peer: peer.label(), err: e instanceof Error ? e.message : 'error' }, 'flush failed');
      }
    }
  }

  #reassemble(peer: Peer, item: PayloadItem): Uint8Array | null {
    const r = this.#reassembler.add(peer.keyString ?? peer.endpointString, item.id!, item.index!, item.count!, item.data);
    if (r.evicted) countDrop(this.#ctx.counters, 'rateLimited', r.evicted);
    if (r.drop) this.#drop(r.drop, peer, 'fragment refused');
    return r.message ?? null;
  }

  #onTick(): void {
    this.#reassembler.sweep();
    for (const peer of this.#ctx.peers.list()) tickPeer(this.#ctx, peer);
    this.#compat.tick();
  }

  /** Hostnames in endpoints are re-resolved while the peer has no working session (it may have moved). */
  async #reresolve(): Promise<void> {
    for (const peer of this.#ctx.peers.list()) {
      if (peer.state === 'established' || isIP(peer.spec.host) !== 0) continue;
      try {
        const e = await resolveEndpoint(peer.spec);
        if (e.address !== peer.endpoint.address) {
          this.#ctx.log.info({ peer: peer.label(), host: peer.spec.host, address: e.address }, 'peer hostname resolved to a new address');
          peer.endpoint = e;
        }
      } catch {
        this.#ctx.log.warn({ peer: peer.label(), host: peer.spec.host }, 'cannot resolve peer hostname');
      }
    }
  }

  #schedulePersist(): void {
    if (!this.#store || this.#persistTimer) return;
    this.#persistTimer = this.#ctx.scheduler.timeout(() => {
      this.#persistTimer = null;
      this.#persistNow();
    }, PERSIST_DELAY_MS);
  }

  #persistNow(): void {
    if (!this.#store) return;
    try {
      this.#store.save(this.#ctx.peers.list().map(toStored));
    } catch (e) {
      this.#ctx.log.error({ err: (e as Error).message }, 'could not save the peer store');
    }
  }

  #find(ref: PeerRef): Peer {
    const p = this.#ctx.peers.find(ref);
    if (!p) throw new BadInputError('ERR_UNKNOWN_PEER', `unknown peer "${ref.slice(0, 100)}": not a peer name, key or host:port (see "udpvault peer list")`);
    return p;
  }

  async addPeer(o: AddPeerOptions): Promise<PeerInfo> {
    this.#assertOpen();
    const { spec, key } = parseAddPeer(o, this.publicKey);
    const endpoint = await resolveEndpoint(spec);
    this.#assertOpen(); // closed while resolving
    const peers = this.#ctx.peers;
    let peer = (o.key !== undefined ? peers.byKey(o.key) : undefined) ?? (o.name !== undefined ? peers.byName(o.name) : undefined) ?? peers.byEndpoint(endpoint.address, endpoint.port);
    if (o.name !== undefined) {
      const named = peers.byName(o.name);
      if (named && named !== peer) throw new BadInputError('ERR_PEER_EXISTS', `peer name "${o.name}" is already used by another peer`);
    }
    const added = !peer;
    if (!peer) {
      peer = new Peer({ key, name: o.name ?? null, spec, endpoint, compat: o.compat ?? null, allowPlaintext: o.allowPlaintext ?? false, trust: key ? 'pinned' : 'unknown', lastHandshakeTs: null, lastHandshakeAt: null, firstMsgId: this.#ctx.random.int(1, 2 ** 31) });
      peer.limiter = this.#peerLimiter();
      peers.add(peer);
    } else {
      if (key && (!peer.key || peer.keyString !== o.key)) {
        peer.wipeSessions();
        peer.setKey(key, 'pinned');
        peer.lastHandshakeTs = null;
      }
      if (o.name !== undefined) peer.name = o.name;
      peer.spec = spec;
      peer.endpoint = endpoint;
      if (o.compat !== undefined) peer.compat = o.compat;
      if (o.allowPlaintext !== undefined) peer.allowPlaintext = o.allowPlaintext;
    }
    this.#schedulePersist();
    this.emit('peer', { type: 'added', peer: peer.info() } satisfies PeerEvent);
    if (peer.compat) this.#compat.onPeerAdded(peer);
    else if (added || peer.sessions.length === 0) {
      peer.handshakeAttempts = 0;
      initiateHandshake(this.#ctx, peer);
    }
    return peer.info();
  }

  #peerLimiter(): TokenBucket {
    return new TokenBucket(this.#ctx.settings.peerPacketsPerSecond, this.#ctx.settings.peerPacketBurst, this.#ctx.clock);
  }

  async removePeer(ref: PeerRef): Promise<PeerInfo> {
    this.#assertOpen();
    const peer = this.#find(ref);
    cancelHandshake(this.#ctx, peer); // wipes the ephemeral secrets of pending attempts
    this.#ctx.peers.remove(peer);
    this.#flushQueued.delete(peer);
    this.#reassembler.dropPeer(peer.keyString ?? peer.endpointString);
    this.#reliable.dropPeer(peer, new UdpVaultError('ERR_UNKNOWN_PEER', `peer ${peer.label()} was removed`));
    peer.wipeSessions();
    const err = new UdpVaultError('ERR_UNKNOWN_PEER', `peer ${peer.label()} was removed`);
    for (const m of [...peer.queue, ...peer.outbox]) m.reject(err);
    peer.queue = [];
    peer.outbox = [];
    this.#schedulePersist();
    const info = peer.info();
    this.emit('peer', { type: 'removed', peer: info } satisfies PeerEvent);
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
      if (opts.reliable && peer.compat) throw new UdpVaultError('ERR_RELIABLE_UNSUPPORTED', 'reliable delivery is not available for vault-v2 peers (native protocol only)');
      if (bytes.length > this.#ctx.settings.maxMessageBytes) {
        throw new BadInputError('ERR_TOO_LARGE', `message of ${bytes.length} bytes exceeds maxMessageBytes (${this.#ctx.settings.maxMessageBytes})`);
      }
      if (peer.compat) return this.#compat.send(peer, bytes, opts.timeoutMs);
      if (opts.reliable) return this.#reliable.send(peer, bytes, opts.timeoutMs ?? this.#ctx.settings.reliableTimeoutMs);
      const items = datagramItems(this.#ctx, peer, bytes);
      return new Promise<void>((resolve, reject) => {
        const m: OutMessage = {
          items, bytes: bytes.length, reliable: false, resolve, reject,
          deadlineMs: this.#ctx.clock.monotonic() + (opts.timeoutMs ?? this.#ctx.settings.handshakeTimeoutMs),
        };
        peer.outbox.push(m);
        this.#scheduleFlush(peer);
      });
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

  messages(): AsyncIterableIterator<MessageEvent> {
    const s: BoundedStream<MessageEvent> = new BoundedStream(this.#ctx.settings.subscriberBufferMessages, () => this.#streams.delete(s));
    this.#streams.add(s);
    return s;
  }

  async reload(settings?: Partial<Settings>): Promise<void> {
    if (settings) Object.assign(this.#ctx.settings, validateSettings(settings));
    this.#ctx.limits = limitsOf(this.#ctx.settings);
    if (!this.#store) return;
    const stored = this.#store.load();
    for (const s of stored) {
      const ref = s.key ?? s.endpoint;
      if (!this.#ctx.peers.find(ref)) await this.addPeer(fromStored(s)).catch(() => undefined);
    }
  }

  async restorePeers(stored: StoredPeer[]): Promise<void> {
    for (const s of stored) {
      const info = await this.addPeer(fromStored(s));
      const peer = this.#ctx.peers.find(info.key ?? info.endpoint)!;
      peer.trust = s.trust;
      peer.lastHandshakeTs = s.lastHandshakeTs;
      peer.lastHandshakeAt = s.lastHandshakeAt;
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new UdpVaultError('ERR_CLOSED', 'node is closed');
  }

  /**
   * Safe in any state, any number of times, concurrently (every call gets the same promise).
   * Draining: this turn's messages that have a session are sent now and resolve once handed
   * over; every other pending send rejects with ERR_CLOSED; then no timer, flush or handshake
   * runs again, ephemeral and session secrets are wiped, and the transport closes after the
   * datagrams already handed to it.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    try {
      this.#flush(true);
    } finally {
      this.#closed = true;
    }
    this.#tick.cancel();
    this.#resolveTimer.cancel();
    this.#persistTimer?.cancel();
    this.#persistTimer = null;
    this.#persistNow();
    const err = new UdpVaultError('ERR_CLOSED', 'node closed before the message was sent');
    for (const p of this.#ctx.peers.list()) {
      for (const m of [...p.queue, ...p.outbox]) m.reject(err);
      p.queue = [];
      p.queueBytes = 0;
      p.outbox = [];
      p.controls = [];
      cancelHandshake(this.#ctx, p);
      p.wipeSessions();
    }
    this.#reliable.close(err);
    this.#compat.close();
    for (const s of [...this.#streams]) s.close();
    try {
      await this.#ctx.transport.close();
    } catch (e) {
      this.#ctx.log.warn({ err: e instanceof Error ? e.message : 'error' }, 'transport close failed');
    }
  }

  override on<E extends keyof NodeEvents>(event: E, listener: (...args: NodeEvents[E]) => void): this {
    return super.on(event, listener as (...a: unknown[]) => void);
  }
  override off<E extends keyof NodeEvents>(event: E, listener: (...args: NodeEvents[E]) => void): this {
    return super.off(event, listener as (...a: unknown[]) => void);
  }
  override once<E extends keyof NodeEvents>(event: E, listener: (...args: NodeEvents[E]) => void): this {
    return super.once(event, listener as (...a: unknown[]) => void);
  }
}

export type { Node };

export async function createNode(opts: CreateNodeOptions = {}): Promise<UdpVaultNode> {
  await sodiumReady();
  const settings: Settings = { ...DEFAULT_SETTINGS, ...validateSettings(opts.settings ?? {}) };
  if (opts.port !== undefined) settings.port = opts.port;
  if (opts.host !== undefined) settings.host = opts.host;
  const log: Logger = opts.logger ?? silentLogger;
  const clock = opts.runtime?.clock ?? opts.clock ?? systemClock;
  const scheduler = opts.runtime?.scheduler ?? systemScheduler;
  const random = opts.runtime?.random ?? systemRandom;
  const openTransport = opts.runtime?.openTransport ?? UdpTransport.open;
  let identity: Identity;
  let store: PeerStore | null = null;
  let stored: StoredPeer[] = [];
  if (opts.home) {
    identity = loadOrCreateIdentity(path.join(opts.home, 'identity.key')).identity;
    store = new PeerStore(path.join(opts.home, 'peers.json'));
    stored = store.load();
  } else {
    const seed = random.bytes(32);
    identity = identityFromSeed(seed);
    wipe(seed);
  }
  const mtu = await resolveMtu(settings.mtu, undefined, scheduler);
  let node: Node | undefined;
  const transport = await openTransport({ host: settings.host, port: settings.port, onMessage: (d) => node?.onDatagram(d), onError: (e) => log.warn({ err: e.message }, 'socket error') });
  node = new Node(
    {
      identity, settings, clock, scheduler, random, log, transport, mtu,
      handshakeTs: { last: 0 },
      peers: new PeerTable(),
      counters: newCounters(),
      maxDatagram: { 4: maxDatagramBytes(mtu, 4), 6: maxDatagramBytes(mtu, 6) },
      limits: limitsOf(settings),
      handshakeLimiter: new KeyedRateLimiter({ ratePerSecond: settings.handshakesPerSecondPerIp, burst: settings.handshakeBurstPerIp, maxKeys: HANDSHAKE_LIMITER_KEYS, clock }),
      globalLimiter: new TokenBucket(settings.globalPacketsPerSecond, settings.globalPacketsPerSecond, clock),
    },
    store,
  );
  try {
    await node.restorePeers(stored);
  } catch (e) {
    await node.close(); // nothing may outlive a failed start
    throw e;
  }
  log.info({ publicKey: identity.keyString, port: node.port, peers: stored.length }, 'node started');
  return node;
}
