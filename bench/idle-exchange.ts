/**
 * Bytes an idle peer allocates per keepalive exchange, with optimized code and little load noise
 * (issue 12, memalloc17): a star of `BENCH_LEAVES` (default 300) leaves around a centre, in one
 * process, the leaves sending keepalives and the centre only answering (its own interval 60 s,
 * restarted by its acks), as in the crowd measurement. Both sides of each exchange are counted:
 * a leaf's sending and the centre's answering.
 *
 * `BENCH_NET=sim` (default): on the simulated network (manual clock: the same datagrams whatever
 * the machine's load), keepalives every 25 s; after the setup and `BENCH_WARM_S` (default 135) s
 * of simulated idle time — long enough for V8 to optimize the idle path, and past the first
 * rekeys (120 s + jitter) — `BENCH_MEASURE_S` (default 100) s are measured. The simulator's
 * timers are its own (not Node's Timeouts) and its work is counted in the total.
 * `BENCH_NET=udp`: real sockets on loopback addresses and Node's timers, keepalives every 2 s
 * (the settings' floor is 1 s; a tick every 5 s then costs less per exchange than at 25 s),
 * `BENCH_WARM_S` (default 20) and `BENCH_MEASURE_S` (default 20) s of wall-clock time.
 *
 * Printed: the V8 heap allocated over the measured time (v8.GCProfiler: heap used before each
 * collection − after the previous one) per keepalive exchange (a keepalive and its ack), and,
 * sampled at constant intervals, the node's own code by function.
 * `node --expose-gc dist/bench/idle-exchange.js` after `npm run build`.
 */
import * as v8 from 'node:v8';
import { Session } from 'node:inspector/promises';
import type { UdpVaultNode } from '../src/index';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createNode } = require('../..') as typeof import('../src/index');
import { ManualClock } from '../src/runtime/clock';
import { ManualScheduler } from '../src/runtime/scheduler';
import { SeededRandom } from '../src/runtime/random';
import { SimNetwork } from '../src/net/sim/network';
import { crowdHost } from './protocol';

interface Stats { usedHeapSize: number }
interface GcEvent { beforeGC: { heapStatistics: Stats }; afterGC: { heapStatistics: Stats } }
interface ProfileNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: ProfileNode[] }

