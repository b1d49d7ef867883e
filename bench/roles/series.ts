/**
 * BENCH_SERIES=DIR (instrumentation, bench/hot.ts's udpvault workloads): a time series of one
 * udpvault node's first peer, sampled every millisecond from `count` to `report` — congestion
 * window, bytes in flight, srtt, the pacer's budget, the window-wait queue, the sends refused,
 * datagrams in and out, how often the send pump was held by the window or by the pacer, and the
 * event loop's utilisation (a receiver that sleeps shows < 1). Written as JSON lines to
 * DIR/<pid>.jsonl at `report`; one row per millisecond.
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { UdpVaultNode } from '../../src/index';

interface SpaceView {
  windowBytes: number;
  ssthreshBytes?: number;
  cc?: { hystartExits?: number; hystartResumes?: number; queueReductions?: number; idleRestarts?: number };
  bytesInFlight: number;
  pacer: { budget(now: number): number };
  sendDelay(now: number, bytes: number): number;
}
interface LinkView {
  path?: { space?: SpaceView & { sendCredit?: { blocked: boolean; blockedEpisodes: number } }; waiting?: { size: number }; hasDatagrams: boolean };
  /** Reliable mode: the peer's sender (items in flight, items never sent yet). */
  engine?: { reliable?: { senderOf(l: unknown): { inFlight: number; queued: number; window: number } | null } };
}

export class Series {
  readonly #dir = process.env['BENCH_SERIES'] ?? '';
  #timer: NodeJS.Timeout | null = null;
  #rows: string[] = [];
  #holdsWindow = 0;
  #holdsPacer = 0;
  #patched: SpaceView | null = null;

  get on(): boolean {
    return this.#dir !== '';
  }

  start(node: UdpVaultNode, refused: () => number): void {
    if (!this.on) return;
    this.#rows = [];
    const n = node as unknown as { linkOf(ref: string): LinkView | undefined; peers(): { key: string; srttMs: number | null }[] };
    let elu = performance.eventLoopUtilization();
    const t0 = performance.now();
    this.#timer = setInterval(() => {
      const p = n.peers()[0];
      const link = p ? n.linkOf(p.key) : undefined;
      const space = link?.path?.space;
      if (space && this.#patched !== space) this.#patch(space);
      const now = performance.now();
      const e = performance.eventLoopUtilization(elu);
      elu = performance.eventLoopUtilization();
      const c = node.status().counters;
      this.#rows.push(
        JSON.stringify({
          t: +(now - t0).toFixed(2),
          cwnd: space?.windowBytes ?? null,
          ssthresh: space?.ssthreshBytes ?? null,
          hx: space?.cc?.hystartExits ?? null,
          hs: space?.cc?.hystartResumes ?? null,
          inFlight: space?.bytesInFlight ?? null,
          srtt: p?.srttMs ?? null,
          pacer: space ? Math.round(space.pacer.budget(now)) : null,
          waiting: link?.path?.waiting?.size ?? 0,
          refused: refused(),
          out: c.packetsOut,
          in: c.packetsIn,
          hw: this.#holdsWindow,
          // reliable mode: items in flight / queued (never sent) / the reliable window, flow-control credit blocked and its episodes
          rin: link?.engine?.reliable?.senderOf(link)?.inFlight ?? null,
          rq: link?.engine?.reliable?.senderOf(link)?.queued ?? null,
          rwin: link?.engine?.reliable?.senderOf(link)?.window ?? null,
          cb: space?.sendCredit?.blocked ?? null,
          cbe: space?.sendCredit?.blockedEpisodes ?? null,
          hp: this.#holdsPacer,
          elu: +e.utilization.toFixed(3),
        }),
      );
    }, 1);
  }

  /** Counts the pump's holds: sendDelay() answering Infinity (window) or > 0 (pacer). */
  #patch(space: SpaceView): void {
    this.#patched = space;
    const orig = space.sendDelay;
    space.sendDelay = (now: number, bytes: number): number => {
      const d = orig.call(space, now, bytes);
      if (d === Infinity) this.#holdsWindow++;
      else if (d > 0) this.#holdsPacer++;
      return d;
    };
  }

  stop(): void {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = null;
    writeFileSync(`${this.#dir}/${process.pid}.jsonl`, this.#rows.join('\n') + '\n');
  }
}
