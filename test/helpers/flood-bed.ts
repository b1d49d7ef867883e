/**
 * Test-only bed for the issue-10 flood floors against real node processes: the victim and the
 * legitimate peer each run dist/scripts/netns-node.js in their own process (optionally inside a
 * network namespace), the attacker is test/helpers/v4-flooder.cjs in a third. The victim's RSS
 * is sampled from /proc/PID/status during the flood, the kernel's receive-queue drops for its
 * port from /proc/PID/net/udp (the victim's own namespace), and each process's CPU time from
 * /proc/PID/stat — so a run says whether the daemon or the machine was the limit.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { spawn, type ChildProcess } from 'node:child_process';
import { stopChild } from './netns';
import { repoRoot } from '../netns/bed/sys';
import type { NetnsNodeArgs } from '../../scripts/netns-node';
import type { NodeStatus, PeerInfo } from '../../src/node/types';

export const NODE_SCRIPT = path.join(repoRoot(), 'dist', 'scripts', 'netns-node.js');
export const FLOODER = path.join(repoRoot(), 'test', 'helpers', 'v4-flooder.cjs');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `cmd args` as a child, inside namespace `ns` when given (ip netns exec execs: the pid is the program's). */
function spawnIn(ns: string | undefined, args: string[]): ChildProcess {
  const [cmd, rest] = ns ? ['ip', ['netns', 'exec', ns, process.execPath, ...args]] : [process.execPath, args];
  return spawn(cmd, rest, { stdio: ['pipe', 'pipe', 'pipe'] });
}

type Reply = { type: string; id?: number | null; [k: string]: unknown };

/** A node process driven over JSON lines (scripts/netns-node.ts). */
export class NodeProcess {
  readonly child: ChildProcess;
  port = 0;
  publicKey = '';
  #next = 1;
  readonly #waiting = new Map<number, (r: Reply) => void>();
  #stderr = '';

  private constructor(ns: string | undefined, args: NetnsNodeArgs) {
    this.child = spawnIn(ns, [NODE_SCRIPT, JSON.stringify(args)]);
    this.child.stderr!.on('data', (d: Buffer) => (this.#stderr += d.toString()));
  }

  static async start(args: NetnsNodeArgs, ns?: string): Promise<NodeProcess> {
    if (!fs.existsSync(NODE_SCRIPT)) throw new Error(`${NODE_SCRIPT} is missing: run "npm run build" first (npm test does)`);
    const n = new NodeProcess(ns, args);
    const ready = new Promise<void>((resolve, reject) => {
      n.child.once('exit', (code) => reject(new Error(`node process exited (${code}): ${n.#stderr}`)));
      const lines = readline.createInterface({ input: n.child.stdout! });
      lines.on('line', (line) => {
        const ev = JSON.parse(line) as Reply;
        if (ev.type === 'ready') {
          n.port = ev['port'] as number;
          n.publicKey = ev['publicKey'] as string;
          resolve();
        } else if (typeof ev.id === 'number') {
          n.#waiting.get(ev.id)?.(ev);
          n.#waiting.delete(ev.id);
        }
      });
    });
    await ready;
    return n;
  }

  get pid(): number {
    return this.child.pid!;
  }

  #request(cmd: Record<string, unknown>): Promise<Reply> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.child.stdin!.write(`${JSON.stringify({ ...cmd, id })}\n`);
    });
  }

  async addPeer(endpoint: string, key: string, name: string): Promise<void> {
    const r = await this.#request({ cmd: 'addPeer', endpoint, key, name });
    if (r.type !== 'added') throw new Error(`addPeer failed: ${JSON.stringify(r)}`);
  }

  async status(): Promise<{ status: NodeStatus; peers: PeerInfo[] }> {
    const r = await this.#request({ cmd: 'status' });
    return { status: r['status'] as NodeStatus, peers: r['peers'] as PeerInfo[] };
  }

  /** `count` reliable messages of `size` bytes issued at once; how many were acknowledged. */
  async reliable(peer: string, count: number, size: number, timeoutMs: number): Promise<{ ok: number; failed: number; codes: Record<string, number> }> {
    const r = await this.#request({ cmd: 'flood', peer, size, count, reliable: true, timeoutMs });
    return { ok: r['ok'] as number, failed: r['failed'] as number, codes: r['codes'] as Record<string, number> };
  }

  async close(): Promise<void> {
    await stopChild(this.child);
  }
}

