import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BadInputError } from '../../src/errors';
import { checkSocketPath, ensureHome, homePaths, resolveHome } from '../../src/store/home';

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
      journal: path.join(home, 'state.journal'),
      journalSnapshot: path.join(home, 'state.snapshot'),
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
