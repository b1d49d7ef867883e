/**
 * kill -9 soak through REAL daemons and the REAL CLI (issue 10, deliverable 7, floor "0
 * acknowledged control changes lost in 50 kill -9 rounds").
 *
 * Each round: workers run `udpvault peer add 127.0.0.1:PORT --key KEY --name nN` and
 * `udpvault peer remove nN` against a daemon; every command that exits 0 is acknowledged. At a
 * seeded moment (after a seeded number of acknowledgements, plus a seeded delay) while commands
 * are in flight, the daemon is killed with SIGKILL; it is restarted on the same home (its stale
 * lock must be taken over) and `peer list --json` and peers.json are checked: every
 * acknowledged add present with its key and endpoint (unless an acknowledged remove of it came
 * later), every acknowledged remove absent, no temp file left. A command not acknowledged may
 * have taken effect or not; the check then learns which from the restarted daemon.
 *
 * Each worker owns its names (nN with N ≡ worker mod workers) and runs its commands one after
 * another, so the order of the acknowledgements of one name is known. Each name has its own
 * endpoint: a UDP socket of this process that drops what the daemon sends it.
 *
 * `npm run soak:kill` runs 50 rounds (SOAK_ROUNDS, SOAK_SEED override); the jest test
 * (test/integration/kill-daemon.test.ts) runs 10.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SeededRandom } from '../src/runtime/random';

export interface SoakOptions {
  /** The udpvault executable (dist/bin/udpvault.js). */
  bin: string;
  /** A directory for the home (created inside, removed by the caller). */
  root: string;
  rounds: number;
  seed: number;
  workers?: number;
  namesPerWorker?: number;
  /** The kill comes after 1..maxAcks acknowledgements of the round (default 6). */
  maxAcks?: number;
  /** Progress lines (default none). */
  log?: (line: string) => void;
}

export interface SoakResult {
  rounds: number;
  ackedAdds: number;
  ackedRemoves: number;
  /** Commands that had not exited when the daemon was killed. */
  inFlightAtKill: number;
  /** Commands in flight at the kill that still exited 0 (their ok was out before it). */
  ackedAfterKill: number;
  /** Commands that did not exit 0 (in flight at the kill, or started before it and refused). */
  unacknowledged: number;
  /** Unacknowledged commands found applied after the restart. */
  unacknowledgedApplied: number;
  /** Exit codes of the unacknowledged commands (code → count). */
  unackedExitCodes: Record<string, number>;
  /** Temp files found in the home after a kill (before the restart cleans up). */
  tempsAfterKill: number;
  /** Acknowledged changes not found after a restart (the floor: 0). */
  lost: number;
  /** Every disagreement found, one line each (empty when all is well). */
  violations: string[];
  /** Wall time of the restarts (ms): mean and max. */
  restartMs: { mean: number; max: number };
  elapsedMs: number;
}

interface NameState {
  key: string;
  endpoint: string;
  present: boolean;
  /** An unacknowledged command on it: either state is allowed after the restart. */
  uncertain: boolean;
}

interface Listed {
  name: string | null;
  key: string | null;
  endpoint: string;
}

const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

/** A valid Ed25519 public key string (43 characters of base64url) from a seed. */
export function keyFromSeed(seed: Uint8Array): string {
  const priv = crypto.createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, Buffer.from(seed)]), format: 'der', type: 'pkcs8' });
  return crypto.createPublicKey(priv).export({ format: 'jwk' }).x!;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(bin: string, args: string[], timeoutMs = 30_000): { done: Promise<Run>; child: ChildProcess } {
  const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, UDPVAULT_HOME: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const done = new Promise<Run>((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
  return { done, child };
}

export interface StartedDaemon {
  child: ChildProcess;
  pid: number;
  exited: Promise<NodeJS.Signals | number | null>;
  /** Called with the `msg` of each log line the daemon writes from now on. */
  onLog: ((msg: string) => void) | null;
}

/** Starts `udpvault daemon` on `home` and resolves once its `ready` line is out. */
export function startDaemon(bin: string, home: string, timeoutMs = 20_000): Promise<StartedDaemon> {
  const child = spawn(process.execPath, [bin, 'daemon', '--home', home, '--host', '127.0.0.1', '--port', '0'], { env: { ...process.env, UDPVAULT_HOME: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<NodeJS.Signals | number | null>((r) => child.on('close', (code, signal) => r(signal ?? code)));
  const d: StartedDaemon = { child, pid: child.pid!, exited, onLog: null };
  return new Promise((resolve, reject) => {
    let buf = '';
    let err = '';
    let ready = false;
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`daemon on ${home} not ready within ${timeoutMs} ms; stderr: ${err}`));
    }, timeoutMs);
    child.stderr!.on('data', (e: Buffer) => (err += e.toString()));
    child.stdout!.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        const msg = /"msg":"([^"]*)"/.exec(l)?.[1];
        if (msg === undefined) continue;
        if (!ready && msg === 'ready') {
          ready = true;
          clearTimeout(t);
          resolve(d);
        } else if (ready) d.onLog?.(msg);
      }
    });
    void exited.then((how) => {
      clearTimeout(t);
      reject(new Error(`daemon on ${home} exited (${String(how)}) before ready; stderr: ${err}`));
    });
  });
}

