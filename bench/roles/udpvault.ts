/**
 * A udpvault node (public API only: the package entry), with udpvault's normal settings except
 * the MTU, pinned to 1500 (loopback's 65536 would flatter every figure). Also runs the
 * in-process handshake pairs and the centre of the 10,000-peer memory measurement.
 */
import type { PeerEvent, UdpVaultNode } from '../../src/index';
/** The package entry (package.json "main": dist/src/bundle.js), loaded as a user of the package loads it. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createNode } = require('../../..') as typeof import('../../src/index');
import type { Command, Hello } from '../protocol';
import { performance } from 'node:perf_hooks';
import { Series } from './series';
import { Blaster, Counter, allocated, allocationProfile, heapSnapshot, memory, payload, type RoleHandler } from './role';

export const BENCH_SETTINGS = { mtu: 1500 } as const;

const open = (host = '127.0.0.1'): Promise<UdpVaultNode> => createNode({ port: 0, host, settings: BENCH_SETTINGS });

/** Resolves when `node` has an established session with `key` (event-driven, no polling). */
export function established(node: UdpVaultNode, key: string): Promise<void> {
  return new Promise((resolve) => {
    const done = (): boolean => node.peers().some((p) => p.key === key && p.state === 'established');
    if (done()) return resolve();
    const on = (e: PeerEvent): void => {
      if (e.peer.key === key && done()) {
        node.off('peer', on);
        resolve();
      }
    };
    node.on('peer', on);
  });
}

/**
 * Handshakes between two nodes of this process: peer add → established, `n` fresh pairs. Each
 * fresh node has its own loopback address (127.0.1.x), as distinct peers have distinct addresses:
 * from one address, 50 pairs back to back exceed the per-source handshake admission (50/s, burst
 * 10; net/admission.ts) at `a`, whose refusal of b's init then costs the crossing rule's 100 ms
 * wait (PROTOCOL §5.5) — a limit of the harness, not of a first contact (the crowd does the same).
 */
async function pairs(n: number): Promise<number[]> {
  const out: number[] = [];
  const a = await open();
  for (let i = 0; i < n; i++) {
    const host = `127.0.1.${(i % 250) + 1}`;
    const b = await open(host);
    await b.addPeer({ endpoint: `127.0.0.1:${a.port}`, key: a.publicKey });
    const t0 = performance.now();
    const up = established(a, b.publicKey);
    await a.addPeer({ endpoint: `${host}:${b.port}`, key: b.publicKey });
    await up;
    out.push(performance.now() - t0);
    await a.removePeer(b.publicKey);
    await b.close();
  }
  await a.close();
  return out;
}

/** The first peer's packet-layer figures (congestion window, in flight, srtt, losses, MTU). */
function pathOf(n: UdpVaultNode): Record<string, unknown> | null {
  const p = n.peers()[0];
  return p ? { cwnd: p.congestionWindowBytes, inFlight: p.bytesInFlight, srttMs: p.srttMs, lost: p.lostPackets, mtu: p.pathMtuBytes } : null;
}

