/**
 * `npm run bench`: udpvault between two processes on loopback, side by side with a raw dgram
 * sender/receiver pair in the same run (the ceiling). Prints a table and writes
 * docs/BENCHMARKS.md. Throughput = messages (or datagrams) received per second at the receiver.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createNode } from '../src/node/node';
import type { UdpVaultNode } from '../src/node/types';
import { generateIdentity } from '../src/crypto/identity';

const DURATION_MS = Number(process.env.BENCH_MS ?? 3000);
const WARMUP_MS = 500;
const BATCH = 64;

class Worker {
  #p: ChildProcess;
  #waiters: Array<(m: Record<string, unknown>) => void> = [];
  #early: Array<Record<string, unknown>> = [];
  constructor(role: string) {
    this.#p = fork(path.join(__dirname, 'worker.js'), [role], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#p.on('message', (m) => {
      const w = this.#waiters.shift();
      if (w) w(m as Record<string, unknown>);
      else this.#early.push(m as Record<string, unknown>);
    });
  }
  next(): Promise<Record<string, unknown>> {
    const m = this.#early.shift();
    if (m) return Promise.resolve(m);
    return new Promise((r) => this.#waiters.push(r));
  }
  cmd(m: object): void {
    this.#p.send(m);
  }
  async ask(m: object): Promise<Record<string, unknown>> {
    const r = this.next();
    this.cmd(m);
    return r;
  }
  exit(): void {
    this.cmd({ cmd: 'exit' });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a sender against a receiver for DURATION_MS after a warm-up; returns per-second figures. */
async function measure(recv: Worker, send: Worker, blast: object): Promise<{ perSec: number; bytesPerSec: number }> {
  send.cmd({ cmd: 'blast', batch: BATCH, ...blast });
  await sleep(WARMUP_MS);
  recv.cmd({ cmd: 'count' });
  const t0 = performance.now();
  await sleep(DURATION_MS);
  const r = await recv.ask({ cmd: 'report' });
  const secs = (performance.now() - t0) / 1000;
  await send.ask({ cmd: 'stop' });
  await sleep(300);
  return { perSec: (r['count'] as number) / secs, bytesPerSec: (r['bytes'] as number) / secs };
}

async function rawPair(): Promise<[Worker, Worker, number]> {
  const recv = new Worker('raw-recv');
  const send = new Worker('raw-send');
  const port = (await recv.next())['port'] as number;
  await send.next();
  return [recv, send, port];
}

