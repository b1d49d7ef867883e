/**
 * What the native link does when its time comes, one function per trigger (run from the
 * node's periodic tick; the timers themselves are armed by named hooks in peer/timers.ts):
 * sessions to retire, the peer's handshake winning, the crossing-init resend, the handshake
 * retransmit, no session, rekey due, liveness (new handshake, unreachable), the answer and the
 * keepalive probe, queue deadlines.
 */
import { DeliveryError } from '../../errors';
import type { Session } from '../../crypto/session';
import type { NodeContext } from '../context';
import type { NativeLink } from './link';
import { clockReported, initiateHandshake, resendPendingInit } from './handshake';
import { CLOCK_SKEW_REPORT_MS } from '../../peer/clock-offset';
import { sendEmptyFrame } from './send';
import { HANDSHAKE_RETRY_MS } from '../../constants';
import { KEEPALIVE } from '../../wire/keepalive';

export const TICK_MS = 100;
/** What onQueueDeadlines expires without an outbox (shared, never written). */
const NO_MESSAGES: readonly never[] = Object.freeze([]);
/** Responder-side backstop: rekey this long after the initiator should have. */
const RESPONDER_REKEY_SLACK_MS = 10_000;

/**
 * A tick this much later than the node's previous one means its event loop was blocked (a GC
 * pause, a burst of handshake work): see afterStall.
 */
export const STALL_MS = 1_000;
/** The node's last tick time, and whether that tick came after a stall (one record per node, not per peer). */
const lastTicks = new WeakMap<NodeContext, { atMs: number; stalled: boolean }>();

/**
 * True on the tick after the node's event loop was blocked for more than STALL_MS. Node runs
 * the timers before it reads the datagrams that arrived meanwhile, so at that tick every answer
 * of the stall is still unread: the silence is ours, not the peers'. The decisions that take
 * silence for loss (handshake retransmit, liveness handshake, unreachable) wait one tick, for
 * those datagrams; a node that is slow because it is overloaded must not add a handshake for
 * every peer to its backlog.
 */
function afterStall(ctx: NodeContext, now: number): boolean {
  const t = lastTicks.get(ctx);
  if (!t) {
    lastTicks.set(ctx, { atMs: now, stalled: false });
    return false;
  }
  if (t.atMs !== now) {
    t.stalled = now - t.atMs > STALL_MS;
    t.atMs = now;
  }
  return t.stalled;
}

export function tickLink(link: NativeLink, now: number): void {
  const { ctx, keypairs, timers } = link;
  onSessionsToRetire(link, now);
  const current = keypairs.current(now, ctx.limits);
  const stalled = afterStall(ctx, now);
  const pending = link.handshakePending !== null; // read without making the handshaker (link.ts: made on first use)
  if (pending && current && current.createdAtMs > link.handshaker.startedAtMs) onPeerHandshakeWon(link);
  else if (pending && timers.isDue('resendCrossingInit', now)) resendPendingInit(link);
  else if (pending) {
    if (!stalled) onRetransmitHandshake(link, now, current !== null);
  } else if (!current) onNoSession(link, now);
  else if (onRekeyDue(ctx, current, now)) initiateHandshake(link);
  if (!stalled && timers.isDue('newHandshake', now)) onNewHandshakeDue(link, now);
  if (!stalled && timers.isDue('declareUnreachable', now)) onDeclareUnreachableDue(link, now);
  if (current && link.alive) {
    if (timers.isDue('sendKeepalive', now) || (!timers.isArmed('sendKeepalive') && now - current.lastSentAtMs >= ctx.settings.keepaliveMs)) onKeepaliveDue(link);
    else if (timers.isDue('sendAnswer', now)) onAnswerDue(link);
  }
  onQueueDeadlines(link, now);
}

/** The longest a quiet link goes unticked: a bound on anything quietUntil does not see (a settings reload applies within it). */
export const QUIET_MAX_MS = 5_000;
const QUIET_TIMERS = ['newHandshake', 'declareUnreachable', 'sendKeepalive', 'sendAnswer'] as const;

