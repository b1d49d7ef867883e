/**
 * The datagrams of a fast reliable flood, both ways (ack20, exact: seeded sim, manual clock). The
 * receiver's delivery acks ride in its packet-ack datagrams, which makes them ack-eliciting; the
 * sender acknowledged every 2nd of them with a lone ack datagram of its own (2,393 here: 3% of its
 * datagrams). It now acknowledges them in its next data datagram (PacketSpace.onPacketReceived's
 * `delayable`, only while its own flow is paced at ≥ 5 datagrams/ms).
 */
import { SimWorld, bytesOf, messages } from './harness';

const A = '10.9.0.1';
const B = '10.9.0.2';
/** Loopback-like: 10 Gbit/s, 0.5 ms RTT, a 4 MiB queue: nothing is lost. */
const FAST = { latencyMs: 0.25, bandwidthBps: 1e10, queueBytes: 4 << 20 };

test('loopback-like reliable flood, 1 KiB at 128,000/s for 0.6 s: one datagram per message from the sender, acks of delivery acks ride on data', async () => {
  const w = new SimWorld(99);
  try {
    w.net.link(A, B, FAST);
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b);
    await w.scheduler.advance(1_000);
    const got = messages(b);
    w.net.clearTrace();
    const bodies = Array.from({ length: 64 }, (_, i) => bytesOf(1024, i + 1)); // incompressible
    let sent = 0;
    let resolved = 0;
    const deliveredAtResolve: number[] = [];
    for (let t = 0; t < 600; t++) {
      for (let i = 0; i < 128; i++) {
        const n = sent++;
        void a.send('b', bodies[n % 64]!, { reliable: true, timeoutMs: 60_000 }).then(() => {
          resolved++;
          deliveredAtResolve.push(got.length - n); // > 0: the receiver had message n when its promise resolved
        });
      }
      await w.scheduler.advance(1);
    }
    await w.scheduler.advance(200);
    const ab = w.net.stats(A, B);
    const ba = w.net.stats(B, A);
    expect(ab.lost.count + ab.queueFull.count + ba.lost.count + ba.queueFull.count).toBe(0);
    // every message once, in order, every promise resolved after the receiver had its message
    expect([got.length, resolved]).toEqual([76_800, 76_800]);
    expect(got.every((m, k) => Buffer.from(m.data).equals(Buffer.from(bodies[k % 64]!)))).toBe(true);
    expect(deliveredAtResolve.every((d) => d > 0)).toBe(true);
    // before ack20: 79,194 from the sender (2,393 lone acks of delivery-ack datagrams) and 4,846 from the receiver
    expect([ab.delivered.count, ba.delivered.count]).toEqual([76_801, 4_846]);
  } finally {
    await w.closeAll();
  }
}, 120_000);
