/**
 * Ack thinning end to end (deterministic sim): a bulk reliable transfer over a fast path is
 * acknowledged by about one datagram per 10 (every 2nd before thinning), and the tail of the
 * transfer is not held for the 25 ms delayed-ack timer.
 */
import { SimWorld } from './harness';

const A = '10.9.0.1';
const B = '10.9.0.2';
/** 1 Gbit/s, 0.5 ms RTT, a 4 MiB queue: nothing is lost. */
const FAST = { latencyMs: 0.25, bandwidthBps: 1e9, queueBytes: 4 << 20 };

function bytesOf(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function bulk(size: number, count: number): Promise<{ ms: number; dataDatagrams: number; ackDatagrams: number }> {
  const w = new SimWorld(99);
  try {
    w.net.link(A, B, FAST);
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b);
    await w.scheduler.advance(1_000);
    w.net.clearTrace();
    const t0 = w.clock.monotonic();
    let done = 0;
    for (let i = 0; i < count; i++) void a.send('b', bytesOf(size, i), { reliable: true, timeoutMs: 60_000 }).then(() => done++);
    expect(await w.scheduler.runUntil(() => done === count, 60_000)).toBe(true);
    const ms = w.clock.monotonic() - t0;
    const ab = w.net.stats(A, B);
    const ba = w.net.stats(B, A);
    expect(ab.lost.count + ab.queueFull.count).toBe(0);
    return { ms, dataDatagrams: ab.delivered.count, ackDatagrams: ba.delivered.count };
  } finally {
    await w.closeAll();
  }
}

describe('reliable bulk acknowledgements on a fast path', () => {
  test('4,000 messages of 1 KiB: one ack datagram per ~10 data datagrams, done at the link rate', async () => {
    const r = await bulk(1024, 4000);
    console.log('1 KiB × 4000', JSON.stringify(r));
    expect(r.dataDatagrams).toBeGreaterThanOrEqual(4000);
    expect(r.dataDatagrams).toBeLessThan(4040); // no retransmissions: one datagram per message (+ a few controls)
    expect(r.ackDatagrams / r.dataDatagrams).toBeLessThan(0.15); // every 2nd packet acked would be 0.5
    expect(r.ms).toBeLessThan(50); // 5.6 MB at 1 Gbit/s ≈ 45 ms; a 25 ms delayed ack at the tail would show
  });

  test('16 messages of 256 KiB: one ack datagram per ~10 fragments', async () => {
    const r = await bulk(256 * 1024, 16);
    console.log('256 KiB × 16', JSON.stringify(r));
    expect(r.ackDatagrams / r.dataDatagrams).toBeLessThan(0.15);
    expect(r.ms).toBeLessThan(50);
  });
});
