/**
 * Handshake choreography around the pure state machine in crypto/handshake.ts: who may
 * handshake (only added peers; pinned or TOFU keys), rate limits before signature checks,
 * sessions installed and confirmed, trust events, retries.
 */
import { createInit, createResponse, consumeResponse, verifyInit, equalBytes } from '../crypto/handshake';
import { Session } from '../crypto/session';
import { kxSeedKeypair, wipe, type KeyPair } from '../crypto/sodium';
import { encodeKey } from '../crypto/identity';
import { DropError } from '../errors';
import { parseInit, parseResponse } from '../wire/packet';
import type { Datagram } from '../net/transport';
import type { Peer } from '../peer/peer';
import type { NodeContext } from './context';
import { HANDSHAKE_RETRY_MAX_MS, HANDSHAKE_RETRY_MS } from '../constants';

/** Current, crossing ones of simultaneous starts/rekeys, answers to retries awaiting confirmation, and ones in their grace period (each is ~0.5 KiB). */
const MAX_SESSIONS_PER_PEER = 8;
/** Earlier handshake attempts still answerable besides the current one. */
const MAX_OLDER_ATTEMPTS = 3;
/** A crossing init this long after ours means the peer probably refused ours (did not know us yet). */
const RESEND_AFTER_MS = 20;
/** After ignoring a crossing init, how long the peer has to answer ours before we resend it. */
const CROSSING_ANSWER_WAIT_MS = 100;

/** Our handshake timestamps strictly increase, so the peer's replay check never trips on them. */
function nextTimestamp(ctx: NodeContext): number {
  ctx.handshakeTs.last = Math.max(ctx.clock.now(), ctx.handshakeTs.last + 1);
  return ctx.handshakeTs.last;
}

function newSid(ctx: NodeContext): number {
  for (;;) {
    const sid = ctx.random.int(1, 0xffffffff);
    if (!ctx.peers.sidInUse(sid)) return sid;
  }
}

/** A fresh ephemeral X25519 key pair from the node's Random (the seed is wiped at once). */
function ephemeralKeypair(ctx: NodeContext): KeyPair {
  const seed = ctx.random.bytes(32);
  try {
    return kxSeedKeypair(seed);
  } finally {
    wipe(seed);
  }
}

/** Ends every outstanding attempt (answered, superseded by the peer's, or the peer removed). */
export function cancelHandshake(ctx: NodeContext, peer: Peer): void {
  for (const p of [peer.pending, ...peer.olderPendings]) {
    if (!p) continue;
    ctx.peers.unbindPending(p.localSid);
    wipe(p.ephemeral.privateKey); // abandoned or completed: the ephemeral secret goes
  }
  peer.pending = null;
  peer.olderPendings = [];
  peer.handshakeAttempts = 0;
}

/** Starts (or restarts) a handshake with a native peer. */
export function initiateHandshake(ctx: NodeContext, peer: Peer): void {
  if (peer.compat || !ctx.isOpen() || !ctx.peers.has(peer)) return; // a removed peer or a closed node is never revived
  const now = ctx.clock.monotonic();
  // Earlier attempts stay answerable (a slow peer's late answer still completes the handshake),
  // up to a few; the oldest beyond that is dropped and its ephemeral secret wiped.
  if (peer.pending) peer.olderPendings.unshift(peer.pending);
  while (peer.olderPendings.length > MAX_OLDER_ATTEMPTS) {
    const old = peer.olderPendings.pop()!;
    ctx.peers.unbindPending(old.localSid);
    wipe(old.ephemeral.privateKey);
  }
  if (!peer.pending && peer.handshakeAttempts === 0) peer.handshakeFirstAttemptAtMs = now;
  const pending = createInit({
    identity: ctx.identity,
    responderStatic: peer.key,
    localSid: newSid(ctx),
    ephemeral: ephemeralKeypair(ctx),
    timestampMs: nextTimestamp(ctx),
  });
  peer.pending = pending;
  peer.pendingResent = false;
  peer.resendPendingAtMs = 0;
  ctx.peers.bindPending(peer, pending.localSid);
  peer.handshakeStartedAtMs = now;
  peer.handshakeAttempts++;
  const backoffMs = Math.min(HANDSHAKE_RETRY_MAX_MS, HANDSHAKE_RETRY_MS * 2 ** (peer.handshakeAttempts - 1));
  peer.nextHandshakeAtMs = now + backoffMs * (0.8 + 0.4 * ctx.random.float()); // jitter: no retry storms in step
  if (peer.state !== 'established' && peer.state !== 'unreachable') peer.state = 'handshaking';
  sendHandshake(ctx, peer, pending.init);
}

