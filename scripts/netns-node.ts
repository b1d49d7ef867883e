/**
 * A node driven over stdin/stdout JSON lines, for the network-namespace tests
 * (test/integration/netns.test.ts runs it as `ip netns exec NS node dist/scripts/netns-node.js`).
 *
 * argv[2]: JSON {host, port?, settings?, digest?} for createNode. The identity is ephemeral;
 * nothing is written. With digest, received messages are reported as 'digest' lines (length,
 * first 8 bytes, sha256 prefix) instead of their bytes: for bulk transfers through the test bed.
 *
 * stdout, one JSON object a line:
 *   {type:'ready', port, publicKey, mtu, maxDatagramBytes}
 *   {type:'message', peer, addr, base64, reliable}
 *   {type:'digest', peer, addr, reliable, length, head, sha}              (digest mode)
 *   {type:'flooded', id, attempted, ok, failed, codes, elapsedMs}         (reply to flood)
 *   {type:'added', id, peer}                                  (reply to addPeer)
 *   {type:'sent', id, ok, code?, message?}                    (a send settled)
 *   {type:'status', id, status, peers}                        (reply to status)
 *   {type:'error', id, code, message}                         (a command failed)
 * stdin:
 *   {cmd:'addPeer', id, endpoint, key?, name?}
 *   {cmd:'send', id, peer, data (base64), reliable?, timeoutMs?}
 *   {cmd:'status', id}
 *   {cmd:'flood', id, peer, size, count, reliable?, durationMs?, timeoutMs?}
 *       sends count messages of size bytes (random, so incompressible; bytes 0–3 = id, 4–7 = seq,
 *       big-endian). Reliable: all issued at once. Datagram mode: in batches of 64 sends a turn,
 *       each batch awaited, until count or durationMs. Replies when every send settled.
 *   {cmd:'close'}
 *
 * Exits (after closing the node) when stdin ends, on 'close', and on SIGTERM/SIGINT.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as readline from 'node:readline';
import { createNode } from '../src/node/node';
import type { Settings } from '../src/config/schema';
import type { NodeStatus, PeerInfo, UdpVaultNode } from '../src/node/types';

export interface NetnsNodeArgs {
  host: string;
  port?: number;
  settings?: Partial<Settings>;
  digest?: boolean;
}

export type NetnsNodeCommand =
  | { cmd: 'addPeer'; id: number; endpoint: string; key?: string; name?: string }
  | { cmd: 'send'; id: number; peer: string; data: string; reliable?: boolean; timeoutMs?: number }
  | { cmd: 'status'; id: number }
  | { cmd: 'flood'; id: number; peer: string; size: number; count: number; reliable?: boolean; durationMs?: number; timeoutMs?: number }
  | { cmd: 'close' };

export type NetnsNodeEvent =
  | { type: 'ready'; port: number; publicKey: string; mtu: number; maxDatagramBytes: number }
  | { type: 'message'; peer: string; addr: string; base64: string; reliable: boolean }
  | { type: 'digest'; peer: string; addr: string; reliable: boolean; length: number; head: string; sha: string }
  | { type: 'flooded'; id: number; attempted: number; ok: number; failed: number; codes: Record<string, number>; elapsedMs: number }
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

/** First 8 bytes (hex) and a sha256 prefix: enough to check exactly-once delivery of floods. */
export function digestOf(data: Uint8Array): { length: number; head: string; sha: string } {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return { length: b.length, head: b.subarray(0, 8).toString('hex'), sha: createHash('sha256').update(b).digest('hex').slice(0, 32) };
}

/** Message seq of flood id: 8-byte header then random bytes (a fresh window of a random pool). */
export function floodMessage(pool: Buffer, id: number, seq: number, size: number): Buffer {
  const m = Buffer.allocUnsafe(size);
  const off = (seq * 613) % (pool.length - size + 1);
  pool.copy(m, 0, off, off + size);
  if (size >= 8) {
    m.writeUInt32BE(id >>> 0, 0);
    m.writeUInt32BE(seq >>> 0, 4);
  }
  return m;
}

async function flood(node: UdpVaultNode, c: Extract<NetnsNodeCommand, { cmd: 'flood' }>): Promise<void> {
  const pool = randomBytes(c.size + 64 * 1024);
  const codes: Record<string, number> = {};
  let ok = 0;
  let attempted = 0;
  const start = Date.now();
  const one = (seq: number): Promise<void> =>
    node.send(c.peer, floodMessage(pool, c.id, seq, c.size), { reliable: c.reliable === true, ...(c.timeoutMs !== undefined ? { timeoutMs: c.timeoutMs } : {}) }).then(
      () => void ok++,
      (e: unknown) => {
        const code = errorFields(e).code;
        codes[code] = (codes[code] ?? 0) + 1;
      },
    );
  if (c.reliable) {
    const all: Promise<void>[] = [];
    for (; attempted < c.count; attempted++) all.push(one(attempted));
    await Promise.all(all);
  } else {
    while (attempted < c.count && (c.durationMs === undefined || Date.now() - start < c.durationMs)) {
      const batch: Promise<void>[] = [];
      for (let i = 0; i < 64 && attempted < c.count; i++) batch.push(one(attempted++));
      await Promise.all(batch);
      await new Promise<void>((r) => setImmediate(r));
    }
  }
  emit({ type: 'flooded', id: c.id, attempted, ok, failed: attempted - ok, codes, elapsedMs: Date.now() - start });
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
    case 'flood':
      await flood(node, c);
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
  node.on('message', (m) => {
    if (args.digest) emit({ type: 'digest', peer: m.peer, addr: m.addr, reliable: m.reliable, ...digestOf(m.data) });
    else emit({ type: 'message', peer: m.peer, addr: m.addr, base64: Buffer.from(m.data).toString('base64'), reliable: m.reliable });
  });
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
