/**
 * Parent side of scripts/netns-flow.ts: traffic agents inside namespaces — the competing TCP
 * flow (throughput every 100 ms), UDP agents (what source address a datagram arrived from),
 * and a UDP pinger through the bottleneck (queueing delay).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { spawn, type ChildProcess } from 'node:child_process';
import type { FlowArgs, FlowCommand, FlowEvent } from '../../../scripts/netns-flow';
import { stopChild } from './namespaces';
import { favoured, repoRoot, runAsync, waitFor } from './sys';

export const NETNS_FLOW_SCRIPT = path.join(repoRoot(), 'dist', 'scripts', 'netns-flow.js');

/**
 * `ip netns exec NS env K=V… node SCRIPT ARG` (ns null: this namespace): the environment
 * (libfaketime's LD_PRELOAD) reaches only the node process, not ip.
 */
export function nodeInNamespace(ns: string | null, script: string, arg: string, env: Record<string, string> = {}): ChildProcess {
  const cmd = ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), process.execPath, script, arg];
  const [c, args] = ns === null ? favoured(cmd[0]!, cmd.slice(1)) : favoured('ip', ['netns', 'exec', ns, ...cmd]);
  return spawn(c, args, { stdio: ['pipe', 'pipe', 'pipe'] });
}

export class FlowAgent {
  readonly child: ChildProcess;
  readonly events: FlowEvent[] = [];
  port = 0;
  #stderr = '';
  readonly #listeners = new Set<(ev: FlowEvent) => void>();
  #nextId = 1;

  private constructor(ns: string, args: FlowArgs) {
    this.child = nodeInNamespace(ns, NETNS_FLOW_SCRIPT, JSON.stringify(args));
    this.child.stderr!.on('data', (d: Buffer) => (this.#stderr += d.toString()));
    readline.createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const ev = JSON.parse(line) as FlowEvent;
      if (ev.type === 'ready') this.port = ev.port;
      else if (ev.type !== 'rtt' && ev.type !== 'tick') this.events.push(ev);
      for (const l of this.#listeners) l(ev);
    });
  }

  static async start(ns: string, args: FlowArgs, timeoutMs = 10_000): Promise<FlowAgent> {
    if (!fs.existsSync(NETNS_FLOW_SCRIPT)) throw new Error(`${NETNS_FLOW_SCRIPT} is missing: run "npm run build" first (npm test does)`);
    const a = new FlowAgent(ns, args);
    const exited = new Promise<never>((_, reject) => a.child.once('exit', (code) => reject(new Error(`netns-flow ${args.mode} in ${ns} exited (${String(code)}): ${a.#stderr.trim()}`))));
    exited.catch(() => undefined);
    try {
      await Promise.race([exited, waitFor(() => a.port !== 0, timeoutMs, `netns-flow ${args.mode} ready`)]);
    } catch (e) {
      await a.stop();
      throw e;
    }
    return a;
  }

  on(listener: (ev: FlowEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** UDP agents: sends text to host:port from the agent's socket. */
  async send(host: string, port: number, text: string): Promise<void> {
    const id = this.#nextId++;
    const done = new Promise<void>((resolve, reject) => {
      const off = this.on((ev) => {
        if (ev.type !== 'sent' || ev.id !== id) return;
        off();
        if (ev.error) reject(new Error(ev.error));
        else resolve();
      });
    });
    const c: FlowCommand = { cmd: 'send', id, host, port, text };
    this.child.stdin!.write(`${JSON.stringify(c)}\n`);
    await done;
  }

  received(): Array<Extract<FlowEvent, { type: 'recv' }>> {
    return this.events.filter((e): e is Extract<FlowEvent, { type: 'recv' }> => e.type === 'recv');
  }

  async stop(): Promise<void> {
    await stopChild(this.child);
  }
}

export interface Tick {
  /** Parent's Date.now() when the tick arrived. */
  at: number;
  ms: number;
  bytes: number;
}

/**
 * The competing TCP flow's congestion control in the tests and bench:path: Linux's default. Set
 * on the socket, since a namespace inherits the host's default (bbr on some machines).
 */
export const COMPETING_TCP_CC = 'cubic';

export const TCP_SOURCE_SCRIPT = path.join(repoRoot(), 'test', 'netns', 'bed', 'tcp_source.py');

/** tcp_source.py in `ns`: a TCP source with the given congestion control, ready once connected. */
async function startPySource(ns: string, host: string, port: number, cc: string, timeoutMs = 10_000): Promise<{ stop(): Promise<void> }> {
  const child = spawn(...favoured('ip', ['netns', 'exec', ns, 'python3', TCP_SOURCE_SCRIPT, host, String(port), cc]), { stdio: ['ignore', 'pipe', 'pipe'] });
  let ready = false;
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    if ((JSON.parse(line) as FlowEvent).type === 'ready') ready = true;
  });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`tcp_source.py (${cc}) in ${ns} exited (${String(code)}): ${stderr.trim()}`))));
  exited.catch(() => undefined);
  const stop = (): Promise<void> => stopChild(child);
  try {
    await Promise.race([exited, waitFor(() => ready, timeoutMs, `tcp_source.py (${cc}) connected`)]);
  } catch (e) {
    await stop();
    throw e;
  }
  return { stop };
}

