/**
 * The RTT estimate of a datagram-mode receiver (rtt21; deterministic sim). Such a receiver sends
 * only packet acks, so its samples come from its RTT probes alone (rtt-probe.ts: a keepalive in
 * an ack frame that goes anyway, at most one per 8 smoothed RTTs within 25 ms … 1 s). The busy
 * sender acknowledges a probe at once on its next data datagram (a reported ack delay of ~0),
 * so each sample is the path's RTT at that moment, queue included. On loopback (two processes
 * on two shared cores) the receiver's srtt read 3.5–61 ms against a ~1 ms path: a descheduled
 * sender is a queue of tens of ms, a probe that meets it is one sample of that size, and the
 * estimate then decays by 1/8 of the gap per probe while the probes themselves come every
 * 8 srtt — one long stall costs seconds of an inflated srtt. This pins that down on a trace.
 */
import { SimWorld, bytesOf } from './harness';
import type { UdpVaultNode } from '../../src/node/types';
import type { OpenTransport } from '../../src/net/transport';

const A = '10.9.0.1';
const B = '10.9.0.2';
/** 1 Gbit/s, 0.5 ms RTT, a 4 MiB queue: nothing is lost. */
const FAST = { latencyMs: 0.25, bandwidthBps: 1e9, queueBytes: 4 << 20 };

/**
 * A transport whose reception can be slowed (a receiver starved of CPU: its socket buffer fills):
 * while `perMs` is set, at most that many held datagrams are handed over per tick, in order.
 */
