/**
 * `udpvault status`: the daemon at a glance in 100 columns (sizes in KiB/MiB, uptime, drops
 * explained), and with --verbose the raw counters and every drop reason.
 */
import type { StatusResult } from '../control/protocol';
import type { PeerJson } from '../control/views';
import { bytes, duration, plural, wrapJoin } from './units';
import { dropList, totalDrops, WIDTH } from './format-peers';

/** What each drop reason means, in a few words (docs/CONTROL.md has the same list). */
export const DROP_HELP: Readonly<Record<string, string>> = {
  malformed: 'not a udpvault datagram (garbage, a scan)',
  unknownSession: 'for a session that no longer exists (e.g. after a restart)',
  unknownPeer: 'a handshake from an identity that is not a peer (yet)',
  authFailure: 'failed authentication (corrupted or forged)',
  replay: 'a duplicate or replayed packet',
  stale: 'a timestamp outside the freshness window',
  rateLimited: 'over a rate limit',
  tooLarge: 'larger than allowed',
  unknownVersion: 'an unknown protocol or frame version',
  keyChanged: 'signed by a key other than the one recorded for the peer',
  decompress: 'decompression failed or exceeded the size limit',
  plaintextRefused: 'vault-v2 plaintext from a peer added without --allow-plaintext',
  congestion: 'a datagram-mode message dropped at the sender: the congestion window stayed full (datagramWindowWaitMs)',
  inboxFull: 'a datagram-mode message while no reader was attached and the inbox was full',
  flowControl: 'a reliable item beyond the flow-control credit this node granted (the sender ignored it); not acknowledged',
};

function line(label: string, value: string): string {
  return `  ${label.padEnd(12)} ${value}`;
}

function listenAddress(s: StatusResult): string {
  return `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port} (udp)`;
}

function mtuLine(s: StatusResult): string {
  const d = s.daemon;
  const source = d ? ` (${d.mtuSource === 'fallback' ? 'fallback: no interface MTU found' : d.mtuSource})` : '';
  const v6 = d ? `, ${d.maxDatagramBytes.ipv6} B over IPv6` : '';
  return `${s.mtu}${source}; largest datagram ${d ? d.maxDatagramBytes.ipv4 : s.maxDatagramBytes} B${d ? ' over IPv4' : ''}${v6}`;
}

function dropsLines(drops: Readonly<Record<string, number>>): string[] {
  const total = totalDrops(drops);
  if (total === 0) return [line('drops', 'none')];
  const out = [line('drops', `${total} in total`)];
  for (const [reason, n] of Object.entries(drops)) {
    if (n > 0) out.push(line('', `${reason} ${n}: ${DROP_HELP[reason] ?? 'see docs/CONTROL.md'}`));
  }
  if ((drops.unknownPeer ?? 0) > 0) {
    out.push(line('', 'unknownPeer is normal while two daemons add each other: the first handshake'));
    out.push(line('', 'arrives before the other side has added this peer; it is answered or retried.'));
  }
  return out;
}

export function statusText(s: StatusResult, peers: readonly PeerJson[], nowMs: number, verbose = false): string {
  const c = s.counters;
  const established = peers.filter((p) => p.state === 'established').length;
  const started = Date.parse(s.startedAt);
  const out = [
    `udpvault ${s.version}: daemon running${s.home ? ` (home ${s.home})` : ''}`,
    line('public key', s.publicKey),
    line('fingerprint', s.fingerprint),
    line('listening', listenAddress(s)),
    line('MTU', mtuLine(s)),
    line('up', Number.isFinite(started) ? `${duration((nowMs - started) / 1000)} (since ${s.startedAt})` : s.startedAt),
    line('peers', `${s.peers}${s.peers > 0 ? ` (${established} established)` : ''}`),
    line('subscribers', `${s.subscribers}`),
  ];
  if (s.daemon?.metricsUrl) out.push(line('metrics', s.daemon.metricsUrl));
  if (verbose) {
    out.push(line('control', `${s.connections} connection${s.connections === 1 ? '' : 's'} (this status request included)`));
    if (s.daemon) {
      out.push(line('config', s.daemon.configFile ?? '(none: defaults, environment, flags)'));
      out.push(line('log level', s.daemon.logLevel));
    }
    out.push(line('in', `${plural(c.messagesIn, 'message')}, ${plural(c.packetsIn, 'packet')}, ${plural(c.bytesIn, 'byte')} (${bytes(c.bytesIn)})`));
    out.push(line('out', `${plural(c.messagesOut, 'message')}, ${plural(c.packetsOut, 'packet')}, ${plural(c.bytesOut, 'byte')} (${bytes(c.bytesOut)})`));
    out.push(line('drops', wrapJoin(dropList(c.drops), 15, WIDTH)));
  } else {
    out.push(line('in', `${plural(c.messagesIn, 'message')}, ${bytes(c.bytesIn)}`));
    out.push(line('out', `${plural(c.messagesOut, 'message')}, ${bytes(c.bytesOut)}`));
    out.push(...dropsLines(c.drops));
  }
  return out.join('\n');
}
