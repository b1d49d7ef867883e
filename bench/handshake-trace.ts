/**
 * Where an in-process handshake's milliseconds go (issue 12, hs19): the pairs of `npm run bench`'s
 * "handshake, in-process pair" row (bench/roles/udpvault.ts pairs(): b adds a, then a adds b,
 * timed from a's addPeer to a's established session), each step of both nodes stamped with
 * performance.now() through a wrapped transport and the nodes' events: datagrams handed to the
 * socket (by type byte) and their send callbacks, datagrams received (before and after the node's
 * synchronous processing), 'peer' events, addPeer's call and resolution. Prints each pair's
 * timeline when BENCH_VERBOSE=1, and the p50 / p90 of every step's offset from a's addPeer over
 * `BENCH_HANDSHAKES` pairs (default 50).
 *
 * `node dist/bench/handshake-trace.js` (run it under the bench lock). `BENCH_PACKAGE=/work/wt/base`
 * traces another build (its package entry, as a user loads it) with the same harness.
 */
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import * as path from 'node:path';
import { UdpTransport } from '../src/net/udp-transport';
import { procFragmentCounter } from '../src/net/fragment-counter';
import type { OpenTransport, Transport } from '../src/net/transport';
import type { PeerEvent, UdpVaultNode } from '../src/index';
import { percentile } from './report';
import { established } from './roles/udpvault';

const TYPE_NAMES: Record<number, string> = { 0x41: 'ikInit', 0x42: 'ikResponse', 0x44: 'xx1', 0x47: 'cookieReply' };
const typeName = (b: number | undefined): string => (b === undefined ? '?' : (TYPE_NAMES[b] ?? `data(0x${b.toString(16)})`));

/** The package entry (package.json "main") of BENCH_PACKAGE, default this build's. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createNode } = require(path.resolve(process.env['BENCH_PACKAGE'] ?? path.join(__dirname, '..', '..'))) as typeof import('../src/index');

/** One pair's stamped steps, in order: `who` is 'a' or 'b'. */
type Step = { at: number; who: string; what: string };
let steps: Step[] = [];
const stamp = (who: string, what: string): void => {
  steps.push({ at: performance.now(), who, what });
};

/** UdpTransport with every send and receive stamped for `who`. */
function tracedTransport(who: () => string): OpenTransport {
  return async (o) => {
    const t: Transport = await UdpTransport.open({
      ...o,
      onMessage: (data, address, port) => {
        const kind = typeName(data[0]);
        stamp(who(), `recv ${kind}`);
        o.onMessage(data, address, port);
        stamp(who(), `recv ${kind} processed`);
      },
    });
    return {
      host: t.host,
      port: t.port,
      hasFamily: (f) => t.hasFamily(f),
      close: () => t.close(),
      send(parts, port, address, family, done) {
        const first = parts instanceof Uint8Array ? parts[0] : parts[0]?.[0];
        const kind = typeName(first);
        stamp(who(), `send ${kind}`);
        return t.send(parts, port, address, family, (err) => {
          stamp(who(), `sent ${kind}`);
          done?.(err);
        });
      },
    };
  };
}

async function open(name: string, host: string): Promise<UdpVaultNode> {
  const node = await createNode({ port: 0, host, settings: { mtu: 1500 }, runtime: { openTransport: tracedTransport(() => name), fragmentCounter: procFragmentCounter() } });
  node.on('peer', (e: PeerEvent) => stamp(name, `peer ${e.type} (${e.peer.state})`));
  return node;
}

async function main(): Promise<void> {
  const n = Math.max(1, Number(process.env['BENCH_HANDSHAKES'] ?? 50));
  const verbose = process.env['BENCH_VERBOSE'] === '1';
  const load0 = os.loadavg();
  const a = await open('a', '127.0.0.1');
  /** Offsets from a's addPeer of each step (named by node and its occurrence), over the pairs. */
  const offsets = new Map<string, Map<string, number[]>>();
  const totals: number[] = [];
  /** CPU time of the process (both nodes) from a's addPeer to a's session, per pair. */
  const cpuMs: number[] = [];
  /** Totals by who answered: a answered b's init (b initiated the session), or b answered a's. */
  const byAnswerer: Record<string, number[]> = { a: [], b: [], none: [] };
  for (let i = 0; i < n; i++) {
    const host = `127.0.1.${(i % 250) + 1}`;
    const b = await open('b', host);
    await b.addPeer({ endpoint: `127.0.0.1:${a.port}`, key: a.publicKey });
    steps = [];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    stamp('a', 'addPeer called');
    const up = established(a, b.publicKey);
    await a.addPeer({ endpoint: `${host}:${b.port}`, key: b.publicKey });
    stamp('a', 'addPeer resolved');
    await up;
    stamp('a', 'established (harness)');
    const total = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    cpuMs.push((cpu.user + cpu.system) / 1000);
    totals.push(total);
    const answerer = steps.find((s) => s.what === 'send ikResponse')?.who ?? 'none';
    byAnswerer[answerer]!.push(total);
    const table = offsets.get(answerer) ?? new Map<string, number[]>();
    offsets.set(answerer, table);
    // b's side completes a moment later at most: let its events land before the next pair.
    await new Promise((r) => setImmediate(r));
    const seen = new Map<string, number>();
    if (verbose) console.log(`pair ${i}: ${total.toFixed(3)} ms`);
    for (const s of steps) {
      const base = `${s.who}: ${s.what}`;
      const k = (seen.get(base) ?? 0) + 1;
      seen.set(base, k);
      const name = k > 1 ? `${base} #${k}` : base;
      const list = table.get(name) ?? [];
      list.push(s.at - t0);
      table.set(name, list);
      if (verbose) console.log(`  ${(s.at - t0).toFixed(3).padStart(8)}  ${name}`);
    }
    await a.removePeer(b.publicKey);
    await b.close();
  }
  await a.close();
  for (const [answerer, table] of offsets) {
    const rows = [...table.entries()].map(([name, xs]) => ({ name, xs, p50: percentile(xs, 50) })).sort((x, y) => x.p50 - y.p50);
    console.log(`pairs where ${answerer === 'none' ? 'nobody' : answerer} answered: step (offset from a's addPeer), p50 / p90 ms, pairs where it happened`);
    for (const r of rows) console.log(`${r.p50.toFixed(3).padStart(8)} / ${percentile(r.xs, 90).toFixed(3).padStart(8)}  ${String(r.xs.length).padStart(3)}  ${r.name}`);
  }
  const f = (xs: number[]): string => xs.map((v) => v.toFixed(2)).join(' / ');
  const p = (xs: number[]): string => (xs.length ? `p50 ${percentile(xs, 50).toFixed(3)} ms, p90 ${percentile(xs, 90).toFixed(3)} ms (n = ${xs.length})` : '–');
  console.log(`a answered b's init (3 one-way trips): ${p(byAnswerer['a']!)}; b answered a's (2 trips): ${p(byAnswerer['b']!)}; other: ${p(byAnswerer['none']!)}`);
  console.log(`CPU of the process from a's addPeer to a's session (both nodes): p50 ${percentile(cpuMs, 50).toFixed(3)} ms, p90 ${percentile(cpuMs, 90).toFixed(3)} ms`);
  console.log(`addPeer → established: p50 ${percentile(totals, 50).toFixed(3)} ms, p90 ${percentile(totals, 90).toFixed(3)} ms, p99 ${percentile(totals, 99).toFixed(3)} ms (n = ${n}); load ${f(load0)} → ${f(os.loadavg())}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
