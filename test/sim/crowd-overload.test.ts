/**
 * A crowd coming up against a centre whose CPU is the bottleneck (issue 9 deliverable 5,
 * issue 12's 10,000-peer memory bench): simulated CPU cost per handshake message, exact counts.
 */
import { SimWorld } from './harness';
import { BusyCpu, HandshakeCount, bringUp, crowdAddress } from './crowd-cpu';
import { V4 } from '../../src/wire/handshake-v4';
import type { UdpVaultNode } from '../../src/node/types';

const N = Number(process.env['CROWD_N'] ?? 400);

describe('a crowd against a busy centre', () => {
  let w: SimWorld;
  beforeEach(() => {
    w = new SimWorld(13);
    w.net.setDefaultLink({ latencyMs: 1 });
  });
  afterEach(async () => {
    await w.closeAll();
    expect(w.scheduler.errors).toEqual([]);
  });

  test('probe', async () => {
    const cpu = new BusyCpu(w.scheduler, w.clock, { handshakeMs: Number(process.env['CROWD_HS_MS'] ?? 4), dataMs: 0.05, queueMax: 4000 });
    const centreCount = new HandshakeCount();
    const crowdCount = new HandshakeCount();
    const centre = await w.node('127.0.0.1', {}, (open) => centreCount.wrap(cpu.wrap(open)));
    const members: UdpVaultNode[] = [];
    for (let i = 0; i < N; i++) members.push(await w.node(crowdAddress(i), {}, (open) => crowdCount.wrap(open)));
    const r = await bringUp(w, centre, members, { chunk: Math.max(1, Math.round(N / 40)) * 10, maxMs: 300_000 });
    const stayed = await w.scheduler.runUntil(() => centre.peers().some((p) => p.state !== 'established'), 40_000);
    console.log(JSON.stringify({ N, upMs: r.upMs, unreachable: r.unreachableEvents, stayedUp: !stayed, cpuBusyMs: cpu.busyMs, maxWaiting: cpu.maxWaiting, overflow: cpu.overflow,
      centre: { init: centreCount.of(V4.ikInit), resp: centreCount.of(V4.ikResponse) }, crowd: { init: crowdCount.of(V4.ikInit), resp: crowdCount.of(V4.ikResponse) },
      drops: centre.status().counters.drops }));
  }, 600_000);
});
