/**
 * The append-only journal of daemon-owned state that changes often (handshake high-water
 * marks, TOFU keys, stream epochs, delivered records), beside the hand-edited peer store,
 * which it never rewrites — so it never races a hand edit.
 *
 * - `append(rec)` applies the record to `state` at once and returns a promise resolved once
 *   the record is fsync'd. Group commit: appends of one turn share one write and one fsync,
 *   and appends made while an fsync is in flight share the next one, so 10,000 peers'
 *   updates cost a handful of fsyncs, not 10,000.
 * - Frames are length-prefixed and checksummed (journal-codec.ts): a torn tail left by a crash
 *   is detected, ignored and truncated away at open.
 * - Past a size bound the state is compacted into a snapshot (the atomic writer) and a new,
 *   empty journal of the next generation replaces the old one (atomically too). A crash
 *   between the two leaves a journal older than the snapshot, which open() recognises and
 *   discards: its records are all in the snapshot.
 * - `appendSync(rec)` writes the pending batch and `rec` and fsyncs before returning: for rare
 *   records something must not act on before they are durable (a TOFU key).
 * - A write or fsync error makes the journal failed: that append and every later one reject
 *   (the file's state is unknown after a failed fsync), and `onError` is told.
 */
import { UdpVaultError } from '../errors';
import { systemScheduler, type Scheduler, type Timer } from '../runtime/scheduler';
import { writeFileAtomic } from './atomic-file';
import { errnoOf, nodeFs, type FileSystem } from './fs';
import { decodeFrames, decodeHeader, encodeHeader, encodeRecord, HEADER_BYTES, type JournalRecord } from './journal-codec';
import { JournalState } from './journal-state';

export interface JournalOptions {
  /** The journal file (home/state.journal). */
  file: string;
  /** Its snapshot (home/state.snapshot). */
  snapshot: string;
  fs?: FileSystem;
  scheduler?: Scheduler;
  /** Compaction when the journal grows past max(compactMinBytes, 2 × the snapshot's size); default 1 MiB. */
  compactMinBytes?: number;
  /** Told when the journal fails (a write, fsync or compaction error). */
  onError?: (e: Error) => void;
}

/** What open() found: the generation, how many records it replayed, the torn tail it dropped. */
export interface JournalOpenReport {
  generation: number;
  records: number;
  tornBytes: number;
  /** True when a journal older than its snapshot (an interrupted compaction) was discarded. */
  staleJournal: boolean;
}

export interface JournalStats {
  appends: number;
  fsyncs: number;
  compactions: number;
  /** Current size of the journal file. */
  bytes: number;
}

interface Batch {
  frames: Buffer[];
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: Error) => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { frames: [], promise, resolve, reject };
}

function readOrNull(fs: FileSystem, file: string): Buffer | null {
  try {
    return fs.readFile(file);
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'ENOENT') return null;
    if (!code) throw e;
    throw new UdpVaultError('ERR_STORE_CORRUPT', `cannot read ${file} (${code}); it was left untouched`);
  }
}

function corrupt(file: string, why: string): UdpVaultError {
  return new UdpVaultError(
    'ERR_STORE_CORRUPT',
    `journal file ${file} is corrupt (${why}); it was left untouched. Move it away (mv ${file} ${file}.bad) to start without ` +
      'the handshake high-water marks, TOFU keys and stream epochs it holds (peers then need a new handshake), then restart',
  );
}

export class Journal {
  readonly state: JournalState;
  readonly opened: JournalOpenReport;
  readonly #file: string;
  readonly #snapshotFile: string;
  readonly #fs: FileSystem;
  readonly #scheduler: Scheduler;
  readonly #compactMin: number;
  readonly #onError: (e: Error) => void;
  #fd: number;
  #generation: number;
  #snapshotBytes: number;
  #bytes: number;
  #open: Batch | null = null;
  #scheduled: Timer | null = null;
  #flushing = false;
  #idle: (() => void)[] = [];
  #failed: Error | null = null;
  #closed = false;
  #stats = { appends: 0, fsyncs: 0, compactions: 0 };

  private constructor(opts: JournalOptions, st: { state: JournalState; report: JournalOpenReport; fd: number; bytes: number; snapshotBytes: number }) {
    this.#file = opts.file;
    this.#snapshotFile = opts.snapshot;
    this.#fs = opts.fs ?? nodeFs;
    this.#scheduler = opts.scheduler ?? systemScheduler;
    this.#compactMin = opts.compactMinBytes ?? 1 << 20;
    this.#onError = opts.onError ?? ((): void => undefined);
    this.state = st.state;
    this.opened = st.report;
    this.#fd = st.fd;
    this.#generation = st.report.generation;
    this.#bytes = st.bytes;
    this.#snapshotBytes = st.snapshotBytes;
  }