class Throttle {
  #held: (() => void)[] = [];
  perMs: number | null = null;
  wrap = (open: OpenTransport): OpenTransport => async (o) =>
    open({
      ...o,
      onMessage: (data, address, port) => {
        if (this.perMs !== null || this.#held.length > 0) this.#held.push(() => o.onMessage(data, address, port));
        else o.onMessage(data, address, port);
      },
    });
  /** One simulated ms: hand over the next `perMs` held datagrams (all of them when not slowed). */
  tick(): void {
    const n = this.perMs ?? this.#held.length;
    for (const f of this.#held.splice(0, n)) f();
  }
  get backlog(): number {
    return this.#held.length;
  }
}

interface Trace {
  /** [ms since the flood began, the receiver's srtt] at each change (one per RTT sample that moved it). */
  receiver: [number, number][];
  /** [ms, the sender's srtt, the receiver's backlog] every 100 ms. */
  sender: [number, number, number][];
  delivered: number;
  /** The receiver's datagrams (acks) during the run. */
  acks: number;
}

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * 32 datagram-mode messages of 1 KiB per simulated ms for `ms`; over [slowAt, slowAt + slowMs)
 * the receiver takes only `perMs` datagrams per ms (its backlog builds up, then drains at once).
 */
async function run(w: SimWorld, a: UdpVaultNode, b: UdpVaultNode, th: Throttle, ms: number, slowAt: number, slowMs: number, perMs: number): Promise<Trace> {
  let delivered = 0;
  b.on('message', () => void delivered++);
  const bodies = Array.from({ length: 64 }, (_, i) => bytesOf(1024, i + 1));
  const t: Trace = { receiver: [], sender: [], delivered: 0, acks: 0 };
  w.net.clearTrace();
  let last: number | null = null;
  for (let m = 0; m < ms; m++) {
    if (m === slowAt) th.perMs = perMs;
    if (m === slowAt + slowMs) th.perMs = null;
    for (let i = 0; i < 32; i++) a.send('b', bodies[i % 64]!).catch(() => undefined);
    th.tick();
    await w.scheduler.advance(1);
    const s = b.peers()[0]!.srttMs ?? null;
    if (s !== null && s !== last) t.receiver.push([m, r3(s)]);
    last = s;
    if (m % 100 === 99) t.sender.push([m + 1, r3(a.peers()[0]!.srttMs ?? 0), th.backlog]);
  }
  for (let m = 0; m < 200; m++) {
    th.tick();
    await w.scheduler.advance(1);
  }
  t.delivered = delivered;
  t.acks = w.net.stats(B, A).delivered.count;
  return t;
}

describe('a datagram-mode receiver’s RTT estimate', () => {
  let w: SimWorld;
  beforeEach(() => {
    w = new SimWorld(99);
  });
  afterEach(async () => {
    await w.closeAll();
    expect(w.scheduler.errors).toEqual([]);
  });

  async function pair(th: Throttle): Promise<[UdpVaultNode, UdpVaultNode]> {
    w.net.link(A, B, FAST);
    const a = await w.node(A);
    const b = await w.node(B, {}, th.wrap);
    await w.pair(a, b);
    await w.scheduler.advance(1_000);
    return [a, b];
  }

  test('no backlog: the receiver’s srtt is the path’s RTT (1 ms, the granularity) from its first probe on', async () => {
    const th = new Throttle();
    const [a, b] = await pair(th);
    const t = await run(w, a, b, th, 1_500, -1, 0, 0);
    console.log('receiver srtt, no backlog', JSON.stringify(t));
    expect(t.delivered).toBe(48_000);
    // One change at the first probe's sample (no sample before: the initial 333 ms is not reported); every later probe
    // sample is ≤ 1 ms (the sender's ack of the probe rides its next data datagram: no ack delay to subtract).
    expect(t.receiver).toEqual([[26, 1]]);
    expect(t.acks).toBe(12_217); // every 4th (32 datagrams per 1 ms round, 8 acks per round), plus the start and tails
    expect(t.sender.every(([, s, q]) => s === 1 && q === 0)).toBe(true);
  });

  test('a receiver starved for 300 ms (24 of 32 datagrams per ms): its probes measure the backlog right, and its srtt then lags the sender’s by ~1 s', async () => {
    const th = new Throttle();
    const [a, b] = await pair(th);
    const t = await run(w, a, b, th, 3_000, 500, 300, 24);
    console.log('receiver srtt, 300 ms backlog', JSON.stringify(t));
    expect(t.delivered).toBe(95_683); // the rest refused by the sender's full window (datagram mode)
    // The backlog (datagrams held) and the sender's srtt: both see the same queue, and the sender's srtt is back to 1 ms
    // within 100 ms of the drain (8 samples per RTT).
    expect(t.sender.slice(4, 9)).toEqual([[500, 1, 0], [600, 23.835, 824], [700, 45.031, 1_128], [800, 45.999, 1_131], [900, 1, 0]]);
    // The receiver: three probes meet the backlog (srtt 1 → 13.05 ms), then each probe measures the true 1 ms — the
    // estimate moves by 1/8 of the gap per sample (RFC 9002's weight), and the probes come every 8 srtt (rtt-probe.ts).
    expect(t.receiver.slice(0, 8)).toEqual([[26, 1], [529, 1.906], [575, 4.074], [649, 8.346], [691, 13.052], [801, 11.546], [897, 10.228], [981, 9.074]]);
    const after = t.receiver.slice(5);
    let prev = 13.052;
    for (const [m, srtt] of after) {
      const sample = (srtt - 0.875 * prev) / 0.125;
      expect([m, Math.abs(sample - 1) < 0.02]).toEqual([m, true]); // each sample after the drain: the path's 1 ms
      prev = srtt;
    }
    // So the receiver's srtt is still 5.1 ms at 1,285 ms (485 ms after the drain) and first below 1.1 ms at 2,102 ms.
    expect(t.receiver.find(([m]) => m >= 1_285)).toEqual([1_285, 5.141]);
    expect(t.receiver.find(([m, s]) => m > 800 && s < 1.1)).toEqual([2_102, 1.098]);
    expect(t.receiver.length).toBe(67);
    // Its acks (the inflated srtt makes long thinning rounds: fewer acks). A probe interval of 8 × min(srtt, latest)
    // instead (tried, not kept): below 1.1 ms at 1,790 ms instead of 2,102, 5.1 ms at 1,017 instead of 1,285, but
    // 17,306 acks instead of 15,162 (+14%) — the 1/8 weight, not the probe interval, sets most of the lag.
    expect(t.acks).toBe(15_162);
  });
});
