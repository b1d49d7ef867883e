/**
 * The interleaved rounds: every round runs every contender of every workload once, each as a
 * fresh pair of processes on loopback (sender + receiver), in an order rotated by one per round,
 * so slow phases of a shared machine fall on every contender alike. Each figure is then a ratio
 * of raw dgram measured in the same round at the same size.
 */
import * as os from 'node:os';
import { BenchProcess, sleep } from './proc';
import type { BlastMode, Connected, Counted, Role } from './protocol';

export const KIB = 1024;
/** Sends issued per event-loop turn by every sender (the fixed condition). */
export const BATCH = 64;

export interface Workload {
  /** Key of the result series. */
  id: string;
  group: 'g64' | 'g1k' | 'bulk';
  role: Exclude<Role, 'crowd'>;
  mode: BlastMode;
  size: number;
  /** Reliable sends awaiting their acknowledgement at most (udpvault's send has no back-pressure). */
  inflight: number;
  /** The ladder's rung (role 'ladder', bench/roles/ladder.ts): both processes get it as BENCH_LADDER. */
  rung?: number;
}

const contenders = (group: 'g64' | 'g1k', size: number): Workload[] => [
  { id: `raw-${size}`, group, role: 'raw', mode: 'datagram', size, inflight: 0 },
  { id: `uv-dgram-${size}`, group, role: 'udpvault', mode: 'datagram', size, inflight: 0 },
  { id: `ss-send-${size}`, group, role: 'secret-stream', mode: 'datagram', size, inflight: 0 },
  { id: `uv-rel-${size}`, group, role: 'udpvault', mode: 'reliable', size, inflight: 4096 },
  { id: `ss-stream-${size}`, group, role: 'secret-stream', mode: 'reliable', size, inflight: 0 },
];

/**
 * Two reference designs measured in the same rounds as the contenders (not contenders: they are
 * not protocols anyone can use), so every run shows what any design over Node's dgram reaches
 * here: the floor (dgram plus a seal and an open per datagram, bench/roles/floor.ts) and the
 * ladder's rung 4 (every part of udpvault's datagram protocol — frame, replay window, packet acks,
 * sent record and window, the application's event — each written as cheaply as it can be).
 */
export const REFERENCES: Workload[] = [
  { id: `floor-dgram-${KIB}`, group: 'g1k', role: 'floor', mode: 'datagram', size: KIB, inflight: 0 },
  { id: `ladder-4-${KIB}`, group: 'g1k', role: 'ladder', mode: 'datagram', size: KIB, inflight: 0, rung: 4 },
];

export const WORKLOADS: Workload[] = [
  ...contenders('g64', 64),
  ...contenders('g1k', KIB),
  ...REFERENCES,
  { id: 'uv-rel-256k', group: 'bulk', role: 'udpvault', mode: 'reliable', size: 256 * KIB, inflight: 8 },
  { id: 'ss-stream-256k', group: 'bulk', role: 'secret-stream', mode: 'reliable', size: 256 * KIB, inflight: 0 },
];

export interface Timing {
  durationMs: number;
  warmupMs: number;
}

export interface Measured {
  messagesPerSec: number;
  bytesPerSec: number;
  /** Sender-side handshake time of this pair (peer add / stream open → session). */
  handshakeMs: number;
  mtu: number | null;
  /** CPU µs per message delivered, each side (the sender's includes what the receiver lost). */
  cpuPerMessageUs: { send: number; recv: number } | null;
  /** Share of one core each process used during the window (1 = a whole core). */
  cpuShare: { send: number; recv: number };
  /** Voluntary context switches (sleeps) per 1,000 messages delivered, each side. */
  sleepsPerKMsg: { send: number; recv: number } | null;
}

