/**
 * Handshake choreography around the pure state machine in crypto/handshake.ts: who may
 * handshake (only added native peers; pinned or TOFU keys), rate limits before signature
 * checks, sessions installed and confirmed, trust events, retries. Refusals attributable to a
 * peer are counted on it (and globally); the others throw DropError for the caller to count.
 */
import { createInit, createResponse, consumeResponse, verifyInit } from '../../crypto/handshake';
import { Session } from '../../crypto/session';
import { encodeKey } from '../../crypto/identity';
import { DropError } from '../../errors';
import { parseInit, parseResponse } from '../../wire/packet';
import type { Datagram } from '../../net/transport';
import type { Peer } from '../../peer/peer';
import { countSent, type NodeContext } from '../context';
import { HANDSHAKE_RETRY_MS } from '../../constants';
import type { NativeLink } from './link';
import type { NativeEngine } from './engine';

/** A crossing init this long after ours means the peer probably refused ours (did not know us yet). */
const RESEND_AFTER_MS = 20;
/** After ignoring a crossing init, how long the peer has to answer ours before we resend it. */
const CROSSING_ANSWER_WAIT_MS = 100;

/** Our handshake timestamps strictly increase, so the peer's replay check never trips on them. */
function nextTimestamp(ctx: NodeContext): number {
  ctx.handshakeTs.last = Math.max(ctx.clock.now(), ctx.handshakeTs.last + 1);
  return ctx.handshakeTs.last;
}

/** Runs `fn`; a refusal is counted against `peer` (and globally) instead of propagating. */
function attributed(ctx: NodeContext, peer: Peer, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof DropError)) throw e;
    ctx.drop(e.reason, peer, e.message);
  }
}

/** Starts (or restarts) a handshake: a new attempt, the retry timer armed. */
export function initiateHandshake(link: NativeLink): void {
  if (!link.alive) return; // a removed peer or a closed node is never revived
  const { ctx, peer } = link;
  const now = ctx.clock.monotonic();
  const { pending, retryInMs } = link.handshaker.start(now, (localSid, ephemeral) =>
    createInit({ identity: ctx.identity, responderStatic: peer.key, localSid, ephemeral, timestampMs: nextTimestamp(ctx) }),
  );
  link.timers.handshakeInitiated(now, retryInMs);
  if (peer.state !== 'established' && peer.state !== 'unreachable') peer.setState('handshaking');
  sendHandshake(link, pending.init);
}

/**
 * Tries once more at once (crossing handshakes; see onInit) with a fresh init — not the same
 * bytes, which the peer would count as a replay if it had accepted the first. A late answer to
 * the first attempt still completes the handshake (older attempts stay answerable).
 */
export function resendPendingInit(link: NativeLink): void {
  link.timers.handshakeComplete();
  if (!link.handshaker.pending || link.handshaker.resent) return;
  initiateHandshake(link);
  link.handshaker.markResent();
}

function sendHandshake(link: NativeLink, bytes: Uint8Array, to: { address: string; port: number } = link.peer.endpoint): void {
  const { ctx, peer } = link;
  if (ctx.transport.send(bytes, to.port, to.address, peer.endpoint.family)) countSent(ctx, peer, bytes.length);
}

function installSession(link: NativeLink, session: Session, remoteTs: number, from: Datagram): void {
  const { ctx, peer } = link;
  const now = ctx.clock.monotonic();
  link.keypairs.install(session, now, link.rules());
  peer.recordHandshake(remoteTs, ctx.clock.now());
  peer.moveTo({ address: from.address, port: from.port, family: from.address.includes(':') ? 6 : 4 });
  link.handshaker.resetAttempts();
  ctx.persist();
  // A responder session can send only once the initiator's first packet confirms it: the peer
  // counts as established then (receive.ts), not before.
  if (session.confirmed) peer.setState('established');
}

function freshness(ctx: NodeContext, peer: Peer) {
  return { nowMs: ctx.clock.now(), windowMs: ctx.settings.freshnessWindowMs, lastTimestampMs: peer.lastHandshakeTs };
}

function recordTofu(ctx: NodeContext, peer: Peer, key: Uint8Array): void {
  if (peer.recordTofu(key)) ctx.log.info({ peer: peer.label(), key: peer.keyString }, 'trust on first use: recorded peer key');
}

