/**
 * Processes racing for one home: whether the lock is free or stale (its holder was killed
 * with SIGKILL), exactly one of them gets it and the others are refused with ERR_HOME_LOCKED.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { compileClosure, lowPriority, REPO } from './kill-harness';

const RACERS = 6;
let work: string;
const running: ChildProcess[] = [];
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-race-'));
  compileClosure(['src/store/home-lock.ts'], path.join(work, 'lib'));
});
afterAll(() => {
  for (const c of running) c.kill('SIGKILL');
  fs.rmSync(work, { recursive: true, force: true });
});

interface Racer {
  child: ChildProcess;
  result: Promise<string>;
}

/** Starts the racers, waits until every one is ready, then tells them all to go at once. */
async function race(home: string): Promise<Racer[]> {
  const racers = Array.from({ length: RACERS }, () => {
    const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', 'lock-racer.js'), path.join(work, 'lib'), home], {
      env: { ...process.env, NODE_PATH: path.join(REPO, 'node_modules') },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    running.push(child);
    lowPriority(child.pid);
    let out = '';
    let onReady!: () => void;
    const ready = new Promise<void>((r) => (onReady = r));
    const result = new Promise<string>((resolve) => {
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.startsWith('ready\n')) onReady();
        const rest = out.slice('ready\n'.length);
        if (rest.endsWith('\n')) resolve(rest.trim());
      });
      child.on('close', () => {
        onReady();
        resolve(out.slice('ready\n'.length).trim());
      });
    });
    return { child, result, ready };
  });
  await Promise.all(racers.map((r) => r.ready));
  for (const r of racers) r.child.stdin!.write('go\n');
  return racers;
}

const exited = (c: ChildProcess): Promise<void> => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.on('close', () => r())));

test('racing processes: one gets a free lock, and one takes over a stale lock; the others are refused', async () => {
  const home = path.join(work, 'home');
  fs.mkdirSync(home, { mode: 0o700 });

  const first = await race(home);
  const results = await Promise.all(first.map((r) => r.result));
  expect(results.filter((r) => r === 'got')).toHaveLength(1);
  expect(results.filter((r) => r === 'refused ERR_HOME_LOCKED')).toHaveLength(RACERS - 1);
  const winner = first[results.indexOf('got')]!.child;
  expect(fs.readFileSync(path.join(home, 'daemon.lock'), 'utf8')).toMatch(new RegExp(`^${winner.pid}\\nkind=node\\n`));

  winner.kill('SIGKILL'); // its lock is now stale
  await exited(winner);
  const second = await race(home);
  const results2 = await Promise.all(second.map((r) => r.result));
  expect(results2.filter((r) => r === 'got')).toHaveLength(1);
  expect(results2.filter((r) => r === 'refused ERR_HOME_LOCKED')).toHaveLength(RACERS - 1);
  const winner2 = second[results2.indexOf('got')]!.child;
  expect(fs.readFileSync(path.join(home, 'daemon.lock'), 'utf8')).toMatch(new RegExp(`^${winner2.pid}\\nkind=node\\n`));

  winner2.stdin!.end(); // a clean release
  await exited(winner2);
  expect(fs.readdirSync(home)).toEqual([]); // no temp or aside file left by any racer
}, 60_000);
