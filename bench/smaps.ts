/**
 * Where a bench process's resident memory sits, by mapping (/proc/<pid>/smaps): glibc's main
 * malloc heap (`[heap]`, grown by brk), anonymous mappings (V8's heap pages, glibc's thread
 * arenas and large mmap'd allocations), the node binary and other files, stacks. Linux only;
 * elsewhere every figure is 0.
 *
 * The anonymous part is also split by shape (`shapes`, rss18): glibc thread arenas (a read-write
 * mapping at a 64 MiB boundary followed by the PROT_NONE rest of its 64 MiB reservation), V8
 * pages (read-write, 256 KiB, at a 256 KiB boundary), executable (V8's code space, JIT), thread
 * stacks (a read-write mapping right after a PROT_NONE guard, 8 MiB and more) and the rest by size.
 */
import { readFileSync } from 'node:fs';

export interface Smaps {
  /** glibc's main arena (`[heap]`): small and medium malloc'd blocks of the main thread. */
  heap: number;
  /** Anonymous mappings: V8's heap pages, thread arenas, mmap'd blocks ≥ 128 KiB, code space. */
  anon: number;
  /** File-backed mappings (the node binary, shared libraries, addons). */
  file: number;
  /** Everything else ([stack], [vvar], …). */
  other: number;
}

/** Resident bytes of the anonymous mappings by shape, and how many mappings of each. */
export type Shapes = Record<string, { rss: number; maps: number }>;

interface Mapping {
  start: number;
  end: number;
  perms: string;
  name: string;
  rss: number;
}

function read(pid: number): Mapping[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return [];
  }
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      out.push({ start: parseInt(head[1]!, 16), end: parseInt(head[2]!, 16), perms: head[3]!, name: head[4] ?? '', rss: 0 });
      continue;
    }
    const last = out[out.length - 1];
    if (last && line.startsWith('Rss:')) last.rss += Number(/(\d+)/.exec(line)?.[1] ?? 0) * 1024;
  }
  return out;
}

export function smaps(pid: number): Smaps {
  const out: Smaps = { heap: 0, anon: 0, file: 0, other: 0 };
  for (const m of read(pid)) {
    const kind: keyof Smaps = m.name === '[heap]' ? 'heap' : m.name === '' ? 'anon' : m.name.startsWith('/') ? 'file' : 'other';
    out[kind] += m.rss;
  }
  return out;
}

const KiB = 1024;
const MiB = 1024 * KiB;
const ARENA = 64 * MiB;

function shapeOf(m: Mapping, prev: Mapping | undefined, next: Mapping | undefined): string {
  const size = m.end - m.start;
  if (m.perms.includes('x')) return 'executable';
  if (m.perms.startsWith('---')) return 'no access';
  if (m.start % ARENA === 0 && next && next.start === m.end && next.perms.startsWith('---') && next.name === '' && next.end - m.start === ARENA) return 'glibc arena';
  if (m.start % ARENA === 0 && size === ARENA) return 'glibc arena';
  if (prev && prev.end === m.start && prev.perms.startsWith('---') && prev.end - prev.start <= 64 * KiB && size >= MiB) return 'thread stack';
  if (size === 256 * KiB && m.start % (256 * KiB) === 0) return 'V8 page 256K';
  if (size % (256 * KiB) === 0 && m.start % (256 * KiB) === 0) return 'aligned 256K×n';
  if (size < 256 * KiB) return '< 256K';
  if (size < 4 * MiB) return '256K–4M';
  return '≥ 4M';
}

/** The anonymous mappings' resident bytes by shape. */
export function shapes(pid: number): Shapes {
  const maps = read(pid);
  const out: Shapes = {};
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i]!;
    if (m.name !== '') continue;
    const s = shapeOf(m, maps[i - 1], maps[i + 1]);
    const e = (out[s] ??= { rss: 0, maps: 0 });
    e.rss += m.rss;
    e.maps++;
  }
  return out;
}

/** `shape a → b MB (maps m → n)` for each shape whose resident bytes moved, largest growth first. */
export function shapesGrowth(a: Shapes, b: Shapes, perPeer?: number): string {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  const d = (k: string): number => (b[k]?.rss ?? 0) - (a[k]?.rss ?? 0);
  return keys
    .sort((x, y) => d(y) - d(x))
    .map((k) => `${k} ${((a[k]?.rss ?? 0) / 1e6).toFixed(1)} → ${((b[k]?.rss ?? 0) / 1e6).toFixed(1)} MB (${a[k]?.maps ?? 0} → ${b[k]?.maps ?? 0} maps${perPeer ? `; ${Math.round(d(k) / perPeer)} B per peer` : ''})`)
    .join('; ');
}

/** `label a → b MB` for each mapping kind. */
export function smapsGrowth(a: Smaps, b: Smaps): string {
  const MB = 1e6;
  return (Object.keys(a) as Array<keyof Smaps>).map((k) => `${k} ${(a[k] / MB).toFixed(1)} → ${(b[k] / MB).toFixed(1)} MB`).join(', ');
}
