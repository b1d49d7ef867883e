/**
 * `udpvault peer list`: a table that fits 100 columns (short key fingerprints, sizes in
 * KiB/MiB, "12 s ago", total drops) and, with --verbose, one block per peer with the full key,
 * raw counters and every drop reason.
 */
import type { PeerJson } from '../control/views';
import { DROP_REASONS } from '../errors';
import { ago, bytes, clip, millis, plural, wrapJoin } from './units';

/** Output width the human forms keep to. */
export const WIDTH = 100;

export function totalDrops(drops: Readonly<Record<string, number>>): number {
  return Object.values(drops).reduce((a, b) => a + b, 0);
}

/** Every drop reason with its count (zeros included), known reasons first, in their fixed order. */
export function dropList(drops: Readonly<Record<string, number>>): string[] {
  const names = [...DROP_REASONS, ...Object.keys(drops).filter((k) => !(DROP_REASONS as readonly string[]).includes(k))];
  return names.map((r) => `${r} ${drops[r] ?? 0}`);
}

function keyCell(p: PeerJson): string {
  if (p.fingerprint === null) return '(none yet)';
  const short = p.fingerprint.split('-').slice(0, 2).join('-');
  return p.trust === 'tofu' ? `${short}*` : short;
}

function endpointCell(p: PeerJson): string {
  return p.compat ? `${p.endpoint} (v2)` : p.endpoint;
}

/**
 * Lays out rows in columns two spaces apart. While the table is wider than `width`, shrinkable
 * columns are clipped: first the outliers (cells longer than the column's second-longest), so
 * that one long name does not clip every endpoint; then the widest column, down to 8.
 */
export function layoutTable(rows: string[][], shrinkable: readonly number[], width = WIDTH): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const typical = widths.map((_, i) => {
    const lens = rows.map((r) => r[i]!.length).sort((a, b) => b - a);
    return lens[1] ?? lens[0]!;
  });
  const min = (i: number): number => Math.max(rows[0]![i]!.length, 8);
  const total = (): number => widths.reduce((a, b) => a + b, 0) + 2 * (widths.length - 1);
  while (total() > width) {
    const open = shrinkable.filter((i) => widths[i]! > min(i));
    if (open.length === 0) break;
    const excess = (i: number): number => widths[i]! - typical[i]!;
    const outlier = open.reduce((a, b) => (excess(b) > excess(a) ? b : a));
    const pick = excess(outlier) > 0 ? outlier : open.reduce((a, b) => (widths[b]! > widths[a]! ? b : a));
    widths[pick]!--;
  }
  return rows
    .map((r) =>
      r
        .map((c, i) => {
          const cell = clip(c, widths[i]!);
          return i === r.length - 1 ? cell : cell.padEnd(widths[i]!);
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function peerTable(peers: readonly PeerJson[], nowMs: number): string {
  if (peers.length === 0) return 'no peers (add one with: udpvault peer add HOST:PORT --key KEY)';
  const rows = [['NAME', 'KEY', 'ENDPOINT', 'STATE', 'HANDSHAKE', 'RTT', 'IN', 'OUT', 'DROPS']];
  for (const p of peers) {
    const c = p.counters;
    rows.push([p.name ?? '-', keyCell(p), endpointCell(p), p.state, ago(p.lastHandshake, nowMs, true), millis(p.rttMs), bytes(c.bytesIn), bytes(c.bytesOut), String(totalDrops(c.drops))]);
  }
  const notes: string[] = [];
  if (peers.some((p) => p.trust === 'tofu')) notes.push('* key recorded on first use (TOFU), not given with --key');
  if (peers.some((p) => p.fingerprint === null)) notes.push('(none yet): no --key given; the first key this peer presents is recorded');
  if (peers.some((p) => p.compat)) notes.push('(v2): spoken to in py-vault-udp protocol v2');
  notes.push('KEY is the start of the key fingerprint; --verbose shows full keys, raw counters and drop reasons');
  return `${layoutTable(rows, [0, 2])}\n\n${notes.join('\n')}`;
}

function line(label: string, value: string): string {
  return `  ${label.padEnd(12)} ${value}`;
}

/** --verbose: one block per peer, every field and counter. */
export function peerDetails(peers: readonly PeerJson[], nowMs: number): string {
  if (peers.length === 0) return peerTable(peers, nowMs);
  return peers
    .map((p) => {
      const c = p.counters;
      const out = [`${p.name ?? '(no name)'}  ${p.endpoint}`];
      out.push(line('key', p.key ?? '(none yet: the first key this peer presents is recorded, TOFU)'));
      if (p.fingerprint) out.push(line('fingerprint', p.fingerprint));
      out.push(line('trust', p.trust));
      if (p.compat) out.push(line('compat', `${p.compat}${p.allowPlaintext ? ' (plaintext payloads accepted)' : ''}`));
      out.push(line('state', p.state));
      out.push(line('handshake', p.lastHandshake ? `${ago(p.lastHandshake, nowMs)} (${p.lastHandshake})` : 'never'));
      out.push(line('rtt', millis(p.rttMs)));
      out.push(line('in', `${plural(c.messagesIn, 'message')}, ${plural(c.packetsIn, 'packet')}, ${plural(c.bytesIn, 'byte')} (${bytes(c.bytesIn)})`));
      out.push(line('out', `${plural(c.messagesOut, 'message')}, ${plural(c.packetsOut, 'packet')}, ${plural(c.bytesOut, 'byte')} (${bytes(c.bytesOut)})`));
      out.push(line('drops', wrapJoin(dropList(c.drops), 15, WIDTH)));
      return out.join('\n');
    })
    .join('\n\n');
}
