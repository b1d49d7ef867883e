/**
 * Memory of idle peers (issue 12, SPEC §8): heap per established, idle link on the simulated
 * network (keepalives only), and the per-peer state that exists only while it is used —
 * handshake material after the handshake, the reliable wait queue, the sent-packet ring.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { SimWorld, SIM_PORT, established } from './harness';
import { nativeLinkOf } from '../node/internals';
import type { UdpVaultNode } from '../../src/node/types';

/** A full garbage collection (jest runs without --expose-gc: the flag is set at run time). */
function fullGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** Heap in use after two full collections. */
function heapAfterGc(gc: () => void): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const addr = (i: number): string => `127.0.2.${i + 1}`;

describe('idle peers', () => {
  let w: SimWorld;
  beforeEach(() => {
    w = new SimWorld(12);
    w.net.setDefaultLink({ latencyMs: 5 });
  });
  afterEach(async () => {
    await w.closeAll();
    expect(w.scheduler.errors).toEqual([]);
  });

  test('heap per established idle link (a mesh of 20 nodes: 380 links, 30 s of keepalives) stays under its bound', async () => {
    const gc = fullGc();
    const n = 20;
    const all: UdpVaultNode[] = [];
    for (let i = 0; i < n; i++) all.push(await w.node(addr(i), { settings: { handshakeBurstPerIp: 500, handshakesPerSecondPerIp: 500 } }));
    await w.scheduler.advance(1_000);
    w.net.clearTrace(); // the simulator's record of every datagram is not the nodes' memory
    const before = heapAfterGc(gc);
    if (process.env['MEM12_SNAP']) v8.writeHeapSnapshot('/tmp/mem12/sim-before.heapsnapshot');
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) if (i !== j) await all[i]!.addPeer({ endpoint: `${addr(j)}:${SIM_PORT}`, key: all[j]!.publicKey, name: `n${j}` });
    }
    const allUp = (): boolean => all.every((x, i) => all.every((_, j) => i === j || established(x, `n${j}`)));
    expect(await w.scheduler.runUntil(allUp, 30_000)).toBe(true);
    await w.scheduler.advance(30_000); // idle: keepalives only (every 25 s)
    expect(all.every((x) => x.peers().every((p) => p.state === 'established'))).toBe(true);
    w.net.clearTrace();
    const perLink = (heapAfterGc(gc) - before) / (n * (n - 1));
    if (process.env['MEM12_SNAP']) v8.writeHeapSnapshot('/tmp/mem12/sim-after.heapsnapshot');
    console.log(`heap per idle link: ${Math.round(perLink)} B`);
    expect(perLink).toBeLessThan(100_000);
  }, 120_000);
});
