/**
 * The native link of one peer: its sessions (Keypairs), handshake attempts (Handshaker) and
 * v4 handshake state (LinkV4), outbox and named timers. Sending, receiving, handshaking and the timers act on it; a closed
 * link, or one whose peer was removed, never sends or schedules anything again.
 */
import { CompressionBackoff } from '../../wire/compress-backoff';
import type { Session } from '../../crypto/session';
import { BadInputError, UdpVaultError } from '../../errors';
import { Keypairs, type RetireRules } from '../../peer/keypairs';
import { Handshaker } from '../../peer/handshaker';
import { Outbox } from '../../peer/outbox';
import { PeerTimers } from '../../peer/timers';
import type { Peer } from '../../peer/peer';
import type { Datagram } from '../../net/transport';
import type { NodeContext } from '../context';
import type { LinkSendOptions, PeerLink } from '../link';
import type { NativeEngine } from './engine';
import { pumpLink } from './pump';
import { bodyFlags, datagramBody, datagramMessage, type DatagramMessage } from './send';
import { EXPRESS_MIN_DATA_BYTES, expressSession, sendExpress, wholeItemBytes } from './express';
import { PacketPath } from './packet-path';
import { receiveData } from './receive';
import { initiateHandshake, startHandshake } from './handshake';
import { LinkV4, type V4Attempt } from './link-v4';
import { quietUntil, tickLink } from './timers';
import { releaseToSession, waitForSession, type WaitingReliable } from './session-wait';
import { retireRules } from './retire-rules';

/** link.#refused when nothing was refused this turn but the 'writable' event is owed (shared, never written). */
const OWES_WRITABLE: ((e: Error) => void)[] = Object.freeze([]) as unknown as ((e: Error) => void)[];

/** The resolving functions of the promise last made with `capture` (read at once after `new Promise(capture)`). */
const captured: { resolve: () => void; reject: (e: Error) => void } = { resolve: () => undefined, reject: () => undefined };
function capture(resolve: () => void, reject: (e: Error) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}

export class NativeLink implements PeerLink {
  readonly peer: Peer;
  readonly engine: NativeEngine;
  readonly keypairs: Keypairs<Peer>;
  /** Made on first use, dropped again when it holds nothing (tick(): rest18, ~100 B per idle peer). */
  #handshaker: Handshaker<Peer, V4Attempt> | null = null;
  readonly v4: LinkV4;
  /** Made on first use, dropped again when empty (tick(): rest18, 72 B per idle peer). */
  #outbox: Outbox<DatagramMessage> | null = null;
  readonly timers = new PeerTimers();
  /** Packet numbers, acks, loss detection, congestion window, pacing (packet-path.ts). */
  readonly path: PacketPath;
  /** instance as int32 (a small integer in the field, not a boxed uint32: issue 12). */
  readonly #instance: number;
  /** The largest message the peer accepts, as it announced (null before its announcement; limits.ts). */
  peerMaxMessageBytes: number | null = null;
  /** Reliable messages waiting for a session (ERR_NO_SESSION at their deadline); made on first use. */
  #reliableWait: Outbox<WaitingReliable> | null = null;
  #staleHandshakeFor: WeakSet<Session> | null = null;
  #compression: CompressionBackoff | null = null;
  /**
   * The reject functions of this turn's sends refused at send() (#refuseIfFull), or OWES_WRITABLE:
   * an ERR_QUEUE_FULL was given since the last 'writable' event (notifyWritable; one field for
   * both, no field per link for a flag: a refusal pending in the array owes the event too, and
   * the flush that rejects it marks it again).
   */
  #refused: ((e: Error) => void)[] | null = null;
  /**
   * Datagram-mode message ids start at a random point so a restarted sender is not taken for a
   * duplicate. Null first: the field then stores a small integer in place (a field that only
   * ever held numbers keeps a boxed double per link once one id did not fit; issue 12).
   */
  #nextMsgId: number | null = null;
  #closed = false;
  /**
   * The tick skips this link before then while nothing happened to it (engine/native/timers.ts
   * quietUntil), in whole ms rounded down (earlier is safe); null: −∞, tick every time. Not
   * −Infinity and fractions: a boxed double per link (issue 12).
   */
  #quietUntil: number | null = null;
  /** Ticks that ran tickLink (diagnostics, tests: a quiet link is skipped). */
  ticksRun = 0;
  /**
   * The timers' and the sessions' versions at the last quiet tick, summed (rest18: one field, not
   * two): both only grow, so the sum is unchanged exactly when neither changed.
   */
  #quietVersions = 0;

