/**
 * Where a bench process's resident memory sits, by mapping (/proc/<pid>/smaps): glibc's main
 * malloc heap (`[heap]`, grown by brk), anonymous mappings (V8's heap pages, glibc's thread
 * arenas and large mmap'd allocations), the node binary and other files, stacks. Linux only;
 * elsewhere every figure is 0.
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

export function smaps(pid: number): Smaps {
  const out: Smaps = { heap: 0, anon: 0, file: 0, other: 0 };
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return out;
  }
  let kind: keyof Smaps = 'other';
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1] ?? '';
      kind = name === '[heap]' ? 'heap' : name === '' ? 'anon' : name.startsWith('/') ? 'file' : 'other';
      continue;
    }
    if (line.startsWith('Rss:')) out[kind] += Number(/(\d+)/.exec(line)?.[1] ?? 0) * 1024;
  }
  return out;
}

/** `label a → b MB` for each mapping kind. */
export function smapsGrowth(a: Smaps, b: Smaps): string {
  const MB = 1e6;
  return (Object.keys(a) as Array<keyof Smaps>).map((k) => `${k} ${(a[k] / MB).toFixed(1)} → ${(b[k] / MB).toFixed(1)} MB`).join(', ');
}
