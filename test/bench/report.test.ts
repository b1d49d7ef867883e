/** The benchmark's tables: exact rows, min–max over rounds, and the floor verdicts of issue 12. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cpuTable, percentile, throughputTable, writeIntoDoc } from '../../bench/report';
import type { RoundsResult } from '../../bench/rounds';

function result(ratio: Record<string, number[]>, perSec: Record<string, number[]>): RoundsResult {
  return {
    perSec: new Map(Object.entries(perSec)),
    ratio: new Map(Object.entries(ratio)),
    handshakeMs: new Map(),
    mtu: new Map(),
    cpu: new Map([['uv-dgram-64', [{ send: 2, recv: 3 }, { send: 4, recv: 5 }, { send: 3, recv: 4 }]]]),
    cpuShare: new Map([['uv-dgram-64', [{ send: 1, recv: 0.5 }, { send: 0.9, recv: 0.7 }, { send: 0.95, recv: 0.6 }]]]),
    rounds: [],
  };
}

const rows = (t: string): string[] => t.split('\n').slice(2);

test('ratios are min–max over rounds and a floor is met only when every round meets it', () => {
  const r = result(
    {
      'uv-dgram-64': [4.1, 4.4, 4.0],
      'ss-send-64': [0.8, 0.85, 0.9],
      'uv-dgram-1024': [0.61, 0.7, 0.65],
      'ss-send-1024': [0.5, 0.71, 0.6], // round 2: secret-stream ahead
      'uv-rel-64': [1, 1, 1],
      'ss-stream-64': [2, 2.2, 2.1],
      'uv-rel-1024': [0.45, 0.5, 0.46],
      'ss-stream-1024': [0.7, 0.7, 0.7],
      'floor-dgram-1024': [0.7, 0.66, 0.69],
      'ladder-4-1024': [0.62, 0.58, 0.6],
    },
    { 'raw-64': [134_000, 140_400, 120_000], 'raw-1024': [99_500, 100_400, 100_000], 'uv-rel-256k': [80e6, 91e6, 85e6], 'ss-stream-256k': [117e6, 120e6, 118e6] },
  );
  expect(rows(throughputTable(r))).toEqual([
    '| 64 B, datagram mode vs send() | 120k–140k dgram/s | 4.00×–4.40× | 0.80×–0.90× | ≥ 4× | met |',
    "| 1 KiB, datagram mode vs send() | 100k dgram/s | 0.61×–0.70× | 0.50×–0.71× | ≥ 0.6× and ≥ secret-stream's | **not met** |",
    '| 1 KiB, reference (not a contender): the floor — dgram plus one seal and one open per datagram, nothing else | 100k dgram/s | 0.66×–0.70× | – | – | – |',
    "| 1 KiB, reference (not a contender): the ladder's rung 4 — every part of the datagram protocol, each as cheap as JavaScript allows | 100k dgram/s | 0.58×–0.62× | – | – | – |",
    '| 64 B, reliable vs stream writes | 120k–140k dgram/s | 1.00× | 2.00×–2.20× | – | – |',
    "| 1 KiB, reliable vs stream writes | 100k dgram/s | 0.45×–0.50× | 0.70× | ≥ 0.45× (goal: ≥ secret-stream's) | met |",
    '| 256 KiB, reliable (256 KiB messages / writes) | – | 80.0–91.0 MB/s | 117.0–120.0 MB/s | ≥ 80 MB/s | met |',
  ]);
});

test('a missing contender shows – and no verdict is claimed without figures', () => {
  const r = result({ 'uv-dgram-64': [3.99] }, { 'raw-64': [100_000] });
  const t = rows(throughputTable(r));
  expect(t[0]).toBe('| 64 B, datagram mode vs send() | 100k dgram/s | 3.99× | – | ≥ 4× | **not met** |');
  expect(t[1]).toBe("| 1 KiB, datagram mode vs send() | – | – | – | ≥ 0.6× and ≥ secret-stream's | – |");
  expect(t[4]).toBe('| 256 KiB, reliable (256 KiB messages / writes) | – | – | – | ≥ 80 MB/s | – |');
  expect(t.some((l) => l.includes('reference'))).toBe(false); // references not measured: no rows
});

test('CPU per message is the median over rounds, with the cores each side used', () => {
  const r = result({}, {});
  expect(rows(cpuTable(r))[0]).toBe('| 64 B, datagram mode / send() | – | 3.00 / 4.00 µs (0.95 / 0.60 cores) | – |');
});

test('percentile picks the element at floor(p × n) of the sorted samples', () => {
  expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
  expect(percentile([5, 1, 4, 2, 3], 99)).toBe(5);
  expect(percentile([], 50)).toBeNaN();
});

test('writeIntoDoc replaces only the text between the markers', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'uv-doc-')), 'B.md');
  fs.writeFileSync(file, 'a\n<!-- results -->\nold\n<!-- /results -->\nb\n');
  expect(writeIntoDoc(file, 'new\n')).toBe(true);
  expect(fs.readFileSync(file, 'utf8')).toBe('a\n<!-- results -->\nnew\n<!-- /results -->\nb\n');
  fs.writeFileSync(file, 'no markers\n');
  expect(writeIntoDoc(file, 'new\n')).toBe(false);
  expect(fs.readFileSync(file, 'utf8')).toBe('no markers\n');
  fs.rmSync(path.dirname(file), { recursive: true });
});
