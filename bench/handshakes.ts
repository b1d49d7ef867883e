/**
 * The handshake rows of `npm run bench` alone (issue 12, hs19): in-process pairs (bench/roles/
 * udpvault.ts pairs()) and first contact between two processes (extras.ts), p50 / p90 / p99 over
 * `BENCH_HANDSHAKES` (default 50) each, `BENCH_ROUNDS` (default 1) times, with the load average.
 * `BENCH_PACKAGE=/work/wt/base` measures another build (its own dist/bench/extras.js and worker).
 * Run it under the bench lock: `flock /tmp/udpvault-bench.lock node dist/bench/handshakes.js`.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { percentile } from './report';

type Extras = typeof import('./extras');

const root = path.resolve(process.env['BENCH_PACKAGE'] ?? path.join(__dirname, '..', '..'));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const extras = require(path.join(root, 'dist', 'bench', 'extras.js')) as Extras;
const n = Math.max(1, Number(process.env['BENCH_HANDSHAKES'] ?? 50));
const rounds = Math.max(1, Number(process.env['BENCH_ROUNDS'] ?? 1));

const load = (): string => os.loadavg().map((v) => v.toFixed(2)).join(' / ');
const fmt = (xs: number[]): string => `p50 ${percentile(xs, 50).toFixed(2)} ms, p90 ${percentile(xs, 90).toFixed(2)} ms, p99 ${percentile(xs, 99).toFixed(2)} ms (n = ${xs.length})`;

async function main(): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    let before = load();
    const inProcess = await extras.handshakesInProcess(n);
    console.log(`${path.basename(root)} in process: ${fmt(inProcess)}; load ${before} → ${load()}`);
    before = load();
    const between = await extras.handshakesBetweenProcesses('udpvault', n);
    console.log(`${path.basename(root)} between processes: ${fmt(between)}; load ${before} → ${load()}`);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