/** Responder side. */
export function onInit(engine: NativeEngine, d: Datagram): void {
  const { ctx } = engine;
  if (!ctx.handshakeLimiter.allow(d.address)) throw new DropError('rateLimited', 'handshake rate limit for source address');
  const init = parseInit(d.data);
  let link = engine.linkOf(ctx.peers.byKey(encodeKey(init.initiatorStatic)));
  if (!link) {
    const atEndpoint = engine.linkOf(ctx.peers.byEndpoint(d.address, d.port));
    if (atEndpoint && atEndpoint.peer.key === null) link = atEndpoint;
    else if (atEndpoint) {
      // Another identity at a known peer's address: refused (and reported once for a TOFU peer).
      return attributed(ctx, atEndpoint.peer, () => void atEndpoint.peer.verifyingKey(init.initiatorStatic));
    }
  }
  if (!link) throw new DropError('unknownPeer', 'handshake from an identity that is not a peer');
  const l = link;
  attributed(ctx, l.peer, () => respond(l, init, d));
}

function respond(link: NativeLink, init: ReturnType<typeof parseInit>, d: Datagram): void {
  const { ctx, peer } = link;
  const pinned = peer.verifyingKey(init.initiatorStatic);
  const now = ctx.clock.monotonic();
  const fromOurEndpoint = peer.endpoint.address === d.address && peer.endpoint.port === d.port;
  if (link.handshaker.keepsOwnAttempt(now, ctx.identity.publicKey, init.initiatorStatic, fromOurEndpoint, HANDSHAKE_RETRY_MS)) {
    // Our init may have arrived before the peer knew us (and been refused): send it once more
    // now that the peer evidently does, so it is answered in one round trip, not at our retry.
    // Not for a truly simultaneous start (ours is only just out): that would be a duplicate.
    if (!link.handshaker.resent) {
      if (now - link.handshaker.startedAtMs > RESEND_AFTER_MS) resendPendingInit(link);
      else link.timers.crossingInitIgnored(now, CROSSING_ANSWER_WAIT_MS);
    }
    ctx.log.debug({ peer: peer.label() }, 'crossing handshake init ignored (ours is pending)');
    return;
  }
  verifyInit(init, pinned, ctx.identity.publicKey, freshness(ctx, peer));
  const { response, keys } = link.handshaker.respond((localSid, ephemeral) =>
    createResponse({ identity: ctx.identity, init, localSid, ephemeral, timestampMs: nextTimestamp(ctx) }),
  );
  // Our own attempts stay open: if both sides answered each other and both cancelled their
  // own, each would drop the other's response and neither responder session would ever be
  // confirmed. The first session confirmed wins; timers.ts then drops what is left.
  recordTofu(ctx, peer, init.initiatorStatic);
  installSession(link, new Session(keys, now), init.timestampMs, d);
  sendHandshake(link, response, d);
}

/** Initiator side. */
export function onResponse(engine: NativeEngine, d: Datagram): void {
  const { ctx } = engine;
  if (!ctx.handshakeLimiter.allow(d.address)) throw new DropError('rateLimited', 'handshake rate limit for source address');
  const resp = parseResponse(d.data);
  const link = engine.linkOf(ctx.peers.pendingPeer(resp.receiverSid));
  const pending = link?.handshaker.find(resp.receiverSid);
  if (!link || !pending) throw new DropError('unknownSession', 'handshake response matches no pending handshake');
  attributed(ctx, link.peer, () => {
    const { peer, handshaker } = link;
    const pinned = peer.verifyingKey(resp.responderStatic);
    const keys = consumeResponse(pending, resp, pinned, freshness(ctx, peer));
    recordTofu(ctx, peer, resp.responderStatic);
    const now = ctx.clock.monotonic();
    if (pending === handshaker.pending && peer.rttMs === null) peer.setRtt(now - handshaker.startedAtMs); // first estimate
    handshaker.cancel();
    link.timers.handshakeComplete();
    installSession(link, new Session(keys, now), resp.timestampMs, d);
    // Confirm the session at once (the responder waits for our first packet before using it);
    // queued messages ride along.
    link.outbox.pushControl({ type: 'keepalive' });
    ctx.scheduleFlush(peer);
  });
}
