/**
 * Every per-peer timer, run from one periodic tick and named for its trigger:
 * handshake retry/timeout, rekey, session retirement, keepalive, liveness probe, queue expiry.
 */
import { DeliveryError } from '../errors';
import type { Peer } from '../peer/peer';
import type { NodeContext } from './context';
import { cancelHandshake, initiateHandshake, resendPendingInit } from './handshake-io';
import { HANDSHAKE_RETRY_MS } from '../constants';

export const TICK_MS = 100;
/** Responder-side backstop: rekey this long after the initiator should have. */
const RESPONDER_REKEY_SLACK_MS = 10_000;
/** No packet from the peer for keepalive + this long → probe with a new handshake. */
const LIVENESS_SLACK_MS = 15_000;

export function tickPeer(ctx: NodeContext, peer: Peer): void {
  if (peer.compat) return;
  const now = ctx.clock.monotonic();
  retireSessions(ctx, peer, now);
  const current = peer.sendSession(now, ctx.limits);
  if (peer.pending && current && current.createdAtMs > peer.handshakeStartedAtMs) cancelHandshake(ctx, peer); // the peer's handshake won the race
  else if (peer.pending && peer.resendPendingAtMs !== 0 && now >= peer.resendPendingAtMs) resendPendingInit(ctx, peer);
  else if (peer.pending) onHandshakeOverdue(ctx, peer, now, current !== null);
  else if (!current) {
    // A young unconfirmed session means the peer's own handshake is completing: wait for it.
    const peerHandshaking = peer.sessions.some((s) => !s.confirmed && now - s.createdAtMs < HANDSHAKE_RETRY_MS);
    if (!peerHandshaking && (peer.queue.length > 0 || peer.state === 'new' || now >= peer.nextHandshakeAtMs)) initiateHandshake(ctx, peer);
  } else if (onRekeyDue(ctx, current, now) || onPeerSilent(ctx, current, now)) {
    initiateHandshake(ctx, peer);
  } else if (now - current.lastSentAtMs >= ctx.settings.keepaliveMs) {
    peer.controls.push({ type: 'keepalive' });
    ctx.scheduleFlush(peer);
  }
  expireQueue(ctx, peer, now);
}

function onHandshakeOverdue(ctx: NodeContext, peer: Peer, now: number, hasSession: boolean): void {
  if (now < peer.nextHandshakeAtMs) return;
  if (!hasSession && peer.state !== 'unreachable' && now - peer.handshakeFirstAttemptAtMs >= ctx.settings.handshakeTimeoutMs) {
    peer.state = 'unreachable';
    ctx.log.warn({ peer: peer.label(), endpoint: peer.endpointString }, 'peer unreachable: no handshake response');
    ctx.emitPeer({ type: 'unreachable', peer: peer.info() });
    failQueue(peer, `no handshake response from peer ${peer.label()} within ${ctx.settings.handshakeTimeoutMs} ms`);
  }
  initiateHandshake(ctx, peer);
}

function onRekeyDue(ctx: NodeContext, s: { initiator: boolean; createdAtMs: number; sendCounter: number; needsRekey(n: number, l: NodeContext['limits']): boolean }, now: number): boolean {
  if (s.initiator) return s.needsRekey(now, ctx.limits);
  return now - s.createdAtMs >= ctx.settings.rekeyAfterMs + RESPONDER_REKEY_SLACK_MS || s.sendCounter >= ctx.limits.rekeyAfterMessages;
}

function onPeerSilent(ctx: NodeContext, s: { lastReceivedAtMs: number; lastSentAtMs: number }, now: number): boolean {
  return now - s.lastReceivedAtMs > ctx.settings.keepaliveMs + LIVENESS_SLACK_MS && s.lastSentAtMs > s.lastReceivedAtMs;
}

/** Wipes sessions past their use: expired, superseded beyond the grace period, never confirmed. */
function retireSessions(ctx: NodeContext, peer: Peer, now: number): void {
  const current = peer.sendSession(now, ctx.limits);
  const keep = peer.sessions.filter((s) => {
    if (s === current) return true;
    // Superseded: an older session retires once it has been idle for the grace period (after
    // crossing rekeys the peer may still send on it: its newest session can be our older one).
    const superseded =
      current !== null && s.createdAtMs < current.createdAtMs && now - Math.max(current.createdAtMs, s.lastReceivedAtMs) >= ctx.settings.sessionGraceMs;
    const unconfirmed = !s.confirmed && now - s.createdAtMs >= ctx.settings.handshakeTimeoutMs;
    if (!s.expired(now, ctx.limits) && !superseded && !unconfirmed) return true;
    ctx.peers.unbindSession(s);
    s.wipe();
    return false;
  });
  peer.sessions = keep;
  if (peer.sessions.length === 0 && peer.state === 'established') peer.state = 'handshaking';
}

function failQueue(peer: Peer, reason: string): void {
  const q = peer.queue;
  peer.queue = [];
  peer.queueBytes = 0;
  for (const m of q) m.reject(new DeliveryError('ERR_HANDSHAKE_TIMEOUT', reason));
}

function expireQueue(ctx: NodeContext, peer: Peer, now: number): void {
  if (peer.queue.length === 0 || peer.queue[0]!.deadlineMs > now) return;
  const keep = [];
  for (const m of peer.queue) {
    if (m.deadlineMs > now) keep.push(m);
    else {
      peer.queueBytes -= m.bytes;
      m.reject(new DeliveryError('ERR_HANDSHAKE_TIMEOUT', `no session with peer ${peer.label()} within the send timeout; message not sent`));
    }
  }
  peer.queue = keep;
  void ctx;
}
