/**
 * Issue 10, deliverable 7 through real processes: acknowledged `peer add`/`peer remove` survive
 * SIGKILL of the daemon (the loop is scripts/soak-kill.ts; `npm run soak:kill` runs the 50
 * rounds of the floor, this runs 10), and one process per home: a second daemon and
 * createNode({home}) are refused while a daemon runs, and take a killed daemon's stale lock over.
 */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createNode } from '../../src/node/create';
import { keyFromSeed, runKillSoak } from '../../scripts/soak-kill';
import { BIN, cli, Daemon, requireBuild, tempDir } from './cli-helpers';

jest.setTimeout(120_000);

const SEED = Number(process.env.KILL_DAEMON_SEED ?? 20261201);
let root: string;
const daemons: Daemon[] = [];
const afterCleanup: (() => void)[] = [];

beforeAll(() => requireBuild());
beforeEach(() => (root = tempDir('uv-killd-')));
afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop('SIGKILL')));
  for (const f of afterCleanup.splice(0)) f();
  fs.rmSync(root, { recursive: true, force: true });
});

test(`every acknowledged peer add/remove survives SIGKILL of the daemon (10 rounds, seed ${SEED})`, async () => {
  const res = await runKillSoak({ bin: BIN, root, rounds: 10, seed: SEED, maxAcks: 3 });
  // Each violation names the round, the command and what was found (empty when all held).
  expect(res.violations).toEqual([]);
  expect(res.lost).toBe(0);
  expect(res.rounds).toBe(10);
  // The loop did what it claims: changes of both kinds acknowledged, commands in flight when killed.
  expect(res.ackedAdds + res.ackedRemoves).toBeGreaterThanOrEqual(10);
  expect(res.ackedAdds).toBeGreaterThan(0);
  expect(res.ackedRemoves).toBeGreaterThan(0);
  expect(res.inFlightAtKill).toBeGreaterThanOrEqual(10);
  expect(res.unacknowledged).toBeGreaterThan(0);
});

const lockedMessage = (pid: number, home: string): string =>
  `another udpvault daemon (pid ${pid}) is already running with home ${home}; stop it first or start this one with another --home`;

test('a second daemon and createNode({home}) are refused while a daemon runs; after its SIGKILL the stale lock is taken over', async () => {
  const home = path.join(root, 'home');
  const d = await Daemon.start(home);
  daemons.push(d);
  const pid = d.child.pid!;
  const lockFile = path.join(home, 'daemon.lock');
  const lock = fs.readFileSync(lockFile, 'utf8');
  expect(lock).toMatch(new RegExp(`^${pid}\\nkind=daemon\\nstart=\\d+\\n$`));
  const sink = dgram.createSocket('udp4').on('message', () => undefined); // n0's endpoint: drops the handshakes
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
  afterCleanup.push(() => sink.close());
  const add = await cli(['peer', 'add', `127.0.0.1:${sink.address().port}`, '--key', keyFromSeed(new Uint8Array(32).fill(7)), '--name', 'n0', '--home', home]);
  expect(add).toMatchObject({ code: 0, stderr: '' });
  const peers = fs.readFileSync(path.join(home, 'peers.json'));
  const identity = fs.readFileSync(path.join(home, 'identity.key'));

  const second = await cli(['daemon', '--home', home, '--host', '127.0.0.1', '--port', '0']);
  expect(second).toEqual({ code: 1, stdout: '', stderr: `udpvault daemon: ${lockedMessage(pid, home)}\n` });

  await expect(createNode({ home, host: '127.0.0.1', port: 0 })).rejects.toMatchObject({ code: 'ERR_HOME_LOCKED', message: lockedMessage(pid, home) });

  // Neither refused process touched the home; the daemon still serves it.
  expect(fs.readFileSync(lockFile, 'utf8')).toBe(lock);
  expect(fs.readFileSync(path.join(home, 'peers.json')).equals(peers)).toBe(true);
  expect(fs.readFileSync(path.join(home, 'identity.key')).equals(identity)).toBe(true);
  expect(fs.readdirSync(home).filter((f) => /tmp/i.test(f))).toEqual([]);
  expect(d.running).toBe(true);
  const list = await cli(['peer', 'list', '--json', '--home', home]);
  expect(list.code).toBe(0);
  expect((JSON.parse(list.stdout) as { name: string }[]).map((p) => p.name)).toEqual(['n0']);

  // kill -9 leaves the lock behind; an in-process node takes it over, then releases it.
  await d.stop('SIGKILL');
  expect(fs.readFileSync(lockFile, 'utf8')).toBe(lock);
  const node = await createNode({ home, host: '127.0.0.1', port: 0 });
  try {
    expect(fs.readFileSync(lockFile, 'utf8')).toMatch(new RegExp(`^${process.pid}\\nkind=node\\n`));
    expect(node.publicKey).toBe(d.publicKey);
    expect(node.peers().map((p) => p.name)).toEqual(['n0']);
  } finally {
    await node.close();
  }
  expect(fs.existsSync(lockFile)).toBe(false);
});
