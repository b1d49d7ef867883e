/**
 * udpvault through the real-path bed (issue 9, deliverable 3): a 10 Mbit/s tbf bottleneck with
 * ≈ 40 ms RTT, a competing TCP flow, a NAT router that rebinds, peers whose clocks are 120 s
 * apart, a 1280-byte-MTU hop. Margins hold on a loaded machine; the exact figures come from
 * `npm run bench:path` (docs/BENCHMARKS.md, "Real paths").
 *
 * Congestion control (paced CUBIC), path MTU discovery and clock-offset handling are in; one
 * property still fails and is written as test.failing (jest passes it while it fails) with the
 * comment "flip to test() when …": the 1280 hop's IP fragments (Node cannot set
 * IP_PMTUDISC_PROBE). It reads the result of a scenario whose own test() checks that the scenario
 * ran (8 messages delivered), so a broken bed turns the suite red instead of silently "passing"
 * the expected failure.
 */
import { COMPETING_TCP_CC, TcpFlow } from './bed/agents';
import { bedDescribe } from './bed/gate';
import { HOP_RECEIVER_ADDR, HOP_SENDER_ADDR, MtuHopPath } from './bed/mtu-hop';
import { INSIDE_ADDR, NAT_OUTSIDE_ADDR, NatRouter, OUTSIDE_ADDR } from './bed/nat';
import { ShapedPath } from './bed/shaped-path';
import { fakeTimeEnv, probeBed, sleep } from './bed/sys';
import { RECEIVER_ADDR, SENDER_ADDR, startNodes, stopNodes, transfer, type NodePair, type TransferResult } from './path-scenarios';
import { waitUntil } from '../helpers/netns-node';

const cap = probeBed();
const describeBed = bedDescribe('udpvault on real paths', cap);

const KIB = 1024;
/**
 * Reliable bulk: 8 × 128 KiB = 1 MiB (≈ 0.9 s at 10 Mbit/s alone, ≈ 1.7 s at half the link, so at
 * least one 1 s TCP window). Small on purpose: today's sender blasts at full CPU while it runs, and
 * the rest of `npm test` shares the machine.
 */
const BULK = { reliable: true, size: 128 * KIB, count: 8, timeoutMs: 20_000, settleMs: 500 } as const;
/** Datagram flood: 1 KiB messages as fast as the sender goes, for 1.5 s. */
const FLOOD = { reliable: false, size: KIB, count: 1_000_000, durationMs: 1500, settleMs: 300 } as const;

/** One line of figures for the log (link in bytes/s). */
function summary(r: TransferResult, link: number): string {
  const pct = (x: number | null): string => (x === null ? '–' : `${(x * 100).toFixed(0)}%`);
  const offered = r.wireBytes / (link * ((r.endedAt - r.startedAt) / 1000));
  return `delivered ${r.distinct}/${r.flood.attempted}, wire ÷ payload ${(r.wireBytes / r.payloadBytes).toFixed(2)}, sender's wire ÷ link ${offered.toFixed(1)}×, tbf drops ${r.bottleneckDrops}, ${r.endedAt - r.startedAt} ms, TCP ${r.tcpRate === null ? '–' : pct(r.tcpRate / link)} of the link (1 s windows: ${(r.tcpWindows ?? []).map((w) => pct(w / link)).join(' ')})`;
}

