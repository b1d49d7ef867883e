/**
 * Bytes allocated per idle keepalive exchange (issue 12: an idle crowd must allocate so little
 * that V8 gives its new space back, docs/BENCHMARKS-JOURNAL.md "idle15"). A mesh of idle links on the
 * simulator, all packet spaces resting; then simulated time runs through several keepalive
 * intervals and the V8 heap allocated meanwhile is summed over the collections (v8.GCProfiler:
 * heap used before each collection − after the previous one). Divided by the keepalives sent
 * (each answered by an ack). Everything is counted: the simulator's datagrams and timers too.
 * `IDLE_ALLOC_PROFILE=1` prints the node's own sampled allocations by function.
 *
 * Exact and load-proof (memalloc17; it failed once under load): the simulator is deterministic,
 * but V8 is not — TurboFan compiles on a background thread, so how much of the measured period
 * ran optimized code (which boxes fewer numbers) depended on the machine's load, and the heap
 * profiler samples at random intervals. This file runs with TurboFan off (`--no-opt`: the
 * interpreter and baseline code only, the same on every run) and constant sampling intervals
 * (`--sampling-heap-profiler-suppress-randomness`), both restored after it: the same figures on
 * every run, loaded or not, so the bounds sit just above what the code allocates.
 */
import { Session } from 'node:inspector/promises';
import { allocatedBy, exactAllocationFlags } from './heap-allocated';
import { SimWorld, SIM_PORT, established } from './harness';
import { nativeLinkOf } from '../node/internals';
import type { UdpVaultNode } from '../../src/node/types';

interface ProfileNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: ProfileNode[] }

const addr = (i: number): string => `127.0.3.${i + 1}`;

/** The node's own code: src/, not the simulator's network and scheduler. */
const nodeCode = (url: string): boolean => /\/src\//.test(url) && !/\/src\/(runtime|net\/sim)\//.test(url);
/** The packet space and its parts (packet-space*.ts, ack tracker, loss detector, sent history, controllers, pacer). */
const spaceCode = (url: string): boolean => /\/src\/delivery\/(reliable|congestion)\//.test(url);

/**
 * Sampled allocations by function (built-ins charged to their caller), bytes per `per`; returns
 * the total of the node's own code (nodeCode) per `per`.
 */
function byFunction(head: ProfileNode, per: number, print: boolean): { own: number; space: number } {
  const by = new Map<string, number>();
  const ownKeys = new Set<string>();
  let own = 0;
  let space = 0;
  const name = (f: ProfileNode['callFrame']): string => `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(src|test)\//, '$1/')}:${f.lineNumber + 1}`;
  const walk = (p: ProfileNode, parent: string, parentOwn: boolean, parentSpace: boolean): void => {
    const builtin = p.callFrame.url === '' || p.callFrame.url.startsWith('node:');
    // The node's tick loop (`for…of` over its links' Map every 100 ms) makes an iterator result
    // per link only in unoptimized code, which this file runs (TurboFan removes them in a daemon):
    // ~54 KB per exchange in the star, left out so the bounds see the keepalive path.
    // (The loop iterates the peer table's Set through PeerTable.values(): memheap17.)
    const tickLoop = builtin && (parent.startsWith('#onTick src/node/node.ts:') || parent.startsWith('values src/peer/table.ts:'));
    const isOwn = builtin ? parentOwn && !tickLoop : nodeCode(p.callFrame.url);
    const isSpace = builtin ? parentSpace : spaceCode(p.callFrame.url);
    if (isSpace) space += p.selfSize;
    const key = builtin ? `${name(p.callFrame)} <- ${parent}` : name(p.callFrame);
    by.set(key, (by.get(key) ?? 0) + p.selfSize);
    if (isOwn) {
      own += p.selfSize;
      ownKeys.add(key);
    }
    for (const c of p.children) walk(c, builtin ? parent : name(p.callFrame), isOwn, isSpace);
  };
  walk(head, '(root)', false, false);
  if (print) console.log([...by].filter(([k]) => ownKeys.has(k)).sort((a, b) => b[1] - a[1]).slice(0, 50).map(([k, b]) => `${String(Math.round(b / per)).padStart(7)} B  ${k}`).join('\n'));
  return { own: own / per, space: space / per };
}

