/**
 * The vault-v2 link of one peer (SPEC §6): announcements, key learning, encrypted sending,
 * queueing until a key is known. See docs/VAULT-V2.md.
 *
 * Sending: UTF-8 text only → zstd (settings.compressionLevel; level 16 as the reference uses
 * when the faster frame does not fit) → body {p} padded to the vault-v2 MTU → sealed with our
 * static X25519 key for the peer's announced key → one datagram from the node's own socket.
 * Before the peer's key is known, messages wait in the link's bounded queue (settings
 * queueMaxMessages/queueMaxBytes) until its announcement arrives or the send timeout passes.
 * We never send payloads in plaintext; our announcements are always plaintext.
 */
import type { Datagram } from '../../net/transport';
import type { Peer } from '../../peer/peer';
import { Outbox, type OutMessage } from '../../peer/outbox';
import { TokenBucket } from '../../net/ratelimit';
import { BadInputError, DeliveryError, UdpVaultError } from '../../errors';
import { buildPaddedBody } from '../../compat/vault-v2-body';
import { sealEnvelope } from '../../compat/vault-v2-envelope';
import { encodePayloadText, VAULT_V2_COMPRESSION_LEVEL } from '../../compat/vault-v2-codec';
import { VAULT_V2_KEY_LIFETIME_MS, VAULT_V2_PROBE_MS, VAULT_V2_REANNOUNCE_MS } from '../../compat/vault-v2-keys';
import { countSent, type NodeContext } from '../context';
import type { LinkSendOptions, PeerLink } from '../link';
import { VaultV2PeerState } from './peer-keys';
import { openFrom } from './receive';
import type { VaultV2Engine } from './engine';

/**
 * The reference drops more than 100 datagrams/s per source address; payloads to one vault-v2
 * peer are paced below that (announcements included in the headroom), the rest wait in the queue.
 */
export const VAULT_V2_SEND_PER_SECOND = 70;
/** rate + burst stay under 100 in any one second. */
const VAULT_V2_SEND_BURST = 25;
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

interface V2Message extends OutMessage {
  /** Padded body, sealed when sent. */
  body: Uint8Array;
}

export class VaultV2Link implements PeerLink {
  readonly peer: Peer;
  readonly state = new VaultV2PeerState();
  readonly #engine: VaultV2Engine;
  readonly #queue = new Outbox<V2Message>();
  readonly #pace: TokenBucket;
  #closed = false;

  constructor(engine: VaultV2Engine, peer: Peer) {
    this.#engine = engine;
    this.peer = peer;
    this.#pace = new TokenBucket(VAULT_V2_SEND_PER_SECOND, VAULT_V2_SEND_BURST, engine.ctx.clock);
  }

