/** Test helper: a node as the metrics endpoint sees it (status() and peers()), fully controlled. */
import { createHash } from 'node:crypto';
import type { Counters, NodeStatus, PeerInfo } from '../../src/node/types';
import type { MetricsPeerExtras, MetricsSource, MetricsStatusExtras } from '../../src/metrics';

/** A valid udpvault key string (43 base64url characters of 32 bytes), derived from a seed. */
export function keyString(seed: string): string {
  return createHash('sha256').update(seed).digest().toString('base64url');
}

/** The short fingerprint computed independently of src/crypto/fingerprint.ts. */
export function shortFp(key: string): string {
  const hex = createHash('sha256').update(Buffer.from(key, 'base64url')).digest('hex');
  return `${hex.slice(0, 4)}-${hex.slice(4, 8)}`;
}

export function counters(c: Partial<Counters> = {}): Counters {
  return { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0, drops: {}, ...c };
}

export type FakePeer = PeerInfo & MetricsPeerExtras;

export function peer(p: Partial<FakePeer> & { endpoint: string }): FakePeer {
  return {
    key: null,
    name: null,
    compat: null,
    allowPlaintext: false,
    trust: 'unknown',
    state: 'new',
    lastHandshake: null,
    rttMs: null,
    counters: counters(),
    ...p,
  };
}

export class FakeNode implements MetricsSource {
  statusCalls = 0;
  peersCalls = 0;
  list: FakePeer[] = [];
  extras: MetricsStatusExtras = {};
  readonly publicKey = keyString('the node itself');
  global: Counters = counters();

  status(): NodeStatus & MetricsStatusExtras {
    this.statusCalls++;
    return {
      publicKey: this.publicKey,
      port: 11000,
      host: '127.0.0.1',
      maxDatagramBytes: 1452,
      mtu: 1500,
      peers: this.list.length,
      counters: this.global,
      startedAt: '2026-12-01T05:00:00.000Z',
      ...this.extras,
    };
  }

  peers(): FakePeer[] {
    this.peersCalls++;
    return this.list;
  }
}

/** A logger that keeps every line (for assertions on what was logged). */
export function memoryLogger(): { lines: { level: string; obj: object; msg?: string }[] } & import('../../src/runtime/log').Logger {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string): void => void lines.push({ level, obj, ...(msg !== undefined && { msg }) });
  const logger = { lines, trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}