async function uvPair(): Promise<[Worker, Worker, number]> {
  const recv = new Worker('uv-recv');
  const send = new Worker('uv-send');
  const r = await recv.next();
  const s = await send.next();
  await recv.ask({ cmd: 'peer', port: s['port'], key: s['key'] });
  await send.ask({ cmd: 'peer', port: r['port'], key: r['key'] });
  const hs = (await send.ask({ cmd: 'wait' }))['ms'] as number;
  await recv.ask({ cmd: 'wait' });
  return [recv, send, hs];
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

async function handshakeTimes(n: number): Promise<number[]> {
  const out: number[] = [];
  const a = await createNode({ port: 0, host: '127.0.0.1' });
  for (let i = 0; i < n; i++) {
    const b: UdpVaultNode = await createNode({ port: 0, host: '127.0.0.1' });
    await b.addPeer({ endpoint: `127.0.0.1:${a.port}`, key: a.publicKey });
    const t0 = performance.now();
    await a.addPeer({ endpoint: `127.0.0.1:${b.port}`, key: b.publicKey });
    while (a.peers().find((p) => p.key === b.publicKey)?.state !== 'established') await new Promise((r) => setImmediate(r));
    out.push(performance.now() - t0);
    await a.removePeer(b.publicKey);
    await b.close();
  }
  await a.close();
  return out;
}

async function memory(): Promise<{ idleMb: number; peersMb: number }> {
  const w = new Worker('uv-recv');
  await w.next();
  await sleep(300);
  const idle = (await w.ask({ cmd: 'rss' }))['rss'] as number;
  w.exit();
  // 1,000 peers in one daemon: keys of real identities, endpoints on loopback ports nobody serves
  const node = await createNode({ port: 0, host: '127.0.0.1', settings: { handshakesPerSecondPerIp: 5000, handshakeBurstPerIp: 5000 } });
  const keys = Array.from({ length: 1000 }, () => generateIdentity().keyString);
  const before = process.memoryUsage().rss;
  for (let i = 0; i < 1000; i++) await node.addPeer({ endpoint: `127.0.0.1:${20000 + i}`, key: keys[i]! });
  await sleep(1000);
  const after = process.memoryUsage().rss;
  await node.close();
  return { idleMb: idle / 1e6, peersMb: (idle + (after - before)) / 1e6 };
}

async function main(): Promise<void> {
  const rows: Array<[string, string, string, string]> = [];
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const results: Record<string, number> = {};

  for (const size of [64, 1024]) {
    const [rr, rs, rport] = await rawPair();
    const raw = await measure(rr, rs, { size, port: rport });
    rr.exit();
    rs.exit();
    const [ur, us] = await uvPair();
    const uv = await measure(ur, us, { size });
    ur.exit();
    us.exit();
    results[`raw${size}`] = raw.perSec;
    results[`uv${size}`] = uv.perSec;
    rows.push([`${size} B, datagram mode`, `${fmt(raw.perSec)} dgram/s`, `${fmt(uv.perSec)} msg/s`, `${(uv.perSec / raw.perSec).toFixed(2)}×`]);
  }
  {
    const [ur, us] = await uvPair();
    const rel = await measure(ur, us, { size: 1024, reliable: true, inflight: 4096 });
    ur.exit();
    us.exit();
    rows.push(['1 KiB, reliable', `${fmt(results['raw1024']!)} dgram/s`, `${fmt(rel.perSec)} msg/s`, `${(rel.perSec / results['raw1024']!).toFixed(2)}×`]);
    const [br, bs] = await uvPair();
    const big = await measure(br, bs, { size: 256 * 1024, reliable: true, inflight: 8, batch: 1 });
    br.exit();
    bs.exit();
    rows.push(['256 KiB, reliable (fragmented)', `${(results['raw1024']! * 1024 / 1e6).toFixed(1)} MB/s (raw 1 KiB)`, `${(big.bytesPerSec / 1e6).toFixed(1)} MB/s`, `${(big.bytesPerSec / (results['raw1024']! * 1024)).toFixed(2)}×`]);
  }
  const hs = await handshakeTimes(30);
  const [pr, ps, crossHs] = await uvPair();
  const rtt = (await ps.ask({ cmd: 'ping', n: 2000 }))['rtts'] as number[];
  pr.exit();
  ps.exit();
  const mem = await memory();

  const table = [
    '| workload | raw dgram | udpvault | ratio |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
  const extra = [
    '| measure | value |',
    '|---|---|',
    `| handshake (one round trip, in-process pair) p50 / p99 | ${pct(hs, 50).toFixed(2)} ms / ${pct(hs, 99).toFixed(2)} ms |`,
    `| handshake between two processes (peer add → session, first contact) | ${crossHs.toFixed(2)} ms |`,
    `| message round trip, 64 B, p50 / p99 | ${(pct(rtt, 50) * 1000).toFixed(0)} µs / ${(pct(rtt, 99) * 1000).toFixed(0)} µs |`,
    `| daemon RSS idle | ${mem.idleMb.toFixed(1)} MB |`,
    `| daemon RSS with 1,000 peers | ${mem.peersMb.toFixed(1)} MB |`,
  ].join('\n');
  const env = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${os.platform()} ${os.release()}; ${DURATION_MS} ms per workload after ${WARMUP_MS} ms warm-up, batches of ${BATCH} sends per event-loop turn.`;
  console.log(`\n${table}\n\n${extra}\n\n${env}\n`);
  const out = path.join(__dirname, '..', '..', 'docs', 'BENCHMARKS.md');
  const doc = fs.readFileSync(out, 'utf8');
  const start = doc.indexOf('<!-- results -->');
  const end = doc.indexOf('<!-- /results -->');
  if (start >= 0 && end > start) {
    fs.writeFileSync(out, `${doc.slice(0, start)}<!-- results -->\n${table}\n\n${extra}\n\n${env}\n${doc.slice(end)}`);
    console.log(`written to ${path.relative(process.cwd(), out)}`);
  }
  process.exit(0);
}

void main();
