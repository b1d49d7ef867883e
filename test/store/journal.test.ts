import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FakeFs, SimulatedCrash } from '../../src/store/fake-fs';
import { Journal, type JournalOptions } from '../../src/store/journal';
import { encodeHeader, encodeRecord, type JournalRecord } from '../../src/store/journal-codec';
import { ManualScheduler } from '../../src/runtime/scheduler';
import { UdpVaultError } from '../../src/errors';

const FILE = '/h/state.journal';
const SNAP = '/h/state.snapshot';
const key = (i: number): string => `K${String(i).padStart(42, '0')}`;

let sched: ManualScheduler;
beforeEach(() => {
  sched = new ManualScheduler();
});

function home(): FakeFs {
  const f = new FakeFs();
  f.mkdir('/h', 0o700);
  return f;
}

function open(f: FakeFs, over: Partial<JournalOptions> = {}): Journal {
  return Journal.open({ file: FILE, snapshot: SNAP, fs: f, scheduler: sched, ...over });
}

const fsyncs = (f: FakeFs): number => f.ops.filter((o) => o.op === 'fsync' && o.path === FILE).length;
const writes = (f: FakeFs): number => f.ops.filter((o) => o.op === 'write' && o.path === FILE).length;

/** Tracks whether a promise settled, without awaiting it. */
function track(p: Promise<void>): { done: () => boolean; error: () => unknown } {
  let done = false;
  let error: unknown;
  p.then(
    () => (done = true),
    (e: unknown) => {
      done = true;
      error = e;
    },
  );
  return { done: () => done, error: () => error };
}

