/** Journal.appendSync: durable before it returns, in order after the appends made before it. */
import { FakeFs } from '../../src/store/fake-fs';
import { Journal } from '../../src/store/journal';
import { ManualScheduler } from '../../src/runtime/scheduler';

const FILE = '/h/state.journal';
const SNAP = '/h/state.snapshot';
const KEY = `K${'0'.repeat(42)}`;

function setup(): { f: FakeFs; j: Journal; sched: ManualScheduler } {
  const f = new FakeFs();
  f.mkdir('/h', 0o700);
  const sched = new ManualScheduler();
  return { f, j: Journal.open({ file: FILE, snapshot: SNAP, fs: f, scheduler: sched }), sched };
}

const reopen = (f: FakeFs): Journal => Journal.open({ file: FILE, snapshot: SNAP, fs: f, scheduler: new ManualScheduler() });

describe('Journal.appendSync', () => {
  test('the record survives a power loss the moment it returns; pending grouped appends go first and settle with it', async () => {
    const { f, j } = setup();
    const grouped = j.append({ type: 'tofu', ref: 'b', key: null });
    j.append({ type: 'epoch', key: KEY, epoch: 5 }).catch(() => undefined);
    j.appendSync({ type: 'tofu', ref: 'b', key: KEY });
    const after = reopen(f.crash());
    expect([after.state.tofuKey('b'), after.state.epoch(KEY), after.opened.records]).toEqual([KEY, 5, 3]);
    await expect(grouped).resolves.toBeUndefined();
    expect(j.stats).toMatchObject({ appends: 3, fsyncs: 1 });
    expect(f.ops.filter((o) => o.op === 'fsync' && o.path === FILE)).toEqual([{ op: 'fsync', path: FILE, async: false }]);
    await j.close();
  });

  test('a failed fsync throws, fails the journal and rejects the pending appends', async () => {
    const { f, j } = setup();
    const pending = j.append({ type: 'epoch', key: KEY, epoch: 1 });
    f.failNext('fsync', 'EIO');
    expect(() => j.appendSync({ type: 'tofu', ref: 'b', key: KEY })).toThrow(/journal \/h\/state\.journal: write failed \(EIO\)/);
    await expect(pending).rejects.toThrow(/EIO/);
    expect(() => j.appendSync({ type: 'tofu', ref: 'c', key: KEY })).toThrow(/EIO/);
    expect(j.state.tofuKey('b')).toBeNull(); // not applied: it is not durable
    await j.close();
  });
});
