import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { sodiumReady } from '../../src/crypto/sodium';
import { openHome } from '../../src/store/open-home';
import { procStartTime } from '../../src/store/home-lock';

let dir: string;
beforeAll(() => sodiumReady());
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-openhome-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('openHome', () => {
  test('creates the home and identity, holds the lock until close; a second open is refused; the identity is kept', async () => {
    const home = path.join(dir, 'h');
    const a = openHome(home, { kind: 'node' });
    expect(a.identityCreated).toBe(true);
    expect(fs.statSync(home).mode & 0o777).toBe(0o700);
    expect(fs.statSync(a.paths.identity).mode & 0o777).toBe(0o600);
    expect(fs.readdirSync(home).sort()).toEqual(['daemon.lock', 'identity.key', 'state.journal']);
    expect(() => openHome(home, { kind: 'daemon' })).toThrow(
      `another udpvault node (pid ${process.pid}) is already running with home ${home}; stop it first or start this one with another --home`,
    );
    await a.journal.append({ type: 'handshake', key: a.identity.keyString, ts: 42 });
    a.peerStore.save([]);
    await a.close();
    await a.close(); // idempotent
    expect(fs.existsSync(a.paths.lock)).toBe(false);
    const b = openHome(home, { kind: 'daemon' });
    expect(b.identityCreated).toBe(false);
    expect(b.identity.keyString).toBe(a.identity.keyString);
    expect(b.journal.state.handshake(a.identity.keyString)).toBe(42);
    expect(b.peerStore.load()).toEqual([]);
    await b.close();
  });

  test('a home held by another live process is refused and left as it was', () => {
    const home = path.join(dir, 'h');
    fs.mkdirSync(home, { mode: 0o700 });
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      const lock = `${child.pid}\nkind=daemon\n${procStartTime(child.pid!) ? `start=${procStartTime(child.pid!)}\n` : ''}`;
      fs.writeFileSync(path.join(home, 'daemon.lock'), lock);
      expect(() => openHome(home, { kind: 'node' })).toThrow(`another udpvault daemon (pid ${child.pid}) is already running with home ${home}`);
      expect(fs.readdirSync(home)).toEqual(['daemon.lock']);
      expect(fs.readFileSync(path.join(home, 'daemon.lock'), 'utf8')).toBe(lock);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('temp files of interrupted writes are removed at open; a corrupt journal is reported and the lock released', async () => {
    const home = path.join(dir, 'h');
    fs.mkdirSync(home, { mode: 0o700 });
    const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());
    const leftover = `.peers.json.${dead}.0123456789ab.uvtmp`;
    fs.writeFileSync(path.join(home, leftover), '{"version":1,"pe');
    fs.writeFileSync(path.join(home, 'notes.txt'), 'mine');
    const h = openHome(home, { kind: 'daemon' });
    expect(h.removedTemps).toEqual([leftover]);
    expect(fs.existsSync(path.join(home, 'notes.txt'))).toBe(true);
    await h.close();

    fs.writeFileSync(path.join(home, 'state.journal'), 'garbage!');
    expect(() => openHome(home, { kind: 'daemon' })).toThrow(/journal file .*state\.journal is corrupt \(not a udpvault journal: bad header\)/);
    expect(fs.existsSync(path.join(home, 'daemon.lock'))).toBe(false);
    expect(fs.readFileSync(path.join(home, 'state.journal'), 'utf8')).toBe('garbage!');
  });
});