describe('Journal', () => {
  test('a new journal is created atomically with its header; append resolves once the record is fsync’d', async () => {
    const f = home();
    const j = open(f);
    expect(f.crash().peek(FILE)).toEqual(encodeHeader(0));
    f.ops.length = 0;
    const p = track(j.append({ type: 'handshake', key: key(1), ts: 1000 }));
    expect(j.state.handshake(key(1))).toBe(1000); // in memory at once
    expect(f.ops).toEqual([]); // nothing written in the same turn
    await sched.drain();
    expect(p.done()).toBe(true);
    expect(f.ops).toEqual([
      { op: 'write', path: FILE, bytes: encodeRecord({ type: 'handshake', key: key(1), ts: 1000 }).length },
      { op: 'fsync', path: FILE, async: true },
    ]);
    expect(open(f.crash()).state.handshake(key(1))).toBe(1000);
  });

  test('10,000 peers’ high-water updates in one turn cost one write and one fsync', async () => {
    const f = home();
    const j = open(f);
    const acks = [];
    for (let i = 0; i < 10_000; i++) acks.push(j.append({ type: 'handshake', key: key(i), ts: 1_800_000_000_000 + i }));
    await sched.drain();
    await Promise.all(acks);
    expect(writes(f)).toBe(1);
    expect(fsyncs(f)).toBe(1);
    expect(j.stats).toMatchObject({ appends: 10_000, fsyncs: 1, compactions: 0 });
    const back = open(f.crash());
    expect(back.opened).toEqual({ generation: 0, records: 10_000, tornBytes: 0, staleJournal: false });
    for (let i = 0; i < 10_000; i += 997) expect(back.state.handshake(key(i))).toBe(1_800_000_000_000 + i);
  });

  test('appends made while an fsync is in flight share the next one (group commit)', async () => {
    const f = home();
    f.holdFsyncs = true;
    const j = open(f);
    const a = track(j.append({ type: 'epoch', key: key(1), epoch: 1 }));
    await sched.drain();
    expect(fsyncs(f)).toBe(1); // in flight
    const rest = Array.from({ length: 500 }, (_, i) => track(j.append({ type: 'epoch', key: key(2 + i), epoch: 1 })));
    await sched.drain();
    expect(fsyncs(f)).toBe(1); // the 500 wait for the one in flight
    expect(a.done()).toBe(false);
    expect(f.releaseFsyncs()).toBe(1);
    await sched.drain();
    expect(a.done()).toBe(true);
    expect(rest.some((r) => r.done())).toBe(false);
    expect(fsyncs(f)).toBe(2);
    expect(writes(f)).toBe(2);
    f.releaseFsyncs();
    await sched.drain();
    expect(rest.every((r) => r.done() && r.error() === undefined)).toBe(true);
  });

  test('a crash between append and fsync: the unacknowledged record may be lost, an acknowledged one never is', async () => {
    const f = home();
    const j = open(f);
    await sched.drain();
    const acked = j.append({ type: 'handshake', key: key(1), ts: 5 });
    await sched.drain();
    await acked;
    f.holdFsyncs = true;
    const pending = track(j.append({ type: 'handshake', key: key(1), ts: 9 }));
    await sched.drain();
    expect(f.ops.at(-1)).toEqual({ op: 'fsync', path: FILE, async: true });
    expect(pending.done()).toBe(false); // never acknowledged
    expect(open(f.crash()).state.handshake(key(1))).toBe(5); // power loss: the write never reached the disk
    expect(open(f.crash({ data: 'keep' })).state.handshake(key(1))).toBe(9); // kill -9: the page cache kept it
  });

  test('a torn tail is detected, ignored, reported and truncated; appends continue after the valid end', async () => {
    const f = home();
    const j = open(f);
    await Promise.all([j.append({ type: 'tofu', ref: 'alice', key: key(1) }), sched.drain()]);
    const validLength = f.peek(FILE)!.length;
    f.holdFsyncs = true;
    void j.append({ type: 'tofu', ref: 'alice', key: key(2) });
    void j.append({ type: 'tofu', ref: 'bob', key: key(3) });
    await sched.drain();
    const torn = f.crash({ data: 'torn' });
    const tornLength = torn.peek(FILE)!.length;
    expect(tornLength).toBeGreaterThan(validLength);
    const back = open(torn);
    expect(back.opened.records).toBe(1);
    expect(back.opened.tornBytes).toBe(tornLength - validLength);
    expect(back.state.tofuKey('alice')).toBe(key(1));
    expect(back.state.tofuKey('bob')).toBeNull();
    expect(torn.peek(FILE)!.length).toBe(validLength); // truncated…
    expect(torn.crash().peek(FILE)!.length).toBe(validLength); // …durably
    await Promise.all([back.append({ type: 'tofu', ref: 'bob', key: key(4) }), sched.drain()]);
    const again = open(torn.crash());
    expect(again.opened).toMatchObject({ records: 2, tornBytes: 0 });
    expect(again.state.tofuKey('bob')).toBe(key(4));
  });

  test('every truncation of the last frame is a torn tail, and a flipped bit in it too', () => {
    const frames = [encodeRecord({ type: 'epoch', key: key(1), epoch: 1 }), encodeRecord({ type: 'epoch', key: key(1), epoch: 2 })];
    const full = Buffer.concat([encodeHeader(0), ...frames]);
    const cut = encodeHeader(0).length + frames[0]!.length;
    for (let len = cut; len < full.length; len++) {
      const f = home();
      f.put(FILE, full.subarray(0, len));
      const j = open(f);
      expect(j.state.epoch(key(1))).toBe(1);
      expect(j.opened.tornBytes).toBe(len - cut);
    }
    for (let i = cut; i < full.length; i++) {
      const bad = Buffer.from(full);
      bad[i] ^= 0x01;
      const f = home();
      f.put(FILE, bad);
      expect(open(f).state.epoch(key(1))).toBe(1);
    }
  });

  test('compaction keeps the newest values, and the journal stays bounded', async () => {
    const f = home();
    const j = open(f, { compactMinBytes: 2000 });
    for (let round = 1; round <= 40; round++) {
      const acks = [];
      for (let i = 0; i < 10; i++) {
        acks.push(j.append({ type: 'handshake', key: key(i), ts: round * 100 + i }));
        acks.push(j.append({ type: 'tofu', ref: `peer${i}`, key: key(round) }));
      }
      acks.push(j.append({ type: 'delivered', key: key(0), epoch: 1, seq: round - 1 }));
      await sched.drain();
      await Promise.all(acks);
    }
    expect(j.stats.compactions).toBeGreaterThan(3);
    expect(j.stats.bytes).toBeLessThan(2000 + 5000);
    const back = open(f.crash());
    expect(back.opened.generation).toBe(j.stats.compactions);
    for (let i = 0; i < 10; i++) {
      expect(back.state.handshake(key(i))).toBe(4000 + i);
      expect(back.state.tofuKey(`peer${i}`)).toBe(key(40));
    }
    expect(back.state.delivered(key(0))).toEqual({ epoch: 1, floor: 39, above: [] });
    expect(f.readdir('/h')).toEqual(['state.journal', 'state.snapshot']);
  });

  test('a crash at any step of a compaction loses nothing that was acknowledged', async () => {
    for (let step = 0; ; step++) {
      const f = home();
      const setup = Array.from({ length: 3 }, (_, i): JournalRecord[] => [
        { type: 'handshake', key: key(1), ts: i + 1 },
        { type: 'tofu', ref: 'a', key: key(i + 1) },
      ]).flat();
      const setupBytes = 8 + setup.reduce((n, r) => n + encodeRecord(r).length, 0);
      const j = open(f, { compactMinBytes: setupBytes });
      const last = 3;
      for (const r of setup) await Promise.all([j.append(r), sched.drain()]);
      expect(j.stats.compactions).toBe(0);
      f.killAt(step + 2); // after the batch's write and fsync: inside the compaction
      const big = Array.from({ length: 5 }, (_, i) => j.append({ type: 'handshake', key: key(10 + i), ts: 77 }));
      await sched.drain();
      await Promise.all(big); // acknowledged before the compaction that follows
      const crashed = j.stats.compactions === 0;
      for (const mode of ['lose', 'keep'] as const) {
        const after = f.crash({ data: mode, entries: mode });
        const back = open(after);
        expect(back.state.handshake(key(1))).toBe(last);
        expect(back.state.tofuKey('a')).toBe(key(last));
        for (let i = 0; i < 5; i++) expect(back.state.handshake(key(10 + i))).toBe(77);
      }
      if (!crashed) {
        expect(step).toBeGreaterThanOrEqual(12); // snapshot (6 calls) + new journal (6) + reopen were all crashed into
        break; // the compaction completed before the kill point: every step was covered
      }
      expect(step).toBeLessThan(30);
    }
  });

  test('replay order: snapshot, then the journal in order; marks and epochs only increase; delivered windows', async () => {
    const f = home();
    const recs: JournalRecord[] = [
      { type: 'tofu', ref: 'a', key: key(1) },
      { type: 'handshake', key: key(1), ts: 50 },
      { type: 'epoch', key: key(1), epoch: 3 },
      { type: 'delivered', key: key(1), epoch: 2, seq: 0 },
      { type: 'delivered', key: key(1), epoch: 2, seq: 2 },
    ];
    const j = open(f, { compactMinBytes: 1 }); // compacts whenever the journal outgrows 2 × the snapshot
    for (const r of recs) await Promise.all([j.append(r), sched.drain()]);
    await j.close();
    const f2 = f.crash();
    const j2 = open(f2);
    expect(j2.opened.generation).toBeGreaterThan(0);
    const later: JournalRecord[] = [
      { type: 'tofu', ref: 'a', key: key(2) },
      { type: 'tofu', ref: 'a', key: null },
      { type: 'tofu', ref: 'a', key: key(3) },
      { type: 'handshake', key: key(1), ts: 40 },
      { type: 'epoch', key: key(1), epoch: 2 },
      { type: 'delivered', key: key(1), epoch: 2, seq: 1 },
      { type: 'delivered', key: key(1), epoch: 1, seq: 9 },
    ];
    await Promise.all([...later.map((r) => j2.append(r)), sched.drain()]);
    await j2.close();
    const back = open(f2.crash());
    expect(back.opened.generation).toBe(j2.opened.generation); // the snapshot first, then these records
    expect(back.opened.records).toBe(j2.opened.records + later.length);
    expect(back.state.tofuKey('a')).toBe(key(3));
    expect(back.state.handshake(key(1))).toBe(50);
    expect(back.state.epoch(key(1))).toBe(3);
    expect(back.state.delivered(key(1))).toEqual({ epoch: 2, floor: 2, above: [] });
    expect(back.state.isDelivered(key(1), 2, 2)).toBe(true);
    expect(back.state.isDelivered(key(1), 2, 3)).toBe(false);
    expect(back.state.isDelivered(key(1), 1, 500)).toBe(true); // an older epoch is over
    await Promise.all([back.append({ type: 'delivered', key: key(1), epoch: 3, seq: 1 }), sched.drain()]);
    expect(back.state.delivered(key(1))).toEqual({ epoch: 3, floor: -1, above: [1] });
    expect(back.state.isDelivered(key(1), 3, 0)).toBe(false);
  });

  test('deliveredThrough: a cumulative floor that starts a newer epoch, only rises, absorbs out-of-order seqs, and survives replay', async () => {
    const f = home();
    const j = open(f);
    const k = key(7);
    const step = async (r: JournalRecord): Promise<void> => {
      await Promise.all([j.append(r), sched.drain()]);
    };
    await step({ type: 'deliveredThrough', key: k, epoch: 5, seq: 40 });
    expect(j.state.delivered(k)).toEqual({ epoch: 5, floor: 40, above: [] });
    await step({ type: 'delivered', key: k, epoch: 5, seq: 43 });
    await step({ type: 'delivered', key: k, epoch: 5, seq: 45 });
    await step({ type: 'deliveredThrough', key: k, epoch: 5, seq: 42 }); // absorbs 43; 45 stays above
    expect(j.state.delivered(k)).toEqual({ epoch: 5, floor: 43, above: [45] });
    await step({ type: 'deliveredThrough', key: k, epoch: 5, seq: 10 }); // never lowers
    await step({ type: 'deliveredThrough', key: k, epoch: 4, seq: 99 }); // an older epoch is over
    expect(j.state.delivered(k)).toEqual({ epoch: 5, floor: 43, above: [45] });
    await step({ type: 'deliveredThrough', key: k, epoch: 6, seq: 0 }); // a newer epoch starts at its floor
    await j.close();
    const back = open(f.crash());
    expect(back.state.delivered(k)).toEqual({ epoch: 6, floor: 0, above: [] });
    expect(back.state.isDelivered(k, 5, 1_000_000)).toBe(true);
    expect(back.state.isDelivered(k, 6, 1)).toBe(false);
    await back.close();
  });

  test('an invalid record is refused and nothing is written', async () => {
    const f = home();
    const j = open(f);
    f.ops.length = 0;
    await expect(j.append({ type: 'handshake', key: key(1), ts: -1 })).rejects.toThrow('invalid journal record: handshake needs key and a non-negative integer ts');
    await expect(j.append({ type: 'nope' } as unknown as JournalRecord)).rejects.toThrow(/unknown type/);
    await sched.drain();
    expect(f.ops).toEqual([]);
    expect(j.state.handshake(key(1))).toBeNull();
  });

  test('a failed write or fsync fails that append and every later one, and is reported', async () => {
    const f = home();
    const errors: Error[] = [];
    const j = open(f, { onError: (e) => errors.push(e) });
    f.failNext('fsync', 'EIO');
    const msg = `journal ${FILE}: write failed (EIO); later changes cannot be made durable until a restart`;
    const a = expect(j.append({ type: 'epoch', key: key(1), epoch: 1 })).rejects.toMatchObject({ code: 'ERR_INTERNAL', message: msg });
    await sched.drain();
    await a;
    await expect(j.append({ type: 'epoch', key: key(1), epoch: 2 })).rejects.toThrow(msg);
    expect(errors.map((e) => e.message)).toEqual([msg]);
  });

  test('close makes pending appends durable; later appends are refused', async () => {
    const f = home();
    const j = open(f);
    const p = j.append({ type: 'epoch', key: key(1), epoch: 4 });
    await j.close();
    await p;
    expect(f.ops.filter((o) => o.op === 'close' && o.path === FILE)).toHaveLength(1);
    await expect(j.append({ type: 'epoch', key: key(1), epoch: 5 })).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(open(f.crash()).state.epoch(key(1))).toBe(4);
    expect(sched.pendingTimers).toBe(0);
  });

  test('a journal older than its snapshot (compaction interrupted) is discarded; corrupt files are reported, untouched', () => {
    const snap = JSON.stringify({ version: 1, generation: 2, handshake: { [key(1)]: 9 }, tofu: {}, epochs: {}, delivered: {} });
    const f = home();
    f.put(SNAP, snap);
    f.put(FILE, Buffer.concat([encodeHeader(1), encodeRecord({ type: 'handshake', key: key(1), ts: 3 })]));
    const j = open(f);
    expect(j.opened).toEqual({ generation: 2, records: 0, tornBytes: 0, staleJournal: true });
    expect(j.state.handshake(key(1))).toBe(9);
    expect(f.crash().peek(FILE)).toEqual(encodeHeader(2));

    const cases: [string, (g: FakeFs) => void, RegExp][] = [
      ['bad header', (g) => g.put(FILE, 'hello world'), /journal file \/h\/state\.journal is corrupt \(not a udpvault journal: bad header\); it was left untouched/],
      ['newer journal', (g) => g.put(FILE, encodeHeader(3)), /generation 3 is newer than the snapshot's \(0\)/],
      ['missing journal', (g) => g.put(SNAP, snap), /it is missing but the snapshot \/h\/state\.snapshot is of generation 2/],
      ['torn snapshot', (g) => g.put(SNAP, snap.slice(0, 20)), /state\.snapshot is corrupt \(the snapshot is not valid JSON\)/],
      ['bad snapshot', (g) => g.put(SNAP, JSON.stringify({ version: 1, generation: 0, handshake: { a: -1 }, tofu: {}, epochs: {}, delivered: {} })), /snapshot: handshake has an invalid entry/],
    ];
    for (const [, make, why] of cases) {
      const g = home();
      make(g);
      const before = g.readdir('/h').map((n) => [n, g.peek(`/h/${n}`)]);
      let err: unknown;
      try {
        open(g);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UdpVaultError);
      expect((err as UdpVaultError).code).toBe('ERR_STORE_CORRUPT');
      expect((err as Error).message).toMatch(why);
      expect(g.readdir('/h').map((n) => [n, g.peek(`/h/${n}`)])).toEqual(before);
    }
  });

  test('SimulatedCrash inside open leaves files a later open accepts', () => {
    for (let step = 0; step < 6; step++) {
      const f = home();
      f.killAt(step);
      try {
        open(f);
      } catch (e) {
        expect(e).toBeInstanceOf(SimulatedCrash);
      }
      const after = f.crash({ entries: 'keep', data: 'keep' });
      expect(open(after).opened.generation).toBe(0);
    }
  });

  test('real filesystem, real scheduler: append, close, reopen', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-journal-'));
    try {
      const opts = { file: path.join(dir, 'state.journal'), snapshot: path.join(dir, 'state.snapshot') };
      const j = Journal.open(opts);
      await Promise.all([j.append({ type: 'handshake', key: key(1), ts: 1 }), j.append({ type: 'epoch', key: key(1), epoch: 2 })]);
      await j.close();
      const back = Journal.open(opts);
      expect(back.state.handshake(key(1))).toBe(1);
      expect(back.state.epoch(key(1))).toBe(2);
      await back.close();
      expect(fs.readdirSync(dir)).toEqual(['state.journal']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
