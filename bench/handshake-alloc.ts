/**
 * Bytes allocated per handshake (issue 12: the setup's garbage is what grows and fragments the
 * V8 heap and glibc's malloc heap). In one process: a centre node and `BENCH_HANDSHAKES` (default
 * 300) nodes on their own loopback addresses, made first; then the centre adds them in chunks of
 * 50 and they add the centre (one IK handshake each, as in the crowd measurement). Allocation is
 * summed over the garbage collections of that phase with v8.GCProfiler (heap used before each
 * collection − after the previous one, and the same for external memory: ArrayBuffers' backing
 * stores), then divided by the handshakes. Both sides of each handshake are counted, and all the
 * work around it (gate, cookies, payload, session install, the first keepalive and its ack).
 * Also prints handshake times (centre addPeer → established, one at a time, after the crowd).
 * `node --expose-gc dist/bench/handshake-alloc.js` after `npm run build`.
 */
import { GCProfiler } from 'node:v8';
import type { UdpVaultNode } from '../src/index';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createNode } = require('../..') as typeof import('../src/index');
import { crowdHost } from './protocol';
import { smaps, smapsGrowth } from './smaps';
import { Session } from 'node:inspector/promises';

interface Stats {
  usedHeapSize: number;
  externalMemory: number;
}
interface GcEvent {
  beforeGC: { heapStatistics: Stats };
  afterGC: { heapStatistics: Stats };
}