  get #ctx(): NodeContext {
    return this.#engine.ctx;
  }

  get #alive(): boolean {
    return !this.#closed && this.#ctx.isOpen() && this.#ctx.peers.has(this.peer);
  }

  /**
   * Sends one text message. Resolves when the datagram is handed over (datagram mode); rejects
   * with ERR_RELIABLE_UNSUPPORTED, ERR_BAD_ARGUMENT (not UTF-8), ERR_TOO_LARGE (does not fit one
   * vault-v2 datagram), ERR_QUEUE_FULL, or ERR_PEER_UNREACHABLE (no key announcement from the
   * peer within `timeoutMs`, default settings.handshakeTimeoutMs).
   */
  send(data: Uint8Array, opts: LinkSendOptions): Promise<void> {
    try {
      if (opts.reliable) throw new UdpVaultError('ERR_RELIABLE_UNSUPPORTED', 'reliable delivery is not available for vault-v2 peers (native protocol only)');
      const body = this.#messageBody(data);
      if (this.state.hasKeys && this.#queue.queued === 0 && this.#pace.take()) {
        return new Promise<void>((resolve, reject) => this.#sendMessage(body, resolve, reject));
      }
      return this.#enqueue(body, opts.timeoutMs ?? this.#ctx.settings.handshakeTimeoutMs);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Added or updated: announce at once (in plaintext). A new key invalidates what the old identity announced. */
  start(rekeyed: boolean): void {
    if (!this.#alive) return;
    if (rekeyed || (this.state.hasKeys && this.state.announcedBy !== this.peer.keyString)) this.state.forget();
    if (!this.state.hasKeys && this.peer.state !== 'unreachable') this.peer.setState('handshaking');
    this.#announce();
  }

  onDatagram(d: Datagram): boolean {
    return openFrom(this.#engine, this.peer, d);
  }

  /** Sends happen at once or from the paced queue: nothing is batched per turn. */
  flush(): void {}

  /** Re-announce, forget stale keys, send what the pace allows, expire the queue. */
  tick(now: number): void {
    if (!this.#alive) return;
    const st = this.state;
    if (st.hasKeys && now - st.heardAtMs > VAULT_V2_KEY_LIFETIME_MS) {
      st.forget();
      if (this.peer.state === 'established') this.peer.setState('handshaking');
      this.#ctx.log.info({ peer: this.peer.label() }, 'vault-v2 peer keys forgotten: no announcement for 60 s');
    }
    if (now >= st.nextAnnounceAtMs) this.#announce();
    if (st.hasKeys && this.#queue.queued > 0) this.#flushQueue();
    this.#expireQueue(now);
  }

  /** First key from the peer (or a new one): answer with our announcement, mark it usable, send the queue. */
  onKeysLearned(): void {
    if (!this.#alive) return;
    this.peer.recordHandshake(null, this.#ctx.clock.now());
    this.#ctx.persist();
    this.peer.setState('established');
    this.#announce();
    this.#flushQueue();
  }

  close(err: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const m of this.#queue.clear()) m.reject(err);
    this.state.forget();
    this.#engine.forget(this);
  }

  /** Validates and encodes a message: UTF-8 → zstd → padded body (not yet sealed). */
  #messageBody(data: Uint8Array): Uint8Array {
    const { settings } = this.#ctx;
    if (data.length > settings.maxMessageBytes) {
      throw new BadInputError('ERR_TOO_LARGE', `message of ${data.length} bytes exceeds maxMessageBytes (${settings.maxMessageBytes})`);
    }
    try {
      strictUtf8.decode(data);
    } catch {
      throw new BadInputError(
        'ERR_BAD_ARGUMENT',
        `vault-v2 peer ${this.peer.label()} accepts only UTF-8 text messages (the vault-v2 protocol carries text; a reference peer drops other bytes)`,
      );
    }
    const fast = Math.max(1, settings.compressionLevel);
    const levels = fast < VAULT_V2_COMPRESSION_LEVEL ? [fast, VAULT_V2_COMPRESSION_LEVEL] : [fast];
    let lastError: UdpVaultError | null = null;
    for (const level of levels) {
      try {
        return buildPaddedBody({ p: encodePayloadText(data, level) }, this.#engine.bodyMtu(this.peer), this.#engine.randomBytes);
      } catch (e) {
        if (!(e instanceof UdpVaultError) || e.code !== 'ERR_TOO_LARGE') throw e;
        lastError = e;
      }
    }
    const detail = lastError ? lastError.message.replace(/^message too large for vault-v2 peer: /, '') : '';
    throw new BadInputError(
      'ERR_TOO_LARGE',
      `message too large for vault-v2 peer ${this.peer.label()}: ${detail} (vault-v2 has no fragmentation; send less text)`,
    );
  }

  #enqueue(body: Uint8Array, timeoutMs: number): Promise<void> {
    const { settings } = this.#ctx;
    return new Promise<void>((resolve, reject) => {
      const m: V2Message = { body, bytes: body.length, deadlineMs: this.#ctx.clock.monotonic() + timeoutMs, resolve, reject };
      if (!this.#queue.enqueue(m, { maxMessages: settings.queueMaxMessages, maxBytes: settings.queueMaxBytes })) {
        const why = this.state.hasKeys ? `paced at ${VAULT_V2_SEND_PER_SECOND}/s` : 'no key announcement received yet';
        reject(new DeliveryError('ERR_QUEUE_FULL', `queue for vault-v2 peer ${this.peer.label()} is full (${why}); message not sent`));
      }
    });
  }

  /** Seals a padded body for the peer's announced key and sends it; settles once the transport took it. */
  #sendMessage(body: Uint8Array, resolve: () => void, reject: (e: Error) => void): void {
    const { peer } = this;
    try {
      const encPk = this.state.encPk;
      if (!encPk) throw new DeliveryError('ERR_PEER_UNREACHABLE', `no key announcement received from vault-v2 peer ${peer.label()} yet`);
      const datagram = sealEnvelope(body, { receiverEncPk: encPk, senderEncSk: this.#engine.own.encSk, clock: this.#ctx.clock, random: this.#engine.sealRandom });
      this.#transmit(datagram, (err) => {
        if (err) return reject(new DeliveryError('ERR_PEER_UNREACHABLE', `vault-v2 peer ${peer.label()}: the network refused the datagram (${(err as NodeJS.ErrnoException).code ?? 'error'})`));
        peer.counters.messagesOut++;
        this.#ctx.counters.messagesOut++;
        resolve();
      });
    } catch (e) {
      reject(e instanceof Error ? e : new DeliveryError('ERR_PEER_UNREACHABLE', 'vault-v2 message not sent'));
    }
  }

  /** Throws DeliveryError when no socket serves the peer's address family. */
  #transmit(datagram: Uint8Array, done?: (err: Error | null) => void): void {
    const { address, port, family } = this.peer.endpoint;
    if (!this.#ctx.transport.send(datagram, port, address, family, done)) {
      throw new DeliveryError('ERR_PEER_UNREACHABLE', `vault-v2 peer ${this.peer.label()}: no IPv${family} socket to send from`);
    }
    countSent(this.#ctx, this.peer, datagram.length);
  }

  /** Sends our announcement to the peer in plaintext and schedules the next one. */
  #announce(): void {
    const st = this.state;
    st.nextAnnounceAtMs = this.#ctx.clock.monotonic() + (st.hasKeys ? VAULT_V2_REANNOUNCE_MS : VAULT_V2_PROBE_MS);
    try {
      this.#transmit(buildPaddedBody({ c: this.#engine.own.announcement }, this.#engine.bodyMtu(this.peer), this.#engine.randomBytes));
    } catch (e) {
      this.#ctx.log.warn({ peer: this.peer.label(), err: e instanceof Error ? e.message : 'error' }, 'vault-v2 announcement not sent');
    }
  }

  /** Sends the messages that waited (for the peer's key, or for the pace), in order, as the pace allows. */
  #flushQueue(): void {
    let n = 0;
    while (n < this.#queue.queued && this.#pace.take()) n++;
    for (const m of this.#queue.takeQueued(n)) this.#sendMessage(m.body, m.resolve, m.reject);
  }

  #expireQueue(now: number): void {
    const expired = this.#queue.expire(now);
    if (expired.length === 0) return;
    const { peer } = this;
    const hasKeys = this.state.hasKeys;
    for (const m of expired) {
      m.reject(
        hasKeys
          ? new DeliveryError('ERR_PEER_UNREACHABLE', `vault-v2 peer ${peer.label()}: still queued behind the ${VAULT_V2_SEND_PER_SECOND}/s pace (the reference's limit) at the send timeout; message not sent`)
          : new DeliveryError('ERR_PEER_UNREACHABLE', `no key announcement received from vault-v2 peer ${peer.label()} within the send timeout; message not sent`),
      );
    }
    if (!hasKeys && peer.state !== 'unreachable') {
      this.#ctx.log.warn({ peer: peer.label(), endpoint: peer.endpointString }, 'vault-v2 peer unreachable: no key announcement');
      peer.setState('unreachable');
    }
  }
}
