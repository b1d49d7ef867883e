/**
 * udpvault scenarios on the real-path bed, shared by the tests (test/netns/udpvault-path.test.ts)
 * and the table (bench/path/run.ts): a sender node in A and a digest-mode receiver in B, a
 * reliable bulk transfer or a datagram-mode flood, optionally next to the competing TCP flow,
 * measured by the kernel (bytes A put on the wire), the bottleneck (drops) and the flow.
 */
import { NetnsNode, waitUntil, type FloodResult, type ReceivedDigest } from '../helpers/netns-node';
import { percentile, type Pinger, type TcpFlow } from './bed/agents';
import { RECEIVER_ADDR, SENDER_ADDR, type ShapedPath } from './bed/shaped-path';
import type { Settings } from '../../src/config/schema';

export interface NodePair {
  sender: NetnsNode;
  receiver: NetnsNode;
}

/** Starts a node in each namespace, pins keys both ways, waits for both sessions. */
export async function startNodes(
  nsA: string,
  hostA: string,
  nsB: string,
  hostB: string,
  o: { settings?: Partial<Settings>; envA?: Record<string, string>; envB?: Record<string, string>; endpointOfA?: string; establishMs?: number } = {},
): Promise<NodePair> {
  const settings = o.settings ?? {};
  const [sender, receiver] = await Promise.all([
    NetnsNode.start(nsA, { host: hostA, settings }, { env: o.envA ?? {} }),
    NetnsNode.start(nsB, { host: hostB, settings, digest: true }, { env: o.envB ?? {} }),
  ]);
  try {
    await receiver.addPeer({ endpoint: o.endpointOfA ?? `${hostA}:${sender.port}`, key: sender.publicKey, name: 'a' });
    await sender.addPeer({ endpoint: `${hostB}:${receiver.port}`, key: receiver.publicKey, name: 'b' });
    const established = async (n: NetnsNode): Promise<boolean> => (await n.status()).peers[0]?.state === 'established';
    await waitUntil(async () => (await established(sender)) && (await established(receiver)), o.establishMs ?? 10_000, 'both sessions established');
  } catch (e) {
    await Promise.all([sender.stop(), receiver.stop()]);
    throw e;
  }
  return { sender, receiver };
}

export async function stopNodes(p: NodePair | null): Promise<void> {
  if (p) await Promise.all([p.sender.stop(), p.receiver.stop()]);
}

export interface TransferResult {
  flood: FloodResult & { floodId: number };
  /** Payload bytes of the messages the sender attempted. */
  payloadBytes: number;
  /** Messages of this flood the receiver got (digest lines), in arrival order. */
  delivered: ReceivedDigest[];
  /** Distinct messages among them. */
  distinct: number;
  /** IP bytes of UDP that A put on the wire during the transfer (kernel counter). */
  wireBytes: number;
  wirePackets: number;
  /** Packets the tbf dropped and sent during the transfer (all protocols). */
  bottleneckDrops: number;
  bottleneckSent: number;
  /** IP bytes of UDP and TCP that reached B (its INPUT chain) and TCP bytes A sent: which flow lost what. */
  arrivedUdpBytes: number;
  sentTcpBytes: number;
  arrivedTcpBytes: number;
  /** The TCP source socket's bytes sent and retransmitted over the transfer (its own count), when a flow ran and ss reports them. */
  tcpSocket: { bytesSent: number; bytesRetrans: number; congestionControl: string } | null;
  /** Sender-node packets out (its own counter), for the retransmission estimate. */
  senderPacketsOut: number;
  startedAt: number;
  endedAt: number;
  /** TCP flow goodput (bytes/s) over the transfer and per 1 s window; null without a flow. */
  tcpRate: number | null;
  tcpWindows: number[] | null;
  /** Queueing delay (RTT − idle RTT) of UDP probes through the bottleneck, ms. */
  queueP50: number | null;
  queueP99: number | null;
}

export interface TransferSpec {
  reliable: boolean;
  size: number;
  count: number;
  durationMs?: number;
  timeoutMs?: number;
  /** How long to wait after the flood for stragglers to arrive (ms). */
  settleMs?: number;
}

/** Runs one flood from sender to receiver through the path and measures it. */
export async function transfer(path: ShapedPath, nodes: NodePair, spec: TransferSpec, o: { tcp?: TcpFlow; pinger?: Pinger; idleRttMs?: number } = {}): Promise<TransferResult> {
  const { sender, receiver } = nodes;
  const before = await path.counters();
  const outBefore = (await sender.status()).status.counters.packetsOut;
  const tcpBefore = o.tcp ? await o.tcp.socketCounters() : null;
  const startedAt = Date.now();
  const flood = await sender.flood({ peer: 'b', size: spec.size, count: spec.count, reliable: spec.reliable, ...(spec.durationMs !== undefined ? { durationMs: spec.durationMs } : {}), ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}) });
  const endedAt = Date.now();
  const idHex = (flood.floodId >>> 0).toString(16).padStart(8, '0');
  const mine = (): ReceivedDigest[] => receiver.digests.filter((d) => d.head.startsWith(idHex));
  if (spec.reliable) await waitUntil(() => mine().length >= flood.ok, spec.settleMs ?? 5000, 'every acknowledged message at the receiver').catch(() => undefined);
  await new Promise((r) => setTimeout(r, spec.settleMs ?? 300));
  const after = await path.counters();
  const outAfter = (await sender.status()).status.counters.packetsOut;
  const tcpAfter = o.tcp ? await o.tcp.socketCounters() : null;
  const delivered = mine();
  const queue = o.pinger && o.idleRttMs !== undefined ? o.pinger.between(startedAt, endedAt).map((ms) => ms - o.idleRttMs!) : null;
  return {
    flood,
    payloadBytes: flood.attempted * spec.size,
    delivered,
    distinct: new Set(delivered.map((d) => d.head)).size,
    wireBytes: after.sent.udp.bytes - before.sent.udp.bytes,
    wirePackets: after.sent.udp.packets - before.sent.udp.packets,
    bottleneckDrops: after.bottleneck.dropped - before.bottleneck.dropped,
    bottleneckSent: after.bottleneck.sentPackets - before.bottleneck.sentPackets,
    arrivedUdpBytes: after.received.udp.bytes - before.received.udp.bytes,
    sentTcpBytes: after.sent.tcp.bytes - before.sent.tcp.bytes,
    arrivedTcpBytes: after.received.tcp.bytes - before.received.tcp.bytes,
    tcpSocket: tcpBefore && tcpAfter ? { bytesSent: tcpAfter.bytesSent - tcpBefore.bytesSent, bytesRetrans: tcpAfter.bytesRetrans - tcpBefore.bytesRetrans, congestionControl: tcpAfter.congestionControl } : null,
    senderPacketsOut: outAfter - outBefore,
    startedAt,
    endedAt,
    tcpRate: o.tcp ? o.tcp.rate(startedAt, endedAt) : null,
    tcpWindows: o.tcp ? o.tcp.windowRates(startedAt, endedAt, 10) : null,
    queueP50: queue && queue.length ? percentile(queue, 50) : null,
    queueP99: queue && queue.length ? percentile(queue, 99) : null,
  };
}

export { RECEIVER_ADDR, SENDER_ADDR };
