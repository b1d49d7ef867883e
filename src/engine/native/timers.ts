/**
 * What the native link does when its time comes, one function per trigger (run from the
 * node's periodic tick): sessions to retire, the peer's handshake winning, the crossing-init
 * resend, the handshake retransmit (and giving up: unreachable), no session, rekey due, peer
 * silent (liveness probe), keepalive due, queue deadlines.
 */
import { DeliveryError } from '../../errors';
import type { Session } from '../../crypto/session';
import type { NodeContext } from '../context';
import type { NativeLink } from './link';
import { initiateHandshake, resendPendingInit } from './handshake';
import { HANDSHAKE_RETRY_MS } from '../../constants';

export const TICK_MS = 100;
/** Responder-side backstop: rekey this long after the initiator should have. */
const RESPONDER_REKEY_SLACK_MS = 10_000;
/** No packet from the peer for keepalive + this long → probe with a new handshake. */
const LIVENESS_SLACK_MS = 15_000;

export function tickLink(link: NativeLink, now: number): void {
  const { ctx, handshaker, keypairs, timers } = link;
  onSessionsToRetire(link, now);
  const current = keypairs.current(now, ctx.limits);
  if (handshaker.pending && current && current.createdAtMs > handshaker.startedAtMs) onPeerHandshakeWon(link);
  else if (handshaker.pending && timers.isDue('resendCrossingInit', now)) resendPendingInit(link);
  else if (handshaker.pending) onRetransmitHandshake(link, now, current !== null);
  else if (!current) onNoSession(link, now);
  else if (onRekeyDue(ctx, current, now) || onPeerSilent(ctx, current, now)) initiateHandshake(link);
  else if (now - current.lastSentAtMs >= ctx.settings.keepaliveMs) onKeepaliveDue(link);
  onQueueDeadlines(link, now);
}

/** Expired, superseded past the grace period, never confirmed: wiped. */
function onSessionsToRetire(link: NativeLink, now: number): void {
  link.keypairs.retire(now, link.rules());
  if (link.keypairs.size === 0 && link.peer.state === 'established') link.peer.setState('handshaking');
}

/** The peer's handshake completed before ours was answered: ours is abandoned. */
function onPeerHandshakeWon(link: NativeLink): void {
  link.handshaker.cancel();
  link.timers.handshakeComplete();
}

/** Our attempt went unanswered until its retry time: try again; past the handshake timeout without a session, the peer is unreachable. */
function onRetransmitHandshake(link: NativeLink, now: number, hasSession: boolean): void {
  const { ctx, peer, handshaker, timers } = link;
  if (!timers.isDue('retransmitHandshake', now)) return;
  if (!hasSession && peer.state !== 'unreachable' && now - handshaker.firstAttemptAtMs >= ctx.settings.handshakeTimeoutMs) {
    ctx.log.warn({ peer: peer.label(), endpoint: peer.endpointString }, 'peer unreachable: no handshake response');
    peer.setState('unreachable');
    const reason = `no handshake response from peer ${peer.label()} within ${ctx.settings.handshakeTimeoutMs} ms`;
    for (const m of link.outbox.takeQueued(Infinity)) m.reject(new DeliveryError('ERR_HANDSHAKE_TIMEOUT', reason));
  }
  initiateHandshake(link);
}

/** No session and no attempt: start one when something waits, the peer is new, or the retry time came. */
function onNoSession(link: NativeLink, now: number): void {
  // A young unconfirmed session means the peer's own handshake is completing: wait for it.
  if (link.keypairs.hasYoungUnconfirmed(now, HANDSHAKE_RETRY_MS)) return;
  const retryDue = !link.timers.isArmed('retransmitHandshake') || link.timers.isDue('retransmitHandshake', now);
  if (link.outbox.queued > 0 || link.peer.state === 'new' || retryDue) initiateHandshake(link);
}

function onRekeyDue(ctx: NodeContext, s: Session, now: number): boolean {
  if (s.initiator) return s.needsRekey(now, ctx.limits);
  return now - s.createdAtMs >= ctx.settings.rekeyAfterMs + RESPONDER_REKEY_SLACK_MS || s.sendCounter >= ctx.limits.rekeyAfterMessages;
}

function onPeerSilent(ctx: NodeContext, s: Session, now: number): boolean {
  return now - s.lastReceivedAtMs > ctx.settings.keepaliveMs + LIVENESS_SLACK_MS && s.lastSentAtMs > s.lastReceivedAtMs;
}

function onKeepaliveDue(link: NativeLink): void {
  link.outbox.pushControl({ type: 'keepalive' });
  link.ctx.scheduleFlush(link.peer);
}

/** Every queued message whose own deadline passed fails (wherever it is in the queue). */
function onQueueDeadlines(link: NativeLink, now: number): void {
  for (const m of link.outbox.expire(now)) {
    m.reject(new DeliveryError('ERR_HANDSHAKE_TIMEOUT', `no session with peer ${link.peer.label()} within the send timeout; message not sent`));
  }
}
