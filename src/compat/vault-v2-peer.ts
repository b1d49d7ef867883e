/**
 * vault-v2 peer behaviour (SPEC §6) on top of the codec: announcements, key learning, sender
 * identification by source IP (vault-v2-receive.ts), encrypted sending, queueing until a key is
 * known. See docs/VAULT-V2.md.
 *
 * Sending: UTF-8 text only → zstd (settings.compressionLevel; level 16 as the reference uses
 * when the faster frame does not fit) → body {p} padded to the vault-v2 MTU → sealed with our
 * static X25519 key for the peer's announced key → one datagram from the node's own socket.
 * Before the peer's key is known, messages wait in the peer's bounded queue (settings
 * queueMaxMessages/queueMaxBytes) until its announcement arrives or the send timeout passes.
 * We never send payloads in plaintext; our announcements are always plaintext.
 */
import type { Datagram } from '../net/transport';
import type { OutMessage, Peer } from '../peer/peer';
import type { NodeContext } from '../node/context';
import { KeyedRateLimiter, TokenBucket } from '../net/ratelimit';
import { BadInputError, DeliveryError, DropError, UdpVaultError } from '../errors';
import { buildPaddedBody, VAULT_V2_MTU_OVERHEAD } from './vault-v2-body';
import { sealEnvelope, VAULT_V2_BOX_NONCE_BYTES, VAULT_V2_ENVELOPE_OVERHEAD } from './vault-v2-envelope';
import { TYPE_DATA, TYPE_HANDSHAKE_INIT, TYPE_HANDSHAKE_RESPONSE } from '../constants';
import { VaultV2NonceCache } from './vault-v2-nonce-cache';
import { encodePayloadText, VAULT_V2_COMPRESSION_LEVEL } from './vault-v2-codec';
import {
  deriveOwnKeys,
  VaultV2PeerState,
  VAULT_V2_KEY_LIFETIME_MS,
  VAULT_V2_PROBE_MS,
  VAULT_V2_REANNOUNCE_MS,
  type VaultV2OwnKeys,
} from './vault-v2-keys';
import { receiveVaultV2, type VaultV2ReceiveHost } from './vault-v2-receive';

/**
 * Datagrams per second per source IP accepted for vault-v2 processing, checked before any
 * public-key operation (signature check, key trials). Ten times the reference's default limit.
 */
export const VAULT_V2_PACKETS_PER_SECOND_PER_IP = 1000;
const IP_LIMITER_KEYS = 4096;
/**
 * The reference drops more than 100 datagrams/s per source address; payloads to one vault-v2
 * peer are paced below that (announcements included in the headroom), the rest wait in the queue.
 */
export const VAULT_V2_SEND_PER_SECOND = 70;
/** rate + burst stay under 100 in any one second. */
const VAULT_V2_SEND_BURST = 25;
/** Largest growth of a padded body over the effective MTU (bin32 header instead of bin8). */
const PADDING_HEADER_GROWTH = 3;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const isV3Type = (b: number | undefined): boolean => b === TYPE_DATA || b === TYPE_HANDSHAKE_INIT || b === TYPE_HANDSHAKE_RESPONSE;

