/**
 * A receiver that reads its datagrams in batches, as a busy or descheduled process does on a
 * real socket (rel22): dgram runs each datagram's `message` callback with a microtask checkpoint
 * after it, so a packet ack that fell due by count used to be flushed after that datagram — one
 * ack datagram per `ackEveryPackets` of the batch, each without the delivery ack (that one is
 * built once per I/O phase). The packet ack now waits for the end of the phase too
 * (ReliableDelivery.packetAckAfterPhase): one ack datagram per batch, carrying both.
 * Exact: seeded sim, manual clock.
 */
import type { OpenTransport } from '../../src/net/transport';
import { SimWorld, bytesOf, messages } from './harness';

const A = '10.9.0.1';
const B = '10.9.0.2';
/** Loopback-like: 10 Gbit/s, 0.5 ms RTT, a 4 MiB queue: nothing is lost. */
const FAST = { latencyMs: 0.25, bandwidthBps: 1e10, queueBytes: 4 << 20 };

/** Holds B's datagrams and hands them over in one batch per simulated ms, each followed by a microtask checkpoint (as dgram does). */
class Batches {
  #held: (() => void)[] = [];
  /** Held from now on (before: handed over at once, as the sim delivers). */
  on = false;
  /** Datagrams handed over per release() (the batches' sizes). */
  readonly sizes: number[] = [];
  wrap = (open: OpenTransport): OpenTransport => async (o) =>
    open({
      ...o,
      onMessage: (data, address, port) => {
        if (this.on) this.#held.push(() => o.onMessage(data, address, port));
        else o.onMessage(data, address, port);
      },
    });
  async release(): Promise<void> {
    const batch = this.#held.splice(0);
    if (batch.length > 0) this.sizes.push(batch.length);
    for (const f of batch) {
      f();
      await new Promise((r) => setImmediate(r)); // every microtask the callback queued runs (the node's flush); not the manual scheduler's immediates
    }
  }
}

test('a batch read at once is acknowledged by one ack datagram (packet ack and delivery ack together), not one per ackEveryPackets of it', async () => {
  const w = new SimWorld(99);
  try {
    w.net.link(A, B, FAST);
    const batches = new Batches();
    const a = await w.node(A);
    const b = await w.node(B, {}, batches.wrap);
    await w.pair(a, b);
    await w.scheduler.advance(1_000);
    const got = messages(b);
    w.net.clearTrace();
    batches.on = true;
    const body = bytesOf(1024, 7);
    let resolved = 0;
    for (let t = 0; t < 200; t++) {
      for (let i = 0; i < 64; i++) void a.send('b', body, { reliable: true, timeoutMs: 60_000 }).then(() => void resolved++);
      await batches.release();
      await w.scheduler.advance(1);
    }
    for (let t = 0; t < 100; t++) {
      await batches.release();
      await w.scheduler.advance(1);
    }
    const ab = w.net.stats(A, B);
    const ba = w.net.stats(B, A);
    expect(ab.lost.count + ab.queueFull.count + ba.lost.count + ba.queueFull.count).toBe(0);
    expect([got.length, resolved]).toEqual([12_800, 12_800]);
    // B read its datagrams in 201 batches (64 a ms once the window opened); one ack datagram per batch at most.
    // B read its datagrams in 201 batches (slow start: 14, 28, 56, 112, 110, then 64 a ms); 200 ack datagrams, at most
    // one per batch. Acks flushed per datagram (before rel22): 873, and slow start 14, 28, 40, 68, 119, 115.
    expect([batches.sizes.length, batches.sizes.slice(0, 6), Math.max(...batches.sizes.slice(6))]).toEqual([201, [14, 28, 56, 112, 110, 64], 64]);
    expect([ab.delivered.count, ba.delivered.count]).toEqual([12_801, 200]);
  } finally {
    await w.closeAll();
  }
});
