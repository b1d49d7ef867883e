/**
 * Attacks on a real daemon's control socket (issue 10, deliverables 5 and 8): 800 subscriptions
 * on one connection that never reads, 1,000 connections at once, and a subscriber that never
 * reads while 16 MiB of messages arrive. The daemon runs as its own process (dist/bin), gets
 * real traffic over UDP from an in-process node, and its memory is read from
 * /proc/PID/status (VmRSS before, VmHWM = peak after).
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { connect, type SubscribedMessage } from '../../src/control/client';
import type { UdpVaultNode } from '../../src/node/types';
import { startNode } from '../helpers/nodes';
import { cli, Daemon, requireBuild, tempDir, waitFor } from './cli-helpers';

jest.setTimeout(180_000);

const MiB = 1024 * 1024;

/** VmRSS and VmHWM (peak) of a process, in bytes. */
function memoryOf(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)![1]) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

const openFds = (pid: number): number => fs.readdirSync(`/proc/${pid}/fd`).length;

/**
 * Control connections a process holds: its socket fds that are connected Unix sockets on
 * `sockPath` (an accepted socket carries the listener's path in /proc/net/unix, state 03).
 * Exact, where the total fd count also moves with files and sockets the daemon opens for a
 * moment (a CLI connection it has not closed yet when the CLI process has already exited).
 */
function controlConnections(pid: number, sockPath: string): number {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let link = '';
    try {
      link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (link.startsWith('socket:[')) inodes.add(link.slice(8, -1));
  }
  let n = 0;
  for (const line of fs.readFileSync('/proc/net/unix', 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[7] === sockPath && f[5] === '03' && inodes.has(f[6]!)) n++;
  }
  return n;
}

