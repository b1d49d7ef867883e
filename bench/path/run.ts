/**
 * `npm run bench:path`: the real-path table (issue 9). udpvault between two network namespaces
 * through the bed of test/netns/: a tbf bottleneck (10 and 2 Mbit/s, 30 ms queue) and ≈ 40 ms
 * RTT, for a reliable bulk transfer and a datagram-mode flood, each alone and next to a
 * competing TCP flow, plus the TCP flow alone as the reference. Prints a markdown table and
 * writes it into docs/BENCHMARKS.md ("Real paths"). Needs root and the packages of
 * scripts/install-test-prereqs.sh; takes about two minutes.
 *
 * Figures: goodput = distinct payload bytes delivered per second ÷ link rate; wire ÷ payload =
 * IP bytes of the sender's UDP (kernel counter on the sender namespace's OUTPUT) ÷ payload
 * delivered; retransmitted = 1 − (wire bytes the same transfer takes on an uncongested path ÷
 * wire bytes taken here), an estimate; TCP share = the flow's goodput ÷ link rate over the
 * transfer; queueing delay = RTT of 64-byte UDP probes every 20 ms through the bottleneck minus
 * the idle RTT.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { COMPETING_TCP_CC, Pinger, TcpFlow, percentile } from '../../test/netns/bed/agents';
import { ipt } from '../../test/netns/bed/counters';
import { RECEIVER_ADDR, SENDER_ADDR, ShapedPath } from '../../test/netns/bed/shaped-path';
import { probeBed, repoRoot, sleep } from '../../test/netns/bed/sys';
import { startNodes, stopNodes, transfer, type NodePair, type TransferResult, type TransferSpec } from '../../test/netns/path-scenarios';
import { formatTable, writeIntoDoc, type PathRow } from './table';
import type { Settings } from '../../src/config/schema';

const KIB = 1024;
const PING_PORT = 7007;
const RATES = (process.env['BENCH_PATH_RATES'] ?? '10,2').split(',').map(Number);
/**
 * Congestion control of the competing TCP flow, set on its socket (BENCH_PATH_TCP=bbr or reno to
 * compare; default Linux's default, cubic — the namespace would otherwise inherit the host's
 * default, bbr on the machine these figures come from).
 */
const TCP_CC = process.env['BENCH_PATH_TCP'] ?? COMPETING_TCP_CC;
const FLOOD: TransferSpec = { reliable: false, size: KIB, count: 10_000_000, durationMs: 3000, settleMs: 300 };
/** Issue 9's bulk at 10 Mbit/s (16 × 256 KiB: slow start is a small part of it), 1 MiB at 2 Mbit/s. */
const bulkFor = (rate: number): TransferSpec => (rate >= 10 ? { reliable: true, size: 256 * KIB, count: 16, timeoutMs: 90_000, settleMs: 500 } : { reliable: true, size: 128 * KIB, count: 8, timeoutMs: 90_000, settleMs: 500 });

function udpRow(rate: number, workload: string, spec: TransferSpec, r: TransferResult, link: number, r0: number | null): PathRow {
  const delivered = r.distinct * (r.delivered[0]?.length ?? 0);
  const seconds = (spec.reliable ? r.endedAt - r.startedAt : r.flood.elapsedMs) / 1000;
  return {
    rateMbit: rate,
    workload,
    goodput: delivered / seconds / link,
    wireRatio: delivered > 0 ? r.wireBytes / delivered : null,
    retransmitted: r0 !== null && r.wireBytes > 0 ? Math.max(0, 1 - (r0 * delivered) / r.wireBytes) : null,
    tcpShare: r.tcpRate === null ? null : r.tcpRate / link,
    bottleneckDropRate: r.bottleneckDrops / Math.max(1, r.bottleneckDrops + r.bottleneckSent),
    queueP50: r.queueP50,
    queueP99: r.queueP99,
    seconds,
  };
}

/**
 * The TCP reference: one flow alone, or (`pair`) two flows sharing the link — what a TCP flow's
 * own wire ÷ payload (its retransmissions) and share are next to another TCP flow on this bed.
 * With a pair, goodput and wire ÷ payload are the second flow's and the first's, together; TCP
 * share is the first flow's.
 */
