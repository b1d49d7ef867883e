/**
 * The real-path test bed itself (test/netns/bed/): before udpvault's behaviour is judged on it,
 * each piece is shown to do what it claims — the tbf bottleneck carries a TCP flow at ≈ its rate
 * and the wire adds ≈ 40 ms of RTT; the NAT hides the inside address, rebinding changes the
 * outside port, unsolicited inbound dies at the stateful filter; the 1280 hop drops a DF
 * datagram that does not fit and the sender's kernel then fragments; libfaketime shifts a
 * child's Date.now().
 *
 * Needs root, iproute2, iptables, conntrack, libfaketime, python3 (scripts/install-test-prereqs.sh);
 * skipped otherwise with the reason, but under CI a missing prerequisite fails.
 */
import { COMPETING_TCP_CC, FlowAgent, nodeInNamespace, Pinger, TcpFlow, percentile } from './bed/agents';
import { bedDescribe } from './bed/gate';
import { HOP_RECEIVER_ADDR, MtuHopPath } from './bed/mtu-hop';
import { INSIDE_ADDR, NAT_OUTSIDE_ADDR, NatRouter, OUTSIDE_ADDR } from './bed/nat';
import { RECEIVER_ADDR, ShapedPath } from './bed/shaped-path';
import { fakeTimeEnv, probeBed, run, waitFor } from './bed/sys';

const cap = probeBed();

/** Milliseconds of the TCP sink's samples (its own clock) that arrived after `from` (ours). */
const sinkMs = (flow: TcpFlow, from: number): number => flow.ticks.filter((t) => t.at > from).reduce((s, t) => s + t.ms, 0);
const describeBed = bedDescribe('netns bed', cap);

describeBed('shaped path: tbf bottleneck + 40 ms RTT wire', () => {
  let path: ShapedPath | null = null;
  beforeAll(async () => {
    path = await ShapedPath.create({ rateMbit: 10 });
  }, 30_000);
  afterAll(async () => {
    await path?.destroy();
  }, 30_000);

  test('an idle path has an RTT of 40–70 ms (20 ms each way on the wire)', async () => {
    const p = await Pinger.start(path!.nsA, path!.nsB, RECEIVER_ADDR, 20);
    try {
      await waitFor(() => p.samples.length >= 10, 10_000, '10 RTT samples');
    } finally {
      await p.stop();
    }
    const rtts = p.samples.map((s) => s.ms);
    expect(Math.min(...rtts)).toBeGreaterThanOrEqual(40);
    expect(percentile(rtts, 50)).toBeLessThan(70);
  }, 20_000);

  test('a TCP flow alone gets ≈ the tbf rate at 10 and at 2 Mbit/s; the kernel counters see its bytes', async () => {
    const flow = await TcpFlow.start(path!.nsA, path!.nsB, RECEIVER_ADDR, 5201, COMPETING_TCP_CC);
    const shares: number[] = [];
    try {
      for (const rate of [10, 2]) {
        path!.setRate(rate);
        // Slow start and the previous rate's queue drain are excluded from the measurement: 1 s
        // of the sink's own samples (its clock, not ours: on a loaded machine ticks arrive late
        // and bunched), then 2.5 s of them are measured.
        const changed = Date.now();
        await waitFor(() => sinkMs(flow, changed) >= 1000, 20_000, () => `1 s of TCP samples at ${rate} Mbit/s (${sinkMs(flow, changed).toFixed(0)} ms so far)`);
        await path!.zeroCounters();
        const from = Date.now();
        await waitFor(() => sinkMs(flow, from) >= 2500, 20_000, () => `2.5 s of TCP samples at ${rate} Mbit/s (${sinkMs(flow, from).toFixed(0)} ms so far)`);
        const to = Date.now();
        const c = await path!.countersReceiverFirst();
        const goodput = flow.rate(from, to);
        shares.push(goodput / path!.linkBytesPerSecond);
        // The kernel counters see the flow: B's INPUT at least the payload the sink counted (headers on top),
        // A's OUTPUT as much as B got, give or take what was in flight (≤ 30 ms queue + 20 ms wire) when zeroed.
        // A's OUTPUT counts one packet per skb: TCP leaves A segment by segment (gso_max_segs 1 on its veth,
        // as from a wire), so no skb exceeds the 1500-byte MTU — with GSO a skb carried 2–40 segments.
        expect(c.sent.tcp.packets).toBeGreaterThan(0);
        expect(c.sent.tcp.bytes / c.sent.tcp.packets).toBeLessThanOrEqual(1500);
        const payload = goodput * ((to - from) / 1000);
        const inFlight = 0.06 * path!.linkBytesPerSecond + 32 * 1024;
        expect(c.received.tcp.bytes).toBeGreaterThan(0.9 * payload);
        expect(c.sent.tcp.bytes).toBeGreaterThan(c.received.tcp.bytes * (1448 / 1500) - inFlight);
      }
    } finally {
      await flow.stop();
      path!.setRate(10);
    }
    // Payload goodput: TCP/IP headers take ~3.5%, a loaded machine takes some more; 100 ms sampling
    // at the sink is accurate to a few % over 2.5 s.
    console.info(`TCP alone: ${shares.map((s) => `${(s * 100).toFixed(0)}%`).join(' at 10 Mbit/s, ')} at 2 Mbit/s of the link`);
    for (const s of shares) {
      expect(s).toBeGreaterThan(0.6);
      expect(s).toBeLessThan(1.1); // unshaped, it would be many times the rate
    }
  }, 90_000);
});

