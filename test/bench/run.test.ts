/**
 * Smoke test of `npm run bench` (bench/run.ts, built to dist/ by `npm test`'s build step): one
 * short round of every workload, tiny handshake and memory phases, written into a scratch copy
 * of the results section. Proves the harness runs end to end and prints every row with figures
 * for every contender; says nothing about the figures themselves.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROW_LABELS } from '../../bench/report';
import { loadHyperswarm } from '../../bench/roles/hyperswarm';

const RUN = path.resolve(__dirname, '../../dist/bench/run.js');

function run(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [RUN], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => resolve({ code, out }));
  });
}

/** Where the bench-only packages load here, the run must have measured them. */
const hasSecretStream = !('missing' in loadHyperswarm());

test('bench runs every workload and writes every row between the markers', async () => {
  expect(fs.existsSync(RUN)).toBe(true); // built by `npm run build`
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-bench-'));
  const doc = path.join(dir, 'BENCHMARKS.md');
  fs.writeFileSync(doc, '# head\n\n<!-- results -->\nOLD TABLE\n<!-- /results -->\n\n## tail\n');
  try {
    const { code, out } = await run({
      BENCH_MS: '100',
      BENCH_WARMUP_MS: '50',
      BENCH_ROUNDS: '1',
      BENCH_PEERS: '10',
      BENCH_IDLE_MS: '0',
      BENCH_HANDSHAKES: '2',
      BENCH_DOC: doc,
    });
    expect({ code, tail: code === 0 ? '' : out.slice(-2000) }).toEqual({ code: 0, tail: '' });
    const written = fs.readFileSync(doc, 'utf8');
    expect(written.startsWith('# head\n\n<!-- results -->\n| workload')).toBe(true);
    expect(written.endsWith('<!-- /results -->\n\n## tail\n')).toBe(true);
    expect(written).not.toContain('OLD TABLE');
    const rows = written.split('\n').filter((l) => l.startsWith('| '));
    for (const label of ROW_LABELS) {
      const row = rows.find((l) => l.startsWith(`| ${label}`));
      expect({ label, row: row !== undefined }).toEqual({ label, row: true });
      const cells = row!.split(' | ');
      // the udpvault column always has a figure; the secret-stream column wherever it applies
      expect({ label, udpvault: cells[label.startsWith('handshake') || label.startsWith('RSS') ? 1 : 2] }).not.toEqual({ label, udpvault: '–' });
    }
    for (const label of ROW_LABELS.slice(0, 5)) {
      const cells = rows.find((l) => l.startsWith(`| ${label}`))!.split(' | ');
      if (hasSecretStream) expect({ label, ss: /^\d/.test(cells[3]!) }).toEqual({ label, ss: true });
    }
    // the two 1 KiB reference designs, measured in the same round (bench/rounds.ts REFERENCES)
    const refs = rows.filter((l) => l.startsWith('| 1 KiB, reference (not a contender): '));
    expect(refs.map((l) => /^\d/.test(l.split(' | ')[2]!))).toEqual([true, true]);
    expect(written).toMatch(/The 1 KiB references, CPU per delivered message, sender \/ receiver \(cores used\): the floor [\d.]+ \/ [\d.]+ µs .*; the ladder's rung 4 [\d.]+ \/ [\d.]+ µs/);
    expect(written).toMatch(/- round 1: load average \(1\/5\/15 min\) [\d.]+ \/ [\d.]+ \/ [\d.]+ at the start/);
    expect(out).toContain(`written to `);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);
