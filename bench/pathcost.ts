/**
 * `node dist/bench/pathcost.js [size …]` — udpvault's own CPU per message, kernel left out
 * (issue 12's focused micro-benchmark of the send and receive paths): two nodes in this process
 * joined by an in-memory transport (a datagram is handed to the other node on the next
 * setImmediate, in batches, as a socket would), the sender sending `BATCH` messages per turn
 * as bench/run.ts does. Prints µs of CPU per delivered message for the receive path (CPU time inside
 * the receiving node's datagram handler, per delivery batch) and for everything else (the send path, the sender's
 * handling of acks, timers). Being CPU time of one process, the figures hold on a busy machine
 * far better than rates do. Env: PATHCOST_MESSAGES (default 200000), PATHCOST_AEAD (auto|native|wasm),
 * PATHCOST_EXPRESS=0 (datagram-mode messages never take the express path: src/engine/native/express.ts),
 * PATHCOST_ALLOC=1: also the V8 heap bytes allocated per delivered message (both nodes: bench/roles/role.ts allocated()).
 * PATHCOST_EXPRESS=lane (none at send(): every 1 KiB message queues and leaves by the pump's express lane,
 * as under a full window; q23).
 * Sizes: `1024` datagram mode, `r1024` reliable mode (at most PATHCOST_INFLIGHT, default 4096,
 * unsettled, as bench/roles/udpvault.ts does). PATHCOST_PER_DATAGRAM=1: each datagram's handler
 * is followed by a microtask checkpoint, as dgram's `message` callbacks are (so a receiver
 * flushes — and acks — per datagram, as on a socket, not once per batch).
 * `q1024`: the refusal path — the receiver's acks are lost from the start of the measurement, so
 * the sender's window fills and nearly every datagram-mode send() is refused (ERR_QUEUE_FULL) or
 * expires (ERR_CONGESTION): prints CPU µs per send() call and the refusals by code.
 */
import { createNode } from '../src/index';
import type { Datagram, OnMessage, OpenTransport, Transport, TransportOptions } from '../src/net/transport';
import { allocated, payload } from './roles/role';
import { expressMisses, expressSent, pumpExpressSent, setExpressAtSend, setExpressPath } from '../src/engine/native/express';

const BATCH = 64;

/** Two endpoints that deliver to each other on setImmediate; `recvNs` sums the handlers' time. */
class MemoryNet {
  readonly #ports = new Map<number, OnMessage>();
  #queue: Array<[number, Datagram]> = [];
  #scheduled = false;
  recvNs = 0;
  /** The port whose handler time is counted as the receive path. */
  receiverPort = -1;
  datagrams = 0;
  bytes = 0;
  /** Datagrams to this port are lost (a path that stopped answering: the sender's window fills). */
  dropTo = -1;
  open: OpenTransport = async (o: TransportOptions): Promise<Transport> => {
    const port = 40000 + this.#ports.size;
    this.#ports.set(port, o.onMessage);
    const host = o.host;
    return {
      host,
      port,
      hasFamily: (f) => f === 4,
      send: (parts, toPort, _address, _family, done) => {
        const data = Buffer.from(Array.isArray(parts) ? Buffer.concat(parts as Uint8Array[]) : (parts as Uint8Array)); // the socket's copy
        this.datagrams++;
        this.bytes += data.length;
        if (toPort === this.dropTo) {
          if (done) process.nextTick(done, null);
          return true;
        }
        this.#queue.push([toPort, { data, address: host, port }]);
        if (!this.#scheduled) {
          this.#scheduled = true;
          setImmediate(this.#deliver);
        }
        if (done) process.nextTick(done, null);
        return true;
      },
      close: async () => undefined,
    };
  };
  readonly perDatagram = process.env['PATHCOST_PER_DATAGRAM'] === '1';
  readonly #deliver = (): void => {
    this.#scheduled = false;
    const q = this.#queue;
    this.#queue = [];
    if (this.perDatagram) {
      void this.#deliverEach(q);
      return;
    }
    // CPU time (not wall time: a busy machine preempts) of the batch, receiving node first.
    for (const side of [this.receiverPort, -1]) {
      const c0 = process.cpuUsage();
      for (const [port, d] of q) {
        if ((side === -1) === (port === this.receiverPort)) continue;
        this.#ports.get(port)?.(d.data, d.address, d.port);
      }
      const c = process.cpuUsage(c0);
      if (side !== -1) this.recvNs += (c.user + c.system) * 1000;
    }
  };
  /** As #deliver, with a microtask checkpoint after each datagram (dgram's MakeCallback does one). */
  async #deliverEach(q: Array<[number, Datagram]>): Promise<void> {
    for (const side of [this.receiverPort, -1]) {
      const c0 = process.cpuUsage();
      for (const [port, d] of q) {
        if ((side === -1) === (port === this.receiverPort)) continue;
        this.#ports.get(port)?.(d.data, d.address, d.port);
        await null;
      }
      const c = process.cpuUsage(c0);
      if (side !== -1) this.recvNs += (c.user + c.system) * 1000;
    }
  }
}

