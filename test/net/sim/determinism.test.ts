import type { TraceEntry } from '../../../src/net/sim';
import type { Transport } from '../../../src/net/transport';
import { makeNet, open } from './harness';

const A = '127.0.0.1';
const B = '127.0.0.2';
const C = '127.0.10.3';

/**
 * A scenario using every random feature of a link, a NAT with a rebind, a partition and cross
 * traffic, with echoes (so delivery order feeds back into sends).
 */
async function run(seed: number): Promise<{ trace: TraceEntry[]; got: string[] }> {
  const { net, sched } = makeNet(seed);
  const a = await open(net, sched, A, 1111);
  const c = await open(net, sched, C, 3333);
  // B echoes every datagram with its first byte incremented.
  let bt: Transport | null = null;
  bt = await net.host(B).openTransport({
    host: B,
    port: 2222,
    onMessage: (data, address, port) => {
      const echo = Buffer.from(data);
      echo[0] = (echo[0]! + 1) & 0xff;
      bt!.send(echo, port, address, 4);
    },
    onError: () => undefined,
  });
  net.link(A, B, { latencyMs: 20, jitterMs: 8, loss: 0.1, duplicate: 0.05, reorder: 0.1, bandwidthBps: 2_000_000, queueBytes: 20_000, mtu: 1500 });
  net.setDefaultLink({ latencyMs: 30, jitterMs: 10, loss: 0.05, reorder: 0.05 });
  net.nat(C, { publicAddress: '127.0.20.3', portBase: 30_000 });
  const cross = net.crossTraffic(A, B, { rateBps: 500_000, packetBytes: 1000 });
  for (let i = 0; i < 200; i++) {
    const d = Buffer.alloc(100 + ((i * 37) % 1400));
    d.writeUInt32BE(i, 1);
    a.t.send(d, 2222, B, 4);
    if (i % 4 === 0) c.t.send(d.subarray(0, 50), 2222, B, 4);
    if (i === 100) net.rebind(C);
    if (i === 120) net.partition(A, B, true);
    if (i === 140) net.partition(A, B, false);
    if (i % 20 === 19) await sched.advance(3);
  }
  await sched.advance(2000);
  cross.stop();
  const got = [...a.got, ...c.got].map((g) => `${g.atMs}:${g.address}:${g.port}:${g.data.readUInt32BE(1)}`);
  return { trace: [...net.trace], got };
}

describe('SimNetwork determinism', () => {
  test('the same seed and the same sends give an identical trace; another seed a different one', async () => {
    const one = await run(42);
    const two = await run(42);
    const other = await run(43);
    // The scenario exercised every fate but noListener.
    const fates = new Set(one.trace.map((e) => e.fate));
    expect([...fates].sort()).toEqual(['delivered', 'duplicated', 'filtered', 'lost', 'partitioned', 'queueFull', 'tooBig']);
    expect(one.trace.filter((e) => e.from === `${B}:2222`).length).toBeGreaterThan(20);
    expect(one.got.length).toBeGreaterThan(20);
    expect(two.trace).toEqual(one.trace);
    expect(two.got).toEqual(one.got);
    expect(other.trace).not.toEqual(one.trace);
    expect(other.got).not.toEqual(one.got);
  });
});