/** Resident set (VmRSS) of a process, sampled every `everyMs`; the peak and the last sample, in bytes. */
export class RssSampler {
  peak = 0;
  last = 0;
  readonly #timer: NodeJS.Timeout;
  constructor(readonly pid: number, everyMs = 25) {
    this.sample();
    this.#timer = setInterval(() => this.sample(), everyMs);
  }
  sample(): number {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${this.pid}/status`, 'utf8'));
      if (m) {
        this.last = Number(m[1]) * 1024;
        this.peak = Math.max(this.peak, this.last);
      }
    } catch {
      // the process has exited
    }
    return this.last;
  }
  stop(): void {
    clearInterval(this.#timer);
  }
}

/** CPU time (user + system) of a process so far, in ms (from /proc/PID/stat; clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

/**
 * Datagrams the kernel dropped at the receive queue of the UDP sockets bound to `port`, as the
 * process `pid` sees them (its own network namespace): the last column of /proc/PID/net/udp{,6}.
 */
export function kernelDrops(pid: number, port: number): number {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let drops = 0;
  for (const file of ['udp', 'udp6']) {
    let text = '';
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 12 && cols[1]!.endsWith(hex)) drops += Number(cols[cols.length - 1]);
    }
  }
  return drops;
}

/** The Udp line of /proc/PID/net/snmp (the process's namespace): InErrors, RcvbufErrors, MemErrors… */
export function udpSnmp(pid: number): Record<string, number> {
  try {
    const lines = fs.readFileSync(`/proc/${pid}/net/snmp`, 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
    const names = lines[0]!.split(/\s+/).slice(1);
    const values = lines[1]!.split(/\s+/).slice(1).map(Number);
    return Object.fromEntries(names.map((n, i) => [n, values[i]!]));
  } catch {
    return {};
  }
}

export interface FlooderArgs {
  port: number;
  target: string;
  pool: string[];
  responderStaticHex: string;
  mode: 'blind' | 'replies';
  sources: number;
  initsPerSecond: number;
  junkPerSecond: number;
  junkAddress: string;
  firstOctets: string;
  countReplies?: boolean;
}

export interface FlooderCounts {
  inits: number;
  junk: number;
  cookiesTaken: number;
  withMac2: number;
  repliesSeen: number;
  sendErrors: number;
  elapsedMs: number;
  cpuMs: number;
}

/** The attacker process (test/helpers/v4-flooder.cjs), inside namespace `ns` when given. */
export class Flooder {
  private constructor(
    readonly child: ChildProcess,
    readonly out: { text: string },
  ) {}

  static async start(args: FlooderArgs, ns?: string): Promise<Flooder> {
    const child = spawnIn(ns, [FLOODER, JSON.stringify(args)]);
    const out = { text: '' };
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out.text += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    for (let waited = 0; !out.text.includes('ready'); waited += 20) {
      if (child.exitCode !== null || waited > 30_000) throw new Error(`flooder failed: ${err}`);
      await sleep(20);
    }
    return new Flooder(child, out);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Stops it (SIGTERM) and returns what it sent and received. */
  async stop(): Promise<FlooderCounts> {
    if (this.child.exitCode === null) {
      const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.child.kill('SIGTERM');
      await exited;
    }
    const line = this.out.text.split('\n').find((l) => l.startsWith('{'));
    return (line ? JSON.parse(line) : {}) as FlooderCounts;
  }
}
