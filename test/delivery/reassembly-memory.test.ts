/**
 * The reassembler charges what it really holds: for floods of fragments from one peer, the
 * bytes it accounts are compared with the heap growth measured after a full GC
 * (process.memoryUsage(): heapUsed — JS objects, and typed arrays of ≤ 64 bytes whose bytes V8
 * keeps on the heap — plus arrayBuffers — the backing stores of larger ones).
 *
 * The measurement runs in a child `node --expose-gc` that loads nothing but the reassembler
 * (compiled here with the project's Babel config): inside a jest worker, memory left by earlier
 * test files (their bytecode is flushed only after several GCs, their buffers freed by a
 * background sweeper) is released in the middle of a measurement and hides the growth. In the
 * child, GC runs until two readings agree (a condition, not a delay). Measurements are of
 * retained memory, not of time: a loaded machine does not change them.
 *
 * The tolerance: the charge is never below the measured growth, and the measured growth is at
 * least 60 % of the charge (the constants are rounded up, and big backing stores cost native
 * bookkeeping that neither heapUsed nor arrayBuffers counts). With the old 64-byte fragment
 * charge and no message charge, a flood of 1-byte first fragments was charged 65 bytes for ~630
 * held, and a 4 MiB per-peer bound held 42 MB.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { transformFileSync } from '@babel/core';
import { DEFAULT_COMPLETED_MEMORY } from '../../src/delivery/reassembly';

const MiB = 1024 * 1024;
const N = 20_000;

interface Scenario {
  name: string;
  /** first: a new message per fragment (count 2); one: fragments of one message. */
  kind: 'first' | 'one';
  len: number;
  n: number;
  perPeerBytes?: number;
}
interface Measured {
  name: string;
  charged: number;
  grown: number;
  evicted: number;
  held: number;
}

/** Runs in the child: argv = [compiled reassembler, scenarios JSON]; prints the results JSON. */
const CHILD = `
const { Reassembler } = require(process.argv[1]);
const sample = () => { gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
async function retained() {
  let last = sample();
  for (let i = 0; i < 200; i++) {
    await new Promise((r) => setImmediate(r));
    const now = sample();
    if (Math.abs(now - last) < 16 * 1024) return now;
    last = now;
  }
  throw new Error('retained memory did not settle');
}
(async () => {
  const out = [];
  for (const s of JSON.parse(process.argv[2])) {
    const clock = { monotonic: () => 0, now: () => 0 };
    let r = new Reassembler({ clock, timeoutMs: 60000, perPeerBytes: s.perPeerBytes ?? 2 ** 40, totalBytes: 2 ** 40, maxMessageBytes: 2 ** 30 });
    const chunk = new Uint8Array(s.len).fill(0xa5);
    const before = await retained();
    let evicted = 0;
    for (let i = 0; i < s.n; i++) {
      const res = s.kind === 'first' ? r.add('peer', i, 0, 2, chunk) : r.add('peer', 1, i, 100000, chunk);
      if (res.drop || res.message) throw new Error(s.name + ': unexpected ' + JSON.stringify(res));
      evicted += res.evicted ?? 0;
    }
    const grown = (await retained()) - before;
    out.push({ name: s.name, charged: r.bytesHeld, grown, evicted, held: r.messagesHeld });
    r = null;
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

const scenarios: Scenario[] = [
  ...[1, 64, 100, 1100].map((len): Scenario => ({ name: `first-${len}`, kind: 'first', len, n: N })),
  ...[1, 1100].map((len): Scenario => ({ name: `one-${len}`, kind: 'one', len, n: N })),
  { name: 'bound', kind: 'first', len: 1, n: 100_000, perPeerBytes: 4 * MiB },
];

let results: Map<string, Measured>;

beforeAll(() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'udpvault-reassembly-'));
  try {
    // reassembly.ts and the module of its held state (reassembly-entry.ts), compiled side by side
    for (const name of ['reassembly', 'reassembly-entry']) {
      const compiled = transformFileSync(path.join(__dirname, `../../src/delivery/${name}.ts`), { cwd: path.join(__dirname, '../..') });
      fs.writeFileSync(path.join(dir, `${name}.js`), compiled!.code!);
    }
    const js = path.join(dir, 'reassembly.js');
    const out = execFileSync(process.execPath, ['--expose-gc', '-e', CHILD, js, JSON.stringify(scenarios)], { encoding: 'utf8', maxBuffer: MiB });
    results = new Map((JSON.parse(out) as Measured[]).map((m) => [m.name, m]));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

describe('reassembly memory charge against measured heap growth (child process, after GC)', () => {
  test.each([1, 64, 100, 1100])('a flood of %i-byte first fragments (a new message each) is charged at least what it holds', (len) => {
    const m = results.get(`first-${len}`)!;
    expect(m.held).toBe(N);
    expect(m.grown).toBeGreaterThan(N * (len + 200)); // the flood did land in memory (objects as well as bytes)
    expect(m.charged).toBeGreaterThanOrEqual(m.grown);
    expect(m.grown).toBeGreaterThanOrEqual(0.6 * m.charged);
  });

  test.each([1, 1100])('the fragments of one large message (%i bytes each) are charged at least what they hold', (len) => {
    const m = results.get(`one-${len}`)!;
    expect(m.held).toBe(1);
    expect(m.grown).toBeGreaterThan(N * (len + 100));
    expect(m.charged).toBeGreaterThanOrEqual(m.grown);
    expect(m.grown).toBeGreaterThanOrEqual(0.6 * m.charged);
  });

  test('a 4 MiB per-peer bound holds about 4 MiB of heap under a flood of 1-byte first fragments (was ~42 MB)', () => {
    const m = results.get('bound')!;
    expect(m.evicted).toBe(100_000 - m.held);
    expect(m.evicted).toBeGreaterThan(90_000);
    expect(m.charged).toBeLessThanOrEqual(4 * MiB);
    // what is held, plus the bounded memory of abandoned msgIds (DEFAULT_COMPLETED_MEMORY ids)
    expect(m.grown).toBeLessThanOrEqual(4 * MiB + DEFAULT_COMPLETED_MEMORY * 100);
    expect(m.grown).toBeGreaterThanOrEqual(0.6 * m.charged);
  });
});
