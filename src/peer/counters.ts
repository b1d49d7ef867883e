/** Packet/byte/message counters and drops by reason, per peer and global. */
import type { DropReason } from '../errors';
import type { Counters } from '../api/types';

/** No drops yet: shared by every new set of counters until its first drop (issue 12: an idle peer usually has none). */
const NO_DROPS: Counters['drops'] = Object.freeze({});

export function newCounters(): Counters {
  return { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0, clockSkew: 0, drops: NO_DROPS };
}

export function countDrop(c: Counters, reason: DropReason, n = 1): void {
  if (c.drops === NO_DROPS) c.drops = {};
  c.drops[reason] = (c.drops[reason] ?? 0) + n;
}

export function copyCounters(c: Counters): Counters {
  return { ...c, drops: { ...c.drops } };
}
