/**
 * The benchmark's markdown: the throughput table (ratios of raw, min–max over rounds, with the
 * floors of issue 12 / SPEC §8 and whether every round met them), the handshake and memory
 * table, the rounds with their load averages, and the machine. Written into docs/BENCHMARKS.md
 * between `<!-- results -->` and `<!-- /results -->`.
 */
import * as fs from 'node:fs';
import type { CrowdResult } from './extras';
import type { RoundsResult } from './rounds';

export interface Report {
  rounds: RoundsResult;
  inProcess: number[];
  betweenProcesses: number[];
  /** udpvault's first contact between two processes when both add each other at once (hs17; empty when not measured). */
  firstContactAtOnce?: number[];
  /** secret-stream's first contact between two processes (empty when it is absent). */
  secretStreamBetween: number[];
  crowd: CrowdResult | null;
  environment: string;
  /** Why secret-stream is absent, when it is. */
  secretStreamMissing: string | null;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

const range = (xs: number[] | undefined, f: (x: number) => string, unit = ''): string => {
  if (!xs || xs.length === 0) return '–';
  const lo = f(Math.min(...xs));
  const hi = f(Math.max(...xs));
  return `${lo === hi ? lo : `${lo}–${hi}`}${unit}`;
};
const x2 = (x: number): string => `${x.toFixed(2)}×`;
const mb = (x: number): string => (x / 1e6).toFixed(1);
const k = (x: number): string => `${Math.round(x / 1000).toLocaleString('en-US')}k`;
const ms = (x: number): string => `${x.toFixed(2)} ms`;
const verdict = (ok: boolean | null): string => (ok === null ? '–' : ok ? 'met' : '**not met**');
const all = (xs: number[] | undefined, pred: (x: number, i: number) => boolean): boolean | null =>
  xs && xs.length > 0 ? xs.every(pred) : null;

/** The rows every run prints (the smoke test checks each label appears). */
export const ROW_LABELS = [
  '64 B, datagram mode',
  '1 KiB, datagram mode',
  '64 B, reliable',
  '1 KiB, reliable',
  '256 KiB, reliable',
  'handshake, in-process pair',
  'handshake between two processes',
  'RSS idle',
  'RSS per idle peer',
] as const;

export function throughputTable(r: RoundsResult): string {
  const ratio = (id: string): number[] | undefined => r.ratio.get(id);
  const ss1k = ratio('ss-send-1024');
  const row = (label: string, size: 64 | 1024, uv: string, ss: string, floor: string, ok: boolean | null): string =>
    `| ${label} | ${range(r.perSec.get(`raw-${size}`), k, ' dgram/s')} | ${range(ratio(uv), x2)} | ${range(ratio(ss), x2)} | ${floor} | ${verdict(ok)} |`;
  // A reference design's row (bench/rounds.ts REFERENCES), where this run measured it.
  const ref = (label: string, id: string): string => `| 1 KiB, ${label} | ${range(r.perSec.get('raw-1024'), k, ' dgram/s')} | ${range(ratio(id), x2)} | – | – | – |`;
  return [
    '| workload (udpvault vs secret-stream) | raw dgram, same rounds | udpvault ÷ raw | secret-stream ÷ raw | floor | every round |',
    '|---|---|---|---|---|---|',
    row(`${ROW_LABELS[0]} vs send()`, 64, 'uv-dgram-64', 'ss-send-64', '≥ 4×', all(ratio('uv-dgram-64'), (x) => x >= 4)),
    row(`${ROW_LABELS[1]} vs send()`, 1024, 'uv-dgram-1024', 'ss-send-1024', "≥ 0.6× and ≥ secret-stream's", all(ratio('uv-dgram-1024'), (x, i) => x >= 0.6 && (ss1k?.[i] === undefined || x >= ss1k[i]!))),
    ref('reference (not a contender): the floor — dgram plus one seal and one open per datagram, nothing else', 'floor-dgram-1024'),
    ref("reference (not a contender): the ladder's rung 4 — every part of the datagram protocol, each as cheap as JavaScript allows", 'ladder-4-1024'),
    row(`${ROW_LABELS[2]} vs stream writes`, 64, 'uv-rel-64', 'ss-stream-64', '–', null),
    row(`${ROW_LABELS[3]} vs stream writes`, 1024, 'uv-rel-1024', 'ss-stream-1024', "≥ 0.45× (goal: ≥ secret-stream's)", all(ratio('uv-rel-1024'), (x) => x >= 0.45)),
    `| ${ROW_LABELS[4]} (256 KiB messages / writes) | – | ${range(r.perSec.get('uv-rel-256k'), mb, ' MB/s')} | ${range(r.perSec.get('ss-stream-256k'), mb, ' MB/s')} | ≥ 80 MB/s | ${verdict(all(r.perSec.get('uv-rel-256k'), (x) => x >= 80e6))} |`,
  ].join('\n');
}

const median = (xs: number[]): number => percentile(xs, 50);

/**
 * CPU per delivered message, sender / receiver (median over rounds), and the share of a core
 * each used: where a process sits near 1.00 it was CPU-bound, and its µs per message is what
 * limits the rate; on a loaded machine these hold better than the rates.
 */
export function cpuTable(r: RoundsResult): string {
  const cell = (id: string): string => {
    const c = r.cpu.get(id);
    const sh = r.cpuShare.get(id);
    if (!c || !sh || c.length === 0) return '–';
    const us = (xs: number[]): string => median(xs).toFixed(median(xs) < 100 ? 2 : 0);
    return `${us(c.map((x) => x.send))} / ${us(c.map((x) => x.recv))} µs (${median(sh.map((x) => x.send)).toFixed(2)} / ${median(sh.map((x) => x.recv)).toFixed(2)} cores)`;
  };
  const row = (label: string, raw: string, uv: string, ss: string): string => `| ${label} | ${raw ? cell(raw) : '–'} | ${cell(uv)} | ${cell(ss)} |`;
  return [
    '| CPU per delivered message, sender / receiver (cores used) | raw dgram | udpvault | secret-stream |',
    '|---|---|---|---|',
    row('64 B, datagram mode / send()', 'raw-64', 'uv-dgram-64', 'ss-send-64'),
    row('1 KiB, datagram mode / send()', 'raw-1024', 'uv-dgram-1024', 'ss-send-1024'),
    row('64 B, reliable / stream writes', '', 'uv-rel-64', 'ss-stream-64'),
    row('1 KiB, reliable / stream writes', '', 'uv-rel-1024', 'ss-stream-1024'),
    row('256 KiB, reliable / stream writes', '', 'uv-rel-256k', 'ss-stream-256k'),
  ]
    .concat(r.cpu.has('floor-dgram-1024') || r.cpu.has('ladder-4-1024') ? [`\nThe 1 KiB references, CPU per delivered message, sender / receiver (cores used): the floor ${cell('floor-dgram-1024')}; the ladder's rung 4 ${cell('ladder-4-1024')}.`] : [])
    .join('\n');
}

export function otherTable(rep: Report): string {
  const c = rep.crowd;
  const hs = rep.rounds.handshakeMs.get('secret-stream') ?? [];
  const uvPairs = rep.rounds.handshakeMs.get('udpvault') ?? [];
  const p = (xs: number[]): string => (xs.length ? `${ms(percentile(xs, 50))} / ${ms(percentile(xs, 99))} (n = ${xs.length})` : '–');
  return [
    '| measure | udpvault | secret-stream | floor | |',
    '|---|---|---|---|---|',
    `| ${ROW_LABELS[5]}, p50 / p99 | ${p(rep.inProcess)} | – | p50 < 2 ms | ${verdict(rep.inProcess.length ? percentile(rep.inProcess, 50) < 2 : null)} |`,
    `| ${ROW_LABELS[6]} (first contact), p50 / p99 | ${p(rep.betweenProcesses)} | ${p(rep.secretStreamBetween)} | – | – |`,
    `| first contact, both sides add at once (two processes, fresh addresses; until both established), p50 / p99 | ${p(rep.firstContactAtOnce ?? [])} | – | – | – |`,
    `| handshake of the throughput pairs (fresh processes, first handshake of each), p50 / p99 | ${p(uvPairs)} | ${p(hs)} | – | – |`,
    `| ${ROW_LABELS[7]} (one node, no peers) | ${c ? `${(c.idle.rss / 1e6).toFixed(1)} MB` : '–'} | – | < 60 MB | ${verdict(c ? c.idle.rss < 60e6 : null)} |`,
    `| ${ROW_LABELS[8]} (${c ? c.peers.toLocaleString('en-US') : '–'} peers, ${c ? c.established.toLocaleString('en-US') : '–'} established, keepalives only) | ${c ? `${Math.round(c.rssPerPeer).toLocaleString('en-US')} B (heap ${Math.round(c.heapPerPeer).toLocaleString('en-US')} B${c.rssSlope === null ? '' : `; ${Math.round(c.rssSlope).toLocaleString('en-US')} B from a tenth of the peers to all`}); RSS ${(c.loaded.rss / 1e6).toFixed(1)} MB` : '–'} | – | < 4,000 B | ${verdict(c ? c.rssPerPeer < 4000 && c.established === c.peers : null)} |`,
  ].join('\n');
}

export function roundsLines(r: RoundsResult): string {
  return r.rounds
    .map((x) => `- round ${x.round}: load average (1/5/15 min) ${x.loadStart.map((v) => v.toFixed(2)).join(' / ')} at the start, ${x.loadEnd.map((v) => v.toFixed(2)).join(' / ')} at the end; order ${x.order.join(', ')}`)
    .join('\n');
}

export function markdown(rep: Report): string {
  const missing = rep.secretStreamMissing ? `\n\nsecret-stream was not measured: ${rep.secretStreamMissing}.` : '';
  return `${throughputTable(rep.rounds)}\n\n${cpuTable(rep.rounds)}\n\n${otherTable(rep)}\n\n${roundsLines(rep.rounds)}\n\n${rep.environment}${missing}\n`;
}

/** Replaces the text between the results markers of `file`; false when the markers are absent. */
export function writeIntoDoc(file: string, text: string): boolean {
  const doc = fs.readFileSync(file, 'utf8');
  const start = doc.indexOf('<!-- results -->');
  const end = doc.indexOf('<!-- /results -->');
  if (start < 0 || end < start) return false;
  fs.writeFileSync(file, `${doc.slice(0, start)}<!-- results -->\n${text}${doc.slice(end)}`);
  return true;
}
