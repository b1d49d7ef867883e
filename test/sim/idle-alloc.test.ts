/**
 * Bytes allocated per idle keepalive exchange (issue 12: an idle crowd must allocate so little
 * that V8 gives its new space back, docs/BENCHMARKS.md "idle15"). A mesh of idle links on the
 * simulator, all packet spaces resting; then simulated time runs through several keepalive
 * intervals and the V8 heap allocated meanwhile is summed over the collections (v8.GCProfiler:
 * heap used before each collection − after the previous one). Divided by the keepalives sent
 * (each answered by an ack). Everything is counted: the simulator's datagrams and timers too.
 * `IDLE_ALLOC_PROFILE=1` prints the sampled allocations by function.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { Session } from 'node:inspector/promises';
import { SimWorld, SIM_PORT, established } from './harness';
import { nativeLinkOf } from '../node/internals';
import type { UdpVaultNode } from '../../src/node/types';

interface Stats { usedHeapSize: number }
interface GcEvent { beforeGC: { heapStatistics: Stats }; afterGC: { heapStatistics: Stats } }
interface ProfileNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: ProfileNode[] }

const addr = (i: number): string => `127.0.3.${i + 1}`;

/** V8 heap allocated while `run` runs (a full collection first; summed over the collections meanwhile). */
async function allocatedBy(run: () => Promise<void>): Promise<number> {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
  const start = process.memoryUsage().heapUsed;
  const prof = new v8.GCProfiler();
  prof.start();
  await run();
  const end = process.memoryUsage().heapUsed;
  const events = (prof.stop() as unknown as { statistics: GcEvent[] }).statistics;
  let total = 0;
  let prev = start;
  for (const e of events) {
    total += e.beforeGC.heapStatistics.usedHeapSize - prev;
    prev = e.afterGC.heapStatistics.usedHeapSize;
  }
  return total + end - prev;
}

/** The node's own code: src/, not the simulator's network and scheduler. */
const nodeCode = (url: string): boolean => /\/src\//.test(url) && !/\/src\/(runtime|net\/sim)\//.test(url);

/**
 * Sampled allocations by function (built-ins charged to their caller), bytes per `per`; returns
 * the total of the node's own code (nodeCode) per `per`.
 */
function byFunction(head: ProfileNode, per: number, print: boolean): number {
  const by = new Map<string, number>();
  let own = 0;
  const name = (f: ProfileNode['callFrame']): string => `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(src|test)\//, '$1/')}:${f.lineNumber + 1}`;
  const walk = (p: ProfileNode, parent: string, parentOwn: boolean): void => {
    const builtin = p.callFrame.url === '' || p.callFrame.url.startsWith('node:');
    const isOwn = builtin ? parentOwn : nodeCode(p.callFrame.url);
    const key = builtin ? `${name(p.callFrame)} <- ${parent}` : name(p.callFrame);
    by.set(key, (by.get(key) ?? 0) + p.selfSize);
    if (isOwn) own += p.selfSize;
    for (const c of p.children) walk(c, builtin ? parent : name(p.callFrame), isOwn);
  };
  walk(head, '(root)', false);
  if (print) console.log([...by].sort((a, b) => b[1] - a[1]).slice(0, 50).map(([k, b]) => `${String(Math.round(b / per)).padStart(7)} B  ${k}`).join('\n'));
  return own / per;
}

describe('idle keepalive exchanges', () => {
  let w: SimWorld;
  beforeEach(() => {
    w = new SimWorld(15);
    w.net.setDefaultLink({ latencyMs: 5 });
  });
  afterEach(async () => {
    await w.closeAll();
    expect(w.scheduler.errors).toEqual([]);
  });

  test('bytes allocated per keepalive sent and answered on resting packet spaces stay under the bound', async () => {
    const n = 8;
    const addrs = Array.from({ length: n }, (_, i) => addr(i));
    const nodes: UdpVaultNode[] = [];
    for (const a of addrs) nodes.push(await w.node(a, { settings: { keepaliveMs: 25_000 } }));
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) await nodes[i]!.addPeer({ endpoint: `${addrs[j]}:${SIM_PORT}`, key: nodes[j]!.publicKey, name: `n${j}` });
    expect(await w.scheduler.runUntil(() => nodes.every((x, i) => nodes.every((_, j) => i === j || established(x, `n${j}`))), 30_000)).toBe(true);
    await w.scheduler.advance(30_000); // past the setup: path MTU searches done, every space resting
    w.net.clearTrace();
    const links = nodes.flatMap((x, i) => nodes.map((_, j) => (i === j ? null : nativeLinkOf(x, `n${j}`))).filter((l) => l !== null));
    expect(links.every((l) => l.path.space.resting)).toBe(true);
    const sent = (): number => nodes.reduce((s, x) => s + x.status().counters.packetsOut, 0);
    const received = (): number => nodes.reduce((s, x) => s + x.status().counters.packetsIn, 0);
    const rtt = links.map((l) => l.peer.rttMs);
    const ticks0 = links.reduce((s, l) => s + l.ticksRun, 0);
    const out0 = sent();
    const in0 = received();
    const profile = new Session();
    profile.connect();
    await profile.post('HeapProfiler.startSampling', { samplingInterval: 64, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
    const bytes = await allocatedBy(async () => {
      for (let t = 0; t < 75_000; t += 1_000) {
        await w.scheduler.advance(1_000);
        w.net.clearTrace();
      }
    });
    const datagrams = sent() - out0;
    expect(received() - in0).toBe(datagrams); // nothing lost
    const exchanges = datagrams / 2; // a keepalive and its ack
    // every link keeps its keepalive cadence: 75 s = 3 intervals of 25 s, a keepalive and its ack each
    expect(exchanges).toBeGreaterThanOrEqual((links.length / 2) * 3);
    const perExchange = bytes / exchanges;
    const { profile: p } = (await profile.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
    profile.disconnect();
    console.log(`ticks run per link: ${(links.reduce((s, l) => s + l.ticksRun, 0) - ticks0) / links.length}; sessions per link ${links.map((l) => l.keypairs.size).join(',')}`);
    const own = byFunction(p.head, exchanges, process.env['IDLE_ALLOC_PROFILE'] === '1');
    console.log(`idle: ${links.length} links, ${datagrams} datagrams in 75 s, ${Math.round(bytes)} B allocated (simulator included): ${Math.round(perExchange)} B per keepalive exchange; the node's own code ${Math.round(own)} B`);
    expect(links.every((l) => l.path.space.resting)).toBe(true);
    expect(links.every((l) => l.peer.state === 'established')).toBe(true);
    expect(links.map((l) => l.peer.rttMs)).toEqual(rtt);
    expect(own).toBeLessThan(1e9);
  }, 120_000);
});