/** A raw control connection whose replies are read only when asked to (until then nothing is read). */
class Attacker {
  readonly socket: net.Socket;
  #chunks: Buffer[] = [];
  #reading = false;
  closed = false;
  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('error', () => undefined);
    socket.on('close', () => (this.closed = true));
  }
  static async open(sockPath: string): Promise<Attacker> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await new Promise<Attacker>((resolve, reject) => {
          const s = net.connect(sockPath, () => resolve(new Attacker(s)));
          s.once('error', reject);
        });
      } catch (e) {
        // EAGAIN: the listen backlog is full for now (the daemon accepts as fast as it can).
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || attempt >= 50) throw e;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }
  /** Starts reading (until then the kernel buffers fill and the daemon sees backpressure). */
  startReading(): void {
    if (this.#reading) return;
    this.#reading = true;
    this.socket.on('data', (c: Buffer) => this.#chunks.push(c));
  }
  /** Reads; `done` decides, on the text so far, when everything expected has arrived. */
  async readUntil(done: (text: string) => boolean, timeoutMs = 60_000): Promise<string> {
    this.startReading();
    let text = '';
    await waitFor(() => {
      if (this.#chunks.length > 0) text += Buffer.concat(this.#chunks.splice(0)).toString('utf8');
      return done(text) || this.closed;
    }, timeoutMs, 'the attacker connection to be answered');
    return text;
  }
  /** Reads into a tally until `done` holds for it (or the daemon closed the connection). */
  async tallyUntil(done: (c: Tally) => boolean, timeoutMs = 60_000): Promise<Tally> {
    this.startReading();
    const c = new Tally();
    const decoder = new StringDecoder('utf8');
    await waitFor(() => {
      if (this.#chunks.length > 0) c.feed(decoder.write(Buffer.concat(this.#chunks.splice(0))));
      return done(c) || this.closed;
    }, timeoutMs, 'the attacker connection to be answered');
    return c;
  }
  close(): void {
    this.socket.destroy();
  }
}

interface Setup {
  daemon: Daemon;
  sender: UdpVaultNode;
}

let root: string;
let setup: Setup | null = null;
const attackers: Attacker[] = [];
let stallReport: NodeJS.Timeout | undefined;

beforeAll(() => requireBuild());
beforeEach(() => {
  root = tempDir();
});
afterEach(async () => {
  clearTimeout(stallReport);
  for (const a of attackers.splice(0)) a.close();
  if (setup) {
    await setup.sender.close();
    await setup.daemon.stop('SIGKILL');
    setup = null;
  }
  fs.rmSync(root, { recursive: true, force: true });
});

/** A daemon with default settings, and an in-process node paired with it that sends to it. */
async function start(): Promise<Setup> {
  const home = path.join(root, 'd');
  const daemon = await Daemon.start(home);
  const sender = await startNode({ settings: { reliableTimeoutMs: 60_000 } });
  setup = { daemon, sender };
  const add = await cli(['peer', 'add', `127.0.0.1:${sender.port}`, '--key', sender.publicKey, '--name', 'sender', '--home', home]);
  if (add.code !== 0) throw new Error(add.stderr);
  await sender.addPeer({ endpoint: `127.0.0.1:${daemon.port}`, key: daemon.publicKey, name: 'daemon' });
  await sender.send('daemon', 'warm-up', { reliable: true, timeoutMs: 20_000 });
  return setup;
}

/** Sends `n` reliable messages (acknowledged = handed to the daemon's subscribers), `window` at a time. */
async function pump(sender: UdpVaultNode, n: number, make: (i: number) => Uint8Array | string, window = 64, before?: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      if (before) await before(i);
      await sender.send('daemon', make(i), { reliable: true, timeoutMs: 60_000 });
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
}

/**
 * Per subscription id: message lines and the lost counts of a stream of control lines, fed as
 * it is read (the 800-subscription stream is ~60 MiB: tallying all of it again on every poll
 * took minutes on a loaded machine).
 */
class Tally {
  ok = 0;
  readonly refused = new Map<string, number>();
  readonly messages = new Map<unknown, number>();
  readonly lost = new Map<unknown, number>();
  /** Lost notices (lines), and the UTF-8 bytes of the first message line with its "\n". */
  lostLines = 0;
  messageLineBytes = 0;
  #partial = '';

  feed(text: string): void {
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop()!;
    for (const line of lines) if (line !== '') this.#line(line);
  }

  #line(line: string): void {
    const head = /^\{"v":1,"id":(\d+|"[^"]*"),"type":"message"/.exec(line);
    if (head) {
      const id = JSON.parse(head[1]!) as unknown;
      this.messages.set(id, (this.messages.get(id) ?? 0) + 1);
      if (this.messageLineBytes === 0) this.messageLineBytes = Buffer.byteLength(line) + 1;
      return;
    }
    const l = JSON.parse(line) as { id: unknown; ok?: boolean; error?: { code: string }; type?: string; count?: number };
    if (l.ok === true) this.ok++;
    else if (l.ok === false) this.refused.set(l.error!.code, (this.refused.get(l.error!.code) ?? 0) + 1);
    else if (l.type === 'lost') {
      this.lost.set(l.id, (this.lost.get(l.id) ?? 0) + l.count!);
      this.lostLines++;
    }
  }
}

test('800 subscriptions on one connection that never reads: 16 accepted, 784 refused with ERR_TOO_MANY_SUBSCRIPTIONS, daemon memory bounded', async () => {
  const { daemon, sender } = await start();
  const pid = daemon.child.pid!;
  const attacker = await Attacker.open(path.join(daemon.home, 'control.sock'));
  attackers.push(attacker);
  attacker.socket.write(Array.from({ length: 800 }, (_, i) => `{"v":1,"id":${i + 1},"op":"subscribe"}\n`).join(''));
  await waitFor(async () => {
    const r = await cli(['status', '--json', '--home', daemon.home]);
    return r.code === 0 && (JSON.parse(r.stdout) as { subscribers: number }).subscribers === 16;
  }, 20_000, '16 subscriptions');
  const before = memoryOf(pid);

  // 12,000 small messages: each subscriber may buffer 10,000 (subscriberBufferMessages), the
  // socket buffers a few more, the rest is lost. 800 subscribers used to hold 8 M lines (1.5 GB).
  const N = 12_000;
  await pump(sender, N, (i) => `small message ${i} ${'.'.repeat(64)}`);
  const after = memoryOf(pid);
  const grown = after.peak - before.rss;

  const c = await attacker.tallyUntil(
    (t) => t.ok + [...t.refused.values()].reduce((a, b) => a + b, 0) === 800 && [...t.messages.keys()].every((id) => (t.messages.get(id) ?? 0) + (t.lost.get(id) ?? 0) === N) && t.messages.size === 16,
  );
  expect(c.ok).toBe(16);
  expect([...c.refused]).toEqual([['ERR_TOO_MANY_SUBSCRIPTIONS', 784]]);
  // Every subscription accounts for every message: delivered (in buffers) or reported lost.
  expect([...c.messages.keys()].sort((a, b) => (a as number) - (b as number))).toEqual([...Array(16).keys()].map((i) => i + 1));
  for (let id = 1; id <= 16; id++) {
    expect([id, (c.messages.get(id) ?? 0) + (c.lost.get(id) ?? 0)]).toEqual([id, N]);
    expect(c.lost.get(id)).toBeGreaterThan(0);
  }
  // 16 × 10,000 queued lines share one body string per message: +26–33 MiB measured, where
  // main (800 subscriptions accepted, one line string per subscriber) grew by 1,570 MiB.
  console.log(`800 subscriptions, ${N} messages: daemon RSS ${(before.rss / MiB).toFixed(1)} MiB before, peak ${(after.peak / MiB).toFixed(1)} MiB (+${(grown / MiB).toFixed(1)} MiB)`);
  expect(grown).toBeLessThan(64 * MiB);
});

test('1,000 connections at once: 64 served, 936 refused with ERR_TOO_MANY_CONNECTIONS and closed by the daemon; the CLI works again once they go', async () => {
  const { daemon } = await start();
  const pid = daemon.child.pid!;
  const sock = path.join(daemon.home, 'control.sock');
  const fds0 = openFds(pid);
  const before = memoryOf(pid);
  // Opened in waves of 100 (all 1,000 stay open): the kernel refuses connect() with EAGAIN once
  // the listen backlog is full, and a loaded daemon may accept more slowly than we connect.
  const conns: Attacker[] = [];
  for (let wave = 0; wave < 10; wave++) {
    const opened = await Promise.all(Array.from({ length: 100 }, () => Attacker.open(sock)));
    conns.push(...opened);
    attackers.push(...opened);
  }
  // The refused ones get one error line and are closed; the served ones stay open, silent.
  for (const c of conns) c.startReading();
  await waitFor(() => conns.filter((c) => c.closed).length >= 936, 30_000, '936 refused connections to be closed');
  const refused = conns.filter((c) => c.closed);
  const served = conns.filter((c) => !c.closed);
  expect([refused.length, served.length]).toEqual([936, 64]);
  const lines = await Promise.all(refused.map((c) => c.readUntil(() => false, 5000)));
  for (const l of lines) {
    expect(JSON.parse(l)).toEqual({
      v: 1,
      id: null,
      ok: false,
      error: { code: 'ERR_TOO_MANY_CONNECTIONS', kind: 'error', message: 'the daemon serves at most 64 control connections at once (setting maxControlConnections); close one and retry' },
    });
  }
  // The daemon holds the 64 served sockets, nothing of the refused ones (fds0 may count a CLI
  // connection of start() the daemon had not closed yet: the fd total is an upper bound only).
  await waitFor(() => controlConnections(pid, sock) === 64 && openFds(pid) - fds0 <= 64, 20_000, 'the daemon to let go of the refused sockets');
  expect(controlConnections(pid, sock)).toBe(64);
  const during = memoryOf(pid);

  // While the attacker holds every slot, the CLI is refused with the reason (exit 1)...
  const blocked = await cli(['status', '--json', '--home', daemon.home]);
  expect(blocked.code).toBe(1);
  expect(blocked.stderr).toContain('the daemon serves at most 64 control connections at once (setting maxControlConnections)');
  // ...and served as soon as they are gone; the served connections were working all along.
  served[0]!.socket.write('{"v":1,"id":1,"op":"id"}\n');
  const idLine = await served[0]!.readUntil((t) => t.includes('\n'));
  expect(JSON.parse(idLine)).toEqual({ v: 1, id: 1, ok: true, result: { publicKey: daemon.publicKey } });
  for (const c of conns) c.close();
  await waitFor(() => controlConnections(pid, sock) === 0 && openFds(pid) <= fds0, 20_000, 'the daemon to close the served connections');
  const st = await cli(['status', '--json', '--home', daemon.home]);
  expect(st.code).toBe(0);
  expect(JSON.parse(st.stdout)).toMatchObject({ connections: 1, subscribers: 0 });
  console.log(`1,000 connections: daemon RSS ${(before.rss / MiB).toFixed(1)} MiB before, ${(during.rss / MiB).toFixed(1)} MiB with 64 served, peak ${(during.peak / MiB).toFixed(1)} MiB`);
  expect(during.peak - before.rss).toBeLessThan(50 * MiB);
});

test('a subscriber that never reads while 16 MiB arrive: bounded to subscriberBufferBytes, told how many it lost, and a reading subscriber gets every byte', async () => {
  // Which step the test is at, reported if it is still running after 170 s (jest's timeout at
  // 180 s names no step; CI stop 17 saw one such timeout, not reproduced since — notes/flaky17).
  let step = 'start()';
  stallReport = setTimeout(() => console.error(`stuck-subscriber test still at step "${step}" after 170 s`), 170_000);
  const { daemon, sender } = await start();
  const pid = daemon.child.pid!;
  step = 'the stuck subscriber';
  const stuck = await Attacker.open(path.join(daemon.home, 'control.sock'));
  attackers.push(stuck);
  stuck.socket.write('{"v":1,"id":"stuck","op":"subscribe"}\n');
  step = 'connect()';
  const client = await connect({ home: daemon.home });
  // The reader shares this process with the sender. Measured on Node 26 at load up to 25, the
  // reader was at most 36 messages (~3 MiB) behind what the daemon acknowledged, far from its own
  // 16 MiB bound (~190 lines); still, the sender is paced by the reader (at most AHEAD messages,
  // ~4 MiB of lines, not yet read), so a reader loss can only mean the stuck subscriber cost it.
  const AHEAD = 48;
  let lostEarly: (n: number) => void = () => undefined;
  const lostNotice = new Promise<number>((resolve) => (lostEarly = resolve));
  const reader = client.subscribe({ highWaterMark: 100_000, onLost: (n) => lostEarly(n) });
  step = 'reader.ready()';
  await reader.ready();
  step = 'status: 2 subscriptions';
  await waitFor(async () => {
    const r = await cli(['status', '--json', '--home', daemon.home]);
    return r.code === 0 && (JSON.parse(r.stdout) as { subscribers: number }).subscribers === 2;
  }, 20_000, '2 subscriptions');
  const before = memoryOf(pid);

  step = 'sending and reading';
  // 320 binary messages of 64 KiB = 20 MiB of payload; each line carries ~87 KiB of base64.
  const N = 320;
  const payloads = Array.from({ length: N }, () => new Uint8Array(randomBytes(64 * 1024)));
  const got: SubscribedMessage[] = [];
  let waiting: Array<() => void> = [];
  const wake = (): void => {
    const w = waiting;
    waiting = [];
    for (const f of w) f();
  };
  const reading = (async () => {
    for await (const m of reader) {
      got.push(m);
      wake();
      if (got.length === N) break;
    }
  })();
  const readerCaughtUp = async (i: number): Promise<void> => {
    while (i - got.length >= AHEAD) await new Promise<void>((resolve) => waiting.push(resolve));
  };
  const lost = lostNotice.then((n) => {
    throw new Error(`the reading subscriber lost ${n} message(s) after ${got.length} of ${N}`);
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`after 120 s the reading subscriber has ${got.length} of ${N} messages (lost ${reader.lost}); the sender's counters: ${JSON.stringify(sender.status().counters)}`)), 120_000);
  });
  try {
    await Promise.race([pump(sender, N, (i) => payloads[i]!, 16, readerCaughtUp).then(() => reading), lost, late]);
  } finally {
    clearTimeout(timer);
  }
  const after = memoryOf(pid);
  client.close();

  // The reader was never stalled by the stuck one: every message, exact bytes, in order.
  expect(reader.lost).toBe(0);
  const digest = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
  expect(got.map((m) => digest(m.data))).toEqual(payloads.map(digest));

  step = 'reading the stuck subscriber';
  const c = await stuck.tallyUntil((t) => (t.messages.get('stuck') ?? 0) + (t.lost.get('stuck') ?? 0) === N);
  step = 'checks';
  const delivered = c.messages.get('stuck') ?? 0;
  expect(c.lost.get('stuck')).toBe(N - delivered);
  expect(c.lostLines).toBe(1);
  // What reached it: at most 16 MiB of lines buffered by the daemon plus what the kernel socket
  // buffers held when it stopped reading (well under 1 MiB for a Unix socket).
  const lineBytes = c.messageLineBytes;
  expect(delivered * lineBytes).toBeLessThanOrEqual(16 * MiB + 1 * MiB);
  expect(delivered * lineBytes).toBeGreaterThan(15 * MiB);
  const grown = after.peak - before.rss;
  // Under the configured byte bounds in play (two subscribers' buffers and the sender's
  // reassembly bound) + 64 MiB: +56 MiB measured on Node 20 and +86.5 MiB on Node 26, most of it
  // garbage not yet collected (27 MiB of JSON lines made and dropped in a few seconds). What the
  // stuck subscriber holds is bounded exactly by the line count above.
  const bounds = 2 * 16 * MiB + 4 * MiB;
  console.log(`stuck subscriber, ${N} × 64 KiB: ${delivered} delivered, ${N - delivered} lost; daemon RSS ${(before.rss / MiB).toFixed(1)} MiB before, peak ${(after.peak / MiB).toFixed(1)} MiB (+${(grown / MiB).toFixed(1)} MiB)`);
  expect(grown).toBeLessThan(bounds + 64 * MiB);
});

