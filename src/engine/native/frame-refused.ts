/**
 * A decrypted frame that did not decode. Counted on the peer and globally: `malformed`, or
 * `unknownVersion` when it is an authentic frame of another version (a node before or after
 * frame v5); that one is also logged at warn, once per peer per minute, without payload bytes,
 * so a half-upgraded pair is a clear, counted failure and not a silent one.
 */
import { FRAME_VERSION } from '../../constants';
import { FrameVersionError } from '../../wire/frame';
import type { Peer } from '../../peer/peer';
import type { NodeContext } from '../context';

/** At most one warning per peer in this long (monotonic ms). */
export const FRAME_VERSION_WARN_INTERVAL_MS = 60_000;

/** The monotonic time of the last warning per peer (a removed peer is collected with its entry). */
const warnedAt = new WeakMap<Peer, number>();

export function frameRefused(ctx: NodeContext, peer: Peer, e: unknown, nowMs: number): void {
  if (!(e instanceof FrameVersionError)) return ctx.drop('malformed', peer, e instanceof Error ? e.message : 'bad frame');
  ctx.drop('unknownVersion', peer, e.message);
  const last = warnedAt.get(peer);
  if (last !== undefined && nowMs - last < FRAME_VERSION_WARN_INTERVAL_MS) return;
  warnedAt.set(peer, nowMs);
  const who = peer.label();
  ctx.log.warn({ peer: who, frameVersion: e.version, ourFrameVersion: FRAME_VERSION }, `peer ${who} sends frame version ${e.version}; this node speaks ${FRAME_VERSION} — upgrade both`);
}
