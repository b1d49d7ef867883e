/**
 * A resting packet space as one array of numbers (pack19, issue 12: memory per idle peer). A
 * resting PacketSpace is five objects (the space, its idle record, RTT estimates, send and
 * receive credit: ~576 B and ~9 boxed numbers per idle peer); folded, it is one array of
 * unboxed doubles (48 B + 8 B per slot, 28 slots). Only the state of a link that never used
 * reliable mode, with default RTT settings, is kept (anything else: no record, the objects stay). PacketSpace.fold() writes it, `new PacketSpace(opts,
 * record)` makes the five objects again with every field as it was. Each class writes and reads
 * its own slots; this module holds the layout and the encodings.
 */

/** PacketSpace's own fields: the datagram size its options had, lost packets, times, the thinning round. */
export const SPACE_AT = 0;
export const SPACE_SLOTS = 8;
/** IdleSpace: its controller record's index, packet numbers, the pacer's bucket, the ack tracker's state (no ack owed). */
export const IDLE_AT = SPACE_AT + SPACE_SLOTS;
export const IDLE_SLOTS = 10;
/** RttStats: its four estimates (the settings are the default ones). */
export const RTT_AT = IDLE_AT + IDLE_SLOTS;
export const RTT_SLOTS = 4;
/** SendCredit: the limits (nothing sent on the stream: counts 0). */
export const SEND_AT = RTT_AT + RTT_SLOTS;
export const SEND_SLOTS = 2;
/** ReceiveCredit: the initial grant and the limits advertised (nothing received on the stream). */
export const RECV_AT = SEND_AT + SEND_SLOTS;
export const RECV_SLOTS = 4;
export const RECORD_SLOTS = RECV_AT + RECV_SLOTS;
/**
 * After the slots (fold21): a controller state of the space's own (IdleSpace's index slot −1: the
 * shared table was full) as OWN_CONTROLLER_SLOTS values (gain, datagram size, window, threshold,
 * W_max, avoidance bytes, recovery start, in recovery), then the ack ranges below the one range
 * (a gap kept at rest) to the end. With a shared controller record (index ≥ 0) the ranges follow
 * the slots directly.
 */
export const OWN_CONTROLLER_SLOTS = 8;

/**
 * A new record: an array literal of doubles, so its one backing store is made with unboxed
 * doubles of exactly RECORD_SLOTS elements (`new Array(n).fill(0)` makes small integers first,
 * then a second store at the first double).
 */
export function newRecord(): number[] {
  // prettier-ignore
  return [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]; // RECORD_SLOTS of them (test/delivery/reliable/packet-space-record.test.ts)
}

/** A new record with `n` slots after its RECORD_SLOTS (packed doubles: `new Array(n)` would make a holey store). */
export function newRecordWithTail(n: number): number[] {
  const tail: number[] = [];
  for (let k = 0; k < n; k++) tail.push(0);
  return newRecord().concat(tail);
}

/** A number read back from the record, as a small integer when it is one (stored in place, not boxed). */
export function small(x: number): number {
  return (x | 0) === x && !Object.is(x, -0) ? x | 0 : x;
}
