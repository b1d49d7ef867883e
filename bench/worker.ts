/**
 * One benchmark process, driven by bench/run.ts over IPC. Roles: raw-recv, raw-send (plain
 * dgram), uv-recv, uv-send (udpvault nodes). Receivers count; senders send flat out in batches
 * of `batch` per event-loop turn until told to stop.
 */
import * as dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { createNode } from '../src/node/node';
import type { UdpVaultNode } from '../src/node/types';

type Msg = { cmd: string; [k: string]: unknown };
const reply = (m: object): void => void process.send!(m);
const role = process.argv[2]!;
let count = 0;
let bytes = 0;
let counting = false;
let sending = false;
let peerAddedAt = 0;

async function main(): Promise<void> {
  if (role === 'raw-recv' || role === 'raw-send') {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    try {
      s.setRecvBufferSize(4 * 1024 * 1024);
      s.setSendBufferSize(4 * 1024 * 1024);
    } catch {
      /* capped */
    }
    s.on('message', (d) => {
      if (counting) {
        count++;
        bytes += d.length;
      }
    });
    process.on('message', (m: Msg) => {
      if (m.cmd === 'count') {
        count = bytes = 0;
        counting = true;
      } else if (m.cmd === 'report') {
        counting = false;
        reply({ count, bytes });
      } else if (m.cmd === 'blast') {
        sending = true;
        const payload = randomBytes(m['size'] as number);
        const port = m['port'] as number;
        const batch = m['batch'] as number;
        const loop = (): void => {
          if (!sending) return;
          for (let i = 0; i < batch; i++) s.send(payload, port, '127.0.0.1');
          setImmediate(loop);
        };
        loop();
      } else if (m.cmd === 'stop') {
        sending = false;
        reply({ stopped: true });
      } else if (m.cmd === 'exit') process.exit(0);
    });
    reply({ port: s.address().port });
    return;
  }
  const node: UdpVaultNode = await createNode({ port: 0, host: '127.0.0.1', settings: { mtu: 1500, ...(process.env.RW ? { reliableWindow: Number(process.env.RW) } : {}), ...(process.env.PAD ? { padding: process.env.PAD as 'none' } : {}) } });
  const rtts: number[] = [];
  node.on('message', (m) => {
    if (m.data[0] === 0x50) {
      // ping: answer with a pong carrying the same timestamp
      const pong = Buffer.from(m.data);
      pong[0] = 0x51;
      void node.send(m.peer, pong);
      return;
    }
    if (m.data[0] === 0x51) {
      // pong
      const t = Number(Buffer.from(m.data).readBigUInt64BE(1)) / 1e6;
      rtts.push(performance.now() - t);
      return;
    }
    if (counting) {
      count++;
      bytes += m.data.length;
    }
  });
  process.on('message', async (m: Msg) => {
    switch (m.cmd) {
      case 'peer':
        peerAddedAt = performance.now();
        await node.addPeer({ endpoint: `127.0.0.1:${m['port'] as number}`, key: m['key'] as string, name: 'p' });
        reply({ ok: true });
        break;
      case 'wait': {
        while (node.peers()[0]?.state !== 'established') await new Promise((r) => setImmediate(r));
        reply({ ms: performance.now() - peerAddedAt });
        break;
      }
      case 'count':
        count = bytes = 0;
        counting = true;
        break;
      case 'report':
        counting = false;
        reply({ count, bytes, rss: process.memoryUsage().rss });
        break;
      case 'blast': {
        sending = true;
        const payload = new Uint8Array(randomBytes(m['size'] as number));
        const batch = m['batch'] as number;
        const reliable = m['reliable'] === true;
        const inflightMax = (m['inflight'] as number | undefined) ?? 0;
        let inflight = 0;
        const loop = (): void => {
          if (!sending) return;
          for (let i = 0; i < batch && (!reliable || inflight < inflightMax); i++) {
            if (reliable) {
              inflight++;
              node.send('p', payload, { reliable: true, timeoutMs: 60_000 }).then(
                () => inflight--,
                () => inflight--,
              );
            } else void node.send('p', payload).catch(() => undefined);
          }
          setImmediate(loop);
        };
        loop();
        break;
      }
      case 'stop':
        sending = false;
        reply({ stopped: true });
        break;
      case 'ping': {
        rtts.length = 0;
        const n = m['n'] as number;
        for (let i = 0; i < n; i++) {
          const d = Buffer.alloc(64);
          d[0] = 0x50;
          d.writeBigUInt64BE(BigInt(Math.round(performance.now() * 1e6)), 1);
          const before = rtts.length;
          await node.send('p', d);
          const t0 = Date.now();
          while (rtts.length === before && Date.now() - t0 < 1000) await new Promise((r) => setImmediate(r));
        }
        reply({ rtts });
        break;
      }
      case 'status':
        reply({ status: node.status(), cpu: process.cpuUsage() });
        break;
      case 'rss':
        reply({ rss: process.memoryUsage().rss });
        break;
      case 'exit':
        await node.close();
        process.exit(0);
    }
  });
  reply({ port: node.port, key: node.publicKey });
}

void main();
