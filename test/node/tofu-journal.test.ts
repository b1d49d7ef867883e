/**
 * TOFU keys through the journal (issue 9 #6, issue 10 #4): the key learnt on first use is a
 * journal record fsync'd before anything acts on it, so a power loss right after the
 * confirmation never forgets it; the coalesced peers.json save folds it in later, and a hand
 * edit racing it keeps both. Shown through the filesystem seam (FakeFs.crash(): only what was
 * fsync'd survives), on the simulated network.
 */
import { SimWorld, SIM_PORT, established, peerEvents } from '../sim/harness';
import { FakeFs } from '../../src/store/fake-fs';
import { openHome, type OpenedHome } from '../../src/store/open-home';
import { PeerStore } from '../../src/store/peer-store';
import { sodiumReady } from '../../src/crypto/sodium';
import type { PeerEvent, UdpVaultNode } from '../../src/node/types';

const A = '127.0.0.2';
const B = '127.0.0.3';
const HOME = '/home/a';

const openOn = (fs: FakeFs, w: SimWorld): OpenedHome => openHome(HOME, { kind: 'node', fs, scheduler: w.scheduler, isAlive: () => false });

beforeAll(() => sodiumReady());

describe('TOFU keys in the journal', () => {
  let w: SimWorld;
  const homes: OpenedHome[] = [];
  beforeEach(() => {
    w = new SimWorld(5);
    w.net.link(A, B, { latencyMs: 10 });
  });
  afterEach(async () => {
    await w.closeAll();
    for (const h of homes.splice(0)) await h.close();
    expect(w.scheduler.errors).toEqual([]);
  });

  /** Node a (home on `fs`) adds b by endpoint only; b pins a. Returns the fs as a power loss at a's 'tofu' event leaves it. */
  async function firstContact(fs: FakeFs, onTofu?: () => void): Promise<{ a: UdpVaultNode; b: UdpVaultNode; atTofu: FakeFs; events: PeerEvent[] }> {
    const home = openOn(fs, w);
    homes.push(home);
    const a = await w.node(A, { openedHome: home });
    const b = await w.node(B);
    const events = peerEvents(a);
    let atTofu: FakeFs | null = null;
    a.on('peer', (ev) => {
      if (ev.type !== 'tofu') return;
      atTofu = fs.crash(); // the power fails the moment the node reports the key
      onTofu?.();
    });
    await b.addPeer({ endpoint: `${A}:${SIM_PORT}`, key: a.publicKey, name: 'a' });
    await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, name: 'b' });
    expect(await w.scheduler.runUntil(() => established(a, 'b') && established(b, 'a'), 3_000)).toBe(true);
    expect(atTofu).not.toBeNull();
    return { a, b, atTofu: atTofu!, events };
  }

  /** Stops `a` (and its home: the in-process lock), then starts a node on the crash image `fs`. */
  async function restart(a: UdpVaultNode, fs: FakeFs): Promise<UdpVaultNode> {
    await w.close(a);
    await homes.shift()!.close();
    const home = openOn(fs, w);
    homes.push(home);
    return w.node('127.0.0.9', { openedHome: home });
  }

  test('a power loss right after the confirmation: the restarted node has the key pinned (TOFU)', async () => {
    const fs = new FakeFs();
    const { a, b, atTofu } = await firstContact(fs);
    // The crash image: peers.json still has b without a key (its save is 200 ms away) …
    expect(new PeerStore(`${HOME}/peers.json`, atTofu).load().map((p) => [p.name, p.key])).toEqual([['b', null]]);
    const again = await restart(a, atTofu);
    // … yet the journal record, fsync'd before the event, gives the key back.
    expect(again.peers().map((p) => [p.name, p.key, p.trust])).toEqual([['b', b.publicKey, 'tofu']]);
  });

  test('the record is fsync\'d, synchronously, before the tofu event reaches anyone', async () => {
    const fs = new FakeFs();
    let opsAtEvent = -1;
    const { a } = await firstContact(fs, () => (opsAtEvent = fs.ops.length));
    const before = fs.ops.slice(0, opsAtEvent);
    const lastJournalFsync = before.map((o, i) => [o, i] as const).filter(([o]) => o.op === 'fsync' && o.path === `${HOME}/state.journal` && !o.async);
    expect(lastJournalFsync.length).toBe(1); // one synchronous fsync: the TOFU record
    expect(a.peers()[0]!.trust).toBe('tofu');
  });

  test('a hand edit of peers.json racing the confirmation is not lost, and neither is the key', async () => {
    const fs = new FakeFs();
    const handEdit = (): void =>
      fs.put(`${HOME}/peers.json`, `${JSON.stringify({ version: 1, peers: [{ endpoint: `${B}:${SIM_PORT}`, name: 'b' }, { endpoint: '127.0.0.1:7', name: 'carol' }] })}\n`);
    // The user saves a hand edit right after the node learnt the key (before its store save).
    const { a, b } = await firstContact(fs, handEdit);
    await w.scheduler.advance(1_000); // the coalesced save is refused: the edit is not applied yet
    const crashed = fs.crash({ data: 'keep', entries: 'keep' }); // kill -9 (with an fsync'd hand edit)
    expect(new PeerStore(`${HOME}/peers.json`, crashed).load().map((p) => [p.name, p.key])).toEqual([['b', null], ['carol', null]]);
    const again = await restart(a, crashed);
    expect(again.peers().map((p) => [p.name, p.key, p.trust]).sort()).toEqual([['b', b.publicKey, 'tofu'], ['carol', null, 'unknown']]);
  });

  test('the next store save folds the key into peers.json and withdraws the journal record; a later hand edit of the key is then the user\'s', async () => {
    const fs = new FakeFs();
    const { a, b } = await firstContact(fs);
    const home = homes[0]!;
    expect(home.journal.state.tofuKey('b')).toBe(b.publicKey);
    await w.scheduler.advance(1_000);
    for (let i = 0; i < 100 && home.journal.state.tofuKey('b') !== null; i++) await new Promise((r) => setImmediate(r));
    expect(home.journal.state.tofuKey('b')).toBeNull();
    expect(new PeerStore(`${HOME}/peers.json`, fs).load().map((p) => [p.name, p.key, p.trust])).toEqual([['b', b.publicKey, 'tofu']]);
    // The user forgets the key by hand: a reload honours it (the journal does not bring it back).
    fs.put(`${HOME}/peers.json`, `${JSON.stringify({ version: 1, peers: [{ endpoint: `${B}:${SIM_PORT}`, name: 'b' }] })}\n`);
    await a.reload();
    expect(a.peers().map((p) => [p.name, p.key])).toEqual([['b', null]]);
  });

  test('removing the peer withdraws its journal record: adding the entry again starts without a key', async () => {
    const fs = new FakeFs();
    const { a } = await firstContact(fs);
    expect(homes[0]!.journal.state.tofuKey('b')).not.toBeNull();
    await a.removePeer('b');
    expect(homes[0]!.journal.state.tofuKey('b')).toBeNull();
    const crashed = fs.crash();
    const again = await restart(a, crashed);
    await again.addPeer({ endpoint: `${B}:${SIM_PORT}`, name: 'b' });
    expect(again.peers().map((p) => [p.name, p.key])).toEqual([['b', null]]);
  });
});