/**
 * Tries once more at once (crossing handshakes; see onInit) with a fresh init — not the same
 * bytes, which the peer would count as a replay if it had accepted the first. A late answer to
 * the first attempt still completes the handshake (olderPendings).
 */
export function resendPendingInit(ctx: NodeContext, peer: Peer): void {
  if (!peer.pending || peer.pendingResent) return;
  initiateHandshake(ctx, peer);
  peer.pendingResent = true;
}

function sendHandshake(ctx: NodeContext, peer: Peer, bytes: Uint8Array, to: { address: string; port: number } = peer.endpoint): void {
  ctx.transport.send(bytes, to.port, to.address, peer.endpoint.family);
  peer.counters.packetsOut++;
  peer.counters.bytesOut += bytes.length;
  ctx.counters.packetsOut++;
  ctx.counters.bytesOut += bytes.length;
}

function installSession(ctx: NodeContext, peer: Peer, session: Session, remoteTs: number, from: Datagram): void {
  peer.sessions.unshift(session);
  ctx.peers.bindSession(peer, session);
  while (peer.sessions.length > MAX_SESSIONS_PER_PEER) {
    const [old] = peer.sessions.splice(evictionIndex(peer, ctx), 1);
    ctx.peers.unbindSession(old!);
    old!.wipe();
  }
  peer.lastHandshakeTs = remoteTs;
  peer.lastHandshakeAt = new Date(ctx.clock.now()).toISOString();
  peer.endpoint = { address: from.address, port: from.port, family: from.address.includes(':') ? 6 : 4 };
  peer.handshakeAttempts = 0;
  ctx.persist();
  // A responder session can send only once the initiator's first packet confirms it: the peer
  // counts as established then (receive.ts), not before.
  if (session.confirmed && peer.state !== 'established') {
    peer.state = 'established';
    ctx.emitPeer({ type: 'handshake', peer: peer.info() });
  }
}

/**
 * Which session to drop when a peer has too many: never-confirmed ones first (answers to
 * superseded retries), then ones the peer has not sent on lately, then the oldest — never
 * the newest (just installed).
 */
