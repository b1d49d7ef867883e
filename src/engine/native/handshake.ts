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
import { CLOCK_SKEW_REPORT_MS, initiatorOffset, nextHandshakeTimestamp, responderOffset } from '../../peer/clock-offset';
import type { NativeLink } from './link';
import type { NativeEngine } from './engine';

/** A crossing init this long after ours means the peer probably refused ours (did not know us yet). */
const RESEND_AFTER_MS = 20;
/** After ignoring a crossing init, how long the peer has to answer ours before we resend it. */
const CROSSING_ANSWER_WAIT_MS = 100;

/** Bias of our init timestamps over our wall clock, per attempt (non-zero only after our clock stepped back). */
const initBias = new WeakMap<object, number>();

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
  let biasMs = 0;
  const { pending, retryInMs } = link.handshaker.start(now, (localSid, ephemeral) => {
    // Our init timestamps strictly increase, so the peer's replay check never trips on them.
    const ts = nextHandshakeTimestamp(ctx.handshakeTs, ctx.clock.now());
    biasMs = ts.biasMs;
    return createInit({ identity: ctx.identity, responderStatic: peer.key, localSid, ephemeral, timestampMs: ts.tsMs });
  });
  initBias.set(pending, biasMs);
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

/**
 * A new session: installed, the peer alive (liveness), its clock offset kept for the session.
 * A responder session is confirmed only by the initiator's first data packet (receive.ts calls
 * sessionConfirmed); an initiator session is confirmed by the signed response itself.
 */
function installSession(link: NativeLink, session: Session, offsetMs: number): void {
  const { ctx } = link;
  const now = ctx.clock.monotonic();
  session.clockOffsetMs = offsetMs;
  link.keypairs.install(session, now, link.rules());
  link.timers.packetReceived(now, false, ctx.settings);
  link.handshaker.resetAttempts();
}

/**
 * A session is confirmed (the initiator's first packet on a responder session, or the response
 * on ours). Trust changes only now, in this order: the key is checked against the one recorded
 * meanwhile (another identity's session confirmed first: DropError keyChanged), the replay mark
 * is persisted (the peer's handshake timestamp), a clock skew is reported, the TOFU key is
 * recorded, then the endpoint moves to `from` and the peer counts as established (`from` null:
 * the caller, receive.ts, does both right after, as for any data packet).
 */
export function sessionConfirmed(link: NativeLink, session: Session, from: { address: string; port: number } | null): void {
  const { ctx, peer } = link;
  peer.verifyingKey(session.remoteStatic); // throws for a key other than the recorded one
  session.establishedAtMs = ctx.clock.monotonic();
  peer.recordHandshake(session.remoteTimestampMs, ctx.clock.now());
  ctx.persist();
  if (peer.recordClockOffset(session.clockOffsetMs, CLOCK_SKEW_REPORT_MS)) clockReported(ctx, peer, session.clockOffsetMs, 'measured at the handshake');
  recordTofu(ctx, peer, session.remoteStatic);
  if (!from) return;
  peer.moveTo({ address: from.address, port: from.port, family: from.address.includes(':') ? 6 : 4 });
  peer.setState('established');
}

/** A skew or step was reported on the peer (event, peer counter): the global counter and one log line. */
export function clockReported(ctx: NodeContext, peer: Peer, offsetMs: number, how: string): void {
  ctx.counters.clockSkew = (ctx.counters.clockSkew ?? 0) + 1;
  ctx.log.warn({ peer: peer.label(), clockOffsetMs: offsetMs }, `peer clock differs from ours or stepped (${how}); frames are judged against the offset of each session`);
}

function replayInput(peer: Peer) {
  return { lastTimestampMs: peer.handshakeMark };
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
  verifyInit(init, pinned, ctx.identity.publicKey, replayInput(peer));
  peer.acceptHandshakeTs(init.timestampMs); // raised in memory now; persisted when the session is confirmed
  const wallNow = ctx.clock.now();
  const ts = nextHandshakeTimestamp(ctx.handshakeTs, wallNow);
  const { response, keys } = link.handshaker.respond((localSid, ephemeral) =>
    createResponse({ identity: ctx.identity, init, localSid, ephemeral, timestampMs: ts.tsMs }),
  );
  // Our own attempts stay open: if both sides answered each other and both cancelled their
  // own, each would drop the other's response and neither responder session would ever be
  // confirmed. The first session confirmed wins; timers.ts then drops what is left.
  // A TOFU key is recorded only when the initiator's first packet confirms the session.
  const session = new Session(keys, now);
  session.timeBiasMs = ts.biasMs;
  installSession(link, session, responderOffset(init.timestampMs, wallNow));
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
    const keys = consumeResponse(pending, resp, pinned);
    peer.acceptHandshakeTs(resp.timestampMs); // the peer's timestamps only rise: an init older than this is a replay
    const now = ctx.clock.monotonic();
    if (pending === handshaker.pending && peer.rttMs === null) peer.setRtt(now - handshaker.startedAtMs); // first estimate
    const biasMs = initBias.get(pending) ?? 0;
    const offsetMs = initiatorOffset(resp.timestampMs, pending.timestampMs - biasMs, ctx.clock.now());
    handshaker.cancel();
    link.timers.handshakeComplete();
    const session = new Session(keys, now);
    session.timeBiasMs = biasMs;
    installSession(link, session, offsetMs);
    sessionConfirmed(link, session, d);
    // Confirm the session at once (the responder waits for our first packet before using it);
    // queued messages ride along.
    link.outbox.pushControl({ type: 'keepalive' });
    ctx.scheduleFlush(peer);
  });
}