describeBed('udpvault through a 10 Mbit/s tbf bottleneck with 40 ms RTT', () => {
  let path: ShapedPath | null = null;
  let nodes: NodePair | null = null;
  let flow: TcpFlow | null = null;
  let link = 0;
  let alone: TransferResult | null = null;
  let tcpAlone = 0;
  let bulkWithTcp: TransferResult | null = null;
  let floodWithTcp: TransferResult | null = null;

  beforeAll(async () => {
    path = await ShapedPath.create({ rateMbit: 10 });
    link = path.linkBytesPerSecond;
    nodes = await startNodes(path.nsA, SENDER_ADDR, path.nsB, RECEIVER_ADDR);
  }, 30_000);
  afterAll(async () => {
    await flow?.stop();
    await stopNodes(nodes);
    await path?.destroy();
  }, 30_000);

  describe('reliable bulk alone (8 × 128 KiB)', () => {
    beforeAll(async () => {
      alone = await transfer(path!, nodes!, BULK);
      console.info(`reliable bulk alone: ${summary(alone, link)}`);
    }, 40_000);

    test('every message is acknowledged and delivered exactly once, whole', () => {
      expect(alone!.flood).toMatchObject({ attempted: 8, ok: 8, failed: 0 });
      expect(alone!.delivered).toHaveLength(8);
      expect(alone!.distinct).toBe(8);
      expect(alone!.delivered.every((d) => d.length === BULK.size && d.reliable)).toBe(true);
    });

    test('puts at most 1.5× the payload on the wire', () => {
      expect(alone!.wireBytes / alone!.payloadBytes).toBeLessThanOrEqual(1.5);
    });

    // Paced CUBIC: bench:path drops 2–4% of the bulk's datagrams at the tbf once the path is known
    // (8–19% before pacing bursts of 2 and restart after idle; 97% with no congestion control).
    // This is the first transfer of a fresh session (slow start's overshoot included, and the
    // path MTU search may still run): 10–13% and 1.2–1.3× measured, so the bounds below leave room
    // for a loaded machine.
    test('paced, it loses few datagrams at the 30 ms tbf queue (≤ 20%) and puts ≤ 1.4× the payload on the wire', () => {
      expect(alone!.bottleneckDrops / Math.max(1, alone!.bottleneckDrops + alone!.bottleneckSent)).toBeLessThanOrEqual(0.2);
      expect(alone!.wireBytes / alone!.payloadBytes).toBeLessThanOrEqual(1.4);
    });
  });

  describe('next to a TCP flow', () => {
    beforeAll(async () => {
      flow = await TcpFlow.start(path!.nsA, path!.nsB, RECEIVER_ADDR, 5201, COMPETING_TCP_CC);
      await sleep(1500);
      const from = Date.now();
      // 1 s of the sink's own sample time (on a loaded machine its ticks arrive late and bunched).
      await waitUntil(() => flow!.ticks.filter((t) => t.at > from).reduce((ms, t) => ms + t.ms, 0) >= 1000, 20_000, '1 s of TCP samples');
      tcpAlone = flow.rate(from, Date.now());
      bulkWithTcp = await transfer(path!, nodes!, BULK, { tcp: flow });
      console.info(`TCP alone: ${((tcpAlone / link) * 100).toFixed(0)}% of the link; reliable bulk with TCP: ${summary(bulkWithTcp, link)}`);
      await sleep(1000); // TCP recovers before the next scenario
      floodWithTcp = await transfer(path!, nodes!, FLOOD, { tcp: flow });
      console.info(`datagram flood with TCP: ${summary(floodWithTcp, link)}`);
    }, 60_000);

    test('the TCP flow alone gets most of the link, and the reliable bulk is delivered exactly once beside it', () => {
      expect(tcpAlone / link).toBeGreaterThan(0.6);
      expect(bulkWithTcp!.flood).toMatchObject({ attempted: 8, ok: 8, failed: 0 });
      expect(bulkWithTcp!.distinct).toBe(8);
      expect(bulkWithTcp!.delivered).toHaveLength(8);
      expect(bulkWithTcp!.tcpWindows!.length).toBeGreaterThanOrEqual(1);
    });

    // Holds today on this bed, though the sender has no congestion control: the reliable sender is
    // slow and bursty (a window of 512 packets, then a retransmission timeout), so TCP takes the link
    // back between bursts. The 100 ms samples themselves are too noisy on a loaded machine to judge
    // one by one (0–220% of the link), hence 1 s windows. What today's bulk gets wrong is the wire
    // bytes (above) and the queue it builds (bench:path).
    test('the TCP flow is never starved below 20% of the link (every 1 s window) during the reliable bulk', () => {
      expect(bulkWithTcp!.tcpWindows!.length).toBeGreaterThanOrEqual(1);
      expect(Math.min(...bulkWithTcp!.tcpWindows!) / link).toBeGreaterThanOrEqual(0.2);
    });

    test('a datagram-mode flood delivers each message at most once, and only messages that were sent', () => {
      const f = floodWithTcp!;
      expect(f.flood.attempted).toBeGreaterThan(100);
      expect(f.delivered.length).toBeGreaterThan(0);
      expect(f.distinct).toBe(f.delivered.length);
      expect(f.delivered.every((d) => d.length === FLOOD.size && !d.reliable && parseInt(d.head.slice(8), 16) < f.flood.attempted)).toBe(true);
      expect(f.tcpWindows!.length).toBeGreaterThanOrEqual(1);
    });

    // One property, two halves: the flood neither overloads the path (the sender's UDP bytes on the
    // wire stay within 1.5× what the link carries meanwhile) nor starves TCP (≥ 20% of the link).
    // Before congestion control both failed (wire ≈ 70–90× the link, TCP 1–7%).
    test('a datagram-mode flood stays within the link and keeps the TCP flow at ≥ 20% of it', () => {
      const f = floodWithTcp!;
      expect(f.wireBytes / ((link * f.flood.elapsedMs) / 1000)).toBeLessThanOrEqual(1.5);
      expect(f.tcpRate! / link).toBeGreaterThanOrEqual(0.2);
    });

    // Bucket padding above 1 KiB goes in 32-byte steps: with frame v5 (an array, no keys) a 1 KiB
    // message is a 1088-byte datagram (1116 IP bytes), 1120 (1148) when a packet ack rides along
    // (in ~40% of them here: 1,129.8 IP bytes on average at 13:06 UTC). With frame v4's keys every
    // one was 1148, so the mean can now only stay below it; before the fine buckets 1200 or 1472.
    test('a 1 KiB datagram-mode message costs 1116 IP bytes on the wire, 1148 with a packet ack (mean over the flood below 1148)', () => {
      const f = floodWithTcp!;
      expect(f.wirePackets).toBeGreaterThan(10);
      expect(f.wireBytes / f.wirePackets).toBeGreaterThanOrEqual(1116 * 0.95); // nearly all of them are messages, not ack-only datagrams
      expect(f.wireBytes / f.wirePackets).toBeLessThan(1148);
    });
  });
});

