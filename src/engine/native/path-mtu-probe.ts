/** A link's path MTU search (RFC 8899) as its packet path makes it, and the RTT its probes are judged by. */
import { IPV4_HEADER_BYTES, IPV6_HEADER_BYTES, UDP_HEADER_BYTES } from '../../constants';
import { PmtuSearch, PMTU_BASE_IPV4, PMTU_BASE_IPV6 } from '../../delivery/pmtu';
import { MAX_ACK_DELAY_MS } from '../../delivery/reliable/rtt';
import type { PacketSpace } from '../../delivery/reliable/packet-space';
import type { FrameRef } from './frame-ref';
import type { NativeLink } from './link';

/** The search for the peer's current address, from its family's base size. */
export function newPmtuSearch(link: NativeLink): PmtuSearch {
  const { ctx, peer } = link;
  const family = peer.endpoint.family;
  return new PmtuSearch({
    baseBytes: family === 6 ? PMTU_BASE_IPV6 : PMTU_BASE_IPV4,
    maxBytes: ctx.maxDatagram[family],
    ipUdpHeaderBytes: (family === 6 ? IPV6_HEADER_BYTES : IPV4_HEADER_BYTES) + UDP_HEADER_BYTES,
  });
}

/** RTT for judging probes: from packet acks, else the handshake's (`handshakeRttMs`), else the initial estimate. */
export function probeRttMs(s: PacketSpace<FrameRef>, handshakeRttMs: number | null): number {
  if (s.rtt.hasSample) return Math.max(s.rtt.smoothedMs, s.rtt.latestMs);
  return handshakeRttMs ?? s.rtt.smoothedMs;
}

/** How long a probe may go unanswered: the PTO, or from the handshake's RTT before any sample (3 × RTT + max ack delay). */
export function probeTimeoutMs(s: PacketSpace<FrameRef>, handshakeRttMs: number | null): number {
  const hs = handshakeRttMs;
  return s.rtt.hasSample || hs === null ? s.rtt.ptoMs() : 3 * Math.max(hs, 1) + MAX_ACK_DELAY_MS;
}