function evictionIndex(peer: Peer, ctx: NodeContext): number {
  const now = ctx.clock.monotonic();
  const current = peer.sendSession(now, ctx.limits);
  const ss = peer.sessions;
  for (let k = ss.length - 1; k > 0; k--) if (!ss[k]!.confirmed) return k;
  for (let k = ss.length - 1; k > 0; k--) {
    if (ss[k] !== current && now - ss[k]!.lastReceivedAtMs >= ctx.settings.sessionGraceMs) return k;
  }
  return ss.length - 1;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * Crossing handshakes: when both sides start (or rekey) at once, the side with the higher key
 * keeps its own attempt (the peer answers it), so it costs one handshake, not two. Only while
 * our attempt is young and went to where this init comes from: otherwise our inits may not be
 * reaching the peer (stale endpoint, NAT), and we must answer theirs.
 */
function crossingInitToIgnore(ctx: NodeContext, peer: Peer, remoteStatic: Uint8Array, d: Datagram): boolean {
  return (
    peer.pending !== null &&
    peer.handshakeAttempts <= 1 &&
    ctx.clock.monotonic() - peer.handshakeStartedAtMs < HANDSHAKE_RETRY_MS &&
    peer.endpoint.address === d.address &&
    peer.endpoint.port === d.port &&
    compareBytes(ctx.identity.publicKey, remoteStatic) > 0
  );
}

/** Common identity check for both handshake messages: returns the key to verify against. */
function pinnedKeyFor(ctx: NodeContext, peer: Peer, offered: Uint8Array): Uint8Array {
  if (peer.key === null) return offered; // TOFU: recorded once the signature verifies
  if (!equalBytes(peer.key, offered)) {
    if (peer.trust === 'tofu') ctx.emitPeer({ type: 'key-changed', peer: peer.info(), offeredKey: encodeKey(offered) });
    throw new DropError('keyChanged', 'handshake from a key other than the recorded one');
  }
  return peer.key;
}

function recordTofu(ctx: NodeContext, peer: Peer, key: Uint8Array): void {
  if (peer.key !== null) return;
  peer.setKey(new Uint8Array(key), 'tofu');
  ctx.log.info({ peer: peer.label(), key: peer.keyString }, 'trust on first use: recorded peer key');
  ctx.emitPeer({ type: 'tofu', peer: peer.info() });
}

function freshness(ctx: NodeContext, peer: Peer) {
  return { nowMs: ctx.clock.now(), windowMs: ctx.settings.freshnessWindowMs, lastTimestampMs: peer.lastHandshakeTs };
}

/** Responder side. Throws DropError for every refusal (the receive path counts it). */
export function onInit(ctx: NodeContext, d: Datagram): void {
  if (!ctx.handshakeLimiter.allow(d.address)) throw new DropError('rateLimited', 'handshake rate limit for source address');
  const init = parseInit(d.data);
  const keyString = encodeKey(init.initiatorStatic);
  let peer = ctx.peers.byKey(keyString);
  if (!peer) {
    const atEndpoint = ctx.peers.byEndpoint(d.address, d.port);
    if (atEndpoint && atEndpoint.key === null && !atEndpoint.compat) peer = atEndpoint;
    else if (atEndpoint && atEndpoint.key !== null && !atEndpoint.compat) {
      pinnedKeyFor(ctx, atEndpoint, init.initiatorStatic); // raises key-changed for TOFU peers
    }
  }
  if (!peer || peer.compat) throw new DropError('unknownPeer', 'handshake from an identity that is not a peer');
  const pinned = pinnedKeyFor(ctx, peer, init.initiatorStatic);
  if (crossingInitToIgnore(ctx, peer, init.initiatorStatic, d)) {
    // Our init may have arrived before the peer knew us (and been refused): send it once more
    // now that the peer evidently does, so it is answered in one round trip, not at our retry.
    // Not for a truly simultaneous start (ours is only just out): that would be a duplicate.
    const now = ctx.clock.monotonic();
    if (peer.pending && !peer.pendingResent) {
      if (now - peer.handshakeStartedAtMs > RESEND_AFTER_MS) resendPendingInit(ctx, peer);
      else peer.resendPendingAtMs = now + CROSSING_ANSWER_WAIT_MS; // timers.ts resends if still unanswered
    }
    ctx.log.debug({ peer: peer.label() }, 'crossing handshake init ignored (ours is pending)');
    return;
  }
  verifyInit(init, pinned, ctx.identity.publicKey, freshness(ctx, peer));
  const { response, keys } = createResponse({
    identity: ctx.identity,
    init,
    localSid: newSid(ctx),
    ephemeral: ephemeralKeypair(ctx),
    timestampMs: nextTimestamp(ctx),
  });
  // Our own attempts stay open: if both sides answered each other and both cancelled their
  // own, each would drop the other's response and neither responder session would ever be
  // confirmed. The first session confirmed wins; timers.ts then drops what is left.
  recordTofu(ctx, peer, init.initiatorStatic);
  installSession(ctx, peer, new Session(keys, ctx.clock.monotonic()), init.timestampMs, d);
  sendHandshake(ctx, peer, response, d);
}

/** Initiator side. */
export function onResponse(ctx: NodeContext, d: Datagram): void {
  if (!ctx.handshakeLimiter.allow(d.address)) throw new DropError('rateLimited', 'handshake rate limit for source address');
  const resp = parseResponse(d.data);
  const peer = ctx.peers.pendingPeer(resp.receiverSid);
  const pending = peer ? [peer.pending, ...peer.olderPendings].find((p) => p?.localSid === resp.receiverSid) : undefined;
  if (!peer || !pending) throw new DropError('unknownSession', 'handshake response matches no pending handshake');
  const pinned = pinnedKeyFor(ctx, peer, resp.responderStatic);
  const keys = consumeResponse(pending, resp, pinned, freshness(ctx, peer));
  recordTofu(ctx, peer, resp.responderStatic);
  if (pending === peer.pending && peer.rttMs === null) peer.rttMs = ctx.clock.monotonic() - peer.handshakeStartedAtMs; // first estimate
  cancelHandshake(ctx, peer);
  installSession(ctx, peer, new Session(keys, ctx.clock.monotonic()), resp.timestampMs, d);
  // Confirm the session at once (the responder waits for our first packet before using it);
  // queued messages ride along.
  peer.controls.push({ type: 'keepalive' });
  ctx.scheduleFlush(peer);
}
