/**
 * Bytes on the wire, counted by the kernel: an iptables chain UVCOUNT hooked into a namespace's
 * OUTPUT (what its processes sent, before any queue downstream can drop it) or INPUT (what
 * reached it), one counting rule per protocol; and the statistics of a tc qdisc (what the
 * bottleneck sent and dropped). Byte counts are IP packet lengths (IP and UDP/TCP headers
 * included).
 */
import { mustAsync, must } from './sys';

export interface ProtoCount {
  packets: number;
  bytes: number;
}

export interface WireCount {
  udp: ProtoCount;
  tcp: ProtoCount;
  icmp: ProtoCount;
}

const CHAIN = 'UVCOUNT';
const PROTOS = ['udp', 'tcp', 'icmp'] as const;

export function ipt(ns: string, args: string[]): string {
  return must('ip', ['netns', 'exec', ns, 'iptables', '-w', ...args]);
}

/** Installs the counting chain on a hook ('OUTPUT' or 'INPUT') of a namespace. */
export function installCounters(ns: string, hook: 'OUTPUT' | 'INPUT'): void {
  ipt(ns, ['-N', CHAIN]);
  for (const p of PROTOS) ipt(ns, ['-A', CHAIN, '-p', p]);
  ipt(ns, ['-I', hook, '1', '-j', CHAIN]);
}

/** Parses `iptables -nvxL CHAIN`: one row per rule, pkts and bytes first. */
export function parseChain(out: string): ProtoCount[] {
  const rows: ProtoCount[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s/.exec(line);
    if (m) rows.push({ packets: Number(m[1]), bytes: Number(m[2]) });
  }
  return rows;
}

export async function readCounters(ns: string): Promise<WireCount> {
  const rows = parseChain(await mustAsync('ip', ['netns', 'exec', ns, 'iptables', '-w', '-nvxL', CHAIN]));
  const zero = { packets: 0, bytes: 0 };
  return { udp: rows[0] ?? zero, tcp: rows[1] ?? zero, icmp: rows[2] ?? zero };
}

export async function zeroCounters(ns: string): Promise<void> {
  await mustAsync('ip', ['netns', 'exec', ns, 'iptables', '-w', '-Z', CHAIN]);
}

export function diffCount(after: WireCount, before: WireCount): WireCount {
  const d = (a: ProtoCount, b: ProtoCount): ProtoCount => ({ packets: a.packets - b.packets, bytes: a.bytes - b.bytes });
  return { udp: d(after.udp, before.udp), tcp: d(after.tcp, before.tcp), icmp: d(after.icmp, before.icmp) };
}

export interface QdiscStats {
  sentBytes: number;
  sentPackets: number;
  dropped: number;
  overlimits: number;
}

/** `tc -s qdisc show dev DEV`: "Sent N bytes M pkt (dropped D, overlimits O requeues R)". */
export function parseQdisc(out: string): QdiscStats {
  const m = /Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)/.exec(out);
  if (!m) throw new Error(`no qdisc statistics in: ${out}`);
  return { sentBytes: Number(m[1]), sentPackets: Number(m[2]), dropped: Number(m[3]), overlimits: Number(m[4]) };
}

export async function readQdisc(ns: string, dev: string): Promise<QdiscStats> {
  return parseQdisc(await mustAsync('tc', ['-n', ns, '-s', 'qdisc', 'show', 'dev', dev, 'root']));
}
