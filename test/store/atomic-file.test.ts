import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { cleanupTemps, writeFileAtomic } from '../../src/store/atomic-file';
import { FakeFs, SimulatedCrash } from '../../src/store/fake-fs';

const TMP_RE = /^\/d\/\.f\.json\.\d+\.[0-9a-f]{12}\.uvtmp$/;

function setup(): FakeFs {
  const f = new FakeFs();
  f.mkdir('/d', 0o700);
  f.put('/d/f.json', 'old');
  f.ops.length = 0;
  return f;
}

describe('writeFileAtomic', () => {
  test('order: temp created exclusively, written, fsync’d, closed, renamed over the target, directory fsync’d', () => {
    const f = setup();
    writeFileAtomic('/d/f.json', Buffer.from('new content'), { fs: f, mode: 0o600 });
    const tmp = (f.ops[0] as { path: string }).path;
    expect(tmp).toMatch(TMP_RE);
    expect(f.ops).toEqual([
      { op: 'open', path: tmp, flags: 'wx' },
      { op: 'write', path: tmp, bytes: 11 },
      { op: 'fsync', path: tmp, async: false },
      { op: 'close', path: tmp },
      { op: 'rename', from: tmp, to: '/d/f.json' },
      { op: 'fsyncDir', path: '/d' },
    ]);
    expect(f.readdir('/d')).toEqual(['f.json']);
  });

  test('durable when it returns: power loss right after keeps the new content', () => {
    const f = setup();
    writeFileAtomic('/d/f.json', Buffer.from('new'), { fs: f });
    const after = f.crash();
    expect(after.peek('/d/f.json')?.toString()).toBe('new');
    expect(after.readdir('/d')).toEqual(['f.json']);
  });

  test('the crash model would catch a missing fsync: a rename without its directory fsync is lost', () => {
    const f = setup();
    const fd = f.open('/d/.f.json.1.aaaaaaaaaaaa.uvtmp', 'wx');
    f.write(fd, Buffer.from('new'));
    f.fsync(fd);
    f.close(fd);
    f.rename('/d/.f.json.1.aaaaaaaaaaaa.uvtmp', '/d/f.json');
    expect(f.crash().peek('/d/f.json')?.toString()).toBe('old');
  });

  test.each([0, 1, 2, 3, 4, 5])('a crash at step %i leaves the old or the new file, whole; cleanupTemps removes the leftover', (step) => {
    for (const data of ['lose', 'keep', 'torn'] as const) {
      for (const entries of ['lose', 'keep'] as const) {
        const f = setup();
        f.killAt(step);
        expect(() => writeFileAtomic('/d/f.json', Buffer.from('new content'), { fs: f })).toThrow(SimulatedCrash);
        const after = f.crash({ data, entries });
        expect(['old', 'new content']).toContain(after.peek('/d/f.json')?.toString());
        cleanupTemps('/d', { fs: after, isAlive: () => false });
        expect(after.readdir('/d')).toEqual(['f.json']);
      }
    }
  });

  test.each(['open', 'write', 'fsync', 'close', 'rename'] as const)('an error at %s is thrown, the target is unchanged and no temp file is left', (op) => {
    const f = setup();
    f.failNext(op, 'ENOSPC');
    expect(() => writeFileAtomic('/d/f.json', Buffer.from('new'), { fs: f })).toThrow(/ENOSPC/);
    expect(f.peek('/d/f.json')?.toString()).toBe('old');
    expect(f.readdir('/d')).toEqual(['f.json']);
  });

  test('real filesystem: mode 0600, content replaced, no temp left', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-atomic-'));
    try {
      const file = path.join(dir, 'x.json');
      writeFileAtomic(file, Buffer.from('one'));
      writeFileAtomic(file, Buffer.from('two'));
      expect(fs.readFileSync(file, 'utf8')).toBe('two');
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.readdirSync(dir)).toEqual(['x.json']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cleanupTemps', () => {
  const names = {
    leftover: '.peers.json.4242.0123456789ab.uvtmp',
    ours: `.state.snapshot.${process.pid}.0123456789ab.uvtmp`,
    liveOther: '.peers.json.777.0123456789ab.uvtmp',
    legacyStore: '.peers.json.4242.k3j2h1.tmp',
    legacyLock: 'daemon.lock.4242.abc.tmp',
    legacyIdentity: 'identity.key.tmp-4242',
  };
  const foreign = ['peers.json', 'notes.tmp', '.peers.json.swp', '.peers.json.4242.short.uvtmp', 'x.uvtmp', 'identity.key.tmp-x'];

  test('removes temp files of dead processes and of this one, keeps a live process’s and every foreign file', () => {
    const f = new FakeFs();
    f.mkdir('/h', 0o700);
    for (const n of [...Object.values(names), ...foreign]) f.put(`/h/${n}`, 'x');
    f.ops.length = 0;
    const removed = cleanupTemps('/h', { fs: f, isAlive: (pid) => pid === 777 });
    expect(removed.sort()).toEqual([names.leftover, names.ours, names.legacyStore, names.legacyLock, names.legacyIdentity].sort());
    expect(f.ops.at(-1)).toEqual({ op: 'fsyncDir', path: '/h' }); // the removals are durable
    expect(f.readdir('/h')).toEqual([names.liveOther, ...foreign].sort());
    expect(f.crash().readdir('/h')).toEqual([names.liveOther, ...foreign].sort());
  });

  test('nothing to remove: no directory fsync; a missing directory is fine', () => {
    const f = new FakeFs();
    f.mkdir('/h', 0o700);
    f.put('/h/peers.json', '{}');
    f.ops.length = 0;
    expect(cleanupTemps('/h', { fs: f })).toEqual([]);
    expect(f.ops).toEqual([{ op: 'readdir', path: '/h' }]);
    expect(cleanupTemps('/nope', { fs: f })).toEqual([]);
  });

  test('real filesystem with real pids: a dead writer’s temp goes, a foreign file stays', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-clean-'));
    try {
      const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());
      fs.writeFileSync(path.join(dir, `.peers.json.${dead}.0123456789ab.uvtmp`), '{"version":1,"pe');
      fs.writeFileSync(path.join(dir, 'peers.json.bak'), 'mine');
      expect(cleanupTemps(dir)).toEqual([`.peers.json.${dead}.0123456789ab.uvtmp`]);
      expect(fs.readdirSync(dir)).toEqual(['peers.json.bak']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
