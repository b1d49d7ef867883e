/**
 * Handshake v4 in the node (docs/PROTOCOL.md §2–§5): Noise IK toward a pinned key, XX for TOFU
 * first contact, behind the gate (length/type → mac1 → admission/cookie, before any lookup or
 * DH). Trust is acted on only at confirmation (sessionConfirmed in handshake.ts): an initiator's
 * session by the authenticated answer bound to its fresh ephemeral (IK response, XX msg2), an
 * XX responder's by msg3, an IK responder's by the first data packet on it (receive.ts). Only
 * then is a TOFU key recorded, the endpoint moved and the replay mark persisted.
 *
 * This file is the driver and the initiator side; the responder side (IK init, XX msg1 and msg3)
 * is handshake-v4-responder.ts, which works through the V4Core this class implements.
 */
import { DropError } from '../../errors';
import { Session } from '../../crypto/session';
import { constantTimeEqual } from '../../crypto/sodium';
import { CookieGenerator } from '../../crypto/cookie';
import { destroyNoiseStatic, noiseStaticFromIdentity, type HandshakeResult, type NoiseStatic } from '../../crypto/noise/common';
import { NoiseError } from '../../crypto/noise/handshake-state';
import { IkInitiator, type OwnPayload } from '../../crypto/noise/ik';
import { XxInitiator } from '../../crypto/noise/xx';
import { TimestampSource } from '../../crypto/noise/payload';
import { encodeHandshake, isHandshakeType, V4, type HandshakeMessage } from '../../wire/handshake-v4';
import type { HandshakeGate } from '../../net/handshake-gate';
import type { Datagram } from '../../net/transport';
import type { Peer } from '../../peer/peer';
import { compareBytes } from '../../peer/handshaker';
import { countSent, type NodeContext } from '../context';
import { initiatorOffset } from '../../peer/clock-offset';
import { createGate } from './gate';
import { sessionConfirmed } from './handshake';
import { attemptOf, markToStoredMs, type V4Attempt } from './link-v4';
import type { NativeLink } from './link';
import type { NativeEngine } from './engine';
import { onIkInit, onXx1, onXx3, type V4Core } from './handshake-v4-responder';
import { noise, NOISE_DROP } from './noise-drop';
import { RefusedInits } from './refused-inits';


const refU32 = (ref: Uint8Array): number => ((ref[0]! << 24) | (ref[1]! << 16) | (ref[2]! << 8) | ref[3]!) >>> 0;
const family = (address: string): 4 | 6 => (address.includes(':') ? 6 : 4);

export class V4Handshakes implements V4Core {
  readonly local: NoiseStatic;
  readonly gate: HandshakeGate;
  readonly #engine: NativeEngine;
  readonly #ts: TimestampSource;
  /**
   * Cookie replies find the attempt by the first 4 bytes of the mac1 they answer (O(1)); the
   * link keeps its own entry's key (LinkV4.cookieRef). An entry lives while a handshake is out
   * (or an XX msg3 may be repeated): release() drops it (issue 12: no entry per idle peer).
   */
  readonly #byRef = new Map<number, NativeLink>();
  /** @internal (V4Core) IK inits refused for naming no peer, kept for a moment (PROTOCOL §5.5, first contact). */
  readonly refused = new RefusedInits();

  constructor(engine: NativeEngine) {
    this.#engine = engine;
    const ctx = engine.ctx;
    this.local = noiseStaticFromIdentity(ctx.identity);
    this.gate = createGate(ctx, this.local.keyPair.publicKey);
    this.#ts = new TimestampSource(ctx.clock);
  }

