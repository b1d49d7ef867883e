/**
 * The reliable layer's records for exactly-once across restarts and re-adds (PROTOCOL.md §14;
 * reliable.ts explains the scheme): stream epochs toward each peer and the delivered floor of
 * each peer's sender, in the node's journal, or in memory without a home.
 */
import type { NodeContext } from '../context';
import type { Peer } from '../../peer/peer';
import { JournalState } from '../../store/journal-state';
import type { JournalRecord } from '../../store/journal-codec';

/** [epoch, cumulative seq]. */
export type Floor = [number, number];

export class StreamRecords {
  readonly #ctx: NodeContext;
  /** The next stream epoch (every sender takes a higher one than any before it). */
  #nextEpoch: number;
  /** Delivered floors and epochs when the node has no journal (kept for the node's lifetime). */
  readonly #memory = new JournalState();

  /** `stream`: this node instance's random id (the low bits of its first epoch). */
  constructor(ctx: NodeContext, stream: number) {
    this.#ctx = ctx;
    this.#nextEpoch = Math.floor(ctx.clock.now()) * 1024 + (stream % 1024);
  }

  get #records(): JournalState {
    return this.#ctx.journal?.state ?? this.#memory;
  }

  #append(r: JournalRecord): Promise<void> {
    if (this.#ctx.journal) return this.#ctx.journal.append(r);
    this.#memory.apply(r);
    return Promise.resolve();
  }

  /**
   * A new, higher epoch for a sender toward `peer` (recorded when the peer has a key), and the
   * floor the peer's sender was delivered through (its receiver resumes from it), if any.
   */
  open(peer: Peer): { epoch: number; floor: Floor | null } {
    const key = peer.keyString;
    const epoch = Math.max(this.#nextEpoch, key === null ? 0 : this.#records.epoch(key) + 1);
    this.#nextEpoch = epoch + 1;
    if (key === null) return { epoch, floor: null };
    this.#append({ type: 'epoch', key, epoch }).catch((e: unknown) => this.#ctx.log.error({ peer: peer.label(), err: e instanceof Error ? e.message : 'error' }, 'recording the stream epoch failed'));
    const d = this.#records.delivered(key);
    return { epoch, floor: d !== null && d.floor >= 0 ? [d.epoch, d.floor] : null };
  }

  /** Records the peer's delivered floor when it rose above `recorded` (one record per ack round); null: nothing to record. */
  recordDelivered(peer: Peer, recorded: Floor | null, epoch: number, cum: number): Promise<void> | null {
    const key = peer.keyString;
    if (key === null || cum < 0 || (recorded && recorded[0] === epoch && recorded[1] >= cum)) return null;
    const p = this.#append({ type: 'deliveredThrough', key, epoch, seq: cum });
    p.catch((e: unknown) => this.#ctx.log.error({ peer: peer.label(), err: e instanceof Error ? e.message : 'error' }, 'recording delivered messages failed'));
    return p;
  }
}
