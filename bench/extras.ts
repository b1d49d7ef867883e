/**
 * The measurements outside the throughput rounds: udpvault handshake times (in one process and
 * between two), RSS of an idle node, and RSS growth with many established idle peers.
 */
import { BenchProcess, sleep } from './proc';
import type { Connected, CrowdMember, Hello, Memory } from './protocol';
import { shapes, smaps, type Shapes, type Smaps } from './smaps';

/** Peer add → established, `n` fresh pairs of nodes in one process. */
export async function handshakesInProcess(n: number): Promise<number[]> {
  const [p] = await BenchProcess.start('udpvault');
  try {
    return (await p.ask<{ ms: number[] }>({ cmd: 'pairs', n })).ms;
  } finally {
    await p.exit();
  }
}

/**
 * Between two processes, first contact, timed on the client. udpvault: the server adds a fresh
 * client node (its own init is refused: the client does not know it yet), then the client adds
 * the server; client addPeer → established. secret-stream: both sides open a fresh socket and
 * udx stream and connect at once; client connect → `opened` (Noise XX, one and a half round trips).
 */
export async function handshakesBetweenProcesses(role: 'udpvault' | 'secret-stream', n: number): Promise<number[]> {
  const [[server, sh], [client]] = await Promise.all([BenchProcess.start(role), BenchProcess.start(role)]);
  const out: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const ch = await client.ask<Hello>({ cmd: 'renew' });
      if (role === 'udpvault') {
        await server.ask({ cmd: 'add', port: ch.port, key: ch.key, wait: false });
        out.push((await client.ask<Connected>({ cmd: 'add', port: sh.port, key: sh.key, wait: true })).ms);
        await server.ask({ cmd: 'remove', key: ch.key });
      } else {
        const s = await server.ask<Hello>({ cmd: 'renew' });
        const [, c] = await Promise.all([
          server.ask<Connected>({ cmd: 'connect', port: ch.port, key: '', initiator: false }),
          client.ask<Connected>({ cmd: 'connect', port: s.port, key: '', initiator: true }),
        ]);
        out.push(c.ms);
      }
    }
  } finally {
    await Promise.all([server.exit(), client.exit()]);
  }
  return out;
}

/** One first contact between two processes: ms until both are established, and whether the side that added first has the greater key. */
export interface FirstContact {
  ms: number;
  firstGreater: boolean;
}

const greaterKey = (a: string, b: string): boolean => Buffer.compare(Buffer.from(a, 'base64url'), Buffer.from(b, 'base64url')) > 0;

/**
 * First contact between two udpvault processes, `n` pairs, each pair on fresh loopback addresses
 * (127.0.1.x and 127.0.2.x, as bench/roles/udpvault.ts pairs() does: one per-source admission
 * budget each, as distinct peers have). `gapMs` null: both add each other at once (the two add
 * commands sent together); else the first adds, and the second `gapMs` later (its init was
 * refused: the second did not know the first yet). Each process times its own add →
 * established; a sample is the later of the two (at once) or the second's (with a gap), the
 * handshake's CPU included. PROTOCOL §5.5.
 */
export async function firstContacts(n: number, gapMs: number | null): Promise<FirstContact[]> {
  const [[x], [y]] = await Promise.all([BenchProcess.start('udpvault'), BenchProcess.start('udpvault')]);
  const out: FirstContact[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const hx = `127.0.1.${(i % 250) + 1}`;
      const hy = `127.0.2.${(i % 250) + 1}`;
      const [cx, cy] = await Promise.all([x.ask<Hello>({ cmd: 'renew', host: hx }), y.ask<Hello>({ cmd: 'renew', host: hy })]);
      const firstGreater = greaterKey(cx.key, cy.key);
      const addX = x.ask<Connected>({ cmd: 'add', host: hy, port: cy.port, key: cy.key, wait: true });
      if (gapMs !== null) await sleep(gapMs);
      const addY = y.ask<Connected>({ cmd: 'add', host: hx, port: cx.port, key: cx.key, wait: true });
      const [a, b] = await Promise.all([addX, addY]);
      out.push({ ms: gapMs === null ? Math.max(a.ms, b.ms) : b.ms, firstGreater });
    }
  } finally {
    await Promise.all([x.exit(), y.exit()]);
  }
  return out;
}

