/**
 * First contact between two udpvault processes on loopback (PROTOCOL §5.5, hs17): p50 / p90 of
 * add → both established over `BENCH_PAIRS` (30) pairs, each on fresh loopback addresses, with
 * both sides adding at once and with the second adding 5, 19 and 25 ms after the first, split by
 * whether the first to add has the greater key. `node dist/bench/first-contact.js [gaps]`, gaps
 * a comma list of ms or `once` (default once,5,19,25).
 */
import * as os from 'node:os';
import { firstContacts, type FirstContact } from './extras';
import { percentile } from './report';

const pairs = Math.max(1, Number(process.env['BENCH_PAIRS'] ?? 30));
const gaps = (process.argv[2] ?? 'once,5,19,25').split(',').map((g) => (g === 'once' ? null : Number(g)));

const fmt = (xs: number[]): string => (xs.length ? `p50 ${percentile(xs, 50).toFixed(2)} ms, p90 ${percentile(xs, 90).toFixed(2)} ms (n = ${xs.length})` : '–');
const load = (): string => os.loadavg().map((v) => v.toFixed(2)).join(' / ');

async function main(): Promise<void> {
  for (const gap of gaps) {
    const before = load();
    const r: FirstContact[] = await firstContacts(pairs, gap);
    const of = (greater: boolean): number[] => r.filter((c) => c.firstGreater === greater).map((c) => c.ms);
    console.log(`${gap === null ? 'both add at once' : `second adds ${gap} ms after the first`}: all ${fmt(r.map((c) => c.ms))}; greater key first ${fmt(of(true))}; smaller key first ${fmt(of(false))}; load ${before} → ${load()}`);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