export class VaultV2Mode {
  #ctx: NodeContext;
  #own: VaultV2OwnKeys;
  #states = new Map<Peer, VaultV2PeerState>();
  #seen = new VaultV2NonceCache();
  #ipLimiter: KeyedRateLimiter;
  /** Padded bodies of queued messages (sealed when the peer's key arrives). */
  #bodies = new WeakMap<OutMessage, Uint8Array>();
  #pace = new Map<Peer, TokenBucket>();
  #host: VaultV2ReceiveHost;

  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
    this.#ipLimiter = new KeyedRateLimiter({
      ratePerSecond: VAULT_V2_PACKETS_PER_SECOND_PER_IP,
      burst: 2 * VAULT_V2_PACKETS_PER_SECOND_PER_IP,
      maxKeys: IP_LIMITER_KEYS,
      clock: ctx.clock,
    });
    this.#own = deriveOwnKeys(ctx.identity, ctx.transport.port);
    this.#host = {
      ctx,
      own: this.#own,
      seen: this.#seen,
      state: (peer) => this.#state(peer),
      onKeysLearned: (peer) => this.#onKeysLearned(peer),
    };
  }

  /**
   * Handles a datagram that is not native v3 (or, as a fallback, one whose first byte is a v3
   * type but that the native path refused: an envelope's random nonce starts with 0x31-0x33 in
   * 3 of 256 datagrams). Returns false when it is not from the IP of a vault-v2 peer; in the
   * fallback, also when no vault-v2 peer's key authenticates it (the native reason then counts).
   */
  onDatagram(d: Datagram): boolean {
    const candidates = this.#ctx.peers.list().filter((p) => p.compat === 'vault-v2' && p.endpoint.address === d.address);
    if (candidates.length === 0) return false;
    const fallback = isV3Type(d.data[0]);
    try {
      if (!this.#ipLimiter.allow(d.address)) throw new DropError('rateLimited', 'vault-v2 packet rate limit for the source address');
      receiveVaultV2(this.#host, d, candidates);
    } catch (e) {
      if (fallback) return false;
      if (e instanceof DropError) this.#ctx.drop(e.reason, undefined, e.message);
      else this.#ctx.drop('malformed', undefined, e instanceof Error ? e.message : 'vault-v2 datagram refused');
    }
    return true;
  }

  /**
   * Sends one text message to a vault-v2 peer. Resolves when the datagram is handed to the
   * socket (datagram mode); rejects with ERR_BAD_ARGUMENT (not UTF-8), ERR_TOO_LARGE (does not
   * fit one vault-v2 datagram), ERR_QUEUE_FULL, or ERR_PEER_UNREACHABLE (no key announcement
   * from the peer within `timeoutMs`, default settings.handshakeTimeoutMs).
   */
  send(peer: Peer, data: Uint8Array, timeoutMs?: number): Promise<void> {
    try {
      const body = this.#messageBody(peer, data);
      const st = this.#state(peer);
      if (st.hasKeys && peer.queue.length === 0 && this.#bucket(peer).take()) {
        return new Promise<void>((resolve, reject) => this.#sendMessage(peer, st, body, resolve, reject));
      }
      return this.#enqueue(peer, body, timeoutMs ?? this.#ctx.settings.handshakeTimeoutMs);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Called when a vault-v2 peer is added or updated: announce at once (in plaintext). */
  onPeerAdded(peer: Peer): void {
    const st = this.#state(peer);
    // A changed key (re-added with another --key) invalidates what the old identity announced.
    if (st.hasKeys && st.announcedBy !== peer.keyString) st.forget();
    if (!st.hasKeys && peer.state !== 'unreachable') peer.state = 'handshaking';
    this.#announce(peer, st);
  }

  /** Called from the node's periodic tick (every 100 ms): re-announce, forget stale keys, expire the queue. */
  tick(): void {
    const now = this.#ctx.clock.monotonic();
    const present = new Set<Peer>();
    for (const peer of this.#ctx.peers.list()) {
      if (peer.compat !== 'vault-v2') continue;
      present.add(peer);
      const st = this.#state(peer);
      if (st.hasKeys && now - st.heardAtMs > VAULT_V2_KEY_LIFETIME_MS) {
        st.forget();
        if (peer.state === 'established') peer.state = 'handshaking';
        this.#ctx.log.info({ peer: peer.label() }, 'vault-v2 peer keys forgotten: no announcement for 60 s');
      }
      if (now >= st.nextAnnounceAtMs) this.#announce(peer, st);
      if (st.hasKeys && peer.queue.length > 0) this.#flushQueue(peer, st);
      this.#expireQueue(peer, now);
    }
    for (const peer of this.#states.keys()) if (!present.has(peer)) this.#states.delete(peer);
    for (const peer of this.#pace.keys()) if (!present.has(peer)) this.#pace.delete(peer);
  }

  /** The node closes: forget every peer's learned keys and pacing (queues are settled by the node). */
  close(): void {
    for (const st of this.#states.values()) st.forget();
    this.#states.clear();
    this.#pace.clear();
  }

  /**
   * Randomness for sealing: the 24-byte box nonce (the datagram's first bytes) never starts with
   * a v3 type byte, so our envelopes always take the vault-v2 path at a udpvault receiver.
   */
  #sealRandom = (n: number): Uint8Array => {
    const r = this.#ctx.random.bytes(n);
    if (n === VAULT_V2_BOX_NONCE_BYTES) while (isV3Type(r[0])) r[0] = this.#ctx.random.bytes(1)[0]!;
    return r;
  };

  #randomBytes = (n: number): Uint8Array => this.#ctx.random.bytes(n);

  #state(peer: Peer): VaultV2PeerState {
    let st = this.#states.get(peer);
    if (!st) {
      st = new VaultV2PeerState();
      this.#states.set(peer, st);
    }
    return st;
  }

  /** The MTU used for the vault-v2 padding rule: the node's MTU, lowered where needed so a sealed datagram never exceeds the largest datagram of the family. */
  #bodyMtu(peer: Peer): number {
    const maxBody = this.#ctx.maxDatagram[peer.endpoint.family] - VAULT_V2_ENVELOPE_OVERHEAD;
    return Math.min(this.#ctx.mtu, maxBody + VAULT_V2_MTU_OVERHEAD - PADDING_HEADER_GROWTH);
  }

  /** Validates and encodes a message: UTF-8 → zstd → padded body (not yet sealed). */
  #messageBody(peer: Peer, data: Uint8Array): Uint8Array {
    const { settings } = this.#ctx;
    if (data.length > settings.maxMessageBytes) {
      throw new BadInputError('ERR_TOO_LARGE', `message of ${data.length} bytes exceeds maxMessageBytes (${settings.maxMessageBytes})`);
    }
    try {
      strictUtf8.decode(data);
    } catch {
      throw new BadInputError(
        'ERR_BAD_ARGUMENT',
        `vault-v2 peer ${peer.label()} accepts only UTF-8 text messages (the vault-v2 protocol carries text; a reference peer drops other bytes)`,
      );
    }
    const fast = Math.max(1, settings.compressionLevel);
    const levels = fast < VAULT_V2_COMPRESSION_LEVEL ? [fast, VAULT_V2_COMPRESSION_LEVEL] : [fast];
    let lastError: UdpVaultError | null = null;
    for (const level of levels) {
      try {
        return buildPaddedBody({ p: encodePayloadText(data, level) }, this.#bodyMtu(peer), this.#randomBytes);
      } catch (e) {
        if (!(e instanceof UdpVaultError) || e.code !== 'ERR_TOO_LARGE') throw e;
        lastError = e;
      }
    }
    const detail = lastError ? lastError.message.replace(/^message too large for vault-v2 peer: /, '') : '';
    throw new BadInputError(
      'ERR_TOO_LARGE',
      `message too large for vault-v2 peer ${peer.label()}: ${detail} (vault-v2 has no fragmentation; send less text)`,
    );
  }

  #enqueue(peer: Peer, body: Uint8Array, timeoutMs: number): Promise<void> {
    const { settings } = this.#ctx;
    if (peer.queue.length >= settings.queueMaxMessages || peer.queueBytes + body.length > settings.queueMaxBytes) {
      return Promise.reject(new DeliveryError('ERR_QUEUE_FULL', `queue for vault-v2 peer ${peer.label()} is full (${this.#state(peer).hasKeys ? `paced at ${VAULT_V2_SEND_PER_SECOND}/s` : 'no key announcement received yet'}); message not sent`));
    }
    return new Promise<void>((resolve, reject) => {
      const m: OutMessage = { items: [], bytes: body.length, reliable: false, deadlineMs: this.#ctx.clock.monotonic() + timeoutMs, resolve, reject };
      this.#bodies.set(m, body);
      peer.queue.push(m);
      peer.queueBytes += m.bytes;
    });
  }

  /**
   * Seals a padded body for the peer's announced key and sends it; `resolve` runs once the
   * transport handed the datagram over, `reject` with a DeliveryError otherwise.
   */
  #sendMessage(peer: Peer, st: VaultV2PeerState, body: Uint8Array, resolve: () => void, reject: (e: Error) => void): void {
    try {
      if (!st.encPk) throw new DeliveryError('ERR_PEER_UNREACHABLE', `no key announcement received from vault-v2 peer ${peer.label()} yet`);
      const datagram = sealEnvelope(body, { receiverEncPk: st.encPk, senderEncSk: this.#own.encSk, clock: this.#ctx.clock, random: this.#sealRandom });
      this.#transmit(peer, datagram, (err) => {
        if (err) return reject(new DeliveryError('ERR_PEER_UNREACHABLE', `vault-v2 peer ${peer.label()}: the network refused the datagram (${(err as NodeJS.ErrnoException).code ?? 'error'})`));
        peer.counters.messagesOut++;
        this.#ctx.counters.messagesOut++;
        resolve();
      });
    } catch (e) {
      reject(e instanceof Error ? e : new DeliveryError('ERR_PEER_UNREACHABLE', 'vault-v2 message not sent'));
    }
  }

  #transmit(peer: Peer, datagram: Uint8Array, done?: (err: Error | null) => void): void {
    const { address, port, family } = peer.endpoint;
    if (!this.#ctx.transport.send(datagram, port, address, family, done)) {
      throw new DeliveryError('ERR_PEER_UNREACHABLE', `vault-v2 peer ${peer.label()}: no IPv${family} socket to send from`);
    }
    peer.counters.packetsOut++;
    peer.counters.bytesOut += datagram.length;
    this.#ctx.counters.packetsOut++;
    this.#ctx.counters.bytesOut += datagram.length;
  }

  /** Sends our announcement to the peer in plaintext and schedules the next one. */
  #announce(peer: Peer, st: VaultV2PeerState): void {
    st.nextAnnounceAtMs = this.#ctx.clock.monotonic() + (st.hasKeys ? VAULT_V2_REANNOUNCE_MS : VAULT_V2_PROBE_MS);
    try {
      const body = buildPaddedBody({ c: this.#own.announcement }, this.#bodyMtu(peer), this.#randomBytes);
      this.#transmit(peer, body);
    } catch (e) {
      this.#ctx.log.warn({ peer: peer.label(), err: e instanceof Error ? e.message : 'error' }, 'vault-v2 announcement not sent');
    }
  }

  /** First key from the peer (or a new one): answer with our announcement, mark it usable, send the queue. */
  #onKeysLearned(peer: Peer): void {
    const st = this.#state(peer);
    const wasEstablished = peer.state === 'established';
    peer.state = 'established';
    peer.lastHandshakeAt = new Date(this.#ctx.clock.now()).toISOString();
    this.#ctx.persist();
    if (!wasEstablished) this.#ctx.emitPeer({ type: 'handshake', peer: peer.info() });
    this.#announce(peer, st);
    this.#flushQueue(peer, st);
  }

  #bucket(peer: Peer): TokenBucket {
    let b = this.#pace.get(peer);
    if (!b) {
      b = new TokenBucket(VAULT_V2_SEND_PER_SECOND, VAULT_V2_SEND_BURST, this.#ctx.clock);
      this.#pace.set(peer, b);
    }
    return b;
  }

  /** Sends the messages that waited (for the peer's key, or for the pace), in order, as the pace allows. */
  #flushQueue(peer: Peer, st: VaultV2PeerState): void {
    const bucket = this.#bucket(peer);
    let n = 0;
    while (n < peer.queue.length && bucket.take()) n++;
    const queued = peer.queue.slice(0, n);
    peer.queue = peer.queue.slice(n);
    for (const m of queued) peer.queueBytes -= m.bytes;
    for (const m of queued) {
      const body = this.#bodies.get(m);
      this.#bodies.delete(m);
      if (!body) m.reject(new UdpVaultError('ERR_PEER_UNREACHABLE', 'queued vault-v2 message lost its body'));
      else this.#sendMessage(peer, st, body, m.resolve, m.reject);
    }
  }

  #expireQueue(peer: Peer, now: number): void {
    if (peer.queue.length === 0 || !peer.queue.some((m) => m.deadlineMs <= now)) return;
    const keep: OutMessage[] = [];
    let expired = 0;
    for (const m of peer.queue) {
      if (m.deadlineMs > now) {
        keep.push(m);
        continue;
      }
      expired++;
      peer.queueBytes -= m.bytes;
      this.#bodies.delete(m);
      m.reject(
        this.#state(peer).hasKeys
          ? new DeliveryError('ERR_PEER_UNREACHABLE', `vault-v2 peer ${peer.label()}: still queued behind the ${VAULT_V2_SEND_PER_SECOND}/s pace (the reference's limit) at the send timeout; message not sent`)
          : new DeliveryError('ERR_PEER_UNREACHABLE', `no key announcement received from vault-v2 peer ${peer.label()} within the send timeout; message not sent`),
      );
    }
    peer.queue = keep;
    if (expired > 0 && peer.state !== 'unreachable' && !this.#state(peer).hasKeys) {
      peer.state = 'unreachable';
      this.#ctx.log.warn({ peer: peer.label(), endpoint: peer.endpointString }, 'vault-v2 peer unreachable: no key announcement');
      this.#ctx.emitPeer({ type: 'unreachable', peer: peer.info() });
    }
  }
}