/**
 * Until when tickLink would do nothing for this link, as long as nothing happens to it (no
 * timer hook, no session installed or dropped, nothing queued): the earliest of its armed
 * timers, the keepalive, rekey and expiry of its one session, and QUIET_MAX_MS. −∞ (tick every
 * time) while a handshake is out, without exactly one confirmed session, or with messages
 * waiting. Issue 12: 10,000 idle links ticked every 100 ms kept V8's new space at its largest.
 * Earlier is always safe; later than tickLink's own conditions would be a bug.
 */
export function quietUntil(link: NativeLink, now: number): number {
  const { ctx, keypairs, timers } = link;
  if (!link.alive || link.handshakePending !== null || keypairs.size !== 1 || link.outboxQueued > 0 || link.reliableWaiting > 0) return -Infinity;
  const current = keypairs.current(now, ctx.limits);
  if (!current) return -Infinity;
  let until = Math.min(
    now + QUIET_MAX_MS,
    current.createdAtMs + Math.min(ctx.limits.rekeyAfterMs, ctx.limits.rejectAfterMs, ctx.settings.rekeyAfterMs),
  );
  // The timers tickLink looks at with a session and no attempt out (retransmitHandshake stays
  // armed after a handshake as "no new attempt before": it matters only without a session).
  for (let k = 0; k < QUIET_TIMERS.length; k++) {
    const t = timers.deadline(QUIET_TIMERS[k]!);
    if (t !== null) until = Math.min(until, t);
  }
  if (!timers.isArmed('sendKeepalive')) until = Math.min(until, current.lastSentAtMs + ctx.settings.keepaliveMs);
  // The tick after an idle period of the packet layer lets it take its idle form (link.ts tick).
  const rest = link.path.restAtMs();
  if (rest > now) until = Math.min(until, rest);
  return until;
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

/**
 * Our attempt went unanswered until its retry time: try again (the retries back off to a cap
 * and go on while the peer is unreachable). Past the handshake timeout without any session, the
 * peer is unreachable (a peer that had one is judged by the liveness timers).
 */
function onRetransmitHandshake(link: NativeLink, now: number, hasSession: boolean): void {
  const { ctx, peer, handshaker, timers } = link;
  if (!timers.isDue('retransmitHandshake', now)) return;
  // We answered the peer's own init a moment ago: its confirmation is on the way (or its retry
  // will be), so another init of ours would only make both sides do the work twice. Due again
  // at the next tick once that session is confirmed (the peer's handshake won) or grew old.
  if (link.keypairs.hasYoungUnconfirmed(now, HANDSHAKE_RETRY_MS)) return;
  if (!hasSession && peer.state !== 'unreachable' && now - handshaker.firstAttemptAtMs >= ctx.settings.handshakeTimeoutMs) {
    ctx.log.warn({ peer: peer.label(), endpoint: peer.endpointString }, 'peer unreachable: no handshake response');
    peer.setState('unreachable');
    timers.unreachableDeclared();
  }
  initiateHandshake(link);
}

/** No session and no attempt: start one when something waits, the peer is new, or the retry time came. */
function onNoSession(link: NativeLink, now: number): void {
  // A young unconfirmed session means the peer's own handshake is completing: wait for it.
  if (link.keypairs.hasYoungUnconfirmed(now, HANDSHAKE_RETRY_MS)) return;
  const retryDue = !link.timers.isArmed('retransmitHandshake') || link.timers.isDue('retransmitHandshake', now);
  if (link.outboxQueued > 0 || link.reliableWaiting > 0 || link.peer.state === 'new' || retryDue) initiateHandshake(link);
}

/**
 * Rekey by age comes up to 1/12 of rekeyAfterMs late (10 s of 120 s), by an amount taken from
 * the session's local id (random, nothing stored): sessions that came up together (a crowd, a
 * restart) do not all rekey in the same second, and after crossing handshakes — each side then
 * sends on the session it initiated, so both are initiators — one side rekeys first and the
 * other finds a fresh session instead of starting a second, crossing rekey.
 */
function rekeyJitterMs(ctx: NodeContext, s: Session): number {
  return ((s.localSid % 1024) / 1024) * (ctx.limits.rekeyAfterMs / 12);
}

function onRekeyDue(ctx: NodeContext, s: Session, now: number): boolean {
  if (s.sendCounter >= ctx.limits.rekeyAfterMessages) return true;
  const age = now - s.createdAtMs;
  if (s.initiator) return age >= ctx.limits.rekeyAfterMs + rekeyJitterMs(ctx, s);
  // the responder's backstop comes after the initiator's latest (jittered) rekey time
  return age >= ctx.limits.rekeyAfterMs * (13 / 12) + RESPONDER_REKEY_SLACK_MS;
}

/**
 * A packet that expects an answer (data, keepalive probe) went unanswered for
 * livenessTimeoutMs: a new handshake (unless one is already out); unreachableAfterMs later
 * without an answer, the peer is reported unreachable.
 */
function onNewHandshakeDue(link: NativeLink, now: number): void {
  const { ctx, peer, handshaker, timers } = link;
  ctx.log.info({ peer: peer.label(), silentMs: now - (timers.unansweredSinceMs ?? now) }, 'peer silent: new handshake');
  if (!handshaker.pending) {
    handshaker.resetAttempts();
    initiateHandshake(link);
  }
  timers.livenessHandshakeStarted(now, ctx.settings);
}

/** The liveness handshake went unanswered too: 'unreachable' (the event, state and log once); retries go on, backing off. */
function onDeclareUnreachableDue(link: NativeLink, now: number): void {
  const { ctx, peer, timers } = link;
  timers.unreachableDeclared();
  if (peer.state === 'unreachable') return;
  ctx.log.warn({ peer: peer.label(), endpoint: peer.endpointString, silentMs: now - (timers.unansweredSinceMs ?? now) }, 'peer unreachable: no answer');
  peer.setState('unreachable');
}

/**
 * An authentic frame with a stale timestamp: a clock stepped (ours or the peer's) or the frame
 * was held back. Dropped (counted by the caller); the step is reported, and one new handshake
 * per session measures the offset again — never a silent blackhole with both sides established.
 * `observedOffsetMs`: the frame's timestamp minus our wall clock.
 */
export function onStaleFrame(link: NativeLink, session: Session, observedOffsetMs: number): void {
  if (!link.alive || link.staleHandshakeFor.has(session)) return;
  link.staleHandshakeFor.add(session);
  const { ctx, peer } = link;
  if (peer.observeClockStep(observedOffsetMs, CLOCK_SKEW_REPORT_MS)) clockReported(ctx, peer, observedOffsetMs, 'stale frames: new handshake');
  // A fresh attempt even when one is pending: that one (a crossing attempt of the last
  // handshake, say) was made before the step and may wait for a retry seconds away.
  link.handshaker.resetAttempts();
  initiateHandshake(link);
}

/** Nothing sent for keepaliveMs: a keepalive probe (asks for an answer; keeps NAT mappings open). */
function onKeepaliveDue(link: NativeLink): void {
  link.outbox.pushControl(KEEPALIVE);
  link.ctx.scheduleFlush(link.peer);
}

/** The peer asked for an answer and we sent nothing since: an empty frame. */
function onAnswerDue(link: NativeLink): void {
  link.timers.answerSent();
  sendEmptyFrame(link);
}

/**
 * Every message waiting for a session whose own deadline passed fails (wherever it is in the
 * queue), datagram and reliable alike: ERR_NO_SESSION.
 */
function onQueueDeadlines(link: NativeLink, now: number): void {
  // Indexed, not for…of: an iterator per link per tick was a third of an idle centre's allocations (idle15).
  const expired = link.outboxIfMade?.expire(now) ?? NO_MESSAGES;
  for (let k = 0; k < expired.length; k++) expired[k]!.reject(noSession(link, expired[k]!.timeoutMs ?? link.ctx.settings.handshakeTimeoutMs));
  if (link.reliableWaiting > 0) expireReliableWaiting(link, now);
}

/** Its own function: the closure's context is made only when reliable messages wait, not per link per tick (memalloc17). */
function expireReliableWaiting(link: NativeLink, now: number): void {
  link.expireReliableWaiting(now, (timeoutMs) => noSession(link, timeoutMs));
}

function noSession(link: NativeLink, timeoutMs: number): DeliveryError {
  return new DeliveryError('ERR_NO_SESSION', `no session: the handshake with ${link.peer.label()} did not complete within ${formatSeconds(timeoutMs)} s`);
}

/** 10000 → "10", 1500 → "1.5". */
export function formatSeconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}
