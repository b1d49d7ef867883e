/**
 * The memory part of `npm run bench` on its own (issue 12, SPEC §8): RSS of an idle node, then
 * RSS and heap per idle peer at each peer count, each on a fresh centre (bench/extras.ts crowd()).
 * `node dist/bench/memory.js` after `npm run build`.
 *
 * Knobs: BENCH_PEERS (comma-separated peer counts, default "1000,10000"), BENCH_IDLE_MS (idle
 * time before RSS is read, default 30000: more than one 25 s keepalive), BENCH_SNAPSHOT (a path
 * prefix: heap snapshots of the centre idle and loaded are written there and the kinds of
 * objects that grew are printed, bytes per peer).
 *
 * First, one idle node's RSS 1 s after its start (what `npm run bench` reports) and 10 s after
 * it: V8 shrinks its new space once the allocation rate of the last seconds is low.
 */
import { crowd } from './extras';
import { BenchProcess, sleep } from './proc';
import { heapDiff, summarize } from './heap-summary';
import { shapesGrowth, smapsGrowth } from './smaps';
import type { Memory } from './protocol';

const MB = 1e6;

async function main(): Promise<void> {
  const counts = (process.env['BENCH_PEERS'] ?? '1000,10000').split(',').map((s) => Math.round(Number(s)));
  if (counts.some((n) => !Number.isFinite(n) || n < 1)) throw new Error('BENCH_PEERS: comma-separated positive peer counts');
  const idleMs = Number(process.env['BENCH_IDLE_MS'] ?? 30_000);
  const snapshot = process.env['BENCH_SNAPSHOT'];
  const log = (s: string): void => console.log(s);
  const [node] = await BenchProcess.start('udpvault');
  try {
    await sleep(1000);
    const early = await node.ask<Memory>({ cmd: 'rss' });
    await sleep(9000);
    const late = await node.ask<Memory>({ cmd: 'rss' });
    log(`one idle node: RSS ${(early.rss / MB).toFixed(1)} MB at 1 s (new space ${(early.newSpace / MB).toFixed(1)} MB), ${(late.rss / MB).toFixed(1)} MB at 10 s (new space ${(late.newSpace / MB).toFixed(1)} MB)`);
  } finally {
    await node.exit();
  }
  for (const peers of counts) {
    log(`${peers} idle peers, ${idleMs} ms idle`);
    const prefix = snapshot ? `${snapshot}-${peers}` : undefined;
    const c = await crowd(peers, idleMs, log, prefix ? { snapshotPrefix: prefix } : {});
    const slope = c.rssSlope === null ? '' : `, ${Math.round(c.rssSlope)} B from a tenth of the peers to all`;
    const mem = (m: Memory): string =>
      `${(m.rss / MB).toFixed(1)} MB (heap used ${(m.heapUsed / MB).toFixed(1)} MB of ${(m.heapCommitted / MB).toFixed(1)} MB committed, new space ${(m.newSpace / MB).toFixed(1)} MB; external ${(m.external / MB).toFixed(1)} MB)`;
    const ia = c.idleAlloc;
    const perPeer = (r: number): string => (r / Math.max(1, c.established)).toFixed(1);
    log(`  idle period: the centre allocated ${Math.round(ia.bytesPerSecond)} B/s (${perPeer(ia.bytesPerSecond)} B/s per peer), over its last two thirds ${Math.round(ia.steadyBytesPerSecond)} B/s (${perPeer(ia.steadyBytesPerSecond)} B/s per peer); new space ${(ia.newSpaceStart / MB).toFixed(1)} → ${(ia.newSpaceMid / MB).toFixed(1)} → ${(ia.newSpaceEnd / MB).toFixed(1)} MB`);
    log(`  RSS idle ${mem(c.idle)}`);
    log(`  RSS loaded ${mem(c.loaded)}`);
    const per = (a: number, b: number): number => Math.round((a - b) / Math.max(1, c.established));
    log(`  per peer (${c.established} of ${c.peers} established): RSS ${Math.round(c.rssPerPeer)} B${slope}; heap used ${Math.round(c.heapPerPeer)} B, heap committed ${per(c.loaded.heapCommitted, c.idle.heapCommitted)} B, external ${per(c.loaded.external, c.idle.external)} B`);
    log(`  centre's resident memory by mapping, idle → loaded: ${smapsGrowth(c.mapsIdle, c.mapsLoaded)}; per peer: [heap] ${per(c.mapsLoaded.heap, c.mapsIdle.heap)} B, anonymous ${per(c.mapsLoaded.anon, c.mapsIdle.anon)} B`);
    log(`  anonymous mappings by shape, idle → loaded: ${shapesGrowth(c.shapesIdle, c.shapesLoaded, c.established)}`);
    const sp = (m: Memory): string => Object.entries(m.spaces ?? {}).filter(([, v]) => v.committed > 0).map(([k, v]) => `${k} ${(v.used / MB).toFixed(1)}/${(v.committed / MB).toFixed(1)}`).join(', ');
    log(`  V8 spaces used/committed MB, idle: ${sp(c.idle)}; loaded: ${sp(c.loaded)}; V8's own malloc ${((c.idle.malloced ?? 0) / MB).toFixed(1)} → ${((c.loaded.malloced ?? 0) / MB).toFixed(1)} MB`);
    if (prefix) {
      const rows = heapDiff(summarize(`${prefix}-idle.heapsnapshot`), summarize(`${prefix}-${peers}.heapsnapshot`));
      log('  heap growth by kind (bytes per established peer, objects per peer):');
      for (const r of rows.slice(0, 30)) log(`    ${(r.bytes / c.established).toFixed(1).padStart(8)} B  ${(r.count / c.established).toFixed(2).padStart(6)}  ${r.kind}`);
    }
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
