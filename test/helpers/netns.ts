/**
 * Two Linux network namespaces joined by one link, for tests of real nodes over a real kernel
 * path with loss, delay, reordering and duplication.
 *
 * The link is a veth pair shaped with `tc netem` on both ends when the kernel has sch_netem;
 * otherwise (kernels built without it, such as this project's CI machines) two TUN interfaces
 * joined by test/helpers/netwire.py, which applies the same impairments (netem semantics) in
 * user space. UDPVAULT_NETNS_LINK=veth|tun forces one. Either way each namespace sees one
 * interface with address 10.77.0.1 (side a) or 10.77.0.2 (side b) and the chosen MTU, and no
 * traffic leaves the two namespaces.
 *
 * Names are unique per process (uv-<pid>-a/b). Namespaces left behind by a test process
 * that no longer exists are removed when the next one starts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as readline from 'node:readline';
import { favoured, repoRoot } from '../netns/bed/sys';

export const ADDR_A = '10.77.0.1';
export const ADDR_B = '10.77.0.2';
/** Interface name inside each namespace. */
export const LINK_IF = 'uv0';
/** From test/helpers (jest) or dist/test/helpers (the bench): the script stays in the source tree. */
export const WIRE_SCRIPT = path.join(repoRoot(), 'test', 'helpers', 'netwire.py');
const NS_PATTERN = /^uv-(\d+)-[ab]$/;

export type LinkKind = 'veth' | 'tun';

/** Impairments in each direction, as netem applies them. */
export interface Impairment {
  /** Share of packets dropped, 0–1. */
  loss?: number;
  delayMs?: number;
  /** Uniform ± jitter around delayMs. */
  jitterMs?: number;
  /** Share of packets sent at once (skipping the delay), 0–1: netem's "reorder". */
  reorder?: number;
  /** Share of packets sent twice, 0–1. */
  duplicate?: number;
}

export interface DirectionStats {
  packets: number;
  bytes: number;
  dropped: number;
  duplicated: number;
  reordered: number;
  maxIpBytes: number;
  maxUdpPayload: number;
  ipFragments: number;
  udpPackets: number;
}

export interface LinkStats {
  /** Counted where they were observed: by the wire (tun) or by a sniffer on b's interface (veth). */
  aToB: DirectionStats;
  /** Only the wire (tun) sees this direction; null with veth. */
  bToA: DirectionStats | null;
}

export type Capability = { ok: true; link: LinkKind } | { ok: false; reason: string };

function run(cmd: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 10_000 });
  return { ok: !r.error && r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim() };
}

