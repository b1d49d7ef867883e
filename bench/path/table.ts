/** Formatting of the real-path table (bench/path/run.ts) and its place in docs/BENCHMARKS.md. */
import * as fs from 'node:fs';

export interface PathRow {
  rateMbit: number;
  workload: string;
  /** Payload delivered per second ÷ link rate (0–1). */
  goodput: number;
  /** UDP (or TCP) IP bytes the sender put on the wire ÷ payload bytes delivered; null: not applicable. */
  wireRatio: number | null;
  /** Share of the sender's wire bytes that were retransmissions (estimate, 0–1); null: not applicable. */
  retransmitted: number | null;
  /** Competing TCP flow's goodput ÷ link rate while both ran; null when alone. */
  tcpShare: number | null;
  /** Packets the bottleneck dropped ÷ packets that reached it, 0–1. */
  bottleneckDropRate: number;
  queueP50: number | null;
  queueP99: number | null;
  seconds: number;
}

const pct = (x: number | null): string => (x === null || !Number.isFinite(x) ? '–' : `${(x * 100).toFixed(0)}%`);
const ms = (x: number | null): string => (x === null || !Number.isFinite(x) ? '–' : `${x.toFixed(1)} ms`);

/** Markdown table; a ✗ marks a figure that misses SPEC §8's floor. */
export function formatTable(rows: PathRow[]): string {
  const head = '| link | workload | goodput (% of link) | wire ÷ payload | retransmitted | TCP share while both run | dropped at bottleneck | queueing delay p50 / p99 | time |';
  const sep = '|---|---|---|---|---|---|---|---|---|';
  const lines = rows.map((r) => {
    const udpvault = r.workload.startsWith('udpvault');
    const alone = r.tcpShare === null;
    const goodFloor = udpvault && alone && r.goodput < 0.85 ? ' ✗' : '';
    const wireFloor = udpvault && r.wireRatio !== null && r.wireRatio > 1.15 ? ' ✗' : '';
    const tcpFloor = udpvault && r.tcpShare !== null && r.tcpShare < 0.4 ? ' ✗' : '';
    return `| ${r.rateMbit} Mbit/s | ${r.workload} | ${pct(r.goodput)}${goodFloor} | ${r.wireRatio === null ? '–' : `${r.wireRatio.toFixed(2)}×`}${wireFloor} | ${pct(r.retransmitted)} | ${pct(r.tcpShare)}${tcpFloor} | ${pct(r.bottleneckDropRate)} | ${ms(r.queueP50)} / ${ms(r.queueP99)} | ${r.seconds.toFixed(1)} s |`;
  });
  return [head, sep, ...lines].join('\n');
}

/**
 * Replaces what is between the `<!-- marker -->` and `<!-- /marker -->` lines of docs/BENCHMARKS.md
 * (`path-results`: next to TCP CUBIC; `path-results-bbr`: next to BBR); false if absent.
 */
export function writeIntoDoc(file: string, text: string, marker = 'path-results'): boolean {
  const doc = fs.readFileSync(file, 'utf8');
  const open = `<!-- ${marker} -->`;
  const start = doc.indexOf(open);
  const end = doc.indexOf(`<!-- /${marker} -->`);
  if (start < 0 || end <= start) return false;
  fs.writeFileSync(file, `${doc.slice(0, start)}${open}\n${text}\n${doc.slice(end)}`);
  return true;
}
