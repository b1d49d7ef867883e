/**
 * A node driven over stdin/stdout JSON lines, for the network-namespace tests
 * (test/integration/netns.test.ts runs it as `ip netns exec NS node dist/scripts/netns-node.js`).
 *
 * argv[2]: JSON {host, port?, settings?} for createNode. The identity is ephemeral; nothing is written.
 *
 * stdout, one JSON object a line:
 *   {type:'ready', port, publicKey, mtu, maxDatagramBytes}
 *   {type:'message', peer, addr, base64, reliable}
 *   {type:'added', id, peer}                                  (reply to addPeer)
 *   {type:'sent', id, ok, code?, message?}                    (a send settled)
 *   {type:'status', id, status, peers}                        (reply to status)
 *   {type:'error', id, code, message}                         (a command failed)
 * stdin:
 *   {cmd:'addPeer', id, endpoint, key?, name?}
 *   {cmd:'send', id, peer, data (base64), reliable?, timeoutMs?}
 *   {cmd:'status', id}
 *   {cmd:'close'}
 *
 * Exits (after closing the node) when stdin ends, on 'close', and on SIGTERM/SIGINT.
 */
import * as readline from 'node:readline';
import { createNode } from '../src/node/node';
import type { Settings } from '../src/settings';
import type { NodeStatus, PeerInfo, UdpVaultNode } from '../src/node/types';

export interface NetnsNodeArgs {
  host: string;
  port?: number;
  settings?: Partial<Settings>;
}

export type NetnsNodeCommand =
  | { cmd: 'addPeer'; id: number; endpoint: string; key?: string; name?: string }
  | { cmd: 'send'; id: number; peer: string; data: string; reliable?: boolean; timeoutMs?: number }
  | { cmd: 'status'; id: number }
  | { cmd: 'close' };

export type NetnsNodeEvent =
  | { type: 'ready'; port: number; publicKey: string; mtu: number; maxDatagramBytes: number }
  | { type: 'message'; peer: string; addr: string; base64: string; reliable: boolean }
  | { type: 'added'; id: number; peer: PeerInfo }
  | { type: 'sent'; id: number; ok: boolean; code?: string; message?: string }
  | { type: 'status'; id: number; status: NodeStatus; peers: PeerInfo[] }
  | { type: 'error'; id: number | null; code: string; message: string };

function emit(ev: NetnsNodeEvent): void {
  process.stdout.write(`${JSON.stringify(ev)}\n`);
}

function errorFields(e: unknown): { code: string; message: string } {
  const err = e as { code?: unknown; message?: unknown };
  return { code: typeof err.code === 'string' ? err.code : 'ERR_INTERNAL', message: typeof err.message === 'string' ? err.message : String(e) };
}

async function handle(node: UdpVaultNode, c: NetnsNodeCommand): Promise<void> {
  switch (c.cmd) {
    case 'addPeer': {
      const peer = await node.addPeer({ endpoint: c.endpoint, ...(c.key !== undefined ? { key: c.key } : {}), ...(c.name !== undefined ? { name: c.name } : {}) });
      emit({ type: 'added', id: c.id, peer });
      return;
    }
    case 'send': {
      const opts = { reliable: c.reliable === true, ...(c.timeoutMs !== undefined ? { timeoutMs: c.timeoutMs } : {}) };
      node.send(c.peer, Buffer.from(c.data, 'base64'), opts).then(
        () => emit({ type: 'sent', id: c.id, ok: true }),
        (e: unknown) => emit({ type: 'sent', id: c.id, ok: false, ...errorFields(e) }),
      );
      return;
    }
    case 'status':
      emit({ type: 'status', id: c.id, status: node.status(), peers: node.peers() });
      return;
    case 'close':
      return;
  }
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as NetnsNodeArgs;
  const node = await createNode({ host: args.host, port: args.port ?? 0, ...(args.settings ? { settings: args.settings } : {}) });
  let closing = false;
  const shutdown = (): void => {
    if (closing) return;
    closing = true;
    void node.close().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  node.on('message', (m) => emit({ type: 'message', peer: m.peer, addr: m.addr, base64: Buffer.from(m.data).toString('base64'), reliable: m.reliable }));
  node.on('error', (e) => emit({ type: 'error', id: null, ...errorFields(e) }));
  const status = node.status();
  emit({ type: 'ready', port: node.port, publicKey: node.publicKey, mtu: status.mtu, maxDatagramBytes: status.maxDatagramBytes });
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on('line', (line) => {
    if (!line.trim()) return;
    let c: NetnsNodeCommand;
    try {
      c = JSON.parse(line) as NetnsNodeCommand;
    } catch (e) {
      emit({ type: 'error', id: null, code: 'ERR_BAD_JSON', message: errorFields(e).message });
      return;
    }
    if (c.cmd === 'close') {
      shutdown();
      return;
    }
    const id = c.id;
    handle(node, c).catch((e: unknown) => emit({ type: 'error', id, ...errorFields(e) }));
  });
  lines.on('close', shutdown);
}

main().catch((e: unknown) => {
  process.stderr.write(`netns-node: ${errorFields(e).message}\n`);
  process.exit(1);
});