async function tcpReference(p: ShapedPath, pinger: Pinger, idleRtt: number, pair: boolean): Promise<PathRow> {
  const flow = await TcpFlow.start(p.nsA, p.nsB, RECEIVER_ADDR, 5201, TCP_CC);
  const other = pair ? await TcpFlow.start(p.nsA, p.nsB, RECEIVER_ADDR, 5202, TCP_CC).catch(async (e: unknown) => { await flow.stop(); throw e; }) : null;
  try {
    await sleep(1500);
    const flows = other ? [flow, other] : [flow];
    const sockets = async (): Promise<{ sent: number; retrans: number } | null> => {
      const c = await Promise.all(flows.map((f) => f.socketCounters()));
      return c.every((x) => x !== null) ? { sent: c.reduce((n, x) => n + x!.bytesSent, 0), retrans: c.reduce((n, x) => n + x!.bytesRetrans, 0) } : null;
    };
    const before = await p.counters();
    const sockBefore = await sockets();
    const from = Date.now();
    await sleep(4000);
    const to = Date.now();
    const after = await p.counters();
    const sockAfter = await sockets();
    const goodput = (other ?? flow).rate(from, to);
    const payload = ((goodput + (other ? flow.rate(from, to) : 0)) * (to - from)) / 1000;
    const sent = after.sent.tcp.bytes - before.sent.tcp.bytes;
    const arrived = after.received.tcp.bytes - before.received.tcp.bytes;
    const drops = after.bottleneck.dropped - before.bottleneck.dropped;
    const queue = pinger.between(from, to).map((x) => x - idleRtt);
    return {
      rateMbit: p.rateMbit,
      workload: pair ? 'raw TCP + TCP (reference)' : 'raw TCP alone (reference)',
      goodput: goodput / p.linkBytesPerSecond,
      wireRatio: sent / payload,
      // The sockets' own count where ss reports it; else the IP counters' estimate.
      retransmitted: sockBefore && sockAfter ? (sockAfter.retrans - sockBefore.retrans) / Math.max(1, sockAfter.sent - sockBefore.sent) : Math.max(0, (sent - arrived) / sent),
      tcpShare: other ? flow.rate(from, to) / p.linkBytesPerSecond : null,
      bottleneckDropRate: drops / Math.max(1, drops + after.bottleneck.sentPackets - before.bottleneck.sentPackets),
      queueP50: percentile(queue, 50),
      queueP99: percentile(queue, 99),
      seconds: (to - from) / 1000,
    };
  } finally {
    await other?.stop();
    await flow.stop();
  }
}

/** Wire bytes per payload byte of the bulk transfer on an uncongested path (tbf at 1 Gbit/s). */
async function calibrate(p: ShapedPath, nodes: NodePair, rate: number): Promise<number> {
  p.setRate(1000);
  try {
    const r = await transfer(p, nodes, { reliable: true, size: 128 * KIB, count: 2, timeoutMs: 20_000, settleMs: 200 });
    return r.wireBytes / (r.distinct * 128 * KIB);
  } finally {
    p.setRate(rate);
  }
}

/** One diagnostic line per transfer (stderr): packets, mean datagram size, drops, the sender's peer figures. */
async function detail(nodes: NodePair, r: TransferResult): Promise<string> {
  const peer = (await nodes.sender.status()).peers[0];
  const mean = r.wirePackets > 0 ? (r.wireBytes / r.wirePackets).toFixed(0) : '–';
  const codes = Object.entries(r.flood.codes).map(([k, v]) => `${k} ${v}`).join(', ');
  const lossPct = (sent: number, arrived: number): string => (sent > 0 ? `${((100 * (sent - arrived)) / sent).toFixed(1)}%` : '–');
  const sock = r.tcpSocket;
  const tcpOwn = sock && sock.bytesSent > 0 ? ` (TCP ${sock.congestionControl} retransmitted ${((100 * sock.bytesRetrans) / sock.bytesSent).toFixed(1)}% of its bytes, its socket's count)` : '';
  const perFlow = `lost on the way: UDP ${lossPct(r.wireBytes, r.arrivedUdpBytes)}${r.sentTcpBytes > 0 ? `, TCP ${lossPct(r.sentTcpBytes, r.arrivedTcpBytes)}${tcpOwn}` : ''}`;
  return `    ${r.wirePackets} UDP packets (mean ${mean} B), tbf dropped ${r.bottleneckDrops}/${r.bottleneckDrops + r.bottleneckSent}, ${perFlow}, ok ${r.flood.ok}/${r.flood.attempted}${codes ? ` (${codes})` : ''}; sender: cwnd ${peer?.congestionWindowBytes ?? '–'}, srtt ${peer?.srttMs ?? '–'} ms, lost ${peer?.lostPackets ?? '–'}, path MTU ${peer?.pathMtuBytes ?? '–'}, flow-blocked ${peer?.flowBlocked ?? '–'}`;
}

/** Scenarios to run (BENCH_PATH_ONLY=tcp,tcp+tcp,bulk,flood,bulk+tcp,flood+tcp; default all) — for iterating on one. */
const ONLY = new Set((process.env['BENCH_PATH_ONLY'] ?? 'tcp,tcp+tcp,bulk,flood,bulk+tcp,flood+tcp').split(','));
/** Node settings for both nodes (BENCH_PATH_SETTINGS='{"congestionControl":"newreno"}'), to compare choices. */
const SETTINGS = JSON.parse(process.env['BENCH_PATH_SETTINGS'] ?? '{}') as Partial<Settings>;

