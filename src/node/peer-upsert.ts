/** addPeer's two cases: a new Peer, or the changes to an existing one (its key, name, endpoint, options). */
import { TokenBucket } from '../net/ratelimit';
import { Peer } from '../peer/peer';
import type { Endpoint, EndpointSpec } from '../peer/endpoint';
import type { NodeContext } from '../engine/context';
import type { AddPeerOptions, PeerEvent } from './types';

/** A new peer for addPeer's options (its packet limiter from the node's settings). */
export function newPeer(ctx: NodeContext, o: AddPeerOptions, key: Uint8Array | null, spec: EndpointSpec, endpoint: Endpoint, emit: (ev: PeerEvent) => void): Peer {
  const limiter = new TokenBucket(ctx.settings.peerPacketsPerSecond, ctx.settings.peerPacketBurst, ctx.clock);
  return new Peer({
    key, trust: key ? 'pinned' : 'unknown', name: o.name ?? null, spec, endpoint, compat: o.compat ?? null,
    allowPlaintext: o.allowPlaintext ?? false, lastHandshakeTs: null, lastHandshakeAt: null, limiter, emit,
  });
}

/** addPeer on an existing peer: pins or replaces its key and updates its record; returns whether its key was replaced. */
export function updatePeer(peer: Peer, o: AddPeerOptions, key: Uint8Array | null, spec: EndpointSpec, endpoint: Endpoint): boolean {
  let rekeyed = false;
  if (key && peer.key === null) peer.pinKey(key);
  else if (key && peer.keyString !== o.key) {
    peer.replaceKey(key);
    rekeyed = true;
  }
  const u: Parameters<Peer['update']>[0] = { spec, endpoint };
  if (o.name !== undefined) u.name = o.name;
  if (o.compat !== undefined) u.compat = o.compat;
  if (o.allowPlaintext !== undefined) u.allowPlaintext = o.allowPlaintext;
  peer.update(u);
  return rekeyed;
}