function must(cmd: string, args: string[]): string {
  const r = run(cmd, args);
  if (!r.ok) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.out}`);
  return r.out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Deletes uv-<pid>-a/b namespaces whose creating process is gone. */
export function removeStaleNamespaces(): void {
  const list = run('ip', ['netns', 'list']);
  if (!list.ok) return;
  for (const line of list.out.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = NS_PATTERN.exec(name);
    if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) run('ip', ['netns', 'del', name]);
  }
}

/**
 * Whether this process can build the namespaces, and with which link. Synchronous (it runs
 * at test collection to choose describe or describe.skip); it creates and deletes one
 * throw-away namespace.
 */
export function probeNetns(): Capability {
  if (process.platform !== 'linux') return { ok: false, reason: 'needs Linux network namespaces' };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { ok: false, reason: 'needs root and iproute2 (ip, tc) to create network namespaces' };
  if (!run('ip', ['-V']).ok || !run('tc', ['-V']).ok) return { ok: false, reason: 'needs root and iproute2 (ip, tc) to create network namespaces; ip or tc is missing' };
  removeStaleNamespaces();
  const ns = `uv-${process.pid}-a`;
  run('ip', ['netns', 'del', ns]);
  const add = run('ip', ['netns', 'add', ns]);
  if (!add.ok) return { ok: false, reason: `cannot create a network namespace: ${add.out}` };
  try {
    const exec = run('ip', ['netns', 'exec', ns, process.execPath, '-e', '']);
    if (!exec.ok) return { ok: false, reason: `cannot run a process in a network namespace: ${exec.out}` };
    const netem = run('tc', ['-n', ns, 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']);
    const forced = process.env['UDPVAULT_NETNS_LINK'];
    const tunOk = fs.existsSync('/dev/net/tun') && run('python3', ['-c', 'import fcntl, select, heapq']).ok;
    if (forced === 'veth') return { ok: true, link: 'veth' };
    if (forced === 'tun') return tunOk ? { ok: true, link: 'tun' } : { ok: false, reason: 'UDPVAULT_NETNS_LINK=tun needs /dev/net/tun and python3' };
    if (netem.ok) return { ok: true, link: 'veth' };
    if (tunOk) return { ok: true, link: 'tun' };
    return { ok: false, reason: `the kernel has no netem qdisc (${netem.out}) and the user-space link needs /dev/net/tun and python3` };
  } finally {
    run('ip', ['netns', 'del', ns]);
  }
}

/** A line-protocol child (netwire.py) with request/reply by id. */
export class WireProcess {
  readonly child: ChildProcess;
  #nextId = 1;
  #waiting = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  #ready: Promise<void>;
  #stderr = '';

  constructor(args: string[]) {
    this.child = spawn(...favoured(args[0]!, args.slice(1)), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => (this.#stderr += d.toString()));
    const lines = readline.createInterface({ input: this.child.stdout! });
    this.#ready = new Promise((resolve, reject) => {
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg['type'] === 'ready') return resolve();
        const w = this.#waiting.get(msg['id'] as number);
        if (!w) return;
        this.#waiting.delete(msg['id'] as number);
        if (msg['type'] === 'error') w.reject(new Error(`netwire: ${String(msg['message'])}`));
        else w.resolve(msg);
      });
      this.child.on('exit', (code) => {
        const err = new Error(`netwire exited with ${String(code)}: ${this.#stderr.trim()}`);
        reject(err);
        for (const w of this.#waiting.values()) w.reject(err);
        this.#waiting.clear();
      });
      this.child.on('error', reject);
    });
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  request(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.child.stdin!.write(`${JSON.stringify({ ...msg, id })}\n`);
    });
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
  }
}

/** Ends a child: stdin closed, then SIGTERM, then SIGKILL. Resolves when it has exited. */
export async function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.stdin?.end();
  const term = setTimeout(() => child.kill('SIGTERM'), graceMs / 2);
  const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(term);
  clearTimeout(kill);
}

export interface NetnsPair {
  readonly link: LinkKind;
  readonly nsA: string;
  readonly nsB: string;
  readonly mtu: number;
  /** Applies impairments in both directions (replacing the previous ones). */
  impair(i: Impairment, seed?: number): Promise<void>;
  /** Counters since creation or the last resetStats(). */
  stats(): Promise<LinkStats>;
  resetStats(): Promise<void>;
  destroy(): Promise<void>;
}

function netemArgs(i: Impairment): string[] {
  const pct = (x: number): string => `${(x * 100).toFixed(3)}%`;
  const args = ['limit', '100000'];
  if (i.delayMs) args.push('delay', `${i.delayMs}ms`, ...(i.jitterMs ? [`${i.jitterMs}ms`] : []));
  if (i.loss) args.push('loss', pct(i.loss));
  if (i.duplicate) args.push('duplicate', pct(i.duplicate));
  if (i.reorder) args.push('reorder', pct(i.reorder));
  return args;
}

function vethPair(nsA: string, nsB: string, mtu: number): void {
  must('ip', ['link', 'add', LINK_IF, 'netns', nsA, 'type', 'veth', 'peer', 'name', LINK_IF, 'netns', nsB]);
  for (const [ns, addr] of [[nsA, ADDR_A], [nsB, ADDR_B]] as const) {
    must('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', LINK_IF]);
    must('ip', ['-n', ns, 'link', 'set', LINK_IF, 'mtu', String(mtu), 'up']);
  }
}