  constructor(engine: NativeEngine, peer: Peer) {
    this.engine = engine;
    this.peer = peer;
    const { ctx } = engine;
    this.keypairs = new Keypairs(peer, ctx.peers);
    this.v4 = new LinkV4(ctx.clock, peer);
    const firstId = ctx.random.int(1, 2 ** 31);
    this.#nextMsgId = firstId <= 0x7fffffff ? firstId | 0 : firstId; // a small integer (`| 0`), not the float arithmetic's box
    this.#instance = engine.nextInstance() | 0;
    this.path = new PacketPath(this);
    peer.setTransportStats(this.path);
  }

  /** The handshake attempts (made on first use; a fresh one is what an idle one holds: no attempt, no count). */
  get handshaker(): Handshaker<Peer, V4Attempt> {
    return (this.#handshaker ??= new Handshaker<Peer, V4Attempt>(this.peer, this.ctx.peers, this.ctx.random));
  }
  /** The attempt out, or null (Handshaker.pending, without making the handshaker). */
  get handshakePending(): V4Attempt | null { return this.#handshaker?.pending ?? null; }
  /** The handshaker if one was made (null: no attempt, no count). */
  get handshakerIfMade(): Handshaker<Peer, V4Attempt> | null { return this.#handshaker; }
  /** What waits to be sent (made on first use). */
  get outbox(): Outbox<DatagramMessage> { return (this.#outbox ??= new Outbox<DatagramMessage>()); }
  /** The outbox if one was made (null: nothing waits), for readers that change nothing. */
  get outboxIfMade(): Outbox<DatagramMessage> | null { return this.#outbox; }
  /** Messages in the pre-session queue (Outbox.queued, without making the outbox). */
  get outboxQueued(): number { return this.#outbox?.queued ?? 0; }

  /** Compression attempts to skip after one that did not shrink the payload (made at the first message worth an attempt). */
  get compression(): CompressionBackoff {
    return (this.#compression ??= new CompressionBackoff());
  }

  /** Sessions whose stale frames already started a new handshake (one per session); made when a stale frame first comes. */
  get staleHandshakeFor(): WeakSet<Session> {
    return (this.#staleHandshakeFor ??= new WeakSet<Session>());
  }

  get ctx(): NodeContext {
    return this.engine.ctx;
  }

  /** Neither closed nor removed, and the node is open: it may send and schedule. */
  get alive(): boolean {
    return !this.#closed && this.ctx.isOpen() && this.ctx.peers.has(this.peer);
  }

  /** close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Our packet-number space id toward the peer (frame field `i`; new per start and per re-add). */
  get instance(): number {
    return this.#instance >>> 0;
  }

  nextMsgId(): number {
    const id = this.#nextMsgId!;
    this.#nextMsgId = id + 1;
    return id;
  }

  /** The session to send on now, or null. */
  current(nowMs = this.ctx.clock.monotonic()): Session | null {
    return this.keypairs.current(nowMs, this.ctx.limits);
  }

  /**
   * The retire rules of the settings in force: one object per node, made again only when a
   * reload replaced them (the tick asks every 100 ms; not one per link: issue 12).
   */
  rules(): RetireRules {
    return retireRules(this.ctx);
  }

  send(data: Uint8Array, opts: LinkSendOptions): Promise<void> {
    const peerMax = this.engine.reliable.peerMaxMessageBytes(this);
    if (peerMax !== null && data.length > peerMax) {
      return Promise.reject(new BadInputError('ERR_TOO_LARGE', `message of ${data.length} bytes exceeds the maxMessageBytes of peer ${this.peer.label()} (${peerMax} bytes, announced by the peer); it would be refused there`));
    }
    if (opts.reliable) return this.#sendReliable(data, opts.timeoutMs ?? this.ctx.settings.reliableTimeoutMs);
    try {
      const path = this.path;
      if (path.hasDatagrams && path.waiting.full) {
        const p = this.#refuseIfFull(data);
        if (p !== null) return p;
      }
      if (data.length < EXPRESS_MIN_DATA_BYTES) {
        // Smaller messages never fill their own datagram: the queue, with no express test (64 B pays nothing for it).
        const body = datagramBody(this, data);
        // The shared executor hands the resolving functions over: no closure and context per message.
        const p = new Promise<void>(capture);
        this.#push(body, bodyFlags(), data.length, opts, captured.resolve, captured.reject);
        return p;
      }
      const now = this.ctx.clock.monotonic();
      const body = datagramBody(this, data);
      const flags = bodyFlags();
      const session = expressSession(this, wholeItemBytes(body), now);
      const p = new Promise<void>(capture);
      const { resolve, reject } = captured;
      if (session === null || !sendExpress(this, session, now, body, flags, resolve, reject)) this.#push(body, flags, data.length, opts, resolve, reject);
      return p;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * A datagram-mode message sent while the window-wait queue is at its message limit (nothing
   * leaves it before this turn's flush admits the turn's messages) and a session exists (without
   * one the pre-session queue takes it): refused (ERR_QUEUE_FULL) by this turn's flush, with no
   * queue entry made. Null: not refused here (too large, or no session).
   */
  #refuseIfFull(data: Uint8Array): Promise<void> | null {
    if (data.length > this.ctx.settings.maxMessageBytes || this.current() === null) return null;
    const p = new Promise<void>(capture);
    const r = this.#refused;
    (r === null || r === OWES_WRITABLE ? (this.#refused = []) : r).push(captured.reject);
    this.ctx.scheduleFlush(this.peer);
    return p;
  }

  /**
   * A datagram-mode message for this turn's flush: one outbox entry (send.ts datagramMessage).
   * The flush is scheduled by the batch's first message; until that flush takes the batch the
   * peer stays queued for it (node/flush.ts), so the others need not ask again (s64).
   */
  #push(body: Uint8Array, flags: number, bytes: number, opts: LinkSendOptions, resolve: () => void, reject: (e: Error) => void): void {
    const m = datagramMessage(this, body, flags, bytes, opts.timeoutMs ?? this.ctx.settings.handshakeTimeoutMs, resolve, reject);
    if (this.outbox.push(m)) this.ctx.scheduleFlush(this.peer);
  }

  /**
   * The datagram-mode messages refused at send() in this turn (#refuseIfFull): their promises'
   * reject functions, called by the flush (admit.ts) with the error it gives the turn's other
   * refusals — after the caller attached its handlers, and with no queue entry.
   */
  takeRefused(): ((e: Error) => void)[] | null {
    const r = this.#refused;
    if (r === null || r === OWES_WRITABLE) return null;
    this.#refused = null;
    return r;
  }

  /** A datagram-mode send() was refused ERR_QUEUE_FULL (admit.ts, after takeRefused): the 'writable' event is owed. */
  owesWritable(): void {
    if (this.#refused === null) this.#refused = OWES_WRITABLE;
  }

  /**
   * At the end of each pump: once the window-wait queue is down to half its limits, the owed
   * 'writable' event goes — on the next turn (scheduler.immediate), after the refused promises'
   * handlers ran, and only if the link is still alive then.
   */
  notifyWritable(): void {
    if (this.#refused !== OWES_WRITABLE || !this.path.waiting.halfEmpty) return;
    this.#refused = null;
    this.ctx.scheduler.immediate(() => {
      if (this.alive) this.ctx.emitWritable(this.peer);
    });
  }

  /**
   * With a session, straight to the reliable layer. Without one, the message waits (in order)
   * for the handshake, at most min(timeout, handshakeTimeoutMs): then ERR_NO_SESSION, not a
   * 30 s wait for an acknowledgement that could never come.
   */
  #sendReliable(data: Uint8Array, timeoutMs: number): Promise<void> {
    const now = this.ctx.clock.monotonic(); // one clock read per reliable send (issue 12)
    if (this.current(now)) {
      this.#releaseReliable();
      return this.engine.reliable.send(this, data, timeoutMs, now);
    }
    return waitForSession(this, (this.#reliableWait ??= new Outbox<WaitingReliable>()), data, timeoutMs, now);
  }

  /** Hands the reliable messages that waited for a session to the reliable layer, in order. */
  #releaseReliable(): void {
    const wait = this.#reliableWait;
    if (wait === null) return;
    this.#reliableWait = null;
    releaseToSession(this, wait);
  }

  /** Reliable messages waiting for a session. */
  get reliableWaiting(): number {
    return this.#reliableWait?.queued ?? 0;
  }

  /** Fails the reliable messages whose wait for a session ended. */
  expireReliableWaiting(nowMs: number, error: (timeoutMs: number) => Error): void {
    const wait = this.#reliableWait;
    if (wait === null) return;
    for (const m of wait.expire(nowMs)) m.reject(error(m.timeoutMs ?? 0));
    if (wait.queued === 0) this.#reliableWait = null;
  }

  start(rekeyed: boolean): void {
    if (rekeyed) {
      this.keypairs.wipeAll();
      this.#handshaker?.cancel();
      if (this.peer.state === 'established') this.peer.setState('handshaking');
    }
    if (this.keypairs.size > 0) return;
    this.#handshaker?.resetAttempts();
    startHandshake(this); // answers the peer's init refused a moment ago, if any (hs17)
  }

  onDatagram(d: Datagram): boolean {
    receiveData(this, d.data, d.address, d.port);
    return true;
  }

  flush(draining: boolean): void {
    if (!this.alive) return;
    if (this.current()) {
      this.#releaseReliable();
      if (!this.handshakePending) this.engine.v4.release(this);
    }
    if (!pumpLink(this, draining) && !this.handshakePending && !draining) initiateHandshake(this);
  }

  tick(nowMs: number): void {
    if (this.#quietUntil !== null && nowMs < this.#quietUntil && this.timers.version + this.keypairs.version === this.#quietVersions && this.outboxQueued === 0 && this.reliableWaiting === 0) return;
    if (!this.alive) return;
    this.ticksRun++;
    tickLink(this, nowMs);
    // Handshake material left by an answer given after the last flush (a responder's or a
    // repeated init's) goes once the session is up and no attempt is out.
    if (this.current(nowMs) && !this.handshakePending) this.engine.v4.release(this);
    const quiet = quietUntil(this, nowMs);
    const whole = Math.floor(quiet);
    this.#quietUntil = quiet === -Infinity ? null : (whole | 0) === whole ? whole | 0 : whole; // `| 0`: a small integer, stored in place
    this.#quietVersions = this.timers.version + this.keypairs.version;
    // What holds nothing goes (rest18): made again, as it is now, at its next use.
    if (this.#handshaker !== null && this.#handshaker.idle) this.#handshaker = null;
    if (this.#outbox !== null && this.#outbox.empty) this.#outbox = null;
    this.path.rest(nowMs); // the idle form of the packet layer, once nothing was sent or owed for an idle period
    this.peer.restLimiter(nowMs); // a full packet limiter: its shared config only (mem20)
  }

  close(err: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const r of this.takeRefused() ?? []) r(err);
    for (const m of this.#outbox?.clear() ?? []) m.reject(err);
    for (const m of this.#reliableWait?.clear() ?? []) m.reject(err);
    this.#reliableWait = null;
    this.path.close(err);
    this.peer.setTransportStats(null);
    this.#handshaker?.cancel(); // wipes the ephemeral secrets of every attempt
    this.keypairs.wipeAll();
    this.timers.stopped();
    this.engine.reliable.dropPeer(this, err instanceof UdpVaultError ? err : new UdpVaultError('ERR_CLOSED', err.message));
    this.engine.forget(this);
  }
}