describeBed('udpvault through loss, duplication and reordering on the 40 ms path', () => {
  let path: ShapedPath | null = null;
  let nodes: NodePair | null = null;
  beforeAll(async () => {
    path = await ShapedPath.create({ rateMbit: 10 });
    nodes = await startNodes(path.nsA, SENDER_ADDR, path.nsB, RECEIVER_ADDR);
  }, 30_000);
  afterAll(async () => {
    await stopNodes(nodes);
    await path?.destroy();
  }, 30_000);

  test('60 reliable messages of 4 KiB through 5% loss, 5% duplication and 10% reordering arrive exactly once and in order', async () => {
    await path!.impair({ loss: 0.05, duplicate: 0.05, reorder: 0.1, jitterMs: 5 }, 11);
    const r = await nodes!.sender.flood({ peer: 'b', size: 4 * KIB, count: 60, reliable: true, timeoutMs: 20_000 });
    expect(r).toMatchObject({ attempted: 60, ok: 60, failed: 0 });
    const mine = (): string[] => nodes!.receiver.digests.filter((d) => d.head.startsWith((r.floodId >>> 0).toString(16).padStart(8, '0'))).map((d) => d.head);
    await waitUntil(() => mine().length >= 60, 5000, '60 messages');
    // A duplicate would arrive within the wire's delay: wait for a marker sent behind everything.
    await nodes!.sender.send('b', Buffer.from('marker'), { reliable: true });
    await waitUntil(() => nodes!.receiver.digests.some((d) => d.length === 6), 5000, 'the marker');
    expect(mine()).toEqual(Array.from({ length: 60 }, (_, i) => `${(r.floodId >>> 0).toString(16).padStart(8, '0')}${i.toString(16).padStart(8, '0')}`));
    const wire = (await path!.wireStats())['aToB'] as { dropped: number; duplicated: number; reordered: number };
    expect(wire.dropped).toBeGreaterThan(0);
    expect(wire.duplicated).toBeGreaterThan(0);
    expect(wire.reordered).toBeGreaterThan(0);
  }, 40_000);
});

describeBed('udpvault with clocks 120 s apart', () => {
  let path: ShapedPath | null = null;
  let nodes: NodePair | null = null;
  beforeAll(async () => {
    path = await ShapedPath.create({ rateMbit: 10 });
  }, 30_000);
  afterAll(async () => {
    await stopNodes(nodes);
    await path?.destroy();
  }, 30_000);

  test('with the same preload and no offset (FAKETIME=+0s) the two nodes connect: the preload alone breaks nothing', async () => {
    const same = await startNodes(path!.nsA, SENDER_ADDR, path!.nsB, RECEIVER_ADDR, { envB: fakeTimeEnv(0), establishMs: 8000 });
    try {
      const r = await same.sender.flood({ peer: 'b', size: 100, count: 1, reliable: true, timeoutMs: 5000 });
      expect(r.ok).toBe(1);
      await waitUntil(() => same.receiver.digests.length === 1, 5000, 'the message');
    } finally {
      await stopNodes(same);
    }
  }, 30_000);

  // clock independence (issue 9 deliverable 7): the offset is measured per session at the handshake
  test('peers whose wall clocks differ by 120 s connect and exchange a reliable message', async () => {
    nodes = await startNodes(path!.nsA, SENDER_ADDR, path!.nsB, RECEIVER_ADDR, { envB: fakeTimeEnv(120), establishMs: 5000 });
    const r = await nodes.sender.flood({ peer: 'b', size: 100, count: 1, reliable: true, timeoutMs: 5000 });
    expect(r.ok).toBe(1);
    await waitUntil(() => nodes!.receiver.digests.length === 1, 5000, 'the message');
  }, 30_000);
});

