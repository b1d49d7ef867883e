/**
 * docs/METRICS.md and docs/grafana-dashboard.json against the real exposition: every family is
 * documented, every metric the docs and the dashboard use exists, the drop reasons listed are
 * the code's, and the dashboard is well-formed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DROP_REASONS } from '../../src/errors';
import { NodeMetrics } from '../../src/metrics/collector';
import { FakeNode } from './fake-node';
import { parseExposition } from './exposition';

const root = path.join(__dirname, '..', '..');
const doc = fs.readFileSync(path.join(root, 'docs', 'METRICS.md'), 'utf8');
const dashboard = JSON.parse(fs.readFileSync(path.join(root, 'docs', 'grafana-dashboard.json'), 'utf8')) as {
  panels: { id: number; type: string; gridPos: { x: number; y: number; w: number; h: number }; targets?: { expr: string }[]; datasource?: unknown }[];
  templating: { list: { query: { query: string } }[] };
  annotations: { list: { expr: string }[] };
};

async function families(): Promise<Map<string, string>> {
  return parseExposition(await new NodeMetrics(new FakeNode(), 10).scrape()).types;
}

/** A name as used in a query, back to its family (histogram series end in _bucket/_sum/_count). */
function family(name: string, known: Map<string, string>): string {
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return !known.has(name) && known.get(base) === 'histogram' ? base : name;
}

function namesIn(text: string): string[] {
  return [...new Set(text.match(/\budpvault_[a-z_]+/g) ?? [])];
}

test('every family the endpoint exposes has a row in METRICS.md, with its type', async () => {
  const known = await families();
  expect(known.size).toBe(26);
  for (const [name, type] of known) expect(doc).toMatch(new RegExp(`\\| \`${name}\` \\| ${type} \\|`));
});

test('every udpvault_ name in METRICS.md and in the dashboard exists', async () => {
  const known = await families();
  const exprs = [
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ...dashboard.templating.list.map((v) => v.query.query),
    ...dashboard.annotations.list.map((a) => a.expr),
  ].join('\n');
  const unknown = [...namesIn(doc), ...namesIn(exprs)].filter((n) => !known.has(family(n, known)));
  expect(unknown).toEqual([]);
  // The dashboard shows most families (all but the per-peer traffic counters it sums elsewhere).
  const used = new Set(namesIn(exprs).map((n) => family(n, known)));
  expect([...known.keys()].filter((n) => !used.has(n)).sort()).toEqual([
    'udpvault_build_info',
    'udpvault_max_datagram_bytes',
    'udpvault_peer_last_handshake_timestamp_seconds',
    'udpvault_peer_messages_total',
    'udpvault_peer_packets_total',
    'udpvault_peer_queued_bytes',
    'udpvault_peer_queued_messages',
  ]);
});

test('the drop reasons METRICS.md lists are exactly the code\'s', () => {
  const row = doc.split('\n').find((l) => l.startsWith('| `udpvault_drops_total`'))!;
  const listed = [...row.split('): ')[1]!.matchAll(/`([a-zA-Z]+)`/g)].map((m) => m[1]);
  expect(listed).toEqual([...DROP_REASONS]);
});

test('the dashboard is well-formed: unique panel ids, a data source on every query panel, inside 24 columns', () => {
  const ids = dashboard.panels.map((p) => p.id);
  expect(new Set(ids).size).toBe(ids.length);
  for (const p of dashboard.panels) {
    expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    if (p.type !== 'row') {
      expect(p.datasource).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
      expect(p.targets!.length).toBeGreaterThan(0);
      for (const t of p.targets!) expect(t.expr).toContain('job="$job"');
    }
  }
});
