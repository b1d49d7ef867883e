/**
 * Parent side of scripts/netns-node.ts: a node started inside a network namespace with
 * `ip netns exec NS node dist/scripts/netns-node.js`, driven over JSON lines.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { spawn, type ChildProcess } from 'node:child_process';
import { stopChild } from './netns';
import { repoRoot } from '../netns/bed/sys';
import type { NetnsNodeArgs, NetnsNodeCommand, NetnsNodeEvent } from '../../scripts/netns-node';
import type { NodeStatus, PeerInfo } from '../../src/node/types';

/** Built by `npm run build`; found from test/helpers (jest) and from dist/test/helpers (the bench). */
export const NETNS_NODE_SCRIPT = path.join(repoRoot(), 'dist', 'scripts', 'netns-node.js');

export interface ReceivedMessage {
  peer: string;
  addr: string;
  data: Buffer;
  reliable: boolean;
}

/** A message reported by a digest-mode node: length, first 8 bytes (hex), sha256 prefix. */
export interface ReceivedDigest {
  peer: string;
  addr: string;
  reliable: boolean;
  length: number;
  head: string;
  sha: string;
}

export type FloodResult = Omit<Extract<NetnsNodeEvent, { type: 'flooded' }>, 'type' | 'id'>;

export interface StartOptions {
  timeoutMs?: number;
  /** Extra environment for the node process only (e.g. libfaketime's). */
  env?: Record<string, string>;
}

export interface SendResult {
  ok: boolean;
  code?: string;
  message?: string;
}

type Reply = Extract<NetnsNodeEvent, { id: number | null }>;
type CommandBody<C extends NetnsNodeCommand['cmd']> = Omit<Extract<NetnsNodeCommand, { cmd: C }>, 'cmd' | 'id'>;

export class NetnsNode {
  readonly child: ChildProcess;
  readonly ns: string;
  readonly host: string;
  port = 0;
  publicKey = '';
  mtu = 0;
  maxDatagramBytes = 0;
  /** Every message received, in arrival order. */
  readonly received: ReceivedMessage[] = [];
  /** Every message received by a digest-mode node, in arrival order. */
  readonly digests: ReceivedDigest[] = [];
  /** Errors the node reported outside a command. */
  readonly errors: string[] = [];
  #nextId = 1;
  #waiting = new Map<number, { resolve: (ev: Reply) => void; reject: (e: Error) => void }>();
  #stderr = '';
  #exited: Error | null = null;

  private constructor(ns: string, args: NetnsNodeArgs, env: Record<string, string>) {
    this.ns = ns;
    this.host = args.host;
    const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    this.child = spawn('ip', ['netns', 'exec', ns, 'env', ...envArgs, process.execPath, NETNS_NODE_SCRIPT, JSON.stringify(args)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => (this.#stderr += d.toString()));
  }

  /** Starts the node and waits for its 'ready' line. */
  static async start(ns: string, args: NetnsNodeArgs, o: StartOptions = {}): Promise<NetnsNode> {
    if (!fs.existsSync(NETNS_NODE_SCRIPT)) throw new Error(`${NETNS_NODE_SCRIPT} is missing: run "npm run build" first (npm test does)`);
    const n = new NetnsNode(ns, args, o.env ?? {});
    try {
      await n.#listen(o.timeoutMs ?? 15_000);
    } catch (e) {
      await n.stop();
      throw e;
    }
    return n;
  }

  #listen(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node in ${this.ns} not ready within ${timeoutMs} ms: ${this.#stderr.trim()}`)), timeoutMs);
      const lines = readline.createInterface({ input: this.child.stdout!, crlfDelay: Infinity });
      lines.on('line', (line) => {
        const ev = JSON.parse(line) as NetnsNodeEvent;
        switch (ev.type) {
          case 'ready':
            Object.assign(this, { port: ev.port, publicKey: ev.publicKey, mtu: ev.mtu, maxDatagramBytes: ev.maxDatagramBytes });
            clearTimeout(timer);
            resolve();
            return;
          case 'message':
            this.received.push({ peer: ev.peer, addr: ev.addr, data: Buffer.from(ev.base64, 'base64'), reliable: ev.reliable });
            return;
          case 'digest':
            this.digests.push({ peer: ev.peer, addr: ev.addr, reliable: ev.reliable, length: ev.length, head: ev.head, sha: ev.sha });
            return;
          default: {
            const w = ev.id === null ? undefined : this.#waiting.get(ev.id);
            if (!w) {
              if (ev.type === 'error') this.errors.push(`${ev.code}: ${ev.message}`);
              return;
            }
            this.#waiting.delete(ev.id!);
            w.resolve(ev);
          }
        }
      });
      this.child.on('exit', (code, signal) => {
        clearTimeout(timer);
        this.#exited = new Error(`node in ${this.ns} exited (${String(code ?? signal)}): ${this.#stderr.trim()}`);
        reject(this.#exited);
        for (const w of this.#waiting.values()) w.reject(this.#exited);
        this.#waiting.clear();
      });
    });
  }

  #request(cmd: NetnsNodeCommand['cmd'], body: object): Promise<Reply> {
    if (this.#exited) return Promise.reject(this.#exited);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.child.stdin!.write(`${JSON.stringify({ cmd, id, ...body })}\n`);
    });
  }

