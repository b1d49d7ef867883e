/** Human and JSON output of the CLI. Payload bytes appear only in subscribe output, never in errors. */
import type { Counters, PeerInfo } from '../node/types';
import type { StatusResult, WireMessage } from '../control/protocol';

/** The `subscribe --json` line: exactly the SPEC §1 fields (plus encrypted), in a fixed order. */
export function messageJson(m: WireMessage): string {
  const o: Record<string, unknown> = { peer: m.peer };
  if (m.name !== undefined) o.name = m.name;
  o.addr = m.addr;
  o.size = m.size;
  o.base64 = m.base64;
  if (m.text !== undefined) o.text = m.text;
  o.receivedAt = m.receivedAt;
  o.reliable = m.reliable;
  o.encrypted = m.encrypted;
  return JSON.stringify(o);
}

const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** The human `subscribe` line: one line per message, whatever the payload. */
export function messageLine(m: WireMessage): string {
  const who = m.name ?? m.peer;
  const flags = [m.reliable ? 'reliable' : '', m.encrypted ? '' : 'PLAINTEXT'].filter(Boolean).join(' ');
  const head = `${m.receivedAt} ${who} ${m.addr} ${m.size} B${flags ? ` ${flags}` : ''}`;
  if (m.text !== undefined) {
    const body = CONTROL_CHARS.test(m.text) ? JSON.stringify(m.text) : m.text;
    return `${head}: ${body}`;
  }
  const b64 = m.base64.length > 96 ? `${m.base64.slice(0, 96)}...` : m.base64;
  return `${head}: <binary, base64 ${b64}>`;
}

function ago(iso: string | null): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  return `${Math.round(s / 3600)}h ago`;
}

function drops(c: Counters): string {
  const parts = Object.entries(c.drops)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([k, n]) => `${k} ${n}`);
  return parts.length ? parts.join(', ') : 'none';
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

export function peerTable(peers: readonly PeerInfo[]): string {
  if (peers.length === 0) return 'no peers (add one with: udpvault peer add HOST:PORT --key KEY)';
  const rows = [['NAME', 'KEY', 'ENDPOINT', 'STATE', 'TRUST', 'LAST HANDSHAKE', 'RTT', 'IN (msg/pkt/bytes)', 'OUT (msg/pkt/bytes)', 'DROPS']];
  for (const p of peers) {
    const c = p.counters;
    rows.push([
      p.name ?? '-',
      p.key ?? '(unknown: TOFU)',
      p.endpoint + (p.compat ? ` [${p.compat}${p.allowPlaintext ? ', plaintext ok' : ''}]` : ''),
      p.state,
      p.trust,
      ago(p.lastHandshake),
      p.rttMs === null ? '-' : `${p.rttMs.toFixed(1)}ms`,
      `${c.messagesIn}/${c.packetsIn}/${c.bytesIn}`,
      `${c.messagesOut}/${c.packetsOut}/${c.bytesOut}`,
      drops(c),
    ]);
  }
  return table(rows);
}

export function peerSummary(verb: string, p: PeerInfo): string {
  const label = p.name ? `${p.name} (${p.endpoint})` : p.endpoint;
  const lines = [`${verb} peer ${label}`];
  if (p.key) lines.push(`  key    ${p.key} (${p.trust})`);
  else lines.push('  key    none given: the first key this peer presents will be trusted and recorded (TOFU); check it later with "udpvault peer list"');
  if (p.compat) lines.push(`  compat ${p.compat}${p.allowPlaintext ? ' (plaintext payloads accepted)' : ''}`);
  lines.push(`  state  ${p.state}`);
  return lines.join('\n');
}

export function statusText(s: StatusResult): string {
  const c = s.counters;
  return [
    `udpvault ${s.version}: daemon running${s.home ? ` (home ${s.home})` : ''}`,
    `  public key   ${s.publicKey}`,
    `  listening    ${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port} (udp)`,
    `  MTU          ${s.mtu} (largest datagram ${s.maxDatagramBytes} bytes)`,
    `  started      ${s.startedAt} (${ago(s.startedAt)})`,
    `  peers        ${s.peers}`,
    `  subscribers  ${s.subscribers} (control connections ${s.connections})`,
    `  in           ${c.messagesIn} messages, ${c.packetsIn} packets, ${c.bytesIn} bytes`,
    `  out          ${c.messagesOut} messages, ${c.packetsOut} packets, ${c.bytesOut} bytes`,
    `  drops        ${drops(c)}`,
  ].join('\n');
}
