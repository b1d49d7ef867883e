/** Hostnames in endpoints are re-resolved while the peer has no working session (it may have moved). */
import { isIP } from 'node:net';
import { resolveEndpoint } from '../peer/endpoint';
import type { NodeContext } from '../engine/context';

export async function reresolveHostnames(ctx: NodeContext): Promise<void> {
  for (const peer of ctx.peers.list()) {
    if (peer.state === 'established' || isIP(peer.spec.host) !== 0) continue;
    try {
      const e = await resolveEndpoint(peer.spec);
      if (!ctx.isOpen() || !ctx.peers.has(peer)) continue; // closed or removed meanwhile
      if (e.address !== peer.endpoint.address) {
        ctx.log.info({ peer: peer.label(), host: peer.spec.host, address: e.address }, 'peer hostname resolved to a new address');
        peer.moveTo(e);
      }
    } catch {
      ctx.log.warn({ peer: peer.label(), host: peer.spec.host }, 'cannot resolve peer hostname');
    }
  }
}