async function atRate(rate: number, log: (s: string) => void): Promise<PathRow[]> {
  const rows: PathRow[] = [];
  const p = await ShapedPath.create({ rateMbit: rate });
  let nodes: NodePair | null = null;
  let pinger: Pinger | null = null;
  let flow: TcpFlow | null = null;
  try {
    const link = p.linkBytesPerSecond;
    // The probes are not udpvault's: they skip A's counting chain (wire ÷ payload counts udpvault alone).
    ipt(p.nsA, ['-I', 'OUTPUT', '1', '-p', 'udp', '--dport', String(PING_PORT), '-j', 'ACCEPT']);
    ipt(p.nsB, ['-I', 'INPUT', '1', '-p', 'udp', '--dport', String(PING_PORT), '-j', 'ACCEPT']);
    pinger = await Pinger.start(p.nsA, p.nsB, RECEIVER_ADDR, 20, PING_PORT);
    await sleep(1000);
    const idleRtt = Math.min(...pinger.samples.map((s) => s.ms));
    log(`${rate} Mbit/s: idle RTT ${idleRtt.toFixed(1)} ms`);
    if (ONLY.has('tcp')) {
      rows.push(await tcpReference(p, pinger, idleRtt, false));
      log(`  raw TCP alone done`);
    }
    if (ONLY.has('tcp+tcp')) {
      rows.push(await tcpReference(p, pinger, idleRtt, true));
      log(`  raw TCP + TCP done`);
    }
    nodes = await startNodes(p.nsA, SENDER_ADDR, p.nsB, RECEIVER_ADDR, { settings: SETTINGS });
    const bulk = bulkFor(rate);
    const r0 = ONLY.has('bulk') || ONLY.has('bulk+tcp') ? await calibrate(p, nodes, rate) : null;
    if (r0 !== null) log(`  uncongested wire ÷ payload of the bulk: ${r0.toFixed(3)}`);
    const m = { pinger, idleRttMs: idleRtt };
    const bulkName = `udpvault reliable bulk (${bulk.count} × ${bulk.size / KIB} KiB)`;
    const floodName = 'udpvault datagram flood (1 KiB, 3 s)';
    const run = async (name: string, spec: TransferSpec, tcp: TcpFlow | null, ref: number | null): Promise<void> => {
      const r = await transfer(p, nodes!, spec, tcp ? { ...m, tcp } : m);
      rows.push(udpRow(rate, name, spec, r, link, ref));
      log(`  ${name} done`);
      log(await detail(nodes!, r));
    };
    if (ONLY.has('bulk')) {
      await run(`${bulkName} alone`, bulk, null, r0);
      await sleep(500);
    }
    if (ONLY.has('flood')) await run(`${floodName} alone`, FLOOD, null, null);
    if (ONLY.has('bulk+tcp') || ONLY.has('flood+tcp')) {
      flow = await TcpFlow.start(p.nsA, p.nsB, RECEIVER_ADDR, 5201, TCP_CC);
      await sleep(1500);
    }
    if (ONLY.has('bulk+tcp')) {
      await run(`${bulkName} + TCP`, bulk, flow, r0);
      await sleep(1000);
    }
    if (ONLY.has('flood+tcp')) await run(`${floodName} + TCP`, FLOOD, flow, null);
  } finally {
    await flow?.stop();
    await pinger?.stop();
    await stopNodes(nodes);
    await p.destroy();
  }
  return rows;
}

async function main(): Promise<void> {
  const cap = probeBed();
  if (!cap.ok) {
    console.error(`bench:path cannot run: ${cap.reason}`);
    process.exit(1);
  }
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  const rows: PathRow[] = [];
  for (const rate of RATES) rows.push(...(await atRate(rate, log)));
  const table = formatTable(rows);
  const env = `Measured ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; Linux ${os.release()}, ${os.cpus().length} CPUs, load average ${os.loadavg()[0]!.toFixed(1)}, Node ${process.version}; competing TCP flow: ${TCP_CC}. ✗ = misses SPEC §8's floor (goodput ≥ 85% alone, wire ÷ payload ≤ 1.15, TCP share ≥ 40%).`;
  console.log(`${table}\n\n${env}`);
  const doc = path.join(repoRoot(), 'docs', 'BENCHMARKS.md');
  // A full run rewrites its table: next to CUBIC (the default) or next to BBR (BENCH_PATH_TCP=bbr).
  const marker = TCP_CC === COMPETING_TCP_CC ? 'path-results' : TCP_CC === 'bbr' ? 'path-results-bbr' : null;
  if (marker !== null && process.env['BENCH_PATH_ONLY'] === undefined && process.env['BENCH_PATH_SETTINGS'] === undefined && writeIntoDoc(doc, `${table}\n\n${env}\n`, marker)) console.log(`written to ${path.relative(process.cwd(), doc)}`);
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