describeBed('NAT router: masquerade, stateful filter, rebinding', () => {
  let nat: NatRouter | null = null;
  let inside: FlowAgent | null = null;
  let outside: FlowAgent | null = null;
  beforeAll(async () => {
    nat = await NatRouter.create();
    inside = await FlowAgent.start(nat.nsInside, { mode: 'udp', port: 4000 });
    outside = await FlowAgent.start(nat.nsOutside, { mode: 'udp', port: 5000 });
  }, 30_000);
  afterAll(async () => {
    await Promise.all([inside?.stop(), outside?.stop()]);
    await nat?.destroy();
  }, 30_000);

  test('the outside sees the NAT address and a mapped port; rebinding moves the port and kills the old mapping; unsolicited inbound is dropped', async () => {
    const i = inside!;
    const o = outside!;
    await i.send(OUTSIDE_ADDR, 5000, 'hello 1');
    await waitFor(() => o.received().length === 1, 5000, 'the first datagram outside');
    const first = o.received()[0]!;
    expect(first.text).toBe('hello 1');
    expect(first.from).toBe(NAT_OUTSIDE_ADDR); // never INSIDE_ADDR
    expect(first.port).toBeGreaterThanOrEqual(20000);
    expect(first.port).toBeLessThanOrEqual(20999);

    // Unsolicited, straight at the inside address (O routes 10.82.1.0/24 through N), then a reply
    // through the mapping from the same socket: when the reply has arrived, the earlier datagram on
    // the same path would have too.
    const dropsBefore = await nat!.droppedInbound();
    await o.send(INSIDE_ADDR, 4000, 'unsolicited');
    await o.send(NAT_OUTSIDE_ADDR, first.port, 'reply 1');
    await waitFor(() => i.received().some((m) => m.text === 'reply 1'), 5000, 'the reply inside');
    expect(i.received().map((m) => m.text)).toEqual(['reply 1']);
    expect(i.received()[0]!.from).toBe(OUTSIDE_ADDR);
    expect(await nat!.droppedInbound()).toBe(dropsBefore + 1);

    await nat!.rebind();
    await i.send(OUTSIDE_ADDR, 5000, 'hello 2');
    await waitFor(() => o.received().length === 2, 5000, 'the datagram after rebinding');
    const second = o.received()[1]!;
    expect(second.from).toBe(NAT_OUTSIDE_ADDR);
    expect(second.port).toBeGreaterThanOrEqual(30000);
    expect(second.port).toBeLessThanOrEqual(30999);

    // The old mapping is gone: a datagram to it goes nowhere, the new one reaches the inside.
    await o.send(NAT_OUTSIDE_ADDR, first.port, 'to the old mapping');
    await o.send(NAT_OUTSIDE_ADDR, second.port, 'reply 2');
    await waitFor(() => i.received().some((m) => m.text === 'reply 2'), 5000, 'the reply through the new mapping');
    expect(i.received().map((m) => m.text)).toEqual(['reply 1', 'reply 2']);
  }, 20_000);
});

