/**
 * Reads V8 heap snapshots (v8.writeHeapSnapshot) and sums the self size of their objects by
 * kind — constructor name for objects, the node type for strings, arrays, closures, code — so
 * that the difference between two snapshots says which objects a workload added, with bytes
 * and counts (bench/memory.ts: the biggest items per idle peer).
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export type HeapSummary = Map<string, { count: number; bytes: number }>;

/** Types whose names are contents (string text, code names), not kinds: summed under the type. */
const BY_TYPE = new Set(['string', 'concatenated string', 'sliced string', 'number', 'closure', 'code', 'regexp', 'bigint']);

export function summarize(file: string): HeapSummary {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const [ti, ni, si] = [fields.indexOf('type'), fields.indexOf('name'), fields.indexOf('self_size')];
  const out: HeapSummary = new Map();
  for (let i = 0; i < s.nodes.length; i += fields.length) {
    const type = types[s.nodes[i + ti]!] ?? '?';
    const name = BY_TYPE.has(type) ? '' : (s.strings[s.nodes[i + ni]!] ?? '').slice(0, 60);
    const key = name ? `${type}: ${name}` : type;
    const e = out.get(key) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += s.nodes[i + si]!;
    out.set(key, e);
  }
  return out;
}

export interface HeapDiffRow {
  kind: string;
  count: number;
  bytes: number;
}

/** What `after` has more of than `before`, largest first (kinds that shrank are left out). */
export function heapDiff(before: HeapSummary, after: HeapSummary): HeapDiffRow[] {
  const rows: HeapDiffRow[] = [];
  for (const [kind, a] of after) {
    const b = before.get(kind) ?? { count: 0, bytes: 0 };
    if (a.bytes > b.bytes) rows.push({ kind, count: a.count - b.count, bytes: a.bytes - b.bytes });
  }
  return rows.sort((x, y) => y.bytes - x.bytes);
}