async function run(spec: string, messages: number): Promise<void> {
  const reliable = spec.startsWith('r');
  const refusing = spec.startsWith('q');
  const size = Number(reliable || refusing ? spec.slice(1) : spec);
  const refusals: Record<string, number> = {};
  const countRefusal = (e: unknown): void => {
    const code = (e as { code?: string }).code ?? 'other';
    refusals[code] = (refusals[code] ?? 0) + 1;
  };
  const inflightMax = Number(process.env['PATHCOST_INFLIGHT'] ?? 4096);
  const net = new MemoryNet();
  const settings = { mtu: 1500, aeadBackend: (process.env['PATHCOST_AEAD'] ?? 'auto') as 'auto' | 'native' | 'wasm' };
  const a = await createNode({ host: '127.0.0.1', port: 0, settings, runtime: { openTransport: net.open } });
  const b = await createNode({ host: '127.0.0.1', port: 0, settings, runtime: { openTransport: net.open } });
  await a.addPeer({ endpoint: `127.0.0.1:${b.port}`, key: b.publicKey, name: 'b' });
  await b.addPeer({ endpoint: `127.0.0.1:${a.port}`, key: a.publicKey, name: 'a' });
  await new Promise<void>((resolve) => {
    const check = (): void => (a.peers().some((p) => p.state === 'established') && b.peers().some((p) => p.state === 'established') ? resolve() : void setTimeout(check, 5));
    check();
  });
  net.receiverPort = b.port;
  const data = payload(size);
  let got = 0;
  b.on('message', () => void got++);
  const ignore = (): void => undefined;
  const measureOnce = async (n: number): Promise<{ cpuUs: number; recvUs: number; delivered: number; datagrams: number; bytes: number }> => {
    got = 0;
    net.recvNs = 0;
    net.datagrams = 0;
    net.bytes = 0;
    const c0 = process.cpuUsage();
    let sent = 0;
    const alive = setInterval(() => undefined, 1000); // the nodes' timers are unref'd: the last acks ride on them
    await new Promise<void>((resolve) => {
      if (reliable) {
        // At most inflightMax unsettled; a settled message lets the next turn go on.
        let inflight = 0;
        let parked = false;
        const settled = (): void => {
          inflight--;
          if (sent >= n && inflight === 0) setTimeout(resolve, 50);
          else if (parked && sent < n) {
            parked = false;
            setImmediate(turn);
          }
        };
        const turn = (): void => {
          for (let i = 0; i < BATCH && inflight < inflightMax && sent < n; i++, sent++) {
            inflight++;
            a.send('b', data, { reliable: true, timeoutMs: 600_000 }).then(settled, settled);
          }
          if (sent < n && inflight < inflightMax) setImmediate(turn);
          else parked = true;
        };
        turn();
        return;
      }
      const turn = (): void => {
        for (let i = 0; i < BATCH; i++) void a.send('b', data).catch(ignore);
        sent += BATCH;
        if (sent < n) setImmediate(turn);
        else setTimeout(resolve, 50);
      };
      turn();
    });
    clearInterval(alive);
    const c = process.cpuUsage(c0);
    return { cpuUs: c.user + c.system, recvUs: net.recvNs / 1000, delivered: got, datagrams: net.datagrams, bytes: net.bytes };
  };
  await measureOnce(Math.min(20000, messages)); // warm-up (JIT)
  if (refusing) {
    net.dropTo = a.port;
    const c0 = process.cpuUsage();
    await new Promise<void>((resolve) => {
      let sent = 0;
      const turn = (): void => {
        for (let i = 0; i < BATCH; i++) void a.send('b', data).catch(countRefusal);
        sent += BATCH;
        if (sent < messages) setImmediate(turn);
        else setTimeout(resolve, 100);
      };
      turn();
    });
    const c = process.cpuUsage(c0);
    console.log(`refusing ${String(size).padStart(5)} B: CPU µs per send() ${((c.user + c.system) / messages).toFixed(2)}; refusals ${JSON.stringify(refusals)}`);
    await a.close();
    await b.close();
    return;
  }
  setExpressPath(process.env['PATHCOST_EXPRESS'] !== '0');
  setExpressAtSend(process.env['PATHCOST_EXPRESS'] !== 'lane');
  const express0 = expressSent();
  const lane0 = pumpExpressSent();
  const misses0 = expressMisses();
  const countAlloc = process.env['PATHCOST_ALLOC'] === '1';
  const alloc0 = countAlloc ? allocated().allocated : 0;
  const m = await measureOnce(messages);
  const allocPerMessage = countAlloc ? (allocated().allocated - alloc0) / m.delivered : null;
  const recv = m.recvUs / m.delivered;
  const all = m.cpuUs / m.delivered;
  console.log(
    `${(reliable ? 'reliable ' : '') + String(size).padStart(5)} B${net.perDatagram ? ' (per datagram)' : ''}: ${m.delivered}/${messages} delivered in ${m.datagrams} datagrams (${(m.bytes / m.datagrams).toFixed(0)} B each); ` +
      `CPU µs per message: all ${all.toFixed(2)} = receive path ${recv.toFixed(2)} + send path and the rest ${(all - recv).toFixed(2)}; express ${expressSent() - express0}, lane ${pumpExpressSent() - lane0}; ` +
      `not express at send(): ${Object.entries(expressMisses()).filter(([k, v]) => v > misses0[k as keyof typeof misses0]).map(([k, v]) => `${k} ${v - misses0[k as keyof typeof misses0]}`).join(', ') || 'none'}` +
      (allocPerMessage === null ? '' : `; heap allocated per message ${allocPerMessage.toFixed(0)} B`),
  );
  await a.close();
  await b.close();
}

async function main(): Promise<void> {
  const specs = process.argv.slice(2);
  const n = Number(process.env['PATHCOST_MESSAGES'] ?? 200_000);
  for (const s of specs.length > 0 ? specs : ['1024', '64']) await run(s, n);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
