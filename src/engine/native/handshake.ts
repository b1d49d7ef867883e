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
import { encodeKey } from '../../crypto/identity';
import { answerRefusedInit } from './handshake-v4-responder';

/** Starts (or restarts) a handshake: a new attempt, the retry timer armed. */
export function initiateHandshake(link: NativeLink): void {
  link.engine.v4.initiate(link);
}

/**
 * A peer was just added (no session yet): answers its init refused a moment ago, when there is
 * one (PROTOCOL §5.5, first contact), else starts a handshake.
 */
export function startHandshake(link: NativeLink): void {
  if (!answerRefusedInit(link.engine.v4, link)) initiateHandshake(link);
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
  session.establishedAtMs = Math.floor(ctx.clock.monotonic()); // whole ms: a small integer, not a boxed double (issue 12)
  peer.recordHandshake(session.remoteTimestampMs, ctx.clock.now());
  journalMark(ctx, peer, session, from);
  session.remoteTimestampMs = null; // recorded: not kept per idle session (issue 12)
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

/**
 * The replay mark goes to the journal when the session is confirmed: durable before trust acts
 * on it (fsync'd at once when the endpoint moves; with the TOFU record's own fsync when a key is
 * recorded), grouped with other appends for a rekey that changes nothing else (a replay of that
 * handshake after a crash cannot confirm a session, so nothing would act on it). Without a home there is no journal (the mark lives in memory only). Never throws: a
 * journal that cannot write is logged and the store's coalesced save remains.
 */
function journalMark(ctx: NodeContext, peer: Peer, session: Session, from: { address: string; port: number } | null): void {
  const j = ctx.journal;
  const ts = session.remoteTimestampMs;
  if (!j || ts === null) return;
  const key = encodeKey(session.remoteStatic);
  if ((j.state.handshake(key) ?? -1) >= ts) return;
  // A TOFU key is recorded right after with a synchronous journal append, which writes and
  // fsyncs the pending batch (this mark included) first: one fsync for both.
  const moves = from !== null && (from.address !== peer.endpoint.address || from.port !== peer.endpoint.port);
  const trustActs = moves && peer.keyString !== null;
  try {
    if (trustActs) j.appendSync({ type: 'handshake', key, ts });
    else j.append({ type: 'handshake', key, ts }).catch((e: unknown) => ctx.log.error({ peer: peer.label(), err: e instanceof Error ? e.message : 'error' }, 'journal append failed'));
  } catch (e) {
    ctx.log.error({ peer: peer.label(), err: e instanceof Error ? e.message : 'error' }, 'recording the handshake mark in the journal failed; it is saved with the peer store only');
  }
}
