/**
 * Handshake choreography around the pure state machine in crypto/handshake.ts: who may
 * handshake (only added peers; pinned or TOFU keys), rate limits before signature checks,
 * sessions installed and confirmed, trust events, retries.
 */
import { randomInt } from 'node:crypto';
import { createInit, createResponse, consumeResponse, verifyInit, equalBytes } from '../crypto/handshake';
import { Session } from '../crypto/session';
import { kxKeypair } from '../crypto/sodium';
import { encodeKey } from '../crypto/identity';
import { DropError } from '../errors';
import { parseInit, parseResponse } from '../wire/packet';
import type { Datagram } from '../net/transport';
import type { Peer } from '../peer/peer';
import type { NodeContext } from './context';
import { HANDSHAKE_RETRY_MAX_MS, HANDSHAKE_RETRY_MS } from '../constants';

let lastSentTimestampMs = 0;
/** Our handshake timestamps strictly increase, so the peer's replay check never trips on them. */
function nextTimestamp(ctx: NodeContext): number {
  lastSentTimestampMs = Math.max(ctx.clock.now(), lastSentTimestampMs + 1);
  return lastSentTimestampMs;
}

function newSid(ctx: NodeContext): number {
  for (;;) {
    const sid = randomInt(1, 0xffffffff);
    if (!ctx.peers.sidInUse(sid)) return sid;
  }
}

/** Starts (or restarts) a handshake with a native peer. */
export function initiateHandshake(ctx: NodeContext, peer: Peer): void {
  if (peer.compat) return;
  const now = ctx.clock.monotonic();
  if (peer.pending) ctx.peers.unbindPending(peer.pending.localSid);
  if (!peer.pending && peer.handshakeAttempts === 0) peer.handshakeFirstAttemptAtMs = now;
  const pending = createInit({
    identity: ctx.identity,
    responderStatic: peer.key,
    localSid: newSid(ctx),
    ephemeral: kxKeypair(),
    timestampMs: nextTimestamp(ctx),
  });
  peer.pending = pending;
  ctx.peers.bindPending(peer, pending.localSid);
  peer.handshakeStartedAtMs = now;
  peer.handshakeAttempts++;
  peer.nextHandshakeAtMs = now + Math.min(HANDSHAKE_RETRY_MAX_MS, HANDSHAKE_RETRY_MS * 2 ** (peer.handshakeAttempts - 1));
  if (peer.state !== 'established' && peer.state !== 'unreachable') peer.state = 'handshaking';
  ctx.transport.send(pending.init, peer.endpoint.port, peer.endpoint.address, peer.endpoint.family);
  peer.counters.packetsOut++;
  peer.counters.bytesOut += pending.init.length;
  ctx.counters.packetsOut++;
  ctx.counters.bytesOut += pending.init.length;
}

function installSession(ctx: NodeContext, peer: Peer, session: Session, remoteTs: number, from: Datagram): void {
  peer.sessions.unshift(session);
  ctx.peers.bindSession(peer, session);
  while (peer.sessions.length > 3) {
    const old = peer.sessions.pop()!;
    ctx.peers.unbindSession(old);
    old.wipe();
  }
  peer.lastHandshakeTs = remoteTs;
  peer.lastHandshakeAt = new Date(ctx.clock.now()).toISOString();
  peer.endpoint = { address: from.address, port: from.port, family: from.address.includes(':') ? 6 : 4 };
  const wasEstablished = peer.state === 'established';
  peer.state = 'established';
  peer.handshakeAttempts = 0;
  ctx.persist();
  if (!wasEstablished) ctx.emitPeer({ type: 'handshake', peer: peer.info() });
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
  verifyInit(init, pinned, ctx.identity.publicKey, freshness(ctx, peer));
  recordTofu(ctx, peer, init.initiatorStatic);
  const { response, keys } = createResponse({
    identity: ctx.identity,
    init,
    localSid: newSid(ctx),
    ephemeral: kxKeypair(),
    timestampMs: nextTimestamp(ctx),
  });
  installSession(ctx, peer, new Session(keys, ctx.clock.monotonic()), init.timestampMs, d);
  ctx.transport.send(response, d.port, d.address, peer.endpoint.family);
  peer.counters.packetsOut++;
  peer.counters.bytesOut += response.length;
  ctx.counters.packetsOut++;
  ctx.counters.bytesOut += response.length;
}

/** Initiator side. */
export function onResponse(ctx: NodeContext, d: Datagram): void {
  if (!ctx.handshakeLimiter.allow(d.address)) throw new DropError('rateLimited', 'handshake rate limit for source address');
  const resp = parseResponse(d.data);
  const peer = ctx.peers.pendingPeer(resp.receiverSid);
  if (!peer || !peer.pending) throw new DropError('unknownSession', 'handshake response matches no pending handshake');
  const pinned = pinnedKeyFor(ctx, peer, resp.responderStatic);
  const keys = consumeResponse(peer.pending, resp, pinned, freshness(ctx, peer));
  recordTofu(ctx, peer, resp.responderStatic);
  ctx.peers.unbindPending(peer.pending.localSid);
  peer.pending = null;
  installSession(ctx, peer, new Session(keys, ctx.clock.monotonic()), resp.timestampMs, d);
  // Confirm the session at once (the responder waits for our first packet before using it);
  // queued messages ride along.
  peer.controls.push({ type: 'keepalive' });
  ctx.scheduleFlush(peer);
}
