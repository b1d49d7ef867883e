/** The node's status (SPEC §2: UdpVaultNode.status()). */
import { copyCounters } from '../peer/counters';
import type { NodeContext } from '../engine/context';
import type { NodeStatus } from './types';

export function nodeStatus(ctx: NodeContext, publicKey: string, port: number, startedAt: string): NodeStatus {
  const { transport, maxDatagram } = ctx;
  const ipv4 = transport.hasFamily(4) ? maxDatagram[4] : null;
  const ipv6 = transport.hasFamily(6) ? maxDatagram[6] : null;
  return {
    publicKey,
    port,
    host: transport.host,
    // The family the node serves (IPv6 on an IPv6-only node); both in maxDatagramBytesByFamily.
    maxDatagramBytes: ipv4 ?? ipv6 ?? maxDatagram[4],
    maxDatagramBytesByFamily: { ipv4, ipv6 },
    mtu: ctx.mtu,
    peers: ctx.peers.size,
    counters: copyCounters(ctx.counters),
    startedAt,
  };
}
