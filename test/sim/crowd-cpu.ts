/**
 * A crowd on the simulated network with a CPU cost model for its centre (the bench's memory
 * phase, bench/extras.ts crowd(), in miniature): the centre's handshake work takes simulated
 * time on one CPU, so its answers come late, as on a two-core machine bringing up 10,000 peers.
 *
 * BusyCpu wraps a node's transport: every datagram the node receives is handed to it only when
 * the CPU is free, after its cost (a handshake message or cookie reply: `receiveHandshakeMs`, the
 * first Diffie-Hellman of reading it; anything else: `dataMs`); a handshake message the node sends
 * costs `sendHandshakeMs` (the rest of the work behind an answer or an init) and leaves when that
 * work is done. Datagrams beyond `queueMax` waiting are dropped (a full socket buffer).
 */
import type { ManualScheduler } from '../../src/runtime/scheduler';
import type { Clock } from '../../src/runtime/clock';
import type { OpenTransport, Transport } from '../../src/net/transport';
import { isHandshakeOrCookieType, V4 } from '../../src/wire/handshake-v4';
import type { UdpVaultNode } from '../../src/node/types';
import { SIM_PORT, type SimWorld } from './harness';

export interface CpuModel {
  /** CPU ms per handshake message received (reading it). */
  receiveHandshakeMs: number;
  /** CPU ms per handshake message sent (the work behind it). */
  sendHandshakeMs: number;
  /** CPU ms per other datagram. */
  dataMs: number;
  /** Datagrams received that may wait for the CPU; beyond, dropped. */
  queueMax: number;
}

export class BusyCpu {
  #busyUntil = 0;
  #waiting = 0;
  /** Received datagrams dropped because `queueMax` were waiting. */
  overflow = 0;
  /** Most received datagrams waiting at once. */
  maxWaiting = 0;
  /** CPU ms spent. */
  busyMs = 0;
  readonly #scheduler: ManualScheduler;
  readonly #clock: Clock;
  readonly #m: CpuModel;

  constructor(scheduler: ManualScheduler, clock: Clock, m: CpuModel) {
    this.#scheduler = scheduler;
    this.#clock = clock;
    this.#m = m;
  }

  /** Runs `fn` once `costMs` of CPU after all the work already queued is done. */
  #work(costMs: number, fn: () => void): void {
    const now = this.#clock.monotonic();
    this.#busyUntil = Math.max(now, this.#busyUntil) + costMs;
    this.busyMs += costMs;
    this.#scheduler.timeout(fn, this.#busyUntil - now);
  }

  wrap(open: OpenTransport): OpenTransport {
    return async (o) => {
      const t = await open({
        ...o,
        onMessage: (data, address, port) => {
          if (this.#waiting >= this.#m.queueMax) {
            this.overflow++;
            return;
          }
          this.#waiting++;
          this.maxWaiting = Math.max(this.maxWaiting, this.#waiting);
          this.#work(isHandshakeOrCookieType(data[0]) ? this.#m.receiveHandshakeMs : this.#m.dataMs, () => {
            this.#waiting--;
            o.onMessage(data, address, port);
          });
        },
      });
      return withSend(t, (parts, port, address, family, done) => {
        const type = firstByte(parts);
        if (type === undefined || !isHandshakeOrCookieType(type) || type === V4.cookieReply) return t.send(parts, port, address, family, done);
        const copy = Array.isArray(parts) ? (parts as readonly Uint8Array[]).map((p) => Uint8Array.from(p)) : Uint8Array.from(parts as Uint8Array);
        this.#work(this.#m.sendHandshakeMs, () => void t.send(copy, port, address, family, done));
        return true;
      });
    };
  }
}

/** The first byte of a datagram handed to Transport.send (its type). */
function firstByte(parts: Uint8Array | readonly Uint8Array[]): number | undefined {
  const first = Array.isArray(parts) ? (parts as readonly Uint8Array[])[0] : (parts as Uint8Array);
  return first?.[0];
}

/** `t` with its send replaced. */
function withSend(t: Transport, send: Transport['send']): Transport {
  return {
    get host() {
      return t.host;
    },
    get port() {
      return t.port;
    },
    hasFamily: (f) => t.hasFamily(f),
    send,
    close: () => t.close(),
  };
}

/** Counts the handshake messages each node sends, by type (wraps its transport). */
export class HandshakeCount {
  readonly sent = new Map<number, number>();
  /** Called for each handshake message sent (type, sender host). */
  onSend: ((type: number, from: string, to: string) => void) | null = null;
  wrap(open: OpenTransport): OpenTransport {
    return async (o) => {
      const t = await open(o);
      return withSend(t, (parts, port, address, family, done) => {
        const type = firstByte(parts);
        if (type !== undefined && isHandshakeOrCookieType(type)) {
          this.sent.set(type, (this.sent.get(type) ?? 0) + 1);
          this.onSend?.(type, t.host, address);
        }
        return t.send(parts, port, address, family, done);
      });
    };
  }
  of(type: number): number {
    return this.sent.get(type) ?? 0;
  }
}

export const crowdAddress = (i: number): string => `127.20.${Math.floor(i / 250)}.${(i % 250) + 1}`;

export interface CrowdRun {
  centre: UdpVaultNode;
  members: UdpVaultNode[];
  /** Simulated ms from the first add to every peer established on both sides (null: not within maxMs). */
  upMs: number | null;
  /** Centre peers that went 'unreachable' while the crowd came up (events). */
  unreachableEvents: number;
}

/**
 * The bench's bring-up: the centre adds `chunk` members, then each of those adds the centre;
 * the next chunk once at most `chunk` sessions are outstanding (bench/extras.ts crowd()).
 */
export async function bringUp(w: SimWorld, centre: UdpVaultNode, members: UdpVaultNode[], o: { chunk: number; maxMs: number }): Promise<CrowdRun> {
  let unreachableEvents = 0;
  centre.on('peer', (e) => {
    if (e.type === 'unreachable') unreachableEvents++;
  });
  const t0 = w.clock.monotonic();
  const upAtCentre = (): number => centre.peers().filter((p) => p.state === 'established').length;
  const all = (): boolean => upAtCentre() === members.length && members.every((m) => m.peers()[0]?.state === 'established');
  for (let i = 0; i < members.length; i += o.chunk) {
    const batch = members.slice(i, i + o.chunk);
    for (const m of batch) await centre.addPeer({ endpoint: `${m.status().host}:${SIM_PORT}`, key: m.publicKey });
    for (const m of batch) await m.addPeer({ endpoint: `${centre.status().host}:${SIM_PORT}`, key: centre.publicKey });
    const want = i + 1 - o.chunk;
    await w.scheduler.runUntil(() => upAtCentre() >= want, Math.max(0, t0 + o.maxMs - w.clock.monotonic()));
  }
  const ok = await w.scheduler.runUntil(all, Math.max(0, t0 + o.maxMs - w.clock.monotonic()));
  return { centre, members, upMs: ok ? w.clock.monotonic() - t0 : null, unreachableEvents };
}
