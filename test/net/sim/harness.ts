/** Shared set-up of the simulated-network tests: a network on a manual clock, transports that record what they receive. */
import { ManualScheduler } from '../../../src/runtime/scheduler';
import { SeededRandom } from '../../../src/runtime/random';
import { SimNetwork } from '../../../src/net/sim';
import type { Datagram, Transport } from '../../../src/net/transport';

export interface Received extends Datagram {
  atMs: number;
}

export interface Endpoint {
  t: Transport;
  got: Received[];
}

export function makeNet(seed = 1, trace = true): { net: SimNetwork; sched: ManualScheduler } {
  const sched = new ManualScheduler();
  return { sched, net: new SimNetwork({ scheduler: sched, random: new SeededRandom(seed), trace }) };
}

export async function open(net: SimNetwork, sched: ManualScheduler, address: string, port = 0, bindHost = address): Promise<Endpoint> {
  const got: Received[] = [];
  const t = await net.host(address).openTransport({
    host: bindHost,
    port,
    onMessage: (data, address, port) => got.push({ data, address, port, atMs: sched.clock.monotonic() }),
    onError: (e) => {
      throw e;
    },
  });
  return { t, got };
}

/** Sends one datagram and returns the `done` results seen so far (filled in a microtask). */
export function send(from: Transport, to: Transport, data: Uint8Array | readonly Uint8Array[], toAddress = to.host): Array<Error | null> {
  const results: Array<Error | null> = [];
  const family = toAddress.includes(':') ? 6 : 4;
  if (!from.send(data, to.port, toAddress, family, (e) => results.push(e))) throw new Error('send refused');
  return results;
}

export const bytes = (n: number, fill = 0xab): Uint8Array => new Uint8Array(n).fill(fill);
