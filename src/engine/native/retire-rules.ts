/** The session retire rules of a node's settings in force (NativeLink.rules). */
import type { RetireRules } from '../../peer/keypairs';
import type { NodeContext } from '../context';

/** Each node's retire rules. */
const rulesOf = new WeakMap<NodeContext, RetireRules>();

/**
 * The retire rules of the settings in force: one object per node, made again only when a
 * reload replaced them (the tick asks every 100 ms; not one per link: issue 12).
 */
export function retireRules(ctx: NodeContext): RetireRules {
  const { settings, limits } = ctx;
  const r = rulesOf.get(ctx);
  if (r !== undefined && r.limits === limits && r.graceMs === settings.sessionGraceMs && r.unconfirmedMs === settings.handshakeTimeoutMs) return r;
  const fresh: RetireRules = { limits, graceMs: settings.sessionGraceMs, unconfirmedMs: settings.handshakeTimeoutMs };
  rulesOf.set(ctx, fresh);
  return fresh;
}
