import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { UdpVaultError, BadInputError } from '../../src/errors';
import { checkSocketPath, ensureHome, homePaths, HomeLock, resolveHome } from '../../src/daemon/home';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-home-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('resolveHome', () => {
  test('--home, else $UDPVAULT_HOME, else ~/.udpvault; always absolute', () => {
    expect(resolveHome('/a/b', { UDPVAULT_HOME: '/c' })).toBe('/a/b');
    expect(resolveHome(undefined, { UDPVAULT_HOME: '/c' })).toBe('/c');
    expect(resolveHome(undefined, {})).toBe(path.join(os.homedir(), '.udpvault'));
    expect(resolveHome(undefined, { UDPVAULT_HOME: '' })).toBe(path.join(os.homedir(), '.udpvault'));
    expect(resolveHome('rel', {})).toBe(path.resolve('rel'));
    expect(resolveHome('~/x', {})).toBe(path.join(os.homedir(), 'x'));
  });

  test('an empty --home is bad input', () => {
    expect(() => resolveHome('', {})).toThrow(BadInputError);
    expect(() => resolveHome('  ', {})).toThrow('--home: expected a directory path, got an empty string');
  });
});

describe('ensureHome', () => {
  test('creates the home with mode 0700 and names the files in it', () => {
    const home = path.join(dir, 'sub', 'home');
    const p = ensureHome(home);
    expect(fs.statSync(home).mode & 0o777).toBe(0o700);
    expect(p).toEqual({
      home,
      identity: path.join(home, 'identity.key'),
      peers: path.join(home, 'peers.json'),
      control: path.join(home, 'control.sock'),
      lock: path.join(home, 'daemon.lock'),
    });
  });

  test('refuses a home that is a file', () => {
    const f = path.join(dir, 'file');
    fs.writeFileSync(f, '');
    expect(() => ensureHome(f)).toThrow(`--home ${f}: exists and is not a directory`);
  });

  test('refuses a home whose control socket path would be too long', () => {
    const long = path.join(dir, 'x'.repeat(120));
    expect(() => checkSocketPath(homePaths(long))).toThrow(/path too long for the control socket/);
    expect(() => checkSocketPath(homePaths(dir))).not.toThrow();
  });
});

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('HomeLock', () => {
  test('a second daemon on the same home is refused with a clear message', () => {
    const p = ensureHome(dir);
    const lock = HomeLock.acquire(p);
    expect(fs.readFileSync(p.lock, 'utf8')).toBe(`${process.pid}\n`);
    let err: unknown;
    try {
      HomeLock.acquire(p);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UdpVaultError);
    expect((err as UdpVaultError).code).toBe('ERR_HOME_LOCKED');
    expect((err as Error).message).toBe(
      `another udpvault daemon (pid ${process.pid}) is already running with home ${dir}; stop it first or start this one with another --home`,
    );
    lock.release();
    expect(fs.existsSync(p.lock)).toBe(false);
    lock.release(); // idempotent
    HomeLock.acquire(p).release();
  });

  test('a lock held by another live process is refused', async () => {
    const p = ensureHome(dir);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    try {
      fs.writeFileSync(p.lock, `${child.pid}\n`);
      expect(() => HomeLock.acquire(p)).toThrow(`another udpvault daemon (pid ${child.pid}) is already running with home ${dir}`);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('a stale lock (its daemon was killed) is taken over', () => {
    const p = ensureHome(dir);
    fs.writeFileSync(p.lock, `${deadPid()}\n`);
    const lock = HomeLock.acquire(p);
    expect(fs.readFileSync(p.lock, 'utf8')).toBe(`${process.pid}\n`);
    lock.release();
  });

  test('a lock file with garbage or our own pid (pid reuse after a restart) is stale', () => {
    const p = ensureHome(dir);
    fs.writeFileSync(p.lock, 'garbage');
    HomeLock.acquire(p).release();
    fs.writeFileSync(p.lock, '');
    HomeLock.acquire(p).release();
    fs.writeFileSync(p.lock, `${process.pid}\n`);
    HomeLock.acquire(p).release();
  });

  test('release leaves a lock that is no longer ours alone', () => {
    const p = ensureHome(dir);
    const lock = HomeLock.acquire(p);
    fs.writeFileSync(p.lock, '999999999\n');
    lock.release();
    expect(fs.readFileSync(p.lock, 'utf8')).toBe('999999999\n');
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
