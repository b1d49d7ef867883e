/**
 * Small traffic agents for the real-path test bed (test/netns/), run inside a namespace as
 * `ip netns exec NS node dist/scripts/netns-flow.js JSON`. One JSON object a line on stdout;
 * exits when stdin ends.
 *
 *   {mode:'tcp-sink', port}           accepts TCP, discards; every 100 ms {type:'tick', ms, bytes}
 *                                     (bytes received in the last ms milliseconds)
 *   {mode:'tcp-source', host, port}   connects and writes as fast as TCP takes it
 *   {mode:'udp', port, echo?}         {type:'recv', from, port, size, text} per datagram (echoes
 *                                     it back when echo); stdin {cmd:'send', id, host, port, text}
 *                                     → {type:'sent', id, error?}
 *   {mode:'ping', host, port, intervalMs, size}
 *                                     a probe every intervalMs to an echoing 'udp' agent;
 *                                     {type:'rtt', seq, ms} per answered probe
 * Every mode first prints {type:'ready', port}.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as readline from 'node:readline';
import { performance } from 'node:perf_hooks';

export type FlowArgs =
  | { mode: 'tcp-sink'; port: number }
  | { mode: 'tcp-source'; host: string; port: number }
  | { mode: 'udp'; port: number; echo?: boolean }
  | { mode: 'ping'; host: string; port: number; intervalMs: number; size: number };

export type FlowEvent =
  | { type: 'ready'; port: number }
  | { type: 'tick'; ms: number; bytes: number }
  | { type: 'recv'; from: string; port: number; size: number; text: string }
  | { type: 'sent'; id: number; error?: string }
  | { type: 'rtt'; seq: number; ms: number }
  | { type: 'error'; message: string };

export interface FlowCommand {
  cmd: 'send';
  id: number;
  host: string;
  port: number;
  text: string;
}

function emit(ev: FlowEvent): void {
  process.stdout.write(`${JSON.stringify(ev)}\n`);
}

function tcpSink(port: number): void {
  let bytes = 0;
  let last = performance.now();
  const server = net.createServer((sock) => {
    sock.on('data', (d: Buffer) => (bytes += d.length));
    sock.on('error', () => sock.destroy());
  });
  server.listen(port, () => emit({ type: 'ready', port }));
  setInterval(() => {
    const now = performance.now();
    emit({ type: 'tick', ms: now - last, bytes });
    last = now;
    bytes = 0;
  }, 100);
}

function tcpSource(host: string, port: number): void {
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  const sock = net.connect({ host, port }, () => {
    emit({ type: 'ready', port: sock.localPort ?? 0 });
    const pump = (): void => {
      while (sock.write(chunk));
    };
    sock.on('drain', pump);
    pump();
  });
  sock.on('error', (e) => emit({ type: 'error', message: e.message }));
}

function udp(port: number, echo: boolean): void {
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    if (echo) sock.send(msg, rinfo.port, rinfo.address);
    else emit({ type: 'recv', from: rinfo.address, port: rinfo.port, size: msg.length, text: msg.subarray(0, 64).toString('latin1') });
  });
  sock.bind(port, () => emit({ type: 'ready', port: sock.address().port }));
  readline.createInterface({ input: process.stdin }).on('line', (line) => {
    if (!line.trim()) return;
    const c = JSON.parse(line) as FlowCommand;
    sock.send(Buffer.from(c.text, 'latin1'), c.port, c.host, (e) => emit({ type: 'sent', id: c.id, ...(e ? { error: e.message } : {}) }));
  });
}

function ping(host: string, port: number, intervalMs: number, size: number): void {
  const sock = dgram.createSocket('udp4');
  const sentAt = new Map<number, number>();
  let seq = 0;
  sock.on('message', (msg) => {
    if (msg.length < 4) return;
    const s = msg.readUInt32BE(0);
    const t = sentAt.get(s);
    if (t === undefined) return;
    sentAt.delete(s);
    emit({ type: 'rtt', seq: s, ms: performance.now() - t });
  });
  sock.bind(0, () => {
    emit({ type: 'ready', port: sock.address().port });
    setInterval(() => {
      const probe = Buffer.alloc(Math.max(4, size));
      probe.writeUInt32BE(seq, 0);
      sentAt.set(seq, performance.now());
      if (sentAt.size > 10_000) sentAt.delete(seq - 10_000);
      seq++;
      sock.send(probe, port, host);
    }, intervalMs);
  });
}

function main(): void {
  const args = JSON.parse(process.argv[2] ?? '{}') as FlowArgs;
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
  process.on('SIGTERM', () => process.exit(0));
  switch (args.mode) {
    case 'tcp-sink':
      return tcpSink(args.port);
    case 'tcp-source':
      return tcpSource(args.host, args.port);
    case 'udp':
      return udp(args.port, args.echo === true);
    case 'ping':
      return ping(args.host, args.port, args.intervalMs, args.size);
  }
}

main();
