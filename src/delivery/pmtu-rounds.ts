/**
 * Which sizes one round of the path MTU search probes at once (src/delivery/pmtu.ts). Pure.
 *
 * - The first round of a search: the interface-derived maximum and the UDP payload sizes of
 *   common path MTUs below it (Ethernet 1500, the IPv6 minimum 1280, PPPoE 1492, WireGuard
 *   1420, jumbo 9000, 1400, VXLAN 1450, in that order of preference), at most ROUND_PROBES.
 *   On most paths one of them is the answer, found in one round trip.
 * - Later rounds spread ROUND_PROBES sizes over what is left between the confirmed size and
 *   the ceiling: the lowest one SEARCH_GRANULARITY above the confirmed size (if it fails, the
 *   search is done), the ceiling itself the highest, the others evenly between.
 */
export const ROUND_PROBES = 4;
export const SEARCH_GRANULARITY = 16;
/** Path MTUs worth probing first, most common first (IP packet bytes). */
export const COMMON_PATH_MTUS: readonly number[] = [1500, 1280, 1492, 1420, 9000, 1400, 1450];

/** Sizes of the first round: `max` and common sizes in (current, max), largest first. */
export function firstRoundSizes(current: number, max: number, ipUdpHeaderBytes: number): number[] {
  const out: number[] = [];
  for (const s of [max, ...COMMON_PATH_MTUS.map((m) => m - ipUdpHeaderBytes)]) {
    if (out.length >= ROUND_PROBES) break;
    if (s > current && s <= max && !out.includes(s)) out.push(s);
  }
  return out.sort((a, b) => b - a);
}

/** Sizes spread over (current, ceiling], largest first; empty when less than SEARCH_GRANULARITY is left. */
export function spreadSizes(current: number, ceiling: number): number[] {
  const gap = ceiling - current;
  if (gap < SEARCH_GRANULARITY) return [];
  const lo = current + SEARCH_GRANULARITY;
  const n = Math.min(ROUND_PROBES, Math.floor(gap / SEARCH_GRANULARITY));
  if (n === 1) return [lo];
  const out: number[] = [];
  for (let i = n - 1; i >= 0; i--) out.push(lo + Math.round((i * (ceiling - lo)) / (n - 1)));
  return out;
}