  get #ctx(): NodeContext {
    return this.#engine.ctx;
  }

  /** Handles a v4 handshake or cookie reply (false for other types). Refusals throw DropError. */
  onDatagram(d: Datagram): boolean {
    const t = d.data[0];
    if (t === V4.cookieReply) {
      this.#onCookieReply(d);
      return true;
    }
    if (t === undefined || !isHandshakeType(t)) return false;
    const r = this.gate.inspect(d.data, d.address, d.port);
    if (r.action === 'drop') throw new DropError(r.reason, 'handshake refused at the gate');
    if (r.action === 'cookie') {
      this.#sendRaw(r.reply, d);
      return true;
    }
    const m = r.message;
    if (m.type === V4.ikInit) onIkInit(this, m, d);
    else if (m.type === V4.xx1) onXx1(this, m, d);
    else if (m.type === V4.xx3) onXx3(this, m, d);
    else this.#onAnswer(m, d);
    return true;
  }

  /** Starts (or restarts) a handshake: IK toward a pinned key, XX toward a key-less peer. */
  initiate(link: NativeLink): void {
    if (!link.alive) return; // a removed peer or a closed node is never revived
    const { ctx, peer } = link;
    const now = ctx.clock.monotonic();
    const key = peer.key;
    const wallMs = ctx.clock.now();
    let started: { pending: V4Attempt; retryInMs: number };
    try {
      started = link.handshaker.start(now, (sid) =>
        key
          ? attemptOf(sid, wallMs, IkInitiator.start({ local: this.local, remoteIdentity: key, payload: this.payload(sid), random: ctx.random, staticStatic: link.v4.staticStatic(this.local, key, peer.keyString!) }))
          : attemptOf(sid, wallMs, XxInitiator.start({ local: this.local, sessionId: sid, random: ctx.random })),
      );
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      ctx.log.warn({ peer: peer.label() }, 'no handshake possible with this peer key (own key or not a valid point)');
      return;
    }
    link.timers.handshakeInitiated(now, started.retryInMs);
    if (peer.state !== 'established' && peer.state !== 'unreachable') peer.setState('handshaking');
    const bytes = encodeHandshake(key ? V4.ikInit : V4.xx1, null, started.pending.state.message);
    this.#sendMaced(link, bytes, link.v4.generator(key, peer.keyString), peer.endpoint);
  }

  /**
   * Tries once more at once (crossing handshakes) with a fresh init. A late answer to the first
   * attempt still completes the handshake (older attempts stay answerable).
   */
  resendPending(link: NativeLink): void {
    link.timers.handshakeComplete();
    if (!link.handshakePending || link.handshaker.resent) return;
    this.initiate(link);
    link.handshaker.markResent();
  }

  /** A link goes away: its cookie reference and v4 state. */
  forget(link: NativeLink): void {
    this.#unmapRef(link);
    const sid = link.v4.destroy();
    if (sid !== null) this.#ctx.peers.unbindPending(sid);
  }

  /**
   * The link's handshake is over (a session, no attempt out): drops what only a handshake needs
   * (LinkV4.release) and the cookie-reply entry of its last message, unless an XX msg3 may still
   * be asked for with a cookie. A late cookie reply then matches no message of ours.
   */
  release(link: NativeLink): void {
    if (!link.v4.holdsMsg3) this.#unmapRef(link);
    link.v4.release();
  }

  #unmapRef(link: NativeLink): void {
    const ref = link.v4.cookieRef;
    if (ref !== null && this.#byRef.get(ref) === link) this.#byRef.delete(ref);
    link.v4.cookieRef = null;
  }

  close(): void {
    this.refused.clear();
    this.gate.destroy();
    destroyNoiseStatic(this.local);
  }

  // ---- initiator ---------------------------------------------------------------------------

  /** IK response or XX msg2: the answer to one of our attempts (found by receiver sid). */
  #onAnswer(m: HandshakeMessage, d: Datagram): void {
    const { ctx } = this;
    const sid = m.receiverSid!;
    const link = this.#engine.linkOf(ctx.peers.pendingPeer(sid));
    const attempt = link?.handshaker.find(sid);
    if (!link || !attempt) throw new DropError('unknownSession', 'handshake answer matches no pending handshake');
    this.attributed(link.peer, () => {
      const { peer, handshaker } = link;
      let result: HandshakeResult;
      if (m.type === V4.ikResponse && attempt.state instanceof IkInitiator) {
        const st = attempt.state;
        result = noise(() => st.consumeResponse(m.noise));
      } else if (m.type === V4.xx2 && attempt.state instanceof XxInitiator) {
        const st = attempt.state;
        const out = noise(() =>
          st.consumeMessage2(m.noise, this.payload(sid), (identity) => {
            if (peer.key !== null) peer.verifyingKey(identity);
          }),
        );
        result = out.result;
        const msg3 = encodeHandshake(V4.xx3, result.remoteSessionId, out.message);
        const gen = new CookieGenerator({ receiverStatic: result.remoteStatic, clock: ctx.clock });
        link.v4.setMsg3(msg3, gen);
        this.#sendMaced(link, msg3, gen, d);
      } else throw new DropError('malformed', 'handshake answer of the wrong pattern');
      const now = ctx.clock.monotonic();
      if (attempt === handshaker.pending && peer.rttMs === null) peer.setRtt(now - handshaker.startedAtMs); // first estimate
      handshaker.cancel();
      link.timers.handshakeComplete();
      const session = this.install(link, result, true, initiatorOffset(result.remotePayload.wallClockMs, attempt.wallMs, ctx.clock.now()));
      // Bound to our fresh ephemeral: confirmed now. The responder's timestamp comes from the same
      // strictly increasing source as its inits: it raises (and persists) that identity's mark.
      sessionConfirmed(link, session, d);
      this.raiseMark(link, result.remotePayload.timestamp);
      // The responder of IK waits for our first packet before using its session: queued
      // messages ride along with a keepalive.
      link.outbox.pushControl({ type: 'keepalive' });
      ctx.scheduleFlush(peer);
    });
  }

  #onCookieReply(d: Datagram): void {
    if (d.data.length < 5) throw new DropError('malformed', 'cookie reply too short');
    const link = this.#byRef.get(refU32(d.data.subarray(1, 5)));
    if (!link || !link.alive) throw new DropError('unknownSession', 'cookie reply matches no message of ours');
    const again = link.v4.msg3WithCookie(d.data);
    if (again) {
      this.#sendRaw(again.bytes, link.peer.endpoint, link.peer);
      return;
    }
    if (!link.v4.generator(link.peer.key, link.peer.keyString).consumeReply(d.data)) throw new DropError('malformed', 'cookie reply refused');
    // A fresh message (a new ephemeral), now with mac2, at once; and with the first retry's timing:
    // the cookie round trip is not a loss (a fresh cookie lasts 2 minutes, so this happens at most
    // once per cookie, never as a storm).
    link.handshaker.resetAttempts();
    this.initiate(link);
  }

  // ---- shared ------------------------------------------------------------------------------

  /** @internal (V4Core) This node's handshake payload for a new session id. */
  payload(sessionId: number): OwnPayload {
    const ctx = this.#ctx;
    return { timestamp: this.#ts.next(), wallClockMs: Math.max(0, Math.floor(ctx.clock.now())), sessionId, maxMessageBytes: ctx.settings.maxMessageBytes, streamEpoch: 0 };
  }

  /** @internal (V4Core) Installs a handshake's session on the link. */
  install(link: NativeLink, r: HandshakeResult, confirmed: boolean, clockOffsetMs: number): Session {
    const { ctx } = link;
    const now = ctx.clock.monotonic();
    // remoteStatic is the peer's Ed25519 identity (what trust compares); remoteTimestampMs its
    // handshake timestamp in the store's unit (ms, rounded up: never below the real mark). The
    // identity is the peer's own key array when it is the recorded key (one array per peer, not
    // one per session: issue 12), else the handshake's own 32-byte copy (never a view of a
    // received datagram or decrypted payload).
    const known = link.peer.key;
    const remoteStatic = known && constantTimeEqual(known, r.remoteIdentity) ? known : r.remoteIdentity;
    const session = new Session(
      { sendKey: r.sendKey, recvKey: r.recvKey, localSid: r.localSessionId, remoteSid: r.remoteSessionId, initiator: r.initiator, remoteStatic, remoteTimestampMs: markToStoredMs(r.remotePayload.timestamp) },
      now,
    );
    session.confirmed = confirmed;
    session.clockOffsetMs = clockOffsetMs;
    // Of a crossing pair, the session the greater key initiated wins on both sides (PROTOCOL §5.5).
    link.keypairs.install(session, now, link.rules(), compareBytes(ctx.identity.publicKey, remoteStatic) > 0);
    link.timers.packetReceived(now, false, ctx.settings);
    // A confirmed session ends our attempts' backoff. An unconfirmed responder session does not:
    // our own attempt (if any) keeps its backoff and waits for it (timers.ts onRetransmitHandshake).
    if (confirmed) link.handshaker.resetAttempts();
    return session;
  }

  /** @internal (V4Core) Raises the in-memory replay mark of the (now recorded) peer identity. */
  raiseMark(link: NativeLink, ts: Uint8Array): void {
    const ks = link.peer.keyString;
    if (!ks) return;
    const mark = link.v4.mark(ks);
    if (mark.isFresh(ts)) mark.accept(ts);
  }

  /** @internal (V4Core) Runs `fn`; its refusals are counted on `peer` too. */
  attributed(peer: Peer, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (e instanceof NoiseError) this.#ctx.drop(NOISE_DROP[e.reason], peer, e.message);
      else if (e instanceof DropError) this.#ctx.drop(e.reason, peer, e.message);
      else throw e;
    }
  }

  #sendMaced(link: NativeLink, bytes: Uint8Array, gen: CookieGenerator, to: { address: string; port: number }): void {
    gen.addMacs(bytes);
    const ref = gen.lastRef;
    if (ref) {
      this.#unmapRef(link);
      const r = refU32(ref);
      this.#byRef.set(r, link);
      link.v4.cookieRef = r;
    }
    this.send(link, bytes, to);
  }

  /** @internal (V4Core) Sends a handshake message for the link (counted on its peer). */
  send(link: NativeLink, bytes: Uint8Array, to: { address: string; port: number }): void {
    const { ctx, peer } = link;
    if (ctx.transport.send(bytes, to.port, to.address, family(to.address))) countSent(ctx, peer, bytes.length);
  }

  #sendRaw(bytes: Uint8Array, to: { address: string; port: number }, peer?: Peer): void {
    const ctx = this.#ctx;
    if (!ctx.transport.send(bytes, to.port, to.address, family(to.address))) return;
    if (peer) countSent(ctx, peer, bytes.length);
    else {
      ctx.counters.packetsOut++;
      ctx.counters.bytesOut += bytes.length;
    }
  }

  get ctx(): NodeContext {
    return this.#ctx;
  }

  /** @internal (V4Core) */
  linkOf(peer: Peer | undefined): NativeLink | undefined {
    return this.#engine.linkOf(peer);
  }
}