export interface CrowdResult {
  peers: number;
  established: number;
  idle: Memory;
  loaded: Memory;
  /** Bytes of RSS (and of heap) per established peer: (loaded − idle) ÷ established. */
  rssPerPeer: number;
  /** Marginal RSS per peer between a tenth of the peers and all of them (fixed costs excluded). */
  rssSlope: number | null;
  heapPerPeer: number;
  setupMs: number;
  /** The centre's V8 heap allocation rate over the idle period and over its last two thirds (steady), and its new space at the start, a third and the end of it (no collection forced). */
  idleAlloc: { bytesPerSecond: number; steadyBytesPerSecond: number; newSpaceStart: number; newSpaceMid: number; newSpaceEnd: number };
  /** The centre's resident memory by mapping, idle and loaded (bench/smaps.ts). */
  mapsIdle: Smaps;
  mapsLoaded: Smaps;
  /** The centre's anonymous mappings by shape, idle and loaded (rss18). */
  shapesIdle: Shapes;
  shapesLoaded: Shapes;
}

const NODES_PER_PROCESS = 2500;

/** A crowd process's nodes: established with the centre, entries into 'established', 'unreachable' events, datagrams sent. */
interface CrowdSide {
  n: number;
  handshakes: number;
  unreachable: number;
  packetsOut: number;
}

function sumSides(all: CrowdSide[]): CrowdSide {
  return all.reduce((a, b) => ({ n: a.n + b.n, handshakes: a.handshakes + b.handshakes, unreachable: a.unreachable + b.unreachable, packetsOut: a.packetsOut + b.packetsOut }), { n: 0, handshakes: 0, unreachable: 0, packetsOut: 0 });
}

/**
 * One udpvault node (the centre; normal settings) in its own process: RSS idle, then with
 * `peers` established sessions to nodes hosted by crowd processes, after `idleMs` during which
 * they exchange only keepalives.
 */
interface Alloc {
  allocated: number;
  newSpace: number;
}

