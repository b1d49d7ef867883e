/** Output of subscribe (human and JSON lines) and of peer add. Payload bytes appear only in subscribe output, never in errors; status and peer list are in format-status.ts and format-peers.ts. */
import type { WireMessage } from '../control/protocol';
import type { PeerJson } from '../control/views';

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

export function peerSummary(verb: string, p: PeerJson): string {
  const label = p.name ? `${p.name} (${p.endpoint})` : p.endpoint;
  const row = (k: string, v: string): string => `  ${k.padEnd(12)} ${v}`;
  const lines = [`${verb} peer ${label}`];
  if (p.key) {
    lines.push(row('key', `${p.key} (${p.trust})`));
    if (p.fingerprint) lines.push(row('fingerprint', p.fingerprint));
  } else {
    lines.push(row('key', 'none given: the first key this peer presents is trusted and recorded'));
    lines.push(row('', '(TOFU); compare it later with "udpvault peer list --verbose"'));
  }
  if (p.compat) lines.push(row('compat', `${p.compat}${p.allowPlaintext ? ' (plaintext payloads accepted)' : ''}`));
  lines.push(row('state', p.state));
  return lines.join('\n');
}
