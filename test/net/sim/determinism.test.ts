import type { TraceEntry } from '../../../src/net/sim';
import { makeNet, open } from './harness';

/** A scenario using every random feature of a link, with replies (so delivery order feeds back into sends). */
async function run(seed: number): Promise<{ trace: TraceEntry[]; got: string[] }> {
  const { net, sched } = makeNet(seed);
  const a = await open(net, sched, '127.0.0.1', 1111);
  const b = await open(net, sched, '127.0.0.2', 2222);
  net.link('127.0.0.1', '127.0.0.2', {
    latencyMs: 20,
    jitterMs: 8,
    loss: 0.1,
    duplicate: 0.05,
    reorder: 0.1,
    bandwidthBps: 2_000_000,
    queueBytes: 20_000,
    mtu: 1500,
  });
  const got: string[] = [];
  // b echoes every datagram with its first byte incremented.
  const bt = b.t;
  const origPush = b.got.push.bind(b.got);
  b.got.push = (...items) => {
    for (const d of items) {
      const echo = Buffer.from(d.data);
      echo[0] = (echo[0]! + 1) & 0xff;
      bt.send(echo, d.port, d.address, 4);
    }
    return origPush(...items);
  };
  for (let i = 0; i < 200; i++) {
    const d = Buffer.alloc(100 + ((i * 37) % 1400));
    d.writeUInt32BE(i, 1);
    a.t.send(d, 2222, '127.0.0.2', 4);
    if (i % 20 === 19) await sched.advance(3);
  }
  await sched.advance(2000);
  for (const g of a.got) got.push(`${g.atMs}:${g.data.readUInt32BE(1)}`);
  return { trace: [...net.trace], got };
}

describe('SimNetwork determinism', () => {
  test('the same seed and the same sends give an identical trace; another seed a different one', async () => {
    const one = await run(42);
    const two = await run(42);
    const other = await run(43);
    // The scenario exercised every fate a link can decide.
    const fates = new Set(one.trace.map((e) => e.fate));
    expect([...fates].sort()).toEqual(['delivered', 'duplicated', 'lost', 'queueFull', 'tooBig']);
    expect(one.trace.filter((e) => e.from === '127.0.0.2:2222').length).toBeGreaterThan(20);
    expect(one.got.length).toBeGreaterThan(20);
    expect(two.trace).toEqual(one.trace);
    expect(two.got).toEqual(one.got);
    expect(other.trace).not.toEqual(one.trace);
    expect(other.got).not.toEqual(one.got);
  });
});