describeBed('udpvault behind a NAT that rebinds', () => {
  let nat: NatRouter | null = null;
  let nodes: NodePair | null = null;
  beforeAll(async () => {
    nat = await NatRouter.create();
    // The outside node does not know the inside node's mapped port: it starts from a wrong one
    // and learns the real one from the inside node's authenticated packets (roaming).
    nodes = await startNodes(nat.nsInside, INSIDE_ADDR, nat.nsOutside, OUTSIDE_ADDR, { endpointOfA: `${NAT_OUTSIDE_ADDR}:9`, settings: { keepaliveMs: 1000 } });
  }, 30_000);
  afterAll(async () => {
    await stopNodes(nodes);
    await nat?.destroy();
  }, 30_000);

  test('the outside node sees the inside node at the NAT address and a mapped port', async () => {
    const peer = (await nodes!.receiver.status()).peers[0]!;
    const [host, port] = peer.endpoint.split(':');
    expect(host).toBe(NAT_OUTSIDE_ADDR);
    expect(Number(port)).toBeGreaterThanOrEqual(20000);
    expect(Number(port)).toBeLessThanOrEqual(20999);
  });

  test('after rebinding, both directions deliver again, the outside node speaking first', async () => {
    const { sender: inside, receiver: outside } = nodes!;
    await nat!.rebind();
    const r = await outside.send('a', Buffer.from('after rebinding, from outside'), { reliable: true, timeoutMs: 15_000 });
    expect(r).toEqual({ ok: true });
    await waitUntil(() => inside.received.some((m) => m.data.toString() === 'after rebinding, from outside'), 5000, 'the message inside');
    const peer = (await outside.status()).peers[0]!;
    expect(Number(peer.endpoint.split(':')[1])).toBeGreaterThanOrEqual(30000);
    const back = await inside.flood({ peer: 'b', size: 64, count: 1, reliable: true, timeoutMs: 10_000 });
    expect(back.ok).toBe(1);
  }, 30_000);
});

describeBed('udpvault across a 1280-byte-MTU hop (sender interface 1500)', () => {
  let hop: MtuHopPath | null = null;
  let nodes: NodePair | null = null;
  let ok = 0;
  let found = 0;
  let searchFragments = 0;
  let bulkFragments = -1;
  let bulkArrivedFragments = -1;
  beforeAll(async () => {
    hop = await MtuHopPath.create();
    const frag0 = await hop.senderFragCreates();
    nodes = await startNodes(hop.nsA, HOP_SENDER_ADDR, hop.nsB, HOP_RECEIVER_ADDR);
    // The search starts with the session: wait for it to end (DPLPMTUD with the fragment counter check).
    const sender = nodes.sender;
    const established = Date.now();
    await waitUntil(async () => (await sender.status()).peers[0]?.pathMtuSearching === false, 15_000, 'the path MTU search to end');
    const searchMs = Date.now() - established;
    found = (await sender.status()).peers[0]!.pathMtuBytes!;
    const frag1 = await hop.senderFragCreates();
    searchFragments = frag1 - frag0;
    const before = await hop.arrived();
    ok = (await sender.flood({ peer: 'b', size: 64 * KIB, count: 8, reliable: true, timeoutMs: 15_000 })).ok;
    await waitUntil(() => nodes!.receiver.digests.length >= 8, 5000, '8 messages').catch(() => undefined);
    bulkFragments = (await hop.senderFragCreates()) - frag1;
    const arrived = await hop.arrived();
    bulkArrivedFragments = arrived.ipFragments - before.ipFragments;
    console.info(
      `1280 hop: path MTU found ${found} bytes of UDP payload (search over ≤ ${searchMs} ms after both sessions were up); the search made A's kernel create ${searchFragments} fragments ` +
        `(probes above the MTU the kernel learned from ICMP), the router sent ${(await hop.routerSent()).icmp.packets} ICMP frag-needed; ` +
        `the bulk: ${arrived.packets - before.packets} IP packets arrived, ${bulkArrivedFragments} of them fragments, ${bulkFragments} fragments created`,
    );
  }, 40_000);
  afterAll(async () => {
    await stopNodes(nodes);
    await hop?.destroy();
  }, 30_000);

  test('8 reliable 64 KiB messages are delivered exactly once', () => {
    expect(ok).toBe(8);
    expect(new Set(nodes!.receiver.digests.map((d) => d.head)).size).toBe(8);
    expect(nodes!.receiver.digests).toHaveLength(8);
  });

  // Node's dgram sockets cannot set IP_MTU_DISCOVER = IP_PMTUDISC_PROBE: after the first too-big
  // probe (ICMP frag-needed) the kernel fragments larger datagrams locally. The search trusts a
  // probe only if the kernel's FragCreates did not grow across its send (src/delivery/pmtu.ts).
  test('the path MTU found fits the hop (≤ 1252 bytes of UDP payload) and the bulk after the search creates no fragment', () => {
    expect(found).toBeLessThanOrEqual(1252);
    expect(found).toBeGreaterThan(1200); // found by probing, not left at the base
    expect(bulkFragments).toBe(0);
    expect(bulkArrivedFragments).toBe(0);
  });
});