describe('handshake high-water marks in the journal (issue 9 #7)', () => {
  let w: SimWorld;
  const homes: OpenedHome[] = [];
  beforeEach(() => {
    w = new SimWorld(7);
    w.net.link(A, B, { latencyMs: 10 });
  });
  afterEach(async () => {
    await w.closeAll();
    for (const h of homes.splice(0)) await h.close();
    expect(w.scheduler.errors).toEqual([]);
  });

  test('a TOFU confirmation makes the mark durable with the key (one fsync), and a restart from the crash image restores it', async () => {
    const fs = new FakeFs();
    const home = openOn(fs, w);
    homes.push(home);
    const a = await w.node(A, { openedHome: home });
    const b = await w.node(B);
    let atTofu: FakeFs | null = null;
    let syncFsyncs = -1;
    a.on('peer', (ev) => {
      if (ev.type !== 'tofu') return;
      atTofu = fs.crash();
      syncFsyncs = fs.ops.filter((o) => o.op === 'fsync' && o.path === `${HOME}/state.journal` && !o.async).length;
    });
    await b.addPeer({ endpoint: `${A}:${SIM_PORT}`, key: a.publicKey, name: 'a' });
    await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, name: 'b' });
    expect(await w.scheduler.runUntil(() => established(a, 'b') && established(b, 'a'), 3_000)).toBe(true);
    expect(syncFsyncs).toBe(1);
    const mark = home.journal.state.handshake(b.publicKey);
    expect(typeof mark).toBe('number');
    expect(mark).toBeGreaterThan(0);
    await w.close(a);
    await homes.shift()!.close();
    const again = openOn(atTofu!, w);
    homes.push(again);
    expect(again.journal.state.handshake(b.publicKey)).toBe(mark);
  });

  test('a rekey at the same endpoint appends its mark without a synchronous fsync; the group commit makes it durable', async () => {
    const fs = new FakeFs();
    const home = openOn(fs, w);
    homes.push(home);
    const a = await w.node(A, { openedHome: home });
    const b = await w.node(B);
    await b.addPeer({ endpoint: `${A}:${SIM_PORT}`, key: a.publicKey, name: 'a' });
    await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, key: b.publicKey, name: 'b' });
    expect(await w.scheduler.runUntil(() => established(a, 'b') && established(b, 'a'), 3_000)).toBe(true);
    const syncBefore = fs.ops.filter((o) => o.op === 'fsync' && o.path === `${HOME}/state.journal` && !o.async).length;
    expect(syncBefore).toBe(0);
    const first = home.journal.state.handshake(b.publicKey);
    expect(typeof first).toBe('number');
    // Let the group commit run, then crash: the mark survives.
    await w.scheduler.advance(1_000);
    for (let i = 0; i < 100; i++) await new Promise((r) => setImmediate(r));
    const crashed = fs.crash();
    await w.close(a);
    await homes.shift()!.close();
    const again = openOn(crashed, w);
    homes.push(again);
    expect(again.journal.state.handshake(b.publicKey)).toBe(first);
  });
});