async function tunPair(nsA: string, nsB: string, mtu: number): Promise<WireProcess> {
  const wire = new WireProcess(['ip', 'netns', 'exec', nsA, 'python3', WIRE_SCRIPT, 'wire', LINK_IF, 'uvpeer']);
  try {
    await wire.ready();
    must('ip', ['-n', nsA, 'link', 'set', 'uvpeer', 'netns', nsB]);
    must('ip', ['-n', nsB, 'link', 'set', 'uvpeer', 'name', LINK_IF]);
    for (const [ns, addr, peer] of [[nsA, ADDR_A, ADDR_B], [nsB, ADDR_B, ADDR_A]] as const) {
      must('ip', ['-n', ns, 'addr', 'add', addr, 'peer', peer, 'dev', LINK_IF]);
      must('ip', ['-n', ns, 'link', 'set', LINK_IF, 'mtu', String(mtu), 'up']);
    }
    return wire;
  } catch (e) {
    await wire.stop();
    throw e;
  }
}

/**
 * Waits until the interface is operationally up (veth: carrier from the peer; TUN: 'UNKNOWN').
 * The kernel reports carrier changes with a delay of up to a second, and until then Node's
 * os.networkInterfaces() — so mtu 'auto' — does not list the interface.
 */
async function waitOperUp(ns: string): Promise<void> {
  const start = Date.now();
  for (;;) {
    const r = run('ip', ['-n', ns, '-o', 'link', 'show', LINK_IF]);
    if (r.ok && /\bstate (UP|UNKNOWN)\b/.test(r.out)) return;
    if (Date.now() - start > 5000) throw new Error(`${LINK_IF} in ${ns} is not up after 5 s: ${r.out}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

/** Creates the two namespaces and the link. On failure, whatever was made is removed. */
export async function createNetnsPair(o: { link: LinkKind; mtu: number }): Promise<NetnsPair> {
  const nsA = `uv-${process.pid}-a`;
  const nsB = `uv-${process.pid}-b`;
  let wire: WireProcess | null = null;
  let sniffer: WireProcess | null = null;
  const destroy = async (): Promise<void> => {
    await Promise.all([wire?.stop(), sniffer?.stop()]);
    wire = null;
    sniffer = null;
    run('ip', ['netns', 'del', nsA]);
    run('ip', ['netns', 'del', nsB]);
  };
  try {
    for (const ns of [nsA, nsB]) {
      run('ip', ['netns', 'del', ns]);
      must('ip', ['netns', 'add', ns]);
      must('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      // No IPv6 in the namespaces: no router solicitations or MLD reports on the link, only the nodes' traffic.
      run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    }
    if (o.link === 'veth') {
      vethPair(nsA, nsB, o.mtu);
      sniffer = new WireProcess(['ip', 'netns', 'exec', nsB, 'python3', WIRE_SCRIPT, 'sniff', LINK_IF]);
      await sniffer.ready();
    } else {
      wire = await tunPair(nsA, nsB, o.mtu);
    }
    await Promise.all([waitOperUp(nsA), waitOperUp(nsB)]);
  } catch (e) {
    await destroy();
    throw e;
  }
  return {
    link: o.link,
    nsA,
    nsB,
    mtu: o.mtu,
    async impair(i: Impairment, seed = 1): Promise<void> {
      if (wire) {
        await wire.request({ cmd: 'set', loss: i.loss ?? 0, delayMs: i.delayMs ?? 0, jitterMs: i.jitterMs ?? 0, reorder: i.reorder ?? 0, duplicate: i.duplicate ?? 0, seed });
        return;
      }
      const none = !i.loss && !i.delayMs && !i.jitterMs && !i.reorder && !i.duplicate;
      for (const ns of [nsA, nsB]) {
        if (none) run('tc', ['-n', ns, 'qdisc', 'del', 'dev', LINK_IF, 'root']); // back to the default (fails harmlessly when there is none)
        else must('tc', ['-n', ns, 'qdisc', 'replace', 'dev', LINK_IF, 'root', 'netem', ...netemArgs(i)]);
      }
    },
    async stats(): Promise<LinkStats> {
      if (wire) {
        const s = await wire.request({ cmd: 'stats' });
        return { aToB: s['aToB'] as DirectionStats, bToA: s['bToA'] as DirectionStats };
      }
      const s = await sniffer!.request({ cmd: 'stats' });
      return { aToB: s['in'] as DirectionStats, bToA: null };
    },
    async resetStats(): Promise<void> {
      await (wire ?? sniffer)!.request({ cmd: 'reset' });
    },
    destroy,
  };
}
