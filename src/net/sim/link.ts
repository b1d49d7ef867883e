/**
 * One direction of a simulated link: a FIFO serialiser with a byte-limited queue (tail drop),
 * then propagation delay with seeded jitter, loss, duplication and reordering. It decides a
 * datagram's fate and arrival times; the network does the scheduling.
 */
import type { Random } from '../../runtime/random';
import { UNLIMITED_LINK, type LinkOptions } from './types';

export type LinkVerdict =
  | { fate: 'queueFull' | 'tooBig' | 'lost' }
  /**
   * Arrival times (monotonic ms): the original, then a duplicate if there is one; when the last
   * bit left; IP fragments the sender's kernel cut it into (0: sent whole).
   */
  | { fate: 'sent'; arrivals: number[]; serialisedAt: number; fragments: number };

/**
 * IP fragments of a datagram of `size` UDP payload bytes on a link of `mtu` (`header`: IP + UDP
 * bytes, 28 or 48; IPv6 fragments carry an 8-byte fragment header). Fragment data is a multiple of 8.
 */
export function fragmentCount(size: number, header: number, mtu: number): number {
  if (size + header <= mtu) return 1;
  const ip = header - 8;
  const perFragment = Math.floor((mtu - ip - (header === 48 ? 8 : 0)) / 8) * 8;
  return Math.ceil((size + 8) / perFragment);
}

function check(o: LinkOptions): void {
  const frac = (k: 'loss' | 'duplicate' | 'reorder'): void => {
    if (!(o[k] >= 0 && o[k] <= 1)) throw new RangeError(`link ${k} must be in [0, 1], got ${o[k]}`);
  };
  frac('loss');
  frac('duplicate');
  frac('reorder');
  for (const k of ['latencyMs', 'jitterMs', 'queueBytes'] as const) {
    if (!(o[k] >= 0)) throw new RangeError(`link ${k} must be >= 0, got ${o[k]}`);
  }
  if (!(o.bandwidthBps > 0)) throw new RangeError(`link bandwidthBps must be > 0, got ${o.bandwidthBps}`);
  if (!(o.mtu >= 68)) throw new RangeError(`link mtu must be >= 68, got ${o.mtu}`);
  if (o.reorderDelayMs !== undefined && !(o.reorderDelayMs >= 0)) {
    throw new RangeError(`link reorderDelayMs must be >= 0, got ${o.reorderDelayMs}`);
  }
}

/** Fills the unset fields from the unlimited link and validates the result. */
export function linkOptions(partial: Partial<LinkOptions>, base: Readonly<LinkOptions> = UNLIMITED_LINK): LinkOptions {
  const o: LinkOptions = { ...base, ...partial };
  check(o);
  return o;
}

export class LinkDirection {
  #options: LinkOptions;
  readonly #random: Random;
  /** When the serialiser finishes the last accepted datagram. */
  #busyUntil = 0;
  /** Accepted datagrams not yet fully serialised: [end time, bytes], in order. */
  #backlog: Array<[number, number]> = [];
  #backlogBytes = 0;
  /** fragmentAfterTooBig: when the sender's kernel learned the MTU (Infinity: not yet). */
  #mtuLearnedAt = Infinity;

  constructor(options: LinkOptions, random: Random) {
    this.#options = options;
    this.#random = random;
  }

  get options(): Readonly<LinkOptions> {
    return this.#options;
  }

  /** New parameters; datagrams already accepted keep their schedule. */
  set options(o: LinkOptions) {
    check(o);
    this.#options = o;
  }

  /** IP bytes (headers included, as a qdisc counts) waiting for or in serialisation at time now. */
  queuedBytes(now: number): number {
    while (this.#backlog.length > 0 && this.#backlog[0]![0] <= now) this.#backlogBytes -= this.#backlog.shift()![1];
    return this.#backlogBytes;
  }

  /**
   * Offers a datagram of `size` payload bytes with `header` bytes of IP + UDP at time `now`.
   * Random draws happen in a fixed order per accepted datagram (loss, jitter, reorder,
   * duplicate, duplicate jitter), so a seed reproduces a run.
   */
  offer(size: number, header: number, now: number): LinkVerdict {
    const o = this.#options;
    let fragments = 0;
    if (size + header > o.mtu) {
      if (!o.fragmentAfterTooBig || now < this.#mtuLearnedAt) {
        if (o.fragmentAfterTooBig && this.#mtuLearnedAt === Infinity) this.#mtuLearnedAt = now + o.latencyMs; // the ICMP's way back
        return { fate: 'tooBig' };
      }
      fragments = fragmentCount(size, header, o.mtu);
    }
    let sentAt = now;
    if (Number.isFinite(o.bandwidthBps)) {
      const wire = size + header + Math.max(0, fragments - 1) * (header - 8 + (header === 48 ? 8 : 0));
      if (this.queuedBytes(now) + wire > o.queueBytes) return { fate: 'queueFull' };
      const start = Math.max(now, this.#busyUntil);
      this.#busyUntil = start + (wire * 8 * 1000) / o.bandwidthBps;
      this.#backlog.push([this.#busyUntil, wire]);
      this.#backlogBytes += wire;
      sentAt = this.#busyUntil;
    }
    // Lost on the wire after serialisation: it used the bottleneck all the same.
    if (o.loss > 0 && this.#random.float() < o.loss) return { fate: 'lost' };
    const arrivals = [sentAt + this.#delay()];
    if (o.duplicate > 0 && this.#random.float() < o.duplicate) arrivals.push(sentAt + this.#delay());
    return { fate: 'sent', arrivals, serialisedAt: sentAt, fragments };
  }

  #delay(): number {
    const o = this.#options;
    let d = o.latencyMs;
    if (o.jitterMs > 0) d += this.#random.float() * o.jitterMs;
    if (o.reorder > 0 && this.#random.float() < o.reorder) d += o.reorderDelayMs ?? Math.max(5, o.latencyMs);
    return d;
  }
}