test('a reload (SIGHUP) applies maxControlConnections to the running daemon', async () => {
  const home = path.join(root, 'r');
  const config = path.join(root, 'udpvault.json');
  fs.writeFileSync(config, JSON.stringify({ maxControlConnections: 2 }));
  const daemon = await Daemon.start(home, 0, ['--config', config]);
  setup = { daemon, sender: await startNode() };
  const sock = path.join(home, 'control.sock');
  const held = [await Attacker.open(sock), await Attacker.open(sock)];
  attackers.push(...held);
  const third = await Attacker.open(sock);
  attackers.push(third);
  const refusal = JSON.parse(await third.readUntil((t) => t.includes('\n'))) as { error: { code: string; message: string } };
  expect(refusal.error).toMatchObject({ code: 'ERR_TOO_MANY_CONNECTIONS', message: expect.stringContaining('at most 2 control connections') });

  fs.writeFileSync(config, JSON.stringify({ maxControlConnections: 3 }));
  daemon.kill('SIGHUP');
  await waitFor(() => daemon.jsonLines().some((l) => String(l.msg).startsWith('configuration reloaded: applied maxControlConnections')), 10_000, 'the reload');
  const st = await cli(['status', '--json', '--home', home]);
  expect(st.code).toBe(0);
  expect(JSON.parse(st.stdout)).toMatchObject({ connections: 3 });
});
