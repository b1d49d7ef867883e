/**
 * Reliable delivery and large messages between two nodes in separate Linux network namespaces,
 * through a real kernel path impaired with netem semantics (loss, delay ± jitter, reordering,
 * duplication): `tc netem` on a veth pair when the kernel has sch_netem, else the user-space
 * TUN link of test/helpers/netwire.py (see test/helpers/netns.ts). The link MTU is 1280 and
 * every node runs with mtu 'auto'.
 *
 * Needs root and iproute2; skipped otherwise, with the reason printed.
 */
import { randomBytes } from 'node:crypto';
import { ADDR_A, ADDR_B, createNetnsPair, probeNetns, type NetnsPair } from '../helpers/netns';
import { startPair, waitUntil, type NetnsNode } from '../helpers/netns-node';

const LINK_MTU = 1280;
/** UDP payload that fits a 1280-byte IPv4 packet: 1280 − 20 (IPv4) − 8 (UDP). */
const LINK_MAX_DATAGRAM = LINK_MTU - 28;

const cap = probeNetns();
if (!cap.ok) console.warn(`netns tests skipped: ${cap.reason}`);
const describeNetns = cap.ok ? describe : describe.skip;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describeNetns('nodes in two network namespaces over an impaired link', () => {
  let pair: NetnsPair | null = null;
  let nodes: NetnsNode[] = [];

  async function twoNodes(): Promise<[NetnsNode, NetnsNode]> {
    const [a, b] = await startPair(pair!.nsA, ADDR_A, pair!.nsB, ADDR_B);
    nodes.push(a, b);
    return [a, b];
  }

  beforeAll(async () => {
    if (!cap.ok) return;
    pair = await createNetnsPair({ link: cap.link, mtu: LINK_MTU });
    console.info(`netns tests: link ${pair.link === 'veth' ? 'veth + tc netem' : 'TUN + user-space netem (kernel has no sch_netem)'}, namespaces ${pair.nsA} ${pair.nsB}`);
  }, 30_000);

  afterEach(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    nodes = [];
    await pair?.impair({});
    await pair?.resetStats();
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await pair?.destroy();
  }, 30_000);

  test('mtu auto picks the namespace interface MTU (1280) and no datagram larger than 1280 − 28 leaves', async () => {
    const [a, b] = await twoNodes();
    expect([a.mtu, b.mtu]).toEqual([LINK_MTU, LINK_MTU]);
    expect([a.maxDatagramBytes, b.maxDatagramBytes]).toEqual([LINK_MAX_DATAGRAM, LINK_MAX_DATAGRAM]);
    expect((await a.status()).status.mtu).toBe(LINK_MTU);
    await pair!.resetStats();
    const big = randomBytes(64 * 1024);
    expect(await a.send('b', big, { reliable: true })).toEqual({ ok: true });
    await waitUntil(() => b.received.length === 1, 10_000, 'the 64 KiB message');
    expect(b.received[0]!.data.equals(big)).toBe(true);
    const s = await pair!.stats();
    // Full fragments fill the datagram size confirmed when the message was cut (the path MTU
    // base, 1200, if the search had not ended yet; else 1252) up to bucket padding's 32-byte step,
    // in one IP packet each.
    expect(s.aToB.maxUdpPayload).toBeLessThanOrEqual(LINK_MAX_DATAGRAM);
    expect(s.aToB.maxUdpPayload).toBeGreaterThan(1200 - 32);
    expect(s.aToB.maxIpBytes).toBeLessThanOrEqual(LINK_MTU);
    expect(s.aToB.ipFragments).toBe(0);
    expect(s.aToB.udpPackets).toBeGreaterThanOrEqual(Math.ceil(big.length / LINK_MAX_DATAGRAM));
  });

  test('300 reliable messages through 20% loss, 5 ms ± 2 ms delay and 10% reordering arrive exactly once, in order, byte-exact; every send resolves', async () => {
    const [a, b] = await twoNodes();
    await pair!.impair({ loss: 0.2, delayMs: 5, jitterMs: 2, reorder: 0.1 }, 42);
    const before = [(await a.status()).status.counters, (await b.status()).status.counters] as const;
    const payloads = Array.from({ length: 300 }, (_, i) => Buffer.concat([Buffer.from(`msg ${i} `), randomBytes(i % 300)]));
    const results = await Promise.all(payloads.map((p) => a.send('b', p, { reliable: true })));
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results).toHaveLength(300);
    await waitUntil(() => b.received.length >= 300, 10_000, '300 messages');
    await sleep(300); // a duplicate would show up now
    expect(b.received).toHaveLength(300);
    b.received.forEach((m, i) => {
      expect(m.data.equals(payloads[i]!)).toBe(true);
      expect(m.reliable).toBe(true);
    });
    expect(b.received.map((m) => m.peer)).toEqual(Array.from({ length: 300 }, () => a.publicKey));
    // The link really lost packets: b took in fewer than a put out.
    const after = [(await a.status()).status.counters, (await b.status()).status.counters] as const;
    const sentByA = after[0].packetsOut - before[0].packetsOut;
    const receivedByB = after[1].packetsIn - before[1].packetsIn;
    expect(receivedByB).toBeLessThan(sentByA);
    const s = await pair!.stats();
    if (pair!.link === 'tun') {
      expect(s.aToB.dropped).toBeGreaterThan(0);
      expect(s.aToB.reordered).toBeGreaterThan(0);
    }
  }, 45_000);

  test('a 256 KiB reliable message arrives intact through 10% loss', async () => {
    const [a, b] = await twoNodes();
    await pair!.impair({ loss: 0.1 }, 7);
    const big = randomBytes(256 * 1024);
    expect(await a.send('b', big, { reliable: true })).toEqual({ ok: true });
    await waitUntil(() => b.received.length === 1, 10_000, 'the 256 KiB message');
    await sleep(200);
    expect(b.received).toHaveLength(1);
    expect(b.received[0]!.data.equals(big)).toBe(true);
    expect(b.received[0]!.reliable).toBe(true);
    if (pair!.link === 'tun') expect((await pair!.stats()).aToB.dropped).toBeGreaterThan(0);
  }, 45_000);

  test('datagram mode through 20% duplication delivers every message exactly once', async () => {
    const [a, b] = await twoNodes();
    await pair!.impair({ duplicate: 0.2 }, 3);
    await pair!.resetStats();
    const texts = Array.from({ length: 200 }, (_, i) => `d${i}`);
    for (const t of texts) expect(await a.send('b', Buffer.from(t))).toEqual({ ok: true });
    const big = randomBytes(20_000); // fragmented: 17 datagrams, some of them twice
    expect(await a.send('b', big)).toEqual({ ok: true });
    await waitUntil(() => b.received.length >= 201, 10_000, '201 messages');
    await sleep(300); // a duplicate would show up now
    expect(b.received).toHaveLength(201);
    const small = b.received.filter((m) => m.data.length < 100).map((m) => m.data.toString());
    expect([...small].sort()).toEqual([...texts].sort());
    const large = b.received.filter((m) => m.data.length >= 100);
    expect(large).toHaveLength(1);
    expect(large[0]!.data.equals(big)).toBe(true);
    expect(b.received.every((m) => !m.reliable)).toBe(true);
    const replayDrops = (await b.status()).status.counters.drops.replay ?? 0;
    expect(replayDrops).toBeGreaterThan(0);
    if (pair!.link === 'tun') expect(replayDrops).toBe((await pair!.stats()).aToB.duplicated);
  }, 45_000);
});