export async function crowd(peers: number, idleMs: number, log: (s: string) => void, opts: { snapshotPrefix?: string } = {}): Promise<CrowdResult> {
  const [centre, ch] = await BenchProcess.start('udpvault');
  const hosts: BenchProcess[] = [];
  try {
    await sleep(1000);
    const idle = await centre.ask<Memory>({ cmd: 'rss' });
    const mapsIdle = smaps(centre.pid);
    const shapesIdle = shapes(centre.pid);
    if (opts.snapshotPrefix) await centre.ask({ cmd: 'heap-snapshot', path: `${opts.snapshotPrefix}-idle.heapsnapshot` });
    const t0 = performance.now();
    const per = Math.ceil(peers / Math.max(1, Math.ceil(peers / NODES_PER_PROCESS)));
    const spawned: Array<Promise<CrowdMember[]>> = [];
    for (let first = 0; first < peers; first += per) {
      const count = Math.min(per, peers - first);
      const i = hosts.length;
      spawned.push(
        BenchProcess.start('crowd').then(async ([h]) => {
          hosts[i] = h;
          return (await h.ask<{ members: CrowdMember[] }>({ cmd: 'spawn', n: count, firstIndex: first, port: ch.port, key: ch.key })).members;
        }),
      );
      hosts.length = i + 1;
    }
    const members = (await Promise.all(spawned)).flat();
    log(`  ${members.length} crowd nodes up in ${hosts.length} processes (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    const CHUNK = 250;
    // a bound on the whole setup: sessions not up by then are reported, not waited for
    const giveUp = performance.now() + Math.max(120_000, 30 * peers);
    const count = async (): Promise<number> => (await centre.ask<{ n: number }>({ cmd: 'established' })).n;
    let established = 0;
    let tenth: { n: number; rss: number } | null = null;
    for (let i = 0; i < members.length; i += CHUNK) {
      // the centre adds a chunk, then those nodes add the centre (one handshake each way)
      const n = Math.min(CHUNK, members.length - i);
      await centre.ask({ cmd: 'add-peers', peers: members.slice(i, i + n) });
      for (let j = i; j < i + n; ) {
        const h = Math.floor(j / per);
        const upTo = Math.min(i + n, (h + 1) * per);
        await hosts[h]!.ask({ cmd: 'join', port: ch.port, key: ch.key, from: j - h * per, count: upTo - j });
        j = upTo;
      }
      // at most two chunks of handshakes outstanding; all of the first tenth before its RSS
      const mark = !tenth && i + n >= members.length / 10 && members.length >= 10 * CHUNK;
      const want = mark ? i + n : i + 1 - CHUNK;
      while ((established = await count()) < want && performance.now() < giveUp) await sleep(250);
      if (mark) tenth = { n: established, rss: (await centre.ask<Memory>({ cmd: 'rss' })).rss };
      if (process.env['BENCH_VERBOSE']) log(`    +${n} at ${((performance.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(await centre.ask({ cmd: 'established' }))}`);
    }
    while ((established = await count()) < members.length && performance.now() < giveUp) await sleep(500);
    const setupMs = performance.now() - t0;
    const side = async (): Promise<CrowdSide> => sumSides(await Promise.all(hosts.map((h) => h.ask<CrowdSide>({ cmd: 'established' }))));
    const up = await side();
    log(`  ${established} of ${members.length} sessions established (${(setupMs / 1000).toFixed(1)} s; crowd side: ${up.n} established, ${(up.handshakes / members.length).toFixed(2)} entries into 'established' per node, ${up.unreachable} unreachable events, ${(up.packetsOut / members.length).toFixed(1)} datagrams sent per node); idle ${(idleMs / 1000).toFixed(0)} s`);
    const profile = process.env['BENCH_ALLOC_PROFILE'] === '1';
    // Two windows: the first third of the idle period (path MTU searches and acks of the setup's
    // last sessions still finishing) and the rest (keepalives only: the steady rate).
    interface Links { sessions: Record<string, number>; ticks: number; resting: number; folded?: number; searching?: number; probes?: number; awake?: Record<string, number> }
    // BENCH_IDLE_FLAGS="flags;ms": V8 flags set on the centre at the idle start, reverted by BENCH_IDLE_UNFLAGS after ms (rss18)
    const [idleFlags, idleFlagsMs] = (process.env['BENCH_IDLE_FLAGS'] ?? '').split(';');
    if (idleFlags) {
      await centre.ask({ cmd: 'v8-flags', flags: idleFlags });
      const un = process.env['BENCH_IDLE_UNFLAGS'];
      if (un) setTimeout(() => void centre.ask({ cmd: 'v8-flags', flags: un }), Number(idleFlagsMs ?? 10_000));
    }
    const l0 = await centre.ask<Links>({ cmd: 'links' });
    const a0 = await centre.ask<Alloc>({ cmd: 'alloc' });
    const t1 = performance.now();
    await sleep(idleMs / 3);
    const aMid = await centre.ask<Alloc>({ cmd: 'alloc' });
    if (profile) await centre.ask({ cmd: 'alloc-profile' }); // the steady part only
    const tMid = performance.now();
    await sleep(idleMs - idleMs / 3);
    const a1 = await centre.ask<Alloc>({ cmd: 'alloc' });
    const l1 = await centre.ask<Links>({ cmd: 'links' });
    log(`  the centre's links over the idle period: ${((l1.ticks - l0.ticks) / Math.max(1, members.length) / (idleMs / 1000)).toFixed(2)} ticks run per link per second; sessions per link ${JSON.stringify(l1.sessions)}; ${l1.resting} packet spaces resting at the end (${l1.folded ?? '?'} of them folded); path MTU searches under way ${l0.searching ?? '?'} → ${l1.searching ?? '?'}, probes sent ${l0.probes ?? '?'} → ${l1.probes ?? '?'}${l1.awake && Object.keys(l1.awake).length > 0 ? `; awake spaces by reason ${JSON.stringify(l1.awake)}` : ''}`);
    if (profile) log(`  the centre's allocations over the idle period's last two thirds by function (sampled):\n${(await centre.ask<{ lines: string[] }>({ cmd: 'alloc-profile' })).lines.join('\n')}`);
    const t2 = performance.now();
    const idleAlloc = {
      bytesPerSecond: (a1.allocated - a0.allocated) / ((t2 - t1) / 1000),
      steadyBytesPerSecond: (a1.allocated - aMid.allocated) / ((t2 - tMid) / 1000),
      newSpaceStart: a0.newSpace,
      newSpaceMid: aMid.newSpace,
      newSpaceEnd: a1.newSpace,
    };
    established = (await centre.ask<{ n: number }>({ cmd: 'established' })).n;
    const after = await side();
    log(`  after ${(idleMs / 1000).toFixed(0)} s idle: ${established} established at the centre; crowd side ${after.n} established, ${after.handshakes - up.handshakes} more entries into 'established', ${after.unreachable - up.unreachable} more unreachable events`);
    const loaded = await centre.ask<Memory>({ cmd: 'rss' });
    const mapsLoaded = smaps(centre.pid);
    const shapesLoaded = shapes(centre.pid);
    if (opts.snapshotPrefix) await centre.ask({ cmd: 'heap-snapshot', path: `${opts.snapshotPrefix}-${peers}.heapsnapshot` });
    const n = Math.max(1, established);
    return {
      peers: members.length,
      established,
      idle,
      loaded,
      rssPerPeer: (loaded.rss - idle.rss) / n,
      rssSlope: tenth && established > tenth.n ? (loaded.rss - tenth.rss) / (established - tenth.n) : null,
      heapPerPeer: (loaded.heapUsed - idle.heapUsed) / n,
      setupMs,
      idleAlloc,
      mapsIdle,
      mapsLoaded,
      shapesIdle,
      shapesLoaded,
    };
  } finally {
    await Promise.all([centre.exit(), ...hosts.map((h) => h.exit())]);
  }
}
