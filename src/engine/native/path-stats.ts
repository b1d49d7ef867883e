/** A link's per-peer transport figures (PeerInfo), read from its packet space and path MTU search. */
import { PacketSpace } from '../../delivery/reliable/packet-space';
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

/** The figures of a path with packet space `s` (null: none made yet; an array: folded, PacketSpace.fold) and the MTU search's state. */
export function pathStats(s: PacketSpace<FrameRef> | readonly number[] | null, pathMtuBytes: number, pathMtuSearching: boolean): PathStats {
  if (s !== null && !(s instanceof PacketSpace)) {
    // a folded space's figures, read without making it again (nothing is in flight)
    const f = PacketSpace.recordFigures(s);
    return { congestionWindowBytes: f.windowBytes, bytesInFlight: 0, srttMs: f.srttMs === null ? null : Math.round(f.srttMs * 1000) / 1000, lostPackets: f.lostPackets, pathMtuBytes, pathMtuSearching, flowBlocked: f.flowBlocked };
  }
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