  /** Opens (creating when missing) and replays snapshot + journal. Corrupt files throw ERR_STORE_CORRUPT, untouched. */
  static open(opts: JournalOptions): Journal {
    const fs = opts.fs ?? nodeFs;
    let state = new JournalState();
    let generation = 0;
    const snap = readOrNull(fs, opts.snapshot);
    if (snap) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(snap.toString('utf8'));
      } catch {
        throw corrupt(opts.snapshot, 'the snapshot is not valid JSON');
      }
      const r = JournalState.fromSnapshot(parsed);
      if (typeof r === 'string') throw corrupt(opts.snapshot, `snapshot: ${r}`);
      ({ state, generation } = r);
    }
    const report: JournalOpenReport = { generation, records: 0, tornBytes: 0, staleJournal: false };
    const buf = readOrNull(fs, opts.file);
    let validEnd = HEADER_BYTES;
    if (buf === null) {
      if (generation > 0) throw corrupt(opts.file, `it is missing but the snapshot ${opts.snapshot} is of generation ${generation}`);
      writeFileAtomic(opts.file, encodeHeader(0), { fs });
    } else {
      const g = decodeHeader(buf);
      if (g === null) throw corrupt(opts.file, 'not a udpvault journal: bad header');
      if (g > generation) throw corrupt(opts.file, `generation ${g} is newer than the snapshot's (${generation}): the snapshot is missing or old`);
      if (g < generation) {
        report.staleJournal = true; // compaction was interrupted after the snapshot: its records are in it
        writeFileAtomic(opts.file, encodeHeader(generation), { fs });
      } else {
        const d = decodeFrames(buf);
        for (const r of d.records) state.apply(r);
        report.records = d.records.length;
        report.tornBytes = d.tornBytes;
        validEnd = d.validEnd;
      }
    }
    const fd = fs.open(opts.file, 'a');
    try {
      if (report.tornBytes > 0) {
        fs.truncate(fd, validEnd);
        fs.fsync(fd);
      }
    } catch (e) {
      fs.close(fd);
      throw e;
    }
    return new Journal(opts, { state, report, fd, bytes: validEnd, snapshotBytes: snap?.length ?? 0 });
  }

  get stats(): JournalStats {
    return { ...this.#stats, bytes: this.#bytes };
  }

  /** Applies `rec` to `state` now; resolves once it is on stable storage. Rejects for an invalid record or a failed/closed journal. */
  append(rec: JournalRecord): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#closed) return Promise.reject(new UdpVaultError('ERR_CLOSED', 'the journal is closed'));
    let frame: Buffer;
    try {
      frame = encodeRecord(rec);
      this.state.check(rec);
    } catch (e) {
      return Promise.reject(e);
    }
    this.state.apply(rec);
    this.#stats.appends++;
    const batch = (this.#open ??= newBatch());
    batch.frames.push(frame);
    if (!this.#flushing && !this.#scheduled) {
      this.#scheduled = this.#scheduler.immediate(() => {
        this.#scheduled = null;
        void this.#flush();
      });
    }
    return batch.promise;
  }

  /**
   * Appends `rec` and makes it durable before returning — with every append made before it
   * (written first, in order) — by a synchronous write and fsync. For rare records that must be
   * on disk before the caller acts on them (a TOFU key); throws when it cannot (invalid record,
   * failed or closed journal, a write or fsync error, which fails the journal).
   */
  appendSync(rec: JournalRecord): void {
    if (this.#failed) throw this.#failed;
    if (this.#closed) throw new UdpVaultError('ERR_CLOSED', 'the journal is closed');
    const frame = encodeRecord(rec);
    this.state.check(rec);
    const pending = this.#open;
    this.#open = null;
    const data = Buffer.concat([...(pending?.frames ?? []), frame]);
    try {
      this.#fs.write(this.#fd, data);
      this.#fs.fsync(this.#fd);
    } catch (e) {
      this.#fail(e, 'write');
      pending?.reject(this.#failed!);
      throw this.#failed!;
    }
    this.state.apply(rec);
    this.#stats.appends++;
    this.#stats.fsyncs++;
    this.#bytes += data.length;
    pending?.resolve();
    if (!this.#flushing && this.#bytes > Math.max(this.#compactMin, 2 * this.#snapshotBytes)) this.#compact();
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    while (this.#open && !this.#failed) {
      const batch = this.#open;
      this.#open = null;
      const data = Buffer.concat(batch.frames);
      try {
        this.#fs.write(this.#fd, data);
        await this.#fs.fsyncAsync(this.#fd);
      } catch (e) {
        this.#fail(e, 'write');
        batch.reject(this.#failed!);
        break;
      }
      this.#bytes += data.length;
      this.#stats.fsyncs++;
      batch.resolve();
      if (this.#bytes > Math.max(this.#compactMin, 2 * this.#snapshotBytes)) this.#compact();
    }
    if (this.#failed && this.#open) {
      this.#open.reject(this.#failed);
      this.#open = null;
    }
    this.#flushing = false;
    for (const f of this.#idle.splice(0)) f();
  }

  /** Snapshot of the whole state (generation + 1), then a new empty journal of that generation. */
  #compact(): void {
    const generation = this.#generation + 1;
    const snap = Buffer.from(JSON.stringify(this.state.toSnapshot(generation)));
    try {
      writeFileAtomic(this.#snapshotFile, snap, { fs: this.#fs });
      writeFileAtomic(this.#file, encodeHeader(generation), { fs: this.#fs });
      const fd = this.#fs.open(this.#file, 'a');
      const old = this.#fd;
      this.#fd = fd;
      this.#fs.close(old);
    } catch (e) {
      this.#fail(e, 'compaction');
      return;
    }
    this.#generation = generation;
    this.#snapshotBytes = snap.length;
    this.#bytes = HEADER_BYTES;
    this.#stats.compactions++;
  }

  #fail(e: unknown, what: string): void {
    const code = errnoOf(e) || (e as Error).message;
    this.#failed = new UdpVaultError('ERR_INTERNAL', `journal ${this.#file}: ${what} failed (${code}); later changes cannot be made durable until a restart`);
    this.#onError(this.#failed);
  }

  /** Makes every append made so far durable (or failed), then closes the file. Later appends reject. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#scheduled) {
      this.#scheduled.cancel();
      this.#scheduled = null;
    }
    if (this.#open && !this.#flushing) void this.#flush();
    if (this.#flushing) await new Promise<void>((r) => this.#idle.push(r));
    this.#fs.close(this.#fd);
  }
}