const TEMP_RE = /tmp/i;
const tempsIn = (home: string): string[] => fs.readdirSync(home).filter((f) => TEMP_RE.test(f));

export async function runKillSoak(o: SoakOptions): Promise<SoakResult> {
  const began = Date.now();
  const log = o.log ?? ((): void => undefined);
  const workers = o.workers ?? 3;
  const perWorker = o.namesPerWorker ?? 4;
  const rnd = new SeededRandom(o.seed);
  const home = path.join(o.root, 'home');
  const sinks = await Promise.all(
    Array.from({ length: workers * perWorker }, async () => {
      const s = dgram.createSocket('udp4');
      s.on('message', () => undefined);
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
      return s;
    }),
  );
  const names = new Map<string, NameState>();
  sinks.forEach((s, i) => names.set(`n${i}`, { key: keyFromSeed(rnd.bytes(32)), endpoint: `127.0.0.1:${s.address().port}`, present: false, uncertain: false }));
  const res: SoakResult = {
    rounds: 0, ackedAdds: 0, ackedRemoves: 0, inFlightAtKill: 0, ackedAfterKill: 0, unacknowledged: 0, unacknowledgedApplied: 0,
    unackedExitCodes: {}, tempsAfterKill: 0, lost: 0, violations: [], restartMs: { mean: 0, max: 0 }, elapsedMs: 0,
  };
  const restarts: number[] = [];
  let daemon = await startDaemon(o.bin, home);
  try {
    for (let round = 1; round <= o.rounds; round++) {
      // The moment: after the k-th acknowledgement (+0..39 ms), or right after the daemon logs
      // its k-th applied change (+0..2 ms), when that command's ok may not have reached the CLI yet.
      const onLogLine = rnd.float() < 0.5;
      const killAfter = rnd.int(1, (o.maxAcks ?? 6) + 1);
      const delayMs = onLogLine ? rnd.int(0, 3) : rnd.int(0, 40);
      let applied = 0;
      let acks = 0;
      let killed = false;
      const inFlight = new Set<ChildProcess>();
      let killTimer: NodeJS.Timeout | undefined;
      const kill = (): void => {
        if (killed) return;
        killed = true;
        res.inFlightAtKill += inFlight.size;
        daemon.child.kill('SIGKILL');
      };
      daemon.onLog = (msg): void => {
        if (onLogLine && (msg === 'peer added' || msg === 'peer removed') && ++applied === killAfter) killTimer = setTimeout(kill, delayMs);
      };
      const worker = async (w: number, wr: SeededRandom): Promise<void> => {
        const mine = [...names.keys()].filter((_, i) => i % workers === w);
        while (!killed) {
          const present = mine.filter((n) => names.get(n)!.present);
          const absent = mine.filter((n) => !names.get(n)!.present);
          const add = present.length === 0 || (absent.length > 0 && wr.float() < 0.6);
          const name = add ? absent[wr.int(0, absent.length)]! : present[wr.int(0, present.length)]!;
          const st = names.get(name)!;
          const args = add ? ['peer', 'add', st.endpoint, '--key', st.key, '--name', name, '--home', home] : ['peer', 'remove', name, '--home', home];
          const { done, child } = run(o.bin, args);
          inFlight.add(child);
          const r = await done;
          inFlight.delete(child);
          if (r.code === 0) {
            st.present = add;
            if (add) res.ackedAdds++;
            else res.ackedRemoves++;
            if (killed) res.ackedAfterKill++;
            if (++acks === killAfter && !onLogLine) killTimer = setTimeout(kill, delayMs);
            continue;
          }
          st.uncertain = true;
          res.unacknowledged++;
          res.unackedExitCodes[String(r.code)] = (res.unackedExitCodes[String(r.code)] ?? 0) + 1;
          if (!killed) res.violations.push(`round ${round}: "${args.slice(0, 3).join(' ')}" exited ${r.code} before the kill: ${r.stderr.trim()}`);
          return; // this name's state is unknown until the restart
        }
      };
      const wr = Array.from({ length: workers }, () => rnd.fork());
      await Promise.all(wr.map((r, w) => worker(w, r)));
      kill(); // every worker stopped early (refusals): kill anyway
      clearTimeout(killTimer);
      const how = await daemon.exited;
      if (how !== 'SIGKILL') res.violations.push(`round ${round}: daemon ended with ${String(how)}, not SIGKILL`);
      const lock = fs.readFileSync(path.join(home, 'daemon.lock'), 'utf8');
      if (!lock.startsWith(`${daemon.pid}\n`)) res.violations.push(`round ${round}: the killed daemon's lock is not left behind: ${JSON.stringify(lock)}`);
      res.tempsAfterKill += tempsIn(home).length;

      const t0 = Date.now();
      daemon = await startDaemon(o.bin, home);
      restarts.push(Date.now() - t0);
      res.rounds = round;
      const v = await check(o.bin, home, daemon.pid, names, round, res);
      res.violations.push(...v);
      log(`round ${round}: kill after ${killAfter} ${onLogLine ? 'applied (log)' : 'acks'} +${delayMs} ms; acked adds ${res.ackedAdds}, removes ${res.ackedRemoves}; unacked ${res.unacknowledged} (applied ${res.unacknowledgedApplied}); lost ${res.lost}`);
    }
  } finally {
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    for (const s of sinks) s.close();
  }
  res.restartMs = { mean: Math.round(restarts.reduce((a, b) => a + b, 0) / Math.max(1, restarts.length)), max: Math.max(0, ...restarts) };
  res.elapsedMs = Date.now() - began;
  return res;
}

