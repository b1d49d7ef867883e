/**
 * What the native engine shares around the v4 handshake driver (handshake-v4.ts): the entry
 * points timers and flushes use, and the one place where a confirmed session changes trust
 * (sessionConfirmed: replay mark persisted, clock skew reported, TOFU key recorded, endpoint
 * moved, peer established — in that order, and only at confirmation).
 */
import type { Session } from '../../crypto/session';
import type { Peer } from '../../peer/peer';
import type { NodeContext } from '../context';
import { CLOCK_SKEW_REPORT_MS } from '../../peer/clock-offset';
import type { NativeLink } from './link';

/** Starts (or restarts) a handshake: a new attempt, the retry timer armed. */
export function initiateHandshake(link: NativeLink): void {
  link.engine.v4.initiate(link);
}

/** Tries once more at once (crossing handshakes) with a fresh init. */
export function resendPendingInit(link: NativeLink): void {
  link.engine.v4.resendPending(link);
}

/**
 * A session is confirmed (the initiator's first data packet on an IK responder session; XX msg3
 * on an XX responder session; the authenticated answer on ours). Trust changes only now, in this
 * order: the key is checked against the one recorded meanwhile (another identity's session
 * confirmed first: DropError keyChanged), the replay mark is persisted (the peer's handshake
 * timestamp), a clock skew is reported, the TOFU key is recorded, then the endpoint moves to
 * `from` and the peer counts as established (`from` null: the caller, receive.ts, does both
 * right after, as for any data packet).
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

function recordTofu(ctx: NodeContext, peer: Peer, key: Uint8Array): void {
  if (peer.recordTofu(key)) ctx.log.info({ peer: peer.label(), key: peer.keyString }, 'trust on first use: recorded peer key');
}