export function udpvaultRole(): RoleHandler {
  let node: UdpVaultNode | null = null;
  const counter = new Counter();
  let blaster: Blaster | null = null;
  /**
   * Datagram-mode sends refused (by error code) since the last blast began: CPU the sender spent
   * on messages never sent.
   */
  let refused: Record<string, number> = {};
  /** The 'writable' events the datagram blaster woke on since the last blast began. */
  let wakes = 0;
  /** Milliseconds the datagram blaster spent parked (from its refusal to the 'writable' event) since the last blast began. */
  let parkedMs = 0;
  let parkedAt = 0;
  /** The event loop's utilisation since `count` (a sender that sleeps shows < 1). */
  let elu0 = performance.eventLoopUtilization();
  /** The datagram blaster's 'writable' listener (one at a time). */
  let writableListener: () => void = () => undefined;
  const series = new Series();
  const refusedCount = (): number => Object.values(refused).reduce((a, b) => a + b, 0);
  const onMessage = (m: { data: Uint8Array }): void => counter.add(m.data.length);
  const the = (): UdpVaultNode => {
    if (!node) throw new Error('udpvault: not started');
    return node;
  };
  const start = async (host?: string): Promise<Hello> => {
    node = await open(host);
    node.on('message', onMessage);
    return { port: node.port, key: node.publicKey };
  };
  return {
    init: start,
    async handle(c: Command): Promise<unknown> {
      switch (c.cmd) {
        case 'connect':
        case 'add': {
          const n = the();
          const t0 = performance.now();
          const up = c.cmd === 'add' && !c.wait ? null : established(n, c.key);
          await n.addPeer({ endpoint: `${(c.cmd === 'add' && c.host) || '127.0.0.1'}:${c.port}`, key: c.key, name: 'p' });
          if (!up) return { ms: 0, mtu: null };
          await up;
          return { ms: performance.now() - t0, mtu: n.status().mtu };
        }
        case 'remove':
          await the().removePeer(c.key);
          return {};
        case 'renew':
          await the().close();
          return start(c.host);
        case 'pairs':
          return { ms: await pairs(c.n) };
        case 'count':
          elu0 = performance.eventLoopUtilization();
          counter.start();
          series.start(the(), refusedCount);
          return {};
        case 'report':
          series.stop();
          return { ...counter.stop(), counters: the().status().counters, path: pathOf(the()), refused, wakes, parkedMs: Math.round(parkedMs), elu: +performance.eventLoopUtilization(elu0).utilization.toFixed(3) }; // the node's own counters and path figures (bench/hot.ts prints them)
        case 'blast': {
          const n = the();
          const data = payload(c.size);
          let inflight = 0;
          const settled = (): void => {
            inflight--;
            blaster?.resume();
          };
          refused = {};
          wakes = 0;
          parkedMs = 0;
          // Back-pressure (as the secret-stream reliable blaster honours 'drain'): after an
          // ERR_QUEUE_FULL the blaster parks until the node's 'writable' event for the peer.
          // BENCH_WRITABLE=0: the old flat-out loop that offers 64 messages every turn.
          const honour = process.env['BENCH_WRITABLE'] !== '0';
          let blocked = false;
          const ignore = (e: unknown): void => {
            const code = (e as { code?: string }).code ?? 'other';
            refused[code] = (refused[code] ?? 0) + 1;
            if (code === 'ERR_QUEUE_FULL' && honour && !blocked) {
              blocked = true;
              parkedAt = performance.now();
            }
          };
          const onWritable = (): void => {
            wakes++;
            if (blocked) parkedMs += performance.now() - parkedAt;
            blocked = false;
            blaster?.resume();
          };
          n.off('writable', writableListener);
          writableListener = onWritable;
          n.on('writable', onWritable);
          blaster = new Blaster(
            c.mode === 'reliable'
              ? () => {
                  for (let i = 0; i < c.batch && inflight < c.inflight; i++) {
                    inflight++;
                    n.send('p', data, { reliable: true, timeoutMs: 600_000 }).then(settled, settled);
                  }
                  return inflight < c.inflight;
                }
              : () => {
                  if (blocked) return false;
                  for (let i = 0; i < c.batch; i++) n.send('p', data).catch(ignore);
                  return true;
                },
          );
          blaster.start();
          return {};
        }
        case 'stop':
          blaster?.stop();
          return {};
        case 'add-peers': {
          const n = the();
          for (const p of c.peers) await n.addPeer({ endpoint: `${p.host}:${p.port}`, key: p.key });
          return {};
        }
        case 'established': {
          const states: Record<string, number> = {};
          for (const p of the().peers()) states[p.state] = (states[p.state] ?? 0) + 1;
          return { n: states['established'] ?? 0, states, drops: the().status().counters.drops };
        }
        case 'rss':
          return memory();
        case 'alloc':
          return allocated();
        case 'v8-flags':
          (require('node:v8') as typeof import('node:v8')).setFlagsFromString(c.flags);
          return {};
        case 'links': {
          // The centre's links as the engine holds them (idle15): sessions per link, ticks run, resting packet spaces.
          interface LinkView { keypairs?: { size: number }; ticksRun?: number; path?: { folded?: boolean; foldBlocker?(nowMs: number): string | null; space?: { resting: boolean; awakeReason?(nowMs: number): string | null }; pmtu?: { searching: boolean; probesSent: number } } }
          const n = the() as unknown as { linkOf(ref: string): LinkView | undefined; peers(): { key: string }[] };
          const sessions: Record<string, number> = {};
          let ticks = 0;
          let resting = 0;
          let folded = 0; // resting spaces held as one record (pack19): read without making the space again
          let searching = 0; // path MTU searches under way (memrss16: the setup's tail)
          let probes = 0;
          const awake: Record<string, number> = {}; // why the awake packet spaces do not rest (memheap17)
          const now = performance.now();
          for (const p of n.peers()) {
            const l = n.linkOf(p.key);
            if (!l) continue;
            const k = String(l.keypairs?.size ?? -1);
            sessions[k] = (sessions[k] ?? 0) + 1;
            ticks += l.ticksRun ?? 0;
            if (l.path?.folded) {
              folded++;
              resting++;
            } else if (l.path?.space?.resting) {
              resting++;
              const why = `not folded: ${l.path.foldBlocker?.(now) ?? 'foldable'}`;
              awake[why] = (awake[why] ?? 0) + 1;
            }
            else if (l.path?.space?.awakeReason) {
              const why = l.path.space.awakeReason(now) ?? 'the packet path (datagrams queued, a delivery ack or an address being validated)';
              awake[why] = (awake[why] ?? 0) + 1;
            }
            if (l.path?.pmtu?.searching) searching++;
            probes += l.path?.pmtu?.probesSent ?? 0;
          }
          return { sessions, ticks, resting, folded, searching, probes, awake };
        }
        case 'alloc-profile':
          return { lines: await allocationProfile() };
        case 'heap-snapshot':
          return heapSnapshot(c.path);
        default:
          throw new Error(`udpvault: no command ${c.cmd}`);
      }
    },
  };
}