/** One workload between two fresh processes: connect, blast, count over the window, stop. */
export async function measure(w: Workload, t: Timing): Promise<Measured> {
  const env: Record<string, string> = w.rung === undefined ? {} : { BENCH_LADDER: String(w.rung) };
  const [[recv, rh], [send, sh]] = await Promise.all([BenchProcess.start(w.role, env), BenchProcess.start(w.role, env)]);
  try {
    const [, c] = await Promise.all([
      recv.ask<Connected>({ cmd: 'connect', port: sh.port, key: sh.key, initiator: false }),
      send.ask<Connected>({ cmd: 'connect', port: rh.port, key: rh.key, initiator: true }),
    ]);
    await send.ask({ cmd: 'blast', mode: w.mode, size: w.size, batch: BATCH, port: rh.port, inflight: w.inflight });
    await sleep(t.warmupMs);
    await Promise.all([recv.ask({ cmd: 'count' }), send.ask({ cmd: 'count' })]);
    const t0 = performance.now();
    await sleep(t.durationMs);
    const [r, s] = await Promise.all([recv.ask<Counted & { mtu?: number | null }>({ cmd: 'report' }), send.ask<Counted>({ cmd: 'report' })]);
    const secs = (performance.now() - t0) / 1000;
    await send.ask({ cmd: 'stop' });
    const messages = r.bytes / w.size;
    return {
      messagesPerSec: messages / secs,
      bytesPerSec: r.bytes / secs,
      handshakeMs: c.ms,
      mtu: r.mtu ?? c.mtu,
      cpuPerMessageUs: messages > 0 ? { send: s.cpuUs / messages, recv: r.cpuUs / messages } : null,
      cpuShare: { send: s.cpuUs / 1e6 / secs, recv: r.cpuUs / 1e6 / secs },
      sleepsPerKMsg: messages > 0 ? { send: (1000 * s.sleeps) / messages, recv: (1000 * r.sleeps) / messages } : null,
    };
  } finally {
    await Promise.all([recv.exit(), send.exit()]);
  }
}

export interface RoundLog {
  round: number;
  order: string[];
  loadStart: number[];
  loadEnd: number[];
}

export interface RoundsResult {
  /** Per workload id: the figure of each round (messages/s, or bytes/s for the bulk group). */
  perSec: Map<string, number[]>;
  /** Per workload id: messages/s ÷ raw messages/s of the same size in the same round. */
  ratio: Map<string, number[]>;
  handshakeMs: Map<Role, number[]>;
  mtu: Map<string, number | null>;
  /** Per workload id: each round's CPU µs per delivered message, sender and receiver. */
  cpu: Map<string, Array<{ send: number; recv: number }>>;
  /** Per workload id: each round's share of a core used by sender and receiver. */
  cpuShare: Map<string, Array<{ send: number; recv: number }>>;
  rounds: RoundLog[];
}

const rotate = <T>(xs: T[], by: number): T[] => xs.map((_, i) => xs[(i + by) % xs.length]!);
const push = <K, V>(m: Map<K, V[]>, k: K, v: V): void => void (m.get(k) ?? m.set(k, []).get(k)!).push(v);

/** Runs `n` rounds of `workloads` (a workload whose role is in `skip` is left out). */
export async function runRounds(n: number, t: Timing, workloads: Workload[], log: (line: string) => void): Promise<RoundsResult> {
  const res: RoundsResult = { perSec: new Map(), ratio: new Map(), handshakeMs: new Map(), mtu: new Map(), cpu: new Map(), cpuShare: new Map(), rounds: [] };
  const groups = ['g64', 'g1k', 'bulk'] as const;
  for (let r = 0; r < n; r++) {
    const loadStart = os.loadavg();
    const order: string[] = [];
    log(`round ${r + 1}/${n}: load average ${loadStart.map((x) => x.toFixed(2)).join(' ')}`);
    const raw = new Map<number, number>();
    const pending: Array<[Workload, Measured]> = [];
    for (const g of groups) {
      const inGroup = workloads.filter((w) => w.group === g);
      for (const w of rotate(inGroup, r % Math.max(1, inGroup.length))) {
        const m = await measure(w, t);
        order.push(w.id);
        push(res.perSec, w.id, w.group === 'bulk' ? m.bytesPerSec : m.messagesPerSec);
        push(res.handshakeMs, w.role, m.handshakeMs);
        res.mtu.set(w.id, m.mtu);
        if (m.cpuPerMessageUs) push(res.cpu, w.id, m.cpuPerMessageUs);
        push(res.cpuShare, w.id, m.cpuShare);
        if (w.role === 'raw') raw.set(w.size, m.messagesPerSec);
        else pending.push([w, m]);
        const figure = w.group === 'bulk' ? `${(m.bytesPerSec / 1e6).toFixed(1)} MB/s` : `${Math.round(m.messagesPerSec).toLocaleString('en-US')} msg/s`;
        const cpu = m.cpuPerMessageUs ? `; CPU µs/msg send ${m.cpuPerMessageUs.send.toFixed(2)} recv ${m.cpuPerMessageUs.recv.toFixed(2)}` : '';
        log(`  ${w.id.padEnd(16)} ${figure}${cpu}; cores used send ${m.cpuShare.send.toFixed(2)} recv ${m.cpuShare.recv.toFixed(2)}`);
      }
    }
    for (const [w, m] of pending) {
      const base = raw.get(w.size);
      if (base !== undefined && base > 0) push(res.ratio, w.id, m.messagesPerSec / base);
    }
    const loadEnd = os.loadavg();
    res.rounds.push({ round: r + 1, order, loadStart, loadEnd });
  }
  return res;
}