/** After a restart: the lock, temp files, `peer list --json` and peers.json against the model (which learns the uncertain names). */
async function check(bin: string, home: string, pid: number, names: Map<string, NameState>, round: number, res: SoakResult): Promise<string[]> {
  const out: string[] = [];
  const lock = fs.readFileSync(path.join(home, 'daemon.lock'), 'utf8');
  if (!lock.startsWith(`${pid}\nkind=daemon\n`)) out.push(`round ${round}: the restarted daemon (pid ${pid}) does not hold the lock: ${JSON.stringify(lock)}`);
  const temps = tempsIn(home);
  if (temps.length > 0) out.push(`round ${round}: temp files left after the restart: ${temps.join(', ')}`);
  const r = await run(bin, ['peer', 'list', '--json', '--home', home]).done;
  if (r.code !== 0) return [...out, `round ${round}: peer list exited ${r.code}: ${r.stderr.trim()}`];
  const listed = JSON.parse(r.stdout) as Listed[];
  const file = JSON.parse(fs.readFileSync(path.join(home, 'peers.json'), 'utf8')) as { version: number; peers: Listed[] };
  const norm = (ps: Listed[]): string[] => ps.map((p) => `${p.name} ${p.key} ${p.endpoint}`).sort();
  if (JSON.stringify(norm(listed)) !== JSON.stringify(norm(file.peers))) out.push(`round ${round}: peer list ${JSON.stringify(norm(listed))} differs from peers.json ${JSON.stringify(norm(file.peers))}`);
  const byName = new Map(listed.map((p) => [p.name ?? '', p]));
  for (const p of listed) if (p.name === null || !names.has(p.name)) out.push(`round ${round}: unexpected peer ${JSON.stringify(p)}`);
  for (const [name, st] of names) {
    const p = byName.get(name);
    if (p && (p.key !== st.key || p.endpoint !== st.endpoint)) out.push(`round ${round}: ${name} has key ${p.key} endpoint ${p.endpoint}, expected ${st.key} ${st.endpoint}`);
    if (st.uncertain) {
      if ((p !== undefined) !== st.present) res.unacknowledgedApplied++;
      st.present = p !== undefined;
      st.uncertain = false;
    } else if ((p !== undefined) !== st.present) {
      res.lost++;
      out.push(`round ${round}: acknowledged ${st.present ? 'add' : 'remove'} of ${name} lost (${p ? 'present' : 'absent'} after restart)`);
      st.present = p !== undefined; // counted once: the next rounds start from what is on disk
    }
  }
  return out;
}

async function main(): Promise<void> {
  const rounds = Number(process.env.SOAK_ROUNDS ?? 50);
  const seed = Number(process.env.SOAK_SEED ?? 20261201);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-soak-kill-'));
  try {
    const res = await runKillSoak({ bin: path.join(__dirname, '..', 'bin', 'udpvault.js'), root, rounds, seed, log: (l) => console.log(l) });
    console.log(JSON.stringify({ seed, ...res }, null, 2));
    process.exitCode = res.violations.length === 0 && res.lost === 0 && res.rounds === rounds ? 0 : 1;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