  async addPeer(o: CommandBody<'addPeer'>): Promise<PeerInfo> {
    const ev = await this.#request('addPeer', o);
    if (ev.type === 'error') throw new Error(`addPeer in ${this.ns}: ${ev.code}: ${ev.message}`);
    if (ev.type !== 'added') throw new Error(`unexpected reply ${ev.type}`);
    return ev.peer;
  }

  /** Resolves with the outcome of the send (never rejects for a failed send). */
  async send(peer: string, data: Uint8Array, o: { reliable?: boolean; timeoutMs?: number } = {}): Promise<SendResult> {
    const ev = await this.#request('send', { peer, data: Buffer.from(data).toString('base64'), ...o });
    if (ev.type === 'error') return { ok: false, code: ev.code, message: ev.message };
    if (ev.type !== 'sent') throw new Error(`unexpected reply ${ev.type}`);
    return { ok: ev.ok, ...(ev.code !== undefined ? { code: ev.code } : {}), ...(ev.message !== undefined ? { message: ev.message } : {}) };
  }

  /** Runs a flood (see scripts/netns-node.ts); resolves when every send settled. Returns the flood id too. */
  async flood(o: CommandBody<'flood'>): Promise<FloodResult & { floodId: number }> {
    const floodId = this.#nextId;
    const ev = await this.#request('flood', o);
    if (ev.type === 'error') throw new Error(`flood in ${this.ns}: ${ev.code}: ${ev.message}`);
    if (ev.type !== 'flooded') throw new Error(`unexpected reply ${ev.type}`);
    return { floodId, attempted: ev.attempted, ok: ev.ok, failed: ev.failed, codes: ev.codes, elapsedMs: ev.elapsedMs };
  }

  async status(): Promise<{ status: NodeStatus; peers: PeerInfo[] }> {
    const ev = await this.#request('status', {});
    if (ev.type !== 'status') throw new Error(`unexpected reply ${ev.type}`);
    return { status: ev.status, peers: ev.peers };
  }

  /** Closes stdin (the node closes and exits), then SIGTERM, then SIGKILL. */
  async stop(): Promise<void> {
    await stopChild(this.child);
  }
}

export async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Starts a node on each side and pins each other's keys; resolves once both sessions are established. */
export async function startPair(nsA: string, hostA: string, nsB: string, hostB: string, settings: NetnsNodeArgs['settings'] = {}): Promise<[NetnsNode, NetnsNode]> {
  const [a, b] = await Promise.all([NetnsNode.start(nsA, { host: hostA, settings }), NetnsNode.start(nsB, { host: hostB, settings })]);
  try {
    await a.addPeer({ endpoint: `${hostB}:${b.port}`, key: b.publicKey, name: 'b' });
    await b.addPeer({ endpoint: `${hostA}:${a.port}`, key: a.publicKey, name: 'a' });
    const established = async (n: NetnsNode): Promise<boolean> => (await n.status()).peers[0]?.state === 'established';
    await waitUntil(async () => (await established(a)) && (await established(b)), 10_000, 'both sessions established');
  } catch (e) {
    await Promise.all([a.stop(), b.stop()]);
    throw e;
  }
  return [a, b];
}
