/**
 * The node's handshake gate (net/handshake-gate.ts) wired to the peer table: XX first contact
 * only from the current endpoint of a key-less peer, answers only to a pending attempt (ours, or
 * the XX exchange a key-less peer may answer), admission from the settings.
 */
import { HandshakeGate } from '../../net/handshake-gate';
import type { NodeContext } from '../context';

export function createGate(ctx: NodeContext, localStatic: Uint8Array): HandshakeGate {
  const s = ctx.settings;
  return new HandshakeGate({
    localStatic,
    clock: ctx.clock,
    random: ctx.random,
    admission: {
      globalPerSecond: s.handshakesPerSecond,
      globalBurst: s.handshakeBurst,
      perSourcePerSecond: s.handshakesPerSecondPerIp,
      perSourceBurst: s.handshakeBurstPerIp,
      maxSources: 65536,
    },
    acceptsFirstContactFrom: (address, port) => {
      const p = ctx.peers.byEndpoint(address, port);
      return p !== undefined && p.key === null && p.compat === null;
    },
    isSolicited: (sid) => ctx.peers.pendingPeer(sid) !== undefined,
    isPeerEndpoint: (address, port) => ctx.peers.byEndpoint(address, port) !== undefined,
  });
}
