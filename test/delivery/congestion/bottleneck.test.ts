/**
 * The controller alone against a modelled bottleneck (bottleneck-sim.ts): 10 Mbit/s
 * (1250 B/ms), 40 ms RTT, a 30 ms drop-tail queue (37 500 B) as tbf `latency 30ms` gives.
 * 1200-byte datagrams carrying 1150 payload bytes (so goodput can reach at most 95.8%).
 * Deterministic: the same numbers on every run, whatever the machine's load.
 */
import { PAYLOAD_BYTES, Sim } from './bottleneck-sim';

const RATE = 1250;
const link = { rateBytesPerMs: RATE, queueBytes: 37_500, oneWayDelayMs: 20 };
const goodput = (chunks: number, ms: number): number => (chunks * PAYLOAD_BYTES) / (RATE * ms);

describe('NewReno + loss detection + pacing over a bottleneck', () => {
  it('one bulk flow: goodput ≥ 85% of the link, ≤ 2% retransmitted, everything delivered once', () => {
    const sim = new Sim(link);
    const f = sim.addFlow({ startMs: 0, stopNewDataMs: 20_000 });
    f.measure(0, 20_000);
    sim.run(20_000);
    const g = goodput(f.stats.windowChunks, 20_000);
    expect(g).toBeGreaterThanOrEqual(0.85);
    expect(f.stats.retransmittedPackets / f.stats.sentPackets).toBeLessThanOrEqual(0.02);
    expect(f.ld.persistentCongestionEvents).toBe(0);
    sim.run(25_000);
    expect(f.allDelivered()).toBe(true);
    expect(f.stats.duplicateChunks).toBe(0);
    // every retransmission answered a loss at the queue (no spurious ones)
    expect(f.stats.retransmittedPackets).toBe(sim.queueDrops);
    // RTT: 40 ms of propagation plus part of the 30 ms queue
    expect(f.rtt.minMs).toBeGreaterThanOrEqual(40);
    expect(f.rtt.smoothedMs).toBeLessThan(75);
  });

  it('at 2 Mbit/s (window of ~14 datagrams) too: goodput ≥ 85%, ≤ 2% retransmitted', () => {
    const rate = 250;
    const sim = new Sim({ rateBytesPerMs: rate, queueBytes: rate * 30, oneWayDelayMs: 20 });
    const f = sim.addFlow({ startMs: 0 });
    f.measure(0, 20_000);
    sim.run(20_000);
    expect((f.stats.windowChunks * PAYLOAD_BYTES) / (rate * 20_000)).toBeGreaterThanOrEqual(0.85);
    expect(f.stats.retransmittedPackets / f.stats.sentPackets).toBeLessThanOrEqual(0.02);
  });

  it('acks thinned to the window (≈ 4 per window, ≤ every 10th) keep goodput ≥ 85% with far fewer acks', () => {
    const run = (rate: number, adaptiveAcks: boolean) => {
      const sim = new Sim({ rateBytesPerMs: rate, queueBytes: rate * 30, oneWayDelayMs: 20 });
      const f = sim.addFlow({ startMs: 0, adaptiveAcks });
      f.measure(0, 20_000);
      sim.run(20_000);
      return { goodput: (f.stats.windowChunks * PAYLOAD_BYTES) / (rate * 20_000), acks: f.stats.acksSent, packets: f.stats.sentPackets };
    };
    const every2 = run(1250, false);
    const thinned = run(1250, true);
    expect(every2.acks).toBeGreaterThanOrEqual(every2.packets / 2 - 100);
    expect(thinned.goodput).toBeGreaterThanOrEqual(0.85);
    expect(thinned.acks).toBeLessThanOrEqual(every2.acks / 4);
    // a small window asks for acks as often as RFC 9000's default, so it loses nothing
    expect(run(250, true).goodput).toBeGreaterThanOrEqual(0.85);
  });

  it('two flows share the link within 0.6–1.4 of fair and still fill it', () => {
    const sim = new Sim(link);
    const a = sim.addFlow({ startMs: 0 });
    const b = sim.addFlow({ startMs: 1000 });
    a.measure(5_000, 30_000);
    b.measure(5_000, 30_000);
    sim.run(30_000);
    const ratio = a.stats.windowChunks / b.stats.windowChunks;
    expect(ratio).toBeGreaterThanOrEqual(0.6);
    expect(ratio).toBeLessThanOrEqual(1.4);
    expect(goodput(a.stats.windowChunks + b.stats.windowChunks, 25_000)).toBeGreaterThanOrEqual(0.85);
  });

  it('a 50 ms loss burst reduces the window (no persistent congestion) and nothing is lost for good', () => {
    const sim = new Sim({ ...link, dropWindows: [[10_000, 10_050]] });
    const f = sim.addFlow({ startMs: 0, stopNewDataMs: 20_000 });
    sim.run(9_999);
    const before = f.cc.windowBytes;
    const lostBefore = f.ld.lostPackets;
    sim.run(10_500);
    expect(f.ld.lostPackets - lostBefore).toBeGreaterThanOrEqual(sim.linkDrops);
    expect(f.minCwndBetween(10_000, 10_500)).toBeLessThanOrEqual(Math.ceil(before / 2) + 1200);
    expect(f.ld.persistentCongestionEvents).toBe(0);
    sim.run(25_000);
    expect([f.allDelivered(), f.stats.duplicateChunks]).toEqual([true, 0]);
  });

  it('a 3 s blackout is persistent congestion: the window collapses to 2 × MSS, then recovers', () => {
    const sim = new Sim({ ...link, dropWindows: [[10_000, 13_000]] });
    const f = sim.addFlow({ startMs: 0, stopNewDataMs: 25_000 });
    sim.run(9_999);
    expect(f.cc.windowBytes).toBeGreaterThan(40_000);
    sim.run(16_000);
    expect(f.ld.persistentCongestionEvents).toBe(1);
    // collapsed to 2400; the ack that revealed it may add its own 1200 in slow start
    expect(f.minCwndBetween(10_000, 16_000)).toBeLessThanOrEqual(3600);
    f.measure(16_000, 25_000);
    sim.run(30_000);
    expect(goodput(f.stats.windowChunks, 9_000)).toBeGreaterThanOrEqual(0.85);
    expect([f.allDelivered(), f.stats.duplicateChunks]).toEqual([true, 0]);
  });

  it('a receiver that stops reading pauses the sender through credit, with no loss and no timer', () => {
    const sim = new Sim(link);
    const f = sim.addFlow({ startMs: 0, stopNewDataMs: 15_000, windowBytes: 200 * PAYLOAD_BYTES, readerStalls: [[5_000, 7_000]] });
    sim.run(5_000);
    const delivered = f.deliveredChunks;
    sim.run(5_500);
    expect(f.deliveredChunks - delivered).toBeLessThanOrEqual(200); // at most one window
    const lost = f.ld.lostPackets;
    const paused = f.deliveredChunks;
    sim.run(6_999);
    expect([f.deliveredChunks, f.ld.lostPackets]).toEqual([paused, lost]);
    expect([f.sendCredit.blocked, f.sendCredit.blockedEpisodes, f.ld.bytesInFlight, f.ld.deadline()]).toEqual([true, 1, 0, null]);
    sim.run(8_000);
    expect(f.sendCredit.blocked).toBe(false);
    expect(f.deliveredChunks - paused).toBeGreaterThan(500); // a window update restarted it at once
    sim.run(20_000);
    expect([f.allDelivered(), f.stats.duplicateChunks, f.recvCredit.violations]).toEqual([true, 0, 0]);
  });
});
