/**
 * A path MTU round hands its probes over one per event-loop turn (hs19, issue 12): each probe's
 * send is bracketed by two fragment-counter reads and the next waits for its send callback;
 * chained in one turn, a round (~4 probes) held up every datagram the process had to read
 * meanwhile — in one process, the confirmation of the session that started the search. Counted
 * with the simulator's immediates (a turn boundary): the probes of a round go in distinct turns,
 * at the same simulated time as before (one burst), and the search finds the same size.
 */
import { createNode } from '../../src/node/node';
import type { UdpVaultNode } from '../../src/node/types';
import { SIM_PORT, SimWorld } from './harness';

const A = '10.19.0.1';
const B = '10.19.0.2';

test('a round of four probes: one per turn, one simulated instant, 1472 found one round trip later', async () => {
  const w = new SimWorld(1919);
  try {
    w.net.link(A, B, { latencyMs: 10, bandwidthBps: 10_000_000, queueBytes: 64 * 1024 });
    /** Immediates the scheduler ran so far: the turn a datagram was handed over in. */
    let turn = 0;
    const immediate = w.scheduler.immediate.bind(w.scheduler);
    w.scheduler.immediate = (fn) =>
      immediate(() => {
        turn++;
        fn();
      });
    const probes: Array<{ turn: number; at: number; size: number }> = [];
    const node = async (address: string): Promise<UdpVaultNode> => {
      const host = w.net.host(address);
      const n = await createNode({
        port: SIM_PORT,
        host: address,
        settings: { mtu: 1500 },
        runtime: {
          clock: w.clock, scheduler: w.scheduler, random: w.random.fork(), fragmentCounter: host.fragmentCounter,
          openTransport: async (o) => {
            const t = await host.openTransport(o);
            return {
              host: t.host,
              port: t.port,
              hasFamily: (f) => t.hasFamily(f),
              close: () => t.close(),
              send(parts, port, addr, family, done) {
                const size = parts instanceof Uint8Array ? parts.length : parts.reduce((s, p) => s + p.length, 0);
                if (address === A && size > 1200) probes.push({ turn, at: w.clock.monotonic(), size });
                return t.send(parts, port, addr, family, done);
              },
            };
          },
        },
      });
      w.nodes.push(n);
      return n;
    };
    const a = await node(A);
    const b = await node(B);
    await w.pair(a, b);
    expect(await w.scheduler.runUntil(() => a.peers()[0]!.pathMtuBytes === 1472, 1_000)).toBe(true);
    expect(probes.map((p) => p.size)).toEqual([1472, 1464, 1392, 1252]);
    expect(new Set(probes.map((p) => p.at)).size).toBe(1); // one burst in simulated time
    for (let i = 1; i < probes.length; i++) expect(probes[i]!.turn).toBeGreaterThan(probes[i - 1]!.turn); // one probe per turn
  } finally {
    await w.closeAll();
  }
}, 60_000);
