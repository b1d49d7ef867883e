/**
 * What the journal records add up to, and its snapshot form. Applying is deterministic and
 * order-defined: handshake marks and epochs keep their maximum, a TOFU record replaces the
 * previous one for its ref, delivered records advance a per-sender window of the newest epoch
 * (older epochs are stale and forgotten). Replaying snapshot + journal gives the state the
 * process had after its last durable append.
 */
import type { JournalRecord } from './journal-codec';

/** Messages delivered from one sender's newest stream epoch: every seq ≤ floor, plus `above`. */
export interface DeliveredWindow {
  readonly epoch: number;
  /** Highest seq with every seq from 0 up to it delivered; -1 when none. */
  readonly floor: number;
  /** Delivered seqs above floor + 1 (out of order), ascending. */
  readonly above: readonly number[];
}

/** Out-of-order delivered seqs kept per sender; a record beyond it is refused (RangeError). */
export const MAX_ABOVE = 1024;

export const SNAPSHOT_VERSION = 1;

export interface SnapshotFile {
  version: number;
  generation: number;
  handshake: Record<string, number>;
  tofu: Record<string, string>;
  epochs: Record<string, number>;
  delivered: Record<string, DeliveredWindow>;
}

interface Window {
  epoch: number;
  floor: number;
  above: Set<number>;
}

export class JournalState {
  readonly #handshake = new Map<string, number>();
  readonly #tofu = new Map<string, string>();
  readonly #epochs = new Map<string, number>();
  readonly #delivered = new Map<string, Window>();

  /** The newest accepted handshake timestamp of `key`, or null. */
  handshake(key: string): number | null {
    return this.#handshake.get(key) ?? null;
  }
  tofuKey(ref: string): string | null {
    return this.#tofu.get(ref) ?? null;
  }
  /** This node's current stream epoch toward `key` (0 when none was recorded). */
  epoch(key: string): number {
    return this.#epochs.get(key) ?? 0;
  }
  delivered(key: string): DeliveredWindow | null {
    const w = this.#delivered.get(key);
    return w ? { epoch: w.epoch, floor: w.floor, above: [...w.above].sort((a, b) => a - b) } : null;
  }
  /** Whether message `seq` of `key`'s epoch `epoch` was delivered (an older epoch counts as delivered: it is over). */
  isDelivered(key: string, epoch: number, seq: number): boolean {
    const w = this.#delivered.get(key);
    if (!w || epoch > w.epoch) return false;
    return epoch < w.epoch || seq <= w.floor || w.above.has(seq);
  }
  /** Number of entries over all maps (for the compaction bound and tests). */
  get size(): number {
    return this.#handshake.size + this.#tofu.size + this.#epochs.size + this.#delivered.size;
  }

  /** Throws RangeError (before changing anything) for a delivered record beyond MAX_ABOVE. */
  check(r: JournalRecord): void {
    if (r.type !== 'delivered') return;
    const w = this.#delivered.get(r.key);
    if (!w || r.epoch !== w.epoch || r.seq <= w.floor + 1 || w.above.has(r.seq)) return;
    if (w.above.size >= MAX_ABOVE) {
      throw new RangeError(`journal: more than ${MAX_ABOVE} messages delivered out of order from one sender; deliver in order`);
    }
  }

  apply(r: JournalRecord): void {
    switch (r.type) {
      case 'handshake':
        if (r.ts > (this.#handshake.get(r.key) ?? -1)) this.#handshake.set(r.key, r.ts);
        return;
      case 'tofu':
        if (r.key === null) this.#tofu.delete(r.ref);
        else this.#tofu.set(r.ref, r.key);
        return;
      case 'epoch':
        if (r.epoch > (this.#epochs.get(r.key) ?? 0)) this.#epochs.set(r.key, r.epoch);
        return;
      case 'delivered':
        this.#applyDelivered(r.key, r.epoch, r.seq);
        return;
      case 'deliveredThrough':
        this.#applyThrough(r.key, r.epoch, r.seq);
        return;
    }
  }

  /** A cumulative floor: a newer epoch starts at it; the current one's floor only rises. */
  #applyThrough(key: string, epoch: number, seq: number): void {
    let w = this.#delivered.get(key);
    if (w && epoch < w.epoch) return; // an older epoch is over
    if (!w || epoch > w.epoch) {
      w = { epoch, floor: seq, above: new Set() };
      this.#delivered.set(key, w);
    } else if (seq > w.floor) w.floor = seq;
    for (const s of w.above) if (s <= w.floor) w.above.delete(s);
    while (w.above.delete(w.floor + 1)) w.floor++;
  }

  #applyDelivered(key: string, epoch: number, seq: number): void {
    let w = this.#delivered.get(key);
    if (w && epoch < w.epoch) return; // an older epoch is over
    if (!w || epoch > w.epoch) {
      w = { epoch, floor: -1, above: new Set() };
      this.#delivered.set(key, w);
    }
    if (seq <= w.floor) return;
    if (seq === w.floor + 1) {
      w.floor = seq;
      while (w.above.delete(w.floor + 1)) w.floor++;
    } else if (w.above.size < MAX_ABOVE) w.above.add(seq);
  }

  toSnapshot(generation: number): SnapshotFile {
    const delivered: Record<string, DeliveredWindow> = {};
    for (const k of this.#delivered.keys()) delivered[k] = this.delivered(k)!;
    return {
      version: SNAPSHOT_VERSION,
      generation,
      handshake: Object.fromEntries(this.#handshake),
      tofu: Object.fromEntries(this.#tofu),
      epochs: Object.fromEntries(this.#epochs),
      delivered,
    };
  }

  /** Builds the state of a snapshot; returns what is wrong (field names only) or null. */
  static fromSnapshot(s: unknown): { state: JournalState; generation: number } | string {
    if (typeof s !== 'object' || s === null) return 'not a JSON object';
    const o = s as Record<string, unknown>;
    if (o.version !== SNAPSHOT_VERSION) return `unsupported version, expected ${SNAPSHOT_VERSION}`;
    if (!isCount(o.generation)) return 'generation is not a non-negative integer';
    const st = new JournalState();
    const put = {
      handshake: (k: string, v: unknown): boolean => isCount(v) && Boolean(st.#handshake.set(k, v)),
      tofu: (k: string, v: unknown): boolean => typeof v === 'string' && Boolean(st.#tofu.set(k, v)),
      epochs: (k: string, v: unknown): boolean => isCount(v) && Boolean(st.#epochs.set(k, v)),
      delivered: (k: string, v: unknown): boolean =>
        isWindow(v) && Boolean(st.#delivered.set(k, { epoch: v.epoch, floor: v.floor, above: new Set(v.above) })),
    };
    for (const name of ['handshake', 'tofu', 'epochs', 'delivered'] as const) {
      const m = o[name];
      if (typeof m !== 'object' || m === null || Array.isArray(m)) return `${name} is not an object`;
      for (const [k, v] of Object.entries(m)) if (!put[name](k, v)) return `${name} has an invalid entry`;
    }
    return { state: st, generation: o.generation };
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function isWindow(v: unknown): v is DeliveredWindow {
  if (typeof v !== 'object' || v === null) return false;
  const w = v as Record<string, unknown>;
  return (
    isCount(w.epoch) &&
    typeof w.floor === 'number' &&
    Number.isSafeInteger(w.floor) &&
    w.floor >= -1 &&
    Array.isArray(w.above) &&
    w.above.length <= MAX_ABOVE &&
    w.above.every((x) => isCount(x) && x > (w.floor as number) + 1)
  );
}
