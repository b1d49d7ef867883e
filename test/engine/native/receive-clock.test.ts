/**
 * One clock read per received data datagram (issue 12): the global limiter, the engine, the
 * replay window, the peer limiter, the packet layer and the frame's freshness share the
 * monotonic read dispatch.ts makes; the wall clock comes from it (engine/native/wall-clock.ts;
 * a ManualClock's wall clock is read once per datagram, the system clock's ~once per ms).
 */
import { SimWorld, messages } from '../../sim/harness';
import type { OpenTransport } from '../../../src/net/transport';
import { TYPE_DATA } from '../../../src/constants';

const A = '127.0.0.2';
const B = '127.0.0.3';

test('a data datagram costs the receiving node exactly one monotonic and one wall-clock read, delivered or refused as a replay', async () => {
  const w = new SimWorld(16);
  w.net.link(A, B, { latencyMs: 5 });
  const reads = { mono: 0, wall: 0 };
  const mono = w.clock.monotonic.bind(w.clock);
  const wall = w.clock.now.bind(w.clock);
  w.clock.monotonic = (): number => (reads.mono++, mono());
  w.clock.now = (): number => (reads.wall++, wall());
  // The manual scheduler reads the clock to place a timer (the system scheduler's setTimeout
  // does not): not the node's read.
  const timeout = w.scheduler.timeout.bind(w.scheduler);
  w.scheduler.timeout = (fn, ms) => {
    const m = reads.mono;
    const t = timeout(fn, ms);
    reads.mono = m;
    return t;
  };
  const perDatagram: Array<[number, number]> = [];
  let last: Buffer | null = null;
  let handler: ((d: { data: Buffer; address: string; port: number }) => void) | null = null;
  const counting = (open: OpenTransport): OpenTransport => async (o) =>
    open({
      ...o,
      onMessage: (d) => {
        handler = o.onMessage;
        if (d.data[0] !== TYPE_DATA) return o.onMessage(d);
        last = Buffer.from(d.data); // a copy: the node decrypts its datagram in place
        const before = { ...reads };
        o.onMessage(d);
        perDatagram.push([reads.mono - before.mono, reads.wall - before.wall]);
      },
    });
  const a = await w.node(A);
  const b = await w.node(B, {}, counting);
  await w.pair(a, b);
  const got = messages(b);
  perDatagram.length = 0;
  for (let i = 0; i < 20; i++) void a.send('b', w.random.bytes(1000)); // incompressible: one message per datagram
  expect(await w.scheduler.runUntil(() => got.length === 20, 5_000)).toBe(true);
  expect(perDatagram.length).toBeGreaterThanOrEqual(20);
  expect(perDatagram.filter(([m, n]) => m !== 1 || n !== 1)).toEqual([]);
  // A replay of the last one: refused before decryption, with the same one read.
  const replays = b.status().counters.drops.replay ?? 0;
  perDatagram.length = 0;
  const from = b.peers()[0]!.endpoint.split(':');
  const before = { ...reads };
  handler!({ data: last!, address: from[0]!, port: Number(from[1]) });
  expect([reads.mono - before.mono, reads.wall - before.wall]).toEqual([1, 0]); // refused before the frame: no wall clock needed
  expect(b.status().counters.drops.replay).toBe(replays + 1);
  await w.closeAll();
});
