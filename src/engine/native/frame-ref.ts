/**
 * What a sent datagram carried, for settling or requeueing when it is acknowledged or lost: a
 * reliable item is its seq (a number: no object per item, issue 12), the rest are records.
 */
export type FrameRef =
  | number
  | { kind: 'deliveryAck' }
  | { kind: 'limits' }
  | { kind: 'packetAck'; largest: number };

/** The references of a delivery ack and of a `limits` announcement (shared: they carry nothing). */
export const DELIVERY_ACK_REF: FrameRef = Object.freeze({ kind: 'deliveryAck' });
export const LIMITS_REF: FrameRef = Object.freeze({ kind: 'limits' });
