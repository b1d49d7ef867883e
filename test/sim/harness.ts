/**
 * Nodes on the simulated network with a manual clock: every source of variation (time, keys,
 * session ids, jitter, loss) comes from one seed. No sockets, no sleeps.
 */
import { createNode } from '../../src/node/node';
import { ManualClock } from '../../src/runtime/clock';
import { ManualScheduler } from '../../src/runtime/scheduler';
import { SeededRandom } from '../../src/runtime/random';
import { SimNetwork } from '../../src/net/sim';
import type { CreateNodeOptions, MessageEvent, PeerEvent, UdpVaultNode } from '../../src/node/types';
import type { OpenTransport, Transport } from '../../src/net/transport';

export const SIM_PORT = 11000;

export class SimWorld {
  readonly clock = new ManualClock();
  readonly scheduler = new ManualScheduler(this.clock);
  readonly random: SeededRandom;
  readonly net: SimNetwork;
  readonly nodes: UdpVaultNode[] = [];

  constructor(seed: number) {
    this.random = new SeededRandom(seed);
    this.net = new SimNetwork({ scheduler: this.scheduler, random: this.random.fork() });
  }

  /** A node bound to address:SIM_PORT; `wrap` may intercept its transport. */
  async node(address: string, o: CreateNodeOptions = {}, wrap?: (open: OpenTransport) => OpenTransport): Promise<UdpVaultNode> {
    const open = this.net.host(address).openTransport;
    const n = await createNode({
      port: SIM_PORT,
      host: address,
      ...o,
      settings: { mtu: 1500, ...o.settings },
      runtime: { clock: this.clock, scheduler: this.scheduler, random: this.random.fork(), openTransport: wrap ? wrap(open) : open },
    });
    this.nodes.push(n);
    return n;
  }

  /** Adds each node as the other's pinned peer and runs until both are established. */
  async pair(a: UdpVaultNode, b: UdpVaultNode, names: [string, string] = ['b', 'a'], maxMs = 5_000): Promise<void> {
    await a.addPeer({ endpoint: endpointOf(b), key: b.publicKey, name: names[0] });
    await b.addPeer({ endpoint: endpointOf(a), key: a.publicKey, name: names[1] });
    const ok = await this.scheduler.runUntil(() => established(a, names[0]) && established(b, names[1]), maxMs);
    if (!ok) throw new Error(`no session within ${maxMs} ms of simulated time`);
  }

  /** Closes every node, running simulated time meanwhile (close gives reliable messages a grace). */
  async closeAll(): Promise<void> {
    const closing = watch(Promise.all(this.nodes.splice(0).map((n) => n.close())).then(() => undefined));
    await this.scheduler.runUntil(() => closing.state !== 'pending', 600_000);
    await this.#realIo(closing);
    await this.scheduler.drain();
    if (closing.state === 'rejected') throw closing.error;
  }

  /**
   * A close also waits for real file I/O (the store, the journal, the home lock): on a loaded
   * machine it may still be under way when simulated time has run out. Event-loop turns until it
   * settles (bounded), so a node reopening the same home does not find it still locked.
   */
  async #realIo(closing: { state: string }): Promise<void> {
    for (let i = 0; closing.state === 'pending' && i < 100_000; i++) {
      await new Promise((r) => setImmediate(r));
      await this.scheduler.runUntil(() => closing.state !== 'pending', 0);
    }
  }

  /** Closes one node, running simulated time while its close grace runs. */
  async close(n: UdpVaultNode): Promise<void> {
    const i = this.nodes.indexOf(n);
    if (i >= 0) this.nodes.splice(i, 1);
    const closing = watch(n.close());
    await this.scheduler.runUntil(() => closing.state !== 'pending', 600_000);
    await this.#realIo(closing);
    if (closing.state === 'rejected') throw closing.error;
  }
}

export function endpointOf(n: UdpVaultNode): string {
  return `${n.status().host}:${n.port}`;
}

export function established(n: UdpVaultNode, name: string): boolean {
  return n.peers().find((p) => p.name === name)?.state === 'established';
}

export function messages(n: UdpVaultNode): MessageEvent[] {
  const got: MessageEvent[] = [];
  n.on('message', (m) => got.push(m));
  return got;
}

export function peerEvents(n: UdpVaultNode): PeerEvent[] {
  const got: PeerEvent[] = [];
  n.on('peer', (e) => got.push(e));
  return got;
}

export const text = (m: MessageEvent): string => new TextDecoder().decode(m.data);

/** `n` incompressible bytes from `seed` (a linear congruential generator: zeros would be compressed). */
export function bytesOf(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Tracks a promise's state without awaiting it. */
export function watch<T>(p: Promise<T>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
  const w: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' };
  p.then(
    () => void (w.state = 'resolved'),
    (e: unknown) => {
      w.state = 'rejected';
      w.error = e;
    },
  );
  return w;
}

/** A transport wrapper (SimWorld.node's `wrap`) whose `done` callbacks wait until the test releases them, in order. */
export function holdingDone(held: Array<() => void>): (open: OpenTransport) => OpenTransport {
  return (open) => async (o) => {
    const t = await open(o);
    const wrapped: Transport = {
      host: t.host,
      port: t.port,
      hasFamily: (f) => t.hasFamily(f),
      send: (parts, port, address, family, done) => t.send(parts, port, address, family, done ? (err) => void held.push(() => done(err)) : undefined),
      close: () => t.close(),
    };
    return wrapped;
  };
}