export interface TcpSocketCounters {
  bytesSent: number;
  bytesRetrans: number;
  congestionControl: string;
}

/** A TCP flow from srcNs to dstHost (sink in dstNs), throughput sampled every 100 ms at the sink. */
export class TcpFlow {
  readonly ticks: Tick[] = [];
  readonly #sink: FlowAgent;
  readonly #source: { stop(): Promise<void> };

  readonly #srcNs: string;
  readonly #dst: string;

  private constructor(sink: FlowAgent, source: { stop(): Promise<void> }, srcNs: string, dst: string) {
    this.#sink = sink;
    this.#source = source;
    this.#srcNs = srcNs;
    this.#dst = dst;
  }

  /**
   * The source socket's own counters (`ss -ti` in its namespace): bytes sent and retransmitted,
   * and its congestion control — exact, where the bed's IP counters only approximate TCP's loss
   * (GSO/GRO merge headers). null when ss does not report them.
   */
  async socketCounters(): Promise<TcpSocketCounters | null> {
    const r = await runAsync('ip', ['netns', 'exec', this.#srcNs, 'ss', '-tinH', 'dst', this.#dst]);
    const sent = /bytes_sent:(\d+)/.exec(r.out);
    if (!r.ok || !sent) return null;
    const retrans = /bytes_retrans:(\d+)/.exec(r.out);
    const cc = /^\s*(\w+) wscale/m.exec(r.out);
    return { bytesSent: Number(sent[1]), bytesRetrans: Number(retrans?.[1] ?? 0), congestionControl: cc?.[1] ?? '?' };
  }

  /**
   * `congestionControl` (e.g. `cubic`): the source sets it on its socket (tcp_source.py);
   * without it, the source namespace's default — the host's, which may be `bbr`.
   */
  static async start(srcNs: string, dstNs: string, dstHost: string, port = 5201, congestionControl?: string): Promise<TcpFlow> {
    const sink = await FlowAgent.start(dstNs, { mode: 'tcp-sink', port });
    let source: { stop(): Promise<void> };
    try {
      source = congestionControl ? await startPySource(srcNs, dstHost, port, congestionControl) : await FlowAgent.start(srcNs, { mode: 'tcp-source', host: dstHost, port });
    } catch (e) {
      await sink.stop();
      throw e;
    }
    const flow = new TcpFlow(sink, source, srcNs, `${dstHost}:${port}`);
    sink.on((ev) => {
      if (ev.type === 'tick') flow.ticks.push({ at: Date.now(), ms: ev.ms, bytes: ev.bytes });
    });
    return flow;
  }

  /** Bytes per second over the ticks that arrived in [from, to] (parent clock). */
  rate(from: number, to: number): number {
    const sel = this.ticks.filter((t) => t.at >= from && t.at <= to);
    const ms = sel.reduce((s, t) => s + t.ms, 0);
    return ms > 0 ? (sel.reduce((s, t) => s + t.bytes, 0) * 1000) / ms : 0;
  }

  /** Rates (bytes/s) of consecutive windows of n ticks within [from, to]. */
  windowRates(from: number, to: number, n: number): number[] {
    const sel = this.ticks.filter((t) => t.at >= from && t.at <= to);
    const out: number[] = [];
    for (let i = 0; i + n <= sel.length; i += n) {
      const w = sel.slice(i, i + n);
      out.push((w.reduce((s, t) => s + t.bytes, 0) * 1000) / w.reduce((s, t) => s + t.ms, 0));
    }
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all([this.#source.stop(), this.#sink.stop()]);
  }
}

/** UDP probes every intervalMs from srcNs to an echo agent in dstNs; RTT samples with times. */
export class Pinger {
  readonly samples: Array<{ at: number; ms: number }> = [];
  readonly #echo: FlowAgent;
  readonly #ping: FlowAgent;

  private constructor(echo: FlowAgent, ping: FlowAgent) {
    this.#echo = echo;
    this.#ping = ping;
  }

  static async start(srcNs: string, dstNs: string, dstHost: string, intervalMs = 20, port = 7007): Promise<Pinger> {
    const echo = await FlowAgent.start(dstNs, { mode: 'udp', port, echo: true });
    let ping: FlowAgent;
    try {
      ping = await FlowAgent.start(srcNs, { mode: 'ping', host: dstHost, port, intervalMs, size: 64 });
    } catch (e) {
      await echo.stop();
      throw e;
    }
    const p = new Pinger(echo, ping);
    ping.on((ev) => {
      if (ev.type === 'rtt') p.samples.push({ at: Date.now(), ms: ev.ms });
    });
    return p;
  }

  between(from: number, to: number): number[] {
    return this.samples.filter((s) => s.at >= from && s.at <= to).map((s) => s.ms);
  }

  async stop(): Promise<void> {
    await Promise.all([this.#ping.stop(), this.#echo.stop()]);
  }
}

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
