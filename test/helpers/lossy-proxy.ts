/**
 * A lossy UDP relay between two loopback endpoints, for tests.
 *
 *   A ──► pA ──(from pB)──► B        B ──► pB ──(from pA)──► A
 *
 * Node A reaches B at pA; node B reaches A at pB. Each direction drops, duplicates, reorders
 * (holds one datagram and releases it after the next one, or after a hold timeout) and delays
 * (delayMs + jitter) datagrams with its own seeded PRNG (mulberry32), drawing exactly four
 * numbers per datagram (drop, duplicate, reorder, jitter) so decisions are reproducible.
 */
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';

export interface Endpoint {
  host: string;
  port: number;
}

export interface LossRates {
  /** Probability (0..1) that a datagram is dropped. */
  drop: number;
  /** Probability that a forwarded datagram is sent twice. */
  duplicate: number;
  /** Probability that a datagram is held and released after the next one. */
  reorder: number;
  delayMs: number;
  /** Extra delay, uniformly 0..jitterMs. */
  jitterMs: number;
}

export interface LossyProxyOptions extends Partial<LossRates> {
  a: Endpoint;
  b: Endpoint;
  seed?: number;
  /** A held datagram is released after this long when no other one comes (default 20 ms). */
  holdMs?: number;
}

export interface DirectionStats {
  /** Datagrams received by the proxy socket. */
  received: number;
  /** Datagrams sent out (duplicates included). */
  forwarded: number;
  dropped: number;
  /** Datagrams sent twice. */
  duplicated: number;
  /** Datagrams held back behind the next one. */
  reordered: number;
}

export interface LossyProxy {
  /** Where A sends to reach B. */
  readonly pA: Endpoint;
  /** Where B sends to reach A. */
  readonly pB: Endpoint;
  readonly stats: { aToB: DirectionStats; bToA: DirectionStats };
  setRates(rates: Partial<LossRates>): void;
  close(): Promise<void>;
}

/** Deterministic PRNG in [0, 1). */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Held {
  msg: Buffer;
  copies: number;
  jitter: number;
  timer: NodeJS.Timeout;
}

class Direction {
  readonly stats: DirectionStats = { received: 0, forwarded: 0, dropped: 0, duplicated: 0, reordered: 0 };
  #held: Held | null = null;
  readonly #timers: Set<NodeJS.Timeout>;
  constructor(
    readonly out: dgram.Socket,
    readonly to: Endpoint,
    readonly rates: LossRates,
    readonly rng: () => number,
    readonly holdMs: number,
    timers: Set<NodeJS.Timeout>,
  ) {
    this.#timers = timers;
  }

  onDatagram(msg: Buffer): void {
    this.stats.received++;
    const [rDrop, rDup, rReorder, rJitter] = [this.rng(), this.rng(), this.rng(), this.rng()];
    if (rDrop < this.rates.drop) {
      this.stats.dropped++;
      return;
    }
    const copies = rDup < this.rates.duplicate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    if (this.#held === null && rReorder < this.rates.reorder) {
      this.stats.reordered++;
      const timer = this.#later(() => this.#release(), Math.max(this.holdMs, this.rates.delayMs + this.rates.jitterMs));
      this.#held = { msg, copies, jitter: rJitter, timer };
      return;
    }
    this.#emit(msg, copies, rJitter);
    this.#release();
  }

  #release(): void {
    const h = this.#held;
    if (!h) return;
    this.#held = null;
    clearTimeout(h.timer);
    this.#timers.delete(h.timer);
    this.#emit(h.msg, h.copies, h.jitter);
  }

  #emit(msg: Buffer, copies: number, jitter: number): void {
    const delayMs = this.rates.delayMs + jitter * this.rates.jitterMs;
    for (let i = 0; i < copies; i++) {
      if (delayMs <= 0) this.#send(msg);
      else this.#later(() => this.#send(msg), delayMs);
    }
  }

  #send(msg: Buffer): void {
    this.stats.forwarded++;
    this.out.send(msg, this.to.port, this.to.host);
  }

  #later(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
    return t;
  }
}

function bind(host: string): Promise<dgram.Socket> {
  const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, host, () => {
      s.off('error', reject);
      s.on('error', () => undefined); // e.g. ICMP port unreachable on loopback: ignore
      resolve(s);
    });
  });
}

export async function startLossyProxy(opts: LossyProxyOptions): Promise<LossyProxy> {
  const rates: LossRates = {
    drop: opts.drop ?? 0,
    duplicate: opts.duplicate ?? 0,
    reorder: opts.reorder ?? 0,
    delayMs: opts.delayMs ?? 0,
    jitterMs: opts.jitterMs ?? 0,
  };
  const seed = opts.seed ?? 1;
  const holdMs = opts.holdMs ?? 20;
  const sa = await bind(opts.a.host);
  const sb = await bind(opts.b.host);
  const timers = new Set<NodeJS.Timeout>();
  const aToB = new Direction(sb, opts.b, rates, mulberry32(seed), holdMs, timers);
  const bToA = new Direction(sa, opts.a, rates, mulberry32(seed ^ 0x9e3779b9), holdMs, timers);
  sa.on('message', (msg) => aToB.onDatagram(msg));
  sb.on('message', (msg) => bToA.onDatagram(msg));
  const endpoint = (s: dgram.Socket, host: string): Endpoint => ({ host, port: (s.address() as AddressInfo).port });
  let closed = false;
  return {
    pA: endpoint(sa, opts.a.host),
    pB: endpoint(sb, opts.b.host),
    stats: { aToB: aToB.stats, bToA: bToA.stats },
    setRates(r: Partial<LossRates>): void {
      Object.assign(rates, r);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.all([sa, sb].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    },
  };
}