const SETTINGS = { mtu: Number(process.env['BENCH_MTU'] ?? 1500) };

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/** Bytes allocated per handshake by function (self), largest first. */
function printProfile(head: ProfileNode, n: number): void {
  const by = new Map<string, number>();
  const name = (f: ProfileNode['callFrame']): string => `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/dist\//, '')}:${f.lineNumber + 1}`;
  // built-ins (slice, subarray, typed array constructors) are charged to their caller too
  const walk = (p: ProfileNode, parent: string): void => {
    const f = p.callFrame;
    const key = f.url === '' || f.url.startsWith('node:') ? `${name(f)} <- ${parent}` : name(f);
    by.set(key, (by.get(key) ?? 0) + p.selfSize);
    for (const c of p.children) walk(c, f.url === '' || f.url.startsWith('node:') ? parent : name(f));
  };
  walk(head, '(root)');
  for (const [k, b] of [...by].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${String(Math.round(b / n)).padStart(8)} B  ${k}`);
}

/** The Noise IK exchange alone (both sides, no I/O): CPU µs per handshake. */
async function noiseOnly(n: number): Promise<string> {
  await (require('../src/crypto/sodium') as typeof import('../src/crypto/sodium')).sodiumReady();
  const { IkInitiator, IkResponder } = require('../src/crypto/noise/ik') as typeof import('../src/crypto/noise/ik');
  const { noiseStaticFromIdentity } = require('../src/crypto/noise/common') as typeof import('../src/crypto/noise/common');
  const { identityFromSeed } = require('../src/crypto/identity') as typeof import('../src/crypto/identity');
  const { SeededRandom } = require('../src/runtime/random') as typeof import('../src/runtime/random');
  const random = new SeededRandom(1);
  const a = noiseStaticFromIdentity(identityFromSeed(random.bytes(32)));
  const b = noiseStaticFromIdentity(identityFromSeed(random.bytes(32)));
  const payload = (sessionId: number) => ({ timestamp: new Uint8Array(12).fill(1), wallClockMs: 1, sessionId, maxMessageBytes: 1 << 20, streamEpoch: 0 });
  const run = (k: number): number => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < k; i++) {
      const init = IkInitiator.start({ local: a, remoteIdentity: b.identity, payload: payload(1), random });
      const r = IkResponder.readInit({ local: b, message: init.message, random });
      const { message, result } = r.respond(payload(2));
      const mine = init.consumeResponse(message);
      mine.sendKey.fill(0);
      mine.recvKey.fill(0);
      result.sendKey.fill(0);
      result.recvKey.fill(0);
    }
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / k;
  };
  run(200); // warm-up
  return `Noise IK alone (both sides, 5 DH, no I/O): CPU ${run(n).toFixed(0)} µs per handshake`;
}

async function main(): Promise<void> {
  const n = Number(process.env['BENCH_HANDSHAKES'] ?? 300);
  const centre = await createNode({ port: 0, host: '127.0.0.1', settings: SETTINGS });
  const crowd: UdpVaultNode[] = [];
  for (let i = 0; i < n; i++) crowd.push(await createNode({ port: 0, host: crowdHost(i), settings: SETTINGS }));
  // One listener (peers() per event would be O(peers) of the bench's own allocation).
  const waiting = new Map<string, () => void>();
  centre.on('peer', (e) => {
    if (e.type === 'handshake' && e.peer.key) waiting.get(e.peer.key)?.();
  });
  const established = (_: UdpVaultNode, key: string): Promise<void> => new Promise((resolve) => waiting.set(key, resolve));
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const v8 = await import('node:v8');
  const start = v8.getHeapStatistics();
  const maps0 = smaps(process.pid);
  // BENCH_HEAP_PROFILE=n: also sample allocations (every n bytes, collected objects included)
  // and print the functions that allocated most, per handshake.
  const sampling = Number(process.env['BENCH_HEAP_PROFILE'] ?? 0);
  const inspector = sampling > 0 ? new Session() : null;
  if (inspector) {
    inspector.connect();
    await inspector.post('HeapProfiler.startSampling', { samplingInterval: sampling, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  }
  const profiler = new GCProfiler();
  profiler.start();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < n; i += 50) {
    const chunk = crowd.slice(i, i + 50);
    const up = Promise.all(chunk.map((c) => established(centre, c.publicKey)));
    for (const c of chunk) await centre.addPeer({ endpoint: `${crowdHost(crowd.indexOf(c))}:${c.port}`, key: c.publicKey });
    for (const c of chunk) await c.addPeer({ endpoint: `127.0.0.1:${centre.port}`, key: centre.publicKey });
    await up;
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (inspector) printProfile(((await inspector.post('HeapProfiler.stopSampling')) as { profile: { head: ProfileNode } }).profile.head, n);
  const end = v8.getHeapStatistics();
  const events = (profiler.stop() as unknown as { statistics: GcEvent[] }).statistics;
  let heap = 0;
  let external = 0;
  let prev = { usedHeapSize: start.used_heap_size, externalMemory: start.external_memory };
  for (const e of events) {
    heap += Math.max(0, e.beforeGC.heapStatistics.usedHeapSize - prev.usedHeapSize);
    external += Math.max(0, e.beforeGC.heapStatistics.externalMemory - prev.externalMemory);
    prev = e.afterGC.heapStatistics;
  }
  heap += Math.max(0, end.used_heap_size - prev.usedHeapSize);
  external += Math.max(0, end.external_memory - prev.externalMemory);
  gc?.();
  gc?.();
  const maps1 = smaps(process.pid);
  const after = v8.getHeapStatistics();
  console.log(`resident by mapping, before → after the handshakes (two forced collections): ${smapsGrowth(maps0, maps1)}; V8 malloced ${(start.malloced_memory / 1e6).toFixed(1)} → ${(after.malloced_memory / 1e6).toFixed(1)} MB (peak ${(after.peak_malloced_memory / 1e6).toFixed(1)}); external ${(start.external_memory / 1e6).toFixed(1)} → ${(after.external_memory / 1e6).toFixed(1)} MB`);
  console.log(`${n} handshakes in ${(ms / 1000).toFixed(1)} s (CPU ${((cpu.user + cpu.system) / n).toFixed(0)} µs per handshake, both sides, everything included), ${events.length} collections: allocated per handshake (both sides) ${Math.round(heap / n)} B of V8 heap, ${Math.round(external / n)} B external (ArrayBuffer backing stores)`);
  // Handshake time, one at a time: centre removes and re-adds a peer that already knows it.
  const times: number[] = [];
  for (const c of crowd.slice(0, Math.min(100, n))) {
    await centre.removePeer(c.publicKey);
    const t = performance.now();
    const up = established(centre, c.publicKey);
    await centre.addPeer({ endpoint: `${crowdHost(crowd.indexOf(c))}:${c.port}`, key: c.publicKey });
    await up;
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  console.log(`handshake (centre re-adds a known peer → established), ${times.length}: p50 ${times[times.length >> 1]!.toFixed(2)} ms, p90 ${times[Math.floor(times.length * 0.9)]!.toFixed(2)} ms`);
  await Promise.all([centre.close(), ...crowd.map((c) => c.close())]);
  console.log(await noiseOnly(2000));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
