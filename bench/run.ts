/**
 * `npm run bench` (issue 12, SPEC §8): raw dgram, udpvault and hyperswarm's
 * @hyperswarm/secret-stream over udx-native, side by side on loopback, each contender a pair
 * of processes, in interleaved rounds; then handshake times and memory. Prints the tables and
 * writes them into docs/BENCHMARKS.md.
 *
 * Knobs (environment): BENCH_MS (measured window per workload, default 3000), BENCH_WARMUP_MS
 * (500), BENCH_ROUNDS (3), BENCH_PEERS (idle peers of the memory figure, 10000),
 * BENCH_IDLE_MS (time those peers sit idle before RSS is read, 30000 > one 25 s keepalive),
 * BENCH_HANDSHAKES (samples per handshake figure, 50), BENCH_DOC (file to write, default
 * docs/BENCHMARKS.md; "-" = print only), BENCH_VERBOSE (the centre's peer states while the
 * 10,000 sessions come up).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { crowd, firstContacts, handshakesBetweenProcesses, handshakesInProcess } from './extras';
import { markdown, writeIntoDoc } from './report';
import { loadHyperswarm } from './roles/hyperswarm';
import { BATCH, runRounds, WORKLOADS } from './rounds';

const num = (name: string, def: number): number => {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, not "${v}"`);
  return n;
};

async function main(): Promise<void> {
  const durationMs = num('BENCH_MS', 3000);
  const warmupMs = num('BENCH_WARMUP_MS', 500);
  const rounds = Math.max(1, Math.round(num('BENCH_ROUNDS', 3)));
  const peers = Math.round(num('BENCH_PEERS', 10_000));
  const idleMs = num('BENCH_IDLE_MS', 30_000);
  const handshakes = Math.max(1, Math.round(num('BENCH_HANDSHAKES', 50)));
  const log = (s: string): void => console.log(s);

  const hs = loadHyperswarm();
  const missing = 'missing' in hs ? hs.missing : null;
  if (missing) log(`secret-stream left out: ${missing}`);
  const workloads = WORKLOADS.filter((w) => !missing || w.role !== 'secret-stream');

  const started = new Date();
  log(`${rounds} rounds, ${durationMs} ms per workload after ${warmupMs} ms warm-up`);
  const r = await runRounds(rounds, { durationMs, warmupMs }, workloads, log);
  log('handshakes');
  const inProcess = await handshakesInProcess(handshakes);
  const betweenProcesses = await handshakesBetweenProcesses('udpvault', handshakes);
  const secretStreamBetween = missing ? [] : await handshakesBetweenProcesses('secret-stream', handshakes);
  const firstContactAtOnce = (await firstContacts(handshakes, null)).map((c) => c.ms);
  log(`memory: ${peers} idle peers`);
  const c = peers > 0 ? await crowd(peers, idleMs, log) : null;

  const cpu = os.cpus();
  const ssMtu = [...new Set(workloads.filter((w) => w.role === 'secret-stream').map((w) => r.mtu.get(w.id)))].join('/');
  const environment = [
    `${started.toISOString().slice(0, 16).replace('T', ' ')} UTC; ${cpu.length} × ${cpu[0]?.model.trim() ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`,
    missing ? '' : `; ${'versions' in hs ? hs.versions : ''}`,
    `. ${rounds} rounds of ${durationMs} ms per workload after ${warmupMs} ms warm-up; batches of ${BATCH} sends per event-loop turn; `,
    `udpvault with its default settings except mtu 1500 (padding \`bucket\`, congestion control and acknowledgements as built); `,
    `secret-stream over one udx stream${ssMtu ? ` (udx has no MTU setting: it probes from 1200 to 1500; its MTU at the end of the measured windows: ${ssMtu})` : ''}; 4 MiB socket buffers for raw and udx (udpvault sets its own). `,
    `Reliable udpvault sends keep at most 4,096 messages (256 KiB: 8) awaiting acknowledgement; secret-stream writes follow the stream's back-pressure.`,
  ].join('');
  const text = markdown({ rounds: r, inProcess, betweenProcesses, secretStreamBetween, firstContactAtOnce, crowd: c, environment, secretStreamMissing: missing });
  log(`\n${text}`);
  const doc = process.env['BENCH_DOC'] ?? path.join(__dirname, '..', '..', 'docs', 'BENCHMARKS.md');
  if (doc !== '-') log(writeIntoDoc(doc, text) ? `written to ${path.relative(process.cwd(), doc)}` : `no results markers in ${doc}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