const PORT = 11000;
const udp = process.env['BENCH_NET'] === 'udp';
const leaves = Number(process.env['BENCH_LEAVES'] ?? 300);
const warmS = Number(process.env['BENCH_WARM_S'] ?? (udp ? 20 : 135));
const measureS = Number(process.env['BENCH_MEASURE_S'] ?? (udp ? 20 : 100));
const leafKeepaliveMs = udp ? 2_000 : 25_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The simulator and runtime seams (not the node's own code). */
const simCode = (url: string): boolean => /\/src\/(runtime|net\/sim)\//.test(url);
const nodeCode = (url: string): boolean => (/\/src\//.test(url) || /bundle(-body)?\.js$/.test(url)) && !simCode(url);

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  v8.setFlagsFromString('--sampling-heap-profiler-suppress-randomness');
  const clock = new ManualClock();
  const scheduler = new ManualScheduler(clock);
  const random = new SeededRandom(17);
  const net = new SimNetwork({ scheduler, random: random.fork(), trace: false });
  net.setDefaultLink({ latencyMs: 5 });
  const node = (address: string, keepaliveMs: number): Promise<UdpVaultNode> =>
    udp
      ? createNode({ port: 0, host: address, settings: { mtu: 1500, keepaliveMs } })
      : createNode({ port: PORT, host: address, settings: { mtu: 1500, keepaliveMs }, runtime: { clock, scheduler, random: random.fork(), openTransport: net.host(address).openTransport } });
  const addr = (i: number): string => (udp ? crowdHost(i) : `10.${(i >> 8) & 255}.${i & 255}.1`);
  const centre = await node(addr(0), 60_000);
  const crowd: UdpVaultNode[] = [];
  for (let i = 1; i <= leaves; i++) crowd.push(await node(addr(i), leafKeepaliveMs));
  for (let i = 0; i < leaves; i++) {
    await centre.addPeer({ endpoint: `${addr(i + 1)}:${crowd[i]!.port}`, key: crowd[i]!.publicKey, name: `n${i}` });
    await crowd[i]!.addPeer({ endpoint: `${addr(0)}:${centre.port}`, key: centre.publicKey, name: 'centre' });
  }
  const up = (): number => centre.peers().filter((p) => p.state === 'established').length;
  const advance = async (s: number): Promise<void> => {
    for (let t = 0; t < s; t += 5) await (udp ? sleep(5_000) : scheduler.advance(5_000));
  };
  if (udp) for (let t = 0; t < 60 && up() < leaves; t++) await sleep(1_000);
  else await scheduler.runUntil(() => up() === leaves, 60_000);
  if (up() < leaves) throw new Error(`${up()} of ${leaves} established`);
  const all = [centre, ...crowd];
  const sent = (): number => all.reduce((s, n) => s + n.status().counters.packetsOut, 0);
  await advance(warmS);
  const out0 = sent();
  const profile = new Session();
  profile.connect();
  await profile.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
  gc();
  const start = process.memoryUsage().heapUsed;
  const prof = new v8.GCProfiler();
  prof.start();
  await advance(measureS);
  const end = process.memoryUsage().heapUsed;
  const events = (prof.stop() as unknown as { statistics: GcEvent[] }).statistics;
  const { profile: p } = (await profile.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
  profile.disconnect();
  let total = 0;
  let prev = start;
  for (const e of events) {
    total += e.beforeGC.heapStatistics.usedHeapSize - prev;
    prev = e.afterGC.heapStatistics.usedHeapSize;
  }
  total += end - prev;
  const exchanges = (sent() - out0) / 2;
  const by = new Map<string, number>();
  let own = 0;
  let sim = 0;
  let sampled = 0;
  const name = (f: ProfileNode['callFrame']): string => `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(src|bench|dist)\//, '$1/')}:${f.lineNumber + 1}`;
  const walk = (n: ProfileNode, parent: string, parentKind: 0 | 1 | 2): void => {
    const builtin = n.callFrame.url === '' || n.callFrame.url.startsWith('node:');
    const kind: 0 | 1 | 2 = builtin ? parentKind : nodeCode(n.callFrame.url) ? 1 : simCode(n.callFrame.url) ? 2 : 0;
    sampled += n.selfSize;
    if (kind === 1) {
      own += n.selfSize;
      const key = builtin ? `${name(n.callFrame)} <- ${parent}` : name(n.callFrame);
      by.set(key, (by.get(key) ?? 0) + n.selfSize);
    } else if (kind === 2) sim += n.selfSize;
    for (const c of n.children) walk(c, builtin ? parent : name(n.callFrame), kind);
  };
  walk(p.head, '(root)', 0);
  const per = (b: number): string => String(Math.round(b / exchanges)).padStart(6);
  console.log(`idle star ${udp ? 'on loopback (real sockets and timers)' : 'on the simulator'}: ${leaves} leaves, keepalives every ${leafKeepaliveMs / 1000} s, ${exchanges} keepalive exchanges in ${measureS} s (after ${warmS} s warm), ${up()} established`);
  console.log(`  allocated per exchange (both sides, everything): ${per(total)} B; sampled: the node's own code ${per(own)} B, the simulator ${per(sim)} B, other ${per(sampled - own - sim)} B`);
  console.log('  the node\'s own code by function (B per exchange):');
  for (const [k, b] of [...by].sort((a, z) => z[1] - a[1]).slice(0, Number(process.env['BENCH_TOP'] ?? 30))) console.log(`  ${per(b)}  ${k}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
