/**
 * A reliable send's promise settles on the peer's delivery acknowledgement, never before, on a
 * lossy simulated path (10% loss each way, manual clock): every message is delivered exactly once
 * and in order, lost datagrams are retransmitted, and when a send resolves its message is
 * already in the receiver's hands. Guards reliable.ts's receive hook (controls, items and `r`
 * read by index) and the send's body/flags without a tuple (issue 12, rel19).
 */
import { SimWorld, messages } from './harness';

/** Seeded incompressible bytes (xorshift), `seed` also the message number. */
function noise(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = (seed + 1) * 2654435761;
  for (let k = 0; k < n; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[k] = x & 0xff;
  }
  return b;
}

/** Message i: incompressible, its number in the first 4 bytes. */
function body(i: number): Buffer {
  const b = noise(700, i);
  b.writeUInt32BE(i, 0);
  return b;
}

const A = '127.0.0.2';
const B = '127.0.0.3';

test('300 reliable sends over 10% loss: delivered once each, in order; each promise resolved only after its delivery', async () => {
  const w = new SimWorld(19);
  w.net.link(A, B, { latencyMs: 5, loss: 0.1 });
  const a = await w.node(A);
  const b = await w.node(B);
  await w.pair(a, b);
  const got = messages(b);
  const deliveredAtResolve: number[] = [];
  const early: number[] = [];
  const N = 300;
  for (let i = 0; i < N; i++) {
    void a.send('b', body(i), { reliable: true }).then(() => {
      const seen = got.some((m) => Buffer.from(m.data).readUInt32BE(0) === i);
      if (!seen) early.push(i);
      deliveredAtResolve.push(i);
    });
    if (i % 25 === 24) await w.scheduler.advance(10);
  }
  expect(await w.scheduler.runUntil(() => deliveredAtResolve.length === N, 60_000)).toBe(true);
  expect(early).toEqual([]); // no promise resolved before the receiver had its message
  expect(got.map((m) => Buffer.from(m.data).readUInt32BE(0))).toEqual(Array.from({ length: N }, (_, i) => i)); // once each, in order
  expect(got.every((m, i) => Buffer.from(m.data).equals(body(i)))).toBe(true); // intact
  expect(a.peers()[0]!.lostPackets).toBeGreaterThan(0); // the path lost datagrams: retransmission carried them
  await w.closeAll();
  expect(w.scheduler.errors).toEqual([]);
});
