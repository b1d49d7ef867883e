/** Human units for CLI output: sizes (B/KiB/MiB/GiB), durations, "3 min ago", clipping to a width. */

const SIZE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB'];

/** 0 B, 999 B, 1.5 KiB, 12.9 MiB, 1.2 GiB (1 KiB = 1024 B; one decimal below 100, none above). */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  let v = n;
  let unit = 'B';
  for (const u of SIZE_UNITS) {
    if (v < 1024) break;
    v /= 1024;
    unit = u;
  }
  return `${v < 100 ? v.toFixed(1) : Math.round(v)} ${unit}`;
}

/** "-" for null; 0.4 ms; 12.3 ms; 250 ms; 1.5 s. */
export function millis(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A length of time: 45 s, 3 min, 2 h 5 min (2 h when compact), 4 days. */
export function duration(seconds: number, compact = false): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) {
    const m = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h${m && !compact ? ` ${m} min` : ''}`;
  }
  const d = Math.floor(s / 86_400);
  return `${d} day${d === 1 ? '' : 's'}`;
}

/** "never", "just now", "12 s ago", "3 min ago", "2 h 5 min ago" ("2 h ago" when compact), "4 days ago". */
export function ago(iso: string | null, nowMs: number, compact = false): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return 'never';
  const s = (nowMs - t) / 1000;
  if (s < 1) return 'just now';
  return `${duration(s, compact)} ago`;
}

/** Shortens to `max` columns with a trailing "…". */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 1))}…`;
}

/** Joins items into lines of at most `width` columns, each line after the first indented by `indent` spaces. */
export function wrapJoin(items: readonly string[], indent: number, width: number, sep = ', '): string {
  const lines: string[] = [];
  let cur = '';
  for (const item of items) {
    const next = cur ? `${cur}${sep}${item}` : item;
    if (cur && indent + next.length > width) {
      lines.push(`${cur}${sep.trimEnd()}`);
      cur = item;
    } else {
      cur = next;
    }
  }
  if (cur) lines.push(cur);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** "1 message", "3 messages". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