describeBed('1280-byte-MTU hop', () => {
  let hop: MtuHopPath | null = null;
  beforeAll(async () => {
    hop = await MtuHopPath.create();
  }, 30_000);
  afterAll(async () => {
    await hop?.destroy();
  }, 30_000);

  test('a 1300-byte datagram from a Node socket is sent with DF and dropped at the hop (ICMP frag-needed); after it the sender kernel fragments', async () => {
    const b = await FlowAgent.start(hop!.nsB, { mode: 'udp', port: 6000 });
    const a = await FlowAgent.start(hop!.nsA, { mode: 'udp', port: 6001 });
    try {
      const big = 'x'.repeat(1300); // 1328-byte IP packet: fits A's 1500, not the 1280 hop
      await a.send(HOP_RECEIVER_ADDR, 6000, big);
      // R answers the dropped DF packet with ICMP "fragmentation needed".
      await waitFor(async () => (await hop!.routerSent()).icmp.packets >= 1, 5000, 'ICMP fragmentation needed from the router');
      await waitFor(() => /mtu 1280/.test(run('ip', ['-n', hop!.nsA, 'route', 'get', HOP_RECEIVER_ADDR]).out), 5000, 'A learns path MTU 1280');
      expect((await hop!.arrived()).packets).toBe(0);
      expect(b.received()).toEqual([]);
      // Node's sockets use IP_PMTUDISC_WANT: now that the kernel knows the path MTU it fragments (no DF).
      await a.send(HOP_RECEIVER_ADDR, 6000, big);
      await waitFor(() => b.received().length === 1, 5000, 'the second 1300-byte datagram');
      expect(b.received()[0]!.size).toBe(1300);
      // The sniffer on B may report a moment after the socket read (a loaded machine): wait for it.
      await waitFor(async () => (await hop!.arrived()).ipFragments >= 2, 5000, 'the sniffer counts both fragments');
      const arrived = await hop!.arrived();
      expect(arrived.ipFragments).toBe(2);
      expect(arrived.maxIpBytes).toBeLessThanOrEqual(1280);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  }, 20_000);
});

describeBed('libfaketime', () => {
  test.each([120, -120])('shifts Date.now() of a node child by %i s (monotonic timers untouched)', async (offset) => {
    const code = 'const t0 = Date.now(); setTimeout(() => console.log(JSON.stringify({ now: t0, elapsed: Date.now() - t0 })), 50);';
    const before = Date.now();
    const child = nodeInNamespace(null, '-e', code, fakeTimeEnv(offset));
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise<void>((r) => child.once('exit', () => r()));
    const after = Date.now();
    const { now, elapsed } = JSON.parse(out) as { now: number; elapsed: number };
    expect(now).toBeGreaterThanOrEqual(before + offset * 1000 - 50);
    expect(now).toBeLessThanOrEqual(after + offset * 1000 + 50);
    // The 50 ms timer fired after ≈ 50 ms of the faked clock: the shift is an offset, not a rate.
    expect(elapsed).toBeGreaterThanOrEqual(45);
    expect(elapsed).toBeLessThan(5000);
  }, 20_000);
});
