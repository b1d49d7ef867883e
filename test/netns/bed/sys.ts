/**
 * System layer of the real-path test bed: running iproute2/iptables/conntrack commands with a
 * bound on time, finding the repository's files from source (jest) or from dist (the bench),
 * and deciding whether this machine can run the bed at all.
 *
 * Prerequisites: Linux, root, iproute2 (ip, tc), iptables, conntrack, libfaketime, python3 and
 * /dev/net/tun (scripts/install-test-prereqs.sh installs the packages). Without one of them the
 * namespace suites skip with the reason — except when the environment variable CI is set, where
 * a missing prerequisite fails the suite instead (CI runs as root with the packages installed).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

export interface RunResult {
  ok: boolean;
  out: string;
}

/** Runs a command synchronously (10 s bound). Never throws. */
export function run(cmd: string, args: string[], timeoutMs = 10_000): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  return { ok: !r.error && r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim() };
}

/** Runs a command synchronously and throws with its output when it fails. */
export function must(cmd: string, args: string[], timeoutMs = 10_000): string {
  const r = run(cmd, args, timeoutMs);
  if (!r.ok) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.out}`);
  return r.out;
}

/** Runs a command without blocking the event loop (children keep being served meanwhile). */
export function runAsync(cmd: string, args: string[], timeoutMs = 10_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, out: e.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 0, out: out.trim() });
    });
  });
}

export async function mustAsync(cmd: string, args: string[], timeoutMs = 10_000): Promise<string> {
  const r = await runAsync(cmd, args, timeoutMs);
  if (!r.ok) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.out}`);
  return r.out;
}

/** The repository root (the directory with package.json), from test/ sources or from dist/. */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'src'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = up;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * `cmd args` to run at nice -10 when we are root (the bed needs root anyway): for the processes
 * that stand in for links and hosts — the user-space wire and the traffic agents. At load ~20
 * on 2 cores, at nice 0 they got too little CPU to carry 10 Mbit/s and a TCP flow alone got
 * 42% of the tbf rate (1 in 10 runs); a link's behaviour must not depend on the test's load.
 * They sleep in select/epoll between packets, so they take little from anything else.
 */
export function favoured(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['nice', ['-n', '-10', cmd, ...args]] : [cmd, args];
}

/** Polls cond every 20 ms; throws after timeoutMs naming what it waited for (`what` may describe the state then). */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string | (() => string)): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    await sleep(20);
  }
}

/** libfaketime's preload library, or null when it is not installed. */
export function libfaketimePath(): string | null {
  const dirs = ['/usr/lib/faketime', '/usr/local/lib/faketime'];
  try {
    for (const d of fs.readdirSync('/usr/lib')) if (d.endsWith('-linux-gnu')) dirs.push(`/usr/lib/${d}/faketime`);
  } catch {
    // no /usr/lib: not found
  }
  for (const d of dirs) if (fs.existsSync(`${d}/libfaketime.so.1`)) return `${d}/libfaketime.so.1`;
  return null;
}

export type BedCapability = { ok: true } | { ok: false; reason: string };

/** Whether this process can build the bed; synchronous (it decides describe or describe.skip). */
export function probeBed(): BedCapability {
  if (process.platform !== 'linux') return { ok: false, reason: 'needs Linux network namespaces' };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { ok: false, reason: 'needs root (network namespaces, tc, iptables)' };
  const missing: string[] = [];
  if (!run('ip', ['-V']).ok) missing.push('ip (iproute2)');
  if (!run('tc', ['-V']).ok) missing.push('tc (iproute2)');
  if (!run('iptables', ['--version']).ok) missing.push('iptables');
  if (!run('conntrack', ['--version']).ok) missing.push('conntrack');
  if (!libfaketimePath()) missing.push('libfaketime (package faketime)');
  if (!run('python3', ['-c', 'import fcntl, select, heapq']).ok) missing.push('python3');
  if (!fs.existsSync('/dev/net/tun')) missing.push('/dev/net/tun');
  if (missing.length > 0) return { ok: false, reason: `missing ${missing.join(', ')}: run scripts/install-test-prereqs.sh as root` };
  const ns = `uvb-${process.pid}-probe`;
  run('ip', ['netns', 'del', ns]);
  const add = run('ip', ['netns', 'add', ns]);
  if (!add.ok) return { ok: false, reason: `cannot create a network namespace: ${add.out}` };
  try {
    const tbf = run('tc', ['-n', ns, 'qdisc', 'add', 'dev', 'lo', 'root', 'tbf', 'rate', '10mbit', 'burst', '32kbit', 'latency', '30ms']);
    if (!tbf.ok) return { ok: false, reason: `the kernel has no tbf qdisc: ${tbf.out}` };
    const ipt = run('ip', ['netns', 'exec', ns, 'iptables', '-w', '-t', 'nat', '-L', '-n']);
    if (!ipt.ok) return { ok: false, reason: `iptables (nat table) does not work here: ${ipt.out}` };
    return { ok: true };
  } finally {
    run('ip', ['netns', 'del', ns]);
  }
}

/**
 * Environment that makes a child's wall clock run offsetS seconds ahead (negative: behind)
 * through libfaketime. Node honours it: Date.now() and new Date() are shifted (checked by
 * test/netns/bed.test.ts). Monotonic clocks (timers, performance.now) are left alone.
 */
export function fakeTimeEnv(offsetS: number): Record<string, string> {
  const lib = libfaketimePath();
  if (!lib) throw new Error('libfaketime is not installed: run scripts/install-test-prereqs.sh');
  return { LD_PRELOAD: lib, FAKETIME: `${offsetS >= 0 ? '+' : ''}${offsetS}s`, FAKETIME_DONT_FAKE_MONOTONIC: '1', FAKETIME_NO_CACHE: '1' };
}
