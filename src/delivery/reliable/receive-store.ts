/**
 * What the reliable receiver (delivery/reliable-receiver.ts) buffers out of order: whole items
 * and fragment assemblies in the ring, within maxBufferedBytes (the highest seqs evicted first),
 * with their flow-control credit and the receiver's counters. The receiver decides what is
 * accepted (duplicates, limits, refusals); this stores it.
 */
import { Assembly, ReceiveRing, messageFlags } from './receive-ring';
import { CreditLedger } from './receiver-credit';
import type { ReceiverCredit } from './receiver-types';

/** How a buffered item leaves the credit count: released to the application, or back to "never received". */
export type Leave = 'release' | 'unreceive';

/** The receiver's item counters (see ReliableReceiver's getters). */
export interface ReceiveCounts {
  duplicates: number;
  refused: number;
  rejected: number;
  malformed: number;
  skipped: number;
}

export class ReceiveStore {
  readonly ring = new ReceiveRing();
  readonly credit: CreditLedger;
  readonly counts: ReceiveCounts = { duplicates: 0, refused: 0, rejected: 0, malformed: 0, skipped: 0 };
  readonly #maxBytes: number;
  readonly #maxMessageBytes: number;

  constructor(credit: ReceiverCredit | null, maxBufferedBytes: number, maxMessageBytes: number) {
    this.credit = new CreditLedger(credit);
    this.#maxBytes = maxBufferedBytes;
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** Buffers a whole item above `cum`; `charged`: already counted against the credit. */
  putWhole(cum: number, seq: number, flags: number, data: Uint8Array, charged: boolean): boolean {
    const len = data.byteLength;
    if (this.ring.get(seq) !== undefined) return this.malformed(); // a slot of a fragmented message
    if (!charged && !this.credit.charge(len, 1)) return false;
    if (!this.#makeRoom(seq, len, len, 1)) return false;
    this.ring.putWhole(cum, seq, flags, data);
    return true;
  }

  /** Writes fragment `index` of the message `count` fragments long into its assembly. */
  addFragment(cum: number, seq: number, flags: number, data: Uint8Array, index: number, count: number): boolean {
    const ring = this.ring;
    const len = data.byteLength;
    const isLast = index === count - 1;
    if (!isLast && (count - 1) * len + 1 > this.#maxMessageBytes) {
      this.counts.refused++; // its fragments' length says the message exceeds maxMessageBytes
      return false;
    }
    let a = ring.get(seq);
    let created = false;
    if (a === undefined) {
      const first = seq - index;
      if (!ring.free(first, first + count - 1)) return this.malformed();
      a = new Assembly(first, count, messageFlags(flags));
      created = true;
    } else if (!(a instanceof Assembly) || a.firstSeq !== seq - index || a.count !== count) {
      return this.malformed();
    }
    if (!a.fits(index, len)) return this.malformed();
    const first = index === 0 ? 1 : 0;
    if (!this.credit.charge(len, first)) return false;
    if (!this.#makeRoom(a.lastSeq, a.cost(index, len, this.#maxMessageBytes), len, first)) return false;
    if (created) ring.addAssembly(cum, a);
    ring.bytes += a.write(index, data, this.#maxMessageBytes);
    ring.markFragment(seq);
    return true;
  }

  /** Counts a malformed item; false, for the caller to return. */
  malformed(): false {
    this.counts.malformed++;
    return false;
  }

  /** Removes whatever holds seq (a whole item or a message's fragments); returns the items removed. */
  remove(seq: number, leave: Leave): number {
    const slot = this.ring.get(seq);
    if (slot === undefined) return 0;
    const [bytes, messages] = slot instanceof Assembly ? [slot.received, slot.hasFirst ? 1 : 0] : [slot.data.byteLength, 1];
    const n = this.ring.remove(seq);
    if (n > 0) {
      if (leave === 'release') this.credit.release(bytes, messages);
      else this.credit.unreceive(bytes, messages);
    }
    return n;
  }

  /**
   * Evicts the highest buffered items (of messages after `keepThrough`) until `bytes` more fit;
   * false (refused; the item's `credit` bytes and messages unreceived) when they cannot.
   */
  #makeRoom(keepThrough: number, bytes: number, creditBytes: number, creditMessages: number): boolean {
    const ring = this.ring;
    while (ring.bytes + bytes > this.#maxBytes) {
      if (ring.highest <= keepThrough) {
        this.credit.unreceive(creditBytes, creditMessages);
        this.counts.refused++;
        return false;
      }
      this.remove(ring.highest, 'unreceive');
    }
    return true;
  }
}
