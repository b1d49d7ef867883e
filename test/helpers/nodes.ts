/** Test helpers: started nodes on loopback, paired with each other. */
import { createNode } from '../../src/node/node';
import type { CreateNodeOptions, MessageEvent, UdpVaultNode } from '../../src/node/types';

export async function startNode(o: CreateNodeOptions = {}): Promise<UdpVaultNode> {
  return createNode({ port: 0, host: '127.0.0.1', ...o, settings: { mtu: 1500, ...o.settings } });
}

export async function pair(a: UdpVaultNode, b: UdpVaultNode, names: [string, string] = ['b', 'a']): Promise<void> {
  await a.addPeer({ endpoint: `127.0.0.1:${b.port}`, key: b.publicKey, name: names[0] });
  await b.addPeer({ endpoint: `127.0.0.1:${a.port}`, key: a.publicKey, name: names[1] });
  await Promise.all([waitFor(() => a.peers()[0]?.state === 'established'), waitFor(() => b.peers()[0]?.state === 'established')]);
}

/**
 * Polls `cond` (every 5 ms) until it holds. The bound only turns a stall into an error before
 * the test's own timeout; `what` may be a function, to describe the state at that moment.
 */
export async function waitFor(cond: () => boolean, timeoutMs = 5000, what: string | (() => string) = 'condition'): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${typeof what === 'function' ? what() : what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export function collect(node: UdpVaultNode): MessageEvent[] {
  const got: MessageEvent[] = [];
  node.on('message', (m) => got.push(m));
  return got;
}