describe('idle keepalive exchanges', () => {
  exactAllocationFlags();
  let w: SimWorld;
  beforeEach(() => {
    w = new SimWorld(15);
    w.net.setDefaultLink({ latencyMs: 5 });
  });
  afterEach(async () => {
    await w.closeAll();
    expect(w.scheduler.errors).toEqual([]);
  });

  /**
   * `pairs` of `n` nodes (keepalive interval per node) established, then 30 s for the setup's
   * path MTU searches and rests; then 75 s measured. Returns bytes per keepalive exchange (a
   * keepalive and its ack): everything (GC profile) and, sampled, the node's own code and the
   * packet space with its parts.
   */
  async function measure(n: number, keepaliveMs: (i: number) => number, pairs: [number, number][], sendersPerPair: 1 | 2): Promise<{ all: number; own: number; space: number }> {
    const addrs = Array.from({ length: n }, (_, i) => addr(i));
    const nodes: UdpVaultNode[] = [];
    for (let i = 0; i < n; i++) nodes.push(await w.node(addrs[i]!, { settings: { keepaliveMs: keepaliveMs(i) } }));
    for (const [i, j] of pairs) {
      await nodes[i]!.addPeer({ endpoint: `${addrs[j]}:${SIM_PORT}`, key: nodes[j]!.publicKey, name: `n${j}` });
      await nodes[j]!.addPeer({ endpoint: `${addrs[i]}:${SIM_PORT}`, key: nodes[i]!.publicKey, name: `n${i}` });
    }
    expect(await w.scheduler.runUntil(() => pairs.every(([i, j]) => established(nodes[i]!, `n${j}`) && established(nodes[j]!, `n${i}`)), 30_000)).toBe(true);
    await w.scheduler.advance(30_000); // past the setup: path MTU searches done, every space resting
    w.net.clearTrace();
    const links = pairs.flatMap(([i, j]) => [nativeLinkOf(nodes[i]!, `n${j}`), nativeLinkOf(nodes[j]!, `n${i}`)]);
    expect(links.every((l) => l.path.space.resting)).toBe(true);
    const sent = (): number => nodes.reduce((s, x) => s + x.status().counters.packetsOut, 0);
    const received = (): number => nodes.reduce((s, x) => s + x.status().counters.packetsIn, 0);
    const rtt = links.map((l) => l.peer.rttMs);
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
    // every pair keeps its keepalive cadence: 75 s = 3 intervals of 25 s, a keepalive and its ack each, per sending side
    expect(exchanges).toBe(pairs.length * 3 * sendersPerPair);
    const { profile: p } = (await profile.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
    profile.disconnect();
    const { own, space } = byFunction(p.head, exchanges, process.env['IDLE_ALLOC_PROFILE'] === '1');
    console.log(`idle: ${links.length} links, ${datagrams} datagrams in 75 s, ${Math.round(bytes)} B allocated (simulator included): ${Math.round(bytes / exchanges)} B per keepalive exchange; the node's own code ${Math.round(own)} B, of which the packet space and its parts ${Math.round(space)} B`);
    expect(links.every((l) => l.path.space.resting)).toBe(true);
    expect(links.every((l) => l.peer.state === 'established')).toBe(true);
    expect(links.map((l) => l.peer.rttMs)).toEqual(rtt);
    return { all: bytes / exchanges, own, space };
  }

  /*
   * Without TurboFan and with constant sampling the figures repeat to the byte from run to run,
   * loaded or not, for the same jest worker history (~3% apart when other files ran first in the
   * same worker: the bounds leave ~8%); Node 26.12 measures below Node 20 (star 11.1 / 1.15 KB, mesh 8.9 / 1.0 KB),
   * so the bounds hold on both.
   */

  test('bytes allocated per keepalive exchange, one side sending and the other answering (a star of 24 links)', async () => {
    // The centre's own keepalive (60 s) never falls due: its acks restart the interval.
    const leaves = Array.from({ length: 24 }, (_, i): [number, number] => [0, i + 1]);
    const r = await measure(25, (i) => (i === 0 ? 60_000 : 25_000), leaves, 1);
    // Measured (memalloc17, Node 20, unoptimized code: it boxes numbers a daemon's does not): the
    // packet space and its parts 1,159–1,273 B per exchange (main at 95e7d72: 1,438 B; the
    // sender making its parts again, before memrss16: ~5.9 KB), the node's own code 10,437–10,720 B
    // (main 14,493 B). Timers are the simulator's here (src/runtime), so the link's re-armed Node
    // Timeout does not show. After merging memheap17 (19:25; the idle controller state read from a
    // shared frozen record, gaps kept at rest): the packet space 1,504 B, own code 11,300 B — the
    // record's numbers are boxed when read in unoptimized code. pack19 (the resting space folded
    // into one array of numbers between exchanges, made again at the exchange: −320 B of heap per
    // idle link): the packet space 4,137 B, own code 14,931 B (of which the fold and the wake
    // ~3.2 KB here, each number read from the record boxed in unoptimized code).
    // mem20 (the record folded again into the array it was made from; the limiter at rest): the packet
    // space 3,488 B, own code 14,169 B.
    expect(r.space).toBeLessThan(3_800);
    expect(r.own).toBeLessThan(15_300);
  }, 120_000);

  test('bytes allocated per keepalive exchange in a mesh (both sides of each link send theirs in step)', async () => {
    const pairs: [number, number][] = [];
    for (let i = 0; i < 8; i++) for (let j = i + 1; j < 8; j++) pairs.push([i, j]);
    const r = await measure(8, () => 25_000, pairs, 2);
    // Both sides send their own keepalive on the light path; measured (memalloc17, Node 20) the
    // node's own code 8,993–9,079 B per exchange (main at 95e7d72: 12,428 B), the packet space
    // 1,399 B (main 1,763 B). After merging memheap17 (19:25): own code 9,688 B, the packet space
    // 1,821 B (see the star's note). pack19 (folded between exchanges): own code 11,153 B, the
    // packet space 3,097 B.
    // mem20: own code 10,639 B, the packet space 2,742 B.
    expect(r.own).toBeLessThan(11_500);
    expect(r.space).toBeLessThan(3_000);
  }, 120_000);

  test('both sides of a keepalive exchange stay resting: the keepalive sent and its ack taken in the idle record, the answer recorded and acknowledged there', async () => {
    // a sends its keepalives every 25 s; b only answers within the 30 s looked at (its own every 60 s)
    const a = await w.node(addr(0), { settings: { keepaliveMs: 25_000 } });
    const b = await w.node(addr(1), { settings: { keepaliveMs: 60_000 } });
    await w.pair(a, b);
    await w.scheduler.advance(3_000);
    const la = nativeLinkOf(a, 'b');
    const lb = nativeLinkOf(b, 'a');
    expect([la.path.space.resting, lb.path.space.resting]).toEqual([true, true]);
    const view = (n: UdpVaultNode): unknown => {
      const p = n.peers()[0]!;
      return [p.state, p.congestionWindowBytes, p.bytesInFlight, p.pathMtuBytes, p.pathMtuSearching, p.lostPackets];
    };
    const before = [view(a), view(b)];
    const outA = a.status().counters.packetsOut;
    const outB = b.status().counters.packetsOut;
    const inA = a.status().counters.packetsIn;
    let aWoke = false;
    let bWoke = false;
    for (let t = 0; t < 30_000; t += 50) {
      await w.scheduler.advance(50);
      if (!la.path.space.resting) aWoke = true;
      if (!lb.path.space.resting) bWoke = true;
    }
    expect(a.status().counters.packetsOut - outA).toBe(1); // the keepalive
    expect(b.status().counters.packetsOut - outB).toBe(1); // its ack
    expect(a.status().counters.packetsIn - inA).toBe(1);
    // the sender tracks its keepalive in the idle record (the light path: probe timeout, RTT
    // sample; memrss16) and the answer made nothing again: neither side made its parts
    expect(aWoke).toBe(false);
    expect(bWoke).toBe(false);
    expect([la.path.space.resting, lb.path.space.resting]).toEqual([true, true]);
    expect([view(a), view(b)]).toEqual(before);
    // the ack came back: nothing is unanswered on a's side, and a's RTT sample is fresh (5 ms each way)
    expect(la.timers.unansweredSinceMs).toBeNull();
    expect(la.path.space.rtt.latestMs).toBeGreaterThanOrEqual(10);
    expect(la.path.space.rtt.latestMs).toBeLessThan(40);
  });
});
