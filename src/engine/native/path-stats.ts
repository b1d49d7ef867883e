/** A link's per-peer transport figures (PeerInfo), read from its packet space and path MTU search. */
import type { PacketSpace } from '../../delivery/reliable/packet-space';
import type { FrameRef } from './frame-ref';

/** Per-peer transport figures (PeerInfo). */
export interface PathStats {
  congestionWindowBytes: number;
  bytesInFlight: number;
  srttMs: number | null;
  lostPackets: number;
  pathMtuBytes: number;
  pathMtuSearching: boolean;
  /** Times our reliable sending paused for the peer's credit (flow control). */
  flowBlocked: number;
}

/** The figures of a path with packet space `s` (null: none made yet) and the MTU search's state. */
export function pathStats(s: PacketSpace<FrameRef> | null, pathMtuBytes: number, pathMtuSearching: boolean): PathStats {
  if (!s) return { congestionWindowBytes: 0, bytesInFlight: 0, srttMs: null, lostPackets: 0, pathMtuBytes, pathMtuSearching, flowBlocked: 0 };
  return {
    congestionWindowBytes: s.windowBytes,
    bytesInFlight: s.bytesInFlight,
    srttMs: s.rtt.hasSample ? Math.round(s.rtt.smoothedMs * 1000) / 1000 : null,
    lostPackets: s.lostPackets,
    pathMtuBytes,
    pathMtuSearching,
    flowBlocked: s.sendCredit.blockedEpisodes,
  };
}
