import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { UdpVaultError } from '../../src/errors';
import { ensureHome } from '../../src/store/home';
import { HomeLock, parseHolder, procStartTime } from '../../src/store/home-lock';
import { FakeFs } from '../../src/store/fake-fs';
import type { FileSystem } from '../../src/store/fs';

let dir: string;
let children: ChildProcess[] = [];
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-lock-'));
});
afterEach(() => {
  for (const c of children) c.kill('SIGKILL');
  children = [];
  fs.rmSync(dir, { recursive: true, force: true });
});

const myStart = procStartTime(process.pid);
const mine = (kind = 'daemon'): string => `${process.pid}\nkind=${kind}\n${myStart ? `start=${myStart}\n` : ''}`;

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

function liveChild(): number {
  const c = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  children.push(c);
  return c.pid!;
}

function refusal(fn: () => unknown): UdpVaultError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UdpVaultError);
    expect((e as UdpVaultError).code).toBe('ERR_HOME_LOCKED');
    return e as UdpVaultError;
  }
  throw new Error('expected ERR_HOME_LOCKED');
}

const leftovers = (): string[] => fs.readdirSync(dir).filter((f) => f !== 'daemon.lock');

describe('HomeLock', () => {
  test('the lock names its holder; a second open in the same process is refused with the home and pid', () => {
    const p = ensureHome(dir);
    const lock = HomeLock.acquire(p);
    expect(fs.readFileSync(p.lock, 'utf8')).toBe(mine());
    expect(refusal(() => HomeLock.acquire(p, { kind: 'node' })).message).toBe(
      `another udpvault daemon (pid ${process.pid}) is already running with home ${dir}; stop it first or start this one with another --home`,
    );
    lock.release();
    expect(fs.existsSync(p.lock)).toBe(false);
    lock.release(); // idempotent
    const again = HomeLock.acquire(p, { kind: 'node' });
    expect(fs.readFileSync(p.lock, 'utf8')).toBe(mine('node'));
    again.release();
    expect(leftovers()).toEqual([]);
  });

  test('a lock held by another live process is refused, naming what holds it', () => {
    const p = ensureHome(dir);
    const pid = liveChild();
    const start = procStartTime(pid);
    fs.writeFileSync(p.lock, `${pid}\nkind=node\n${start ? `start=${start}\n` : ''}`);
    expect(refusal(() => HomeLock.acquire(p)).message).toBe(
      `another udpvault node (pid ${pid}) is already running with home ${dir}; stop it first or start this one with another --home`,
    );
    fs.writeFileSync(p.lock, `${pid}\n`); // written by an older version: pid only
    expect(refusal(() => HomeLock.acquire(p)).message).toMatch(new RegExp(`^another udpvault process \\(pid ${pid}\\) is already running with home `));
    expect(leftovers()).toEqual([]);
  });

  test('a stale lock (its process was killed) is taken over', () => {
    const p = ensureHome(dir);
    fs.writeFileSync(p.lock, `${deadPid()}\nkind=daemon\n`);
    const lock = HomeLock.acquire(p);
    expect(fs.readFileSync(p.lock, 'utf8')).toBe(mine());
    lock.release();
    expect(leftovers()).toEqual([]);
  });

  test('a lock whose pid now belongs to another process (started at another time) is stale', () => {
    if (procStartTime(process.pid) === null) return; // no /proc: pid reuse cannot be recognised
    const p = ensureHome(dir);
    const pid = liveChild();
    fs.writeFileSync(p.lock, `${pid}\nkind=daemon\nstart=1\n`);
    HomeLock.acquire(p).release();
  });

  test('a lock file with garbage, nothing, or our own pid (reused after a restart) is stale', () => {
    const p = ensureHome(dir);
    for (const content of ['garbage', '', `${process.pid}\n`, '-5\n']) {
      fs.writeFileSync(p.lock, content);
      HomeLock.acquire(p).release();
    }
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test('release leaves a lock that is no longer ours alone', () => {
    const p = ensureHome(dir);
    const lock = HomeLock.acquire(p);
    fs.writeFileSync(p.lock, '999999999\n');
    lock.release();
    expect(fs.readFileSync(p.lock, 'utf8')).toBe('999999999\n');
    expect(leftovers()).toEqual([]);
  });

  test('parseHolder reads pid, kind and start time', () => {
    expect(parseHolder('12\nkind=node\nstart=345\n')).toEqual({ pid: 12, kind: 'node', start: '345' });
    expect(parseHolder('12\n')).toEqual({ pid: 12, kind: null, start: null });
    expect(parseHolder('x\nkind=node\n')).toBeNull();
  });
});

describe('HomeLock through the filesystem seam', () => {
  const home = '/h';
  const paths = { home, lock: '/h/daemon.lock' };
  const opts = (fs: FileSystem) => ({ fs, startTimeOf: () => '77', isAlive: (pid: number) => pid === 4242 });

  test('the lock appears complete and durable: temp written and fsync’d, linked into place, directory fsync’d', () => {
    const fake = new FakeFs();
    fake.mkdir(home, 0o700);
    fake.ops.length = 0;
    const lock = HomeLock.acquire(paths, opts(fake));
    const tmp = (fake.ops[0] as { path: string }).path;
    expect(tmp).toMatch(/^\/h\/\.daemon\.lock\.\d+\.[0-9a-f]{12}\.uvtmp$/);
    expect(fake.ops).toEqual([
      { op: 'open', path: tmp, flags: 'wx' },
      { op: 'write', path: tmp, bytes: Buffer.byteLength(`${process.pid}\nkind=daemon\nstart=77\n`) },
      { op: 'fsync', path: tmp, async: false },
      { op: 'close', path: tmp },
      { op: 'link', from: tmp, to: '/h/daemon.lock' },
      { op: 'unlink', path: tmp },
      { op: 'fsyncDir', path: '/h' },
    ]);
    expect(fake.crash().peek('/h/daemon.lock')?.toString()).toBe(`${process.pid}\nkind=daemon\nstart=77\n`);
    lock.release();
    expect(fake.crash().readdir('/h')).toEqual([]);
  });

  test('a fresh lock another process made while we took over a stale one is put back, and we are refused', () => {
    const fake = new FakeFs();
    fake.mkdir(home, 0o700);
    fake.put('/h/daemon.lock', '999\nkind=daemon\n'); // stale: pid 999 is dead
    // Between our reading the stale lock and our renaming it aside, process 4242 takes it over.
    let raced = false;
    const rename = (from: string, to: string): void => {
      if (!raced && from === '/h/daemon.lock') {
        raced = true;
        fake.put('/h/daemon.lock', '4242\nkind=node\nstart=77\n');
      }
      fake.rename(from, to);
    };
    const racing = new Proxy(fake, {
      get: (t, k) => (k === 'rename' ? rename : typeof Reflect.get(t, k) === 'function' ? (Reflect.get(t, k) as () => unknown).bind(t) : Reflect.get(t, k)),
    }) as FileSystem;
    expect(refusal(() => HomeLock.acquire(paths, opts(racing))).message).toMatch(/^another udpvault node \(pid 4242\) is already running with home \/h;/);
    expect(raced).toBe(true);
    expect(fake.peek('/h/daemon.lock')?.toString()).toBe('4242\nkind=node\nstart=77\n');
    expect(fake.readdir('/h')).toEqual(['daemon.lock']);
  });
});
