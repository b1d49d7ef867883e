/**
 * Exactly once across remove/re-add, restarts and lost acks (issue 9, deliverable 6), on the
 * simulated network with a manual clock. Each test reproduces one measured failure.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SimWorld, SIM_PORT, messages, text, watch } from './harness';
import type { OpenTransport, Transport } from '../../src/net/transport';
import type { UdpVaultNode } from '../../src/node/types';

const A = '127.0.0.2';
const B = '127.0.0.3';

/** A transport wrapper whose outgoing datagrams vanish while `mute.on` (an ack lost on the way). */
function muting(mute: { on: boolean; dropped: number }): (open: OpenTransport) => OpenTransport {
  return (open) => async (o) => {
    const t = await open(o);
    return new Proxy(t, {
      get(target, prop): unknown {
        if (prop === 'send') {
          return (...args: Parameters<Transport['send']>): boolean => {
            if (!mute.on) return target.send(...args);
            mute.dropped++;
            args[4]?.(null);
            return true;
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  };
}

async function settle(w: SimWorld, p: Promise<void>, maxMs = 10_000): Promise<void> {
  const st = watch(p);
  expect(await w.scheduler.runUntil(() => st.state !== 'pending', maxMs)).toBe(true);
  await p;
}

describe('reliable mode: exactly once', () => {
  let w: SimWorld;
  let homes: string[] = [];
  beforeEach(() => {
    w = new SimWorld(6);
    w.net.link(A, B, { latencyMs: 10 });
  });
  afterEach(async () => {
    await w.closeAll();
    expect(w.scheduler.errors).toEqual([]);
    for (const h of homes) fs.rmSync(h, { recursive: true, force: true });
    homes = [];
  });

  test('after a sender-side remove + add, 5 reliable sends are all delivered (none acknowledged without delivery)', async () => {
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b);
    const got = messages(b);
    for (let i = 0; i < 5; i++) await settle(w, a.send('b', `before${i}`, { reliable: true }));
    await a.removePeer('b');
    await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, key: b.publicKey, name: 'b' });
    for (let i = 0; i < 5; i++) await settle(w, a.send('b', `after${i}`, { reliable: true }));
    expect(got.map(text)).toEqual([0, 1, 2, 3, 4].map((i) => `before${i}`).concat([0, 1, 2, 3, 4].map((i) => `after${i}`)));
  });

  test('sender restart with the same identity (home): a higher epoch, everything delivered once', async () => {
    const homeA = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-eo-a-'));
    homes.push(homeA);
    let a = await w.node(A, { home: homeA });
    const b = await w.node(B);
    await w.pair(a, b);
    const got = messages(b);
    for (let i = 0; i < 3; i++) await settle(w, a.send('b', `first${i}`, { reliable: true }));
    await a.close();
    w.nodes.splice(w.nodes.indexOf(a), 1);
    a = await w.node(A, { home: homeA });
    expect(a.publicKey).toBe(b.peers()[0]!.key);
    for (let i = 0; i < 3; i++) await settle(w, a.send('b', `second${i}`, { reliable: true }));
    expect(got.map(text)).toEqual(['first0', 'first1', 'first2', 'second0', 'second1', 'second2']);
  });

  test('receiver restart while an ack was lost: the retransmission is acknowledged, the message delivered once', async () => {
    const homeB = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-eo-b-'));
    homes.push(homeB);
    const mute = { on: false, dropped: 0 };
    const a = await w.node(A);
    let b: UdpVaultNode = await w.node(B, { home: homeB }, muting(mute));
    await w.pair(a, b);
    const firstRun = messages(b);
    await settle(w, a.send('b', 'warm-up', { reliable: true }));
    mute.on = true; // every ack from b is lost from now on
    const x = watch(a.send('b', 'x', { reliable: true, timeoutMs: 120_000 }));
    await w.scheduler.advance(1_000);
    expect(firstRun.map(text)).toEqual(['warm-up', 'x']);
    expect(x.state).toBe('pending');
    expect(mute.dropped).toBeGreaterThan(0);
    await b.close(); // clean stop: the delivered record is durable
    w.nodes.splice(w.nodes.indexOf(b), 1);
    mute.on = false;
    b = await w.node(B, { home: homeB }, muting(mute));
    const secondRun = messages(b);
    expect(await w.scheduler.runUntil(() => x.state !== 'pending', 60_000)).toBe(true);
    expect(x.state).toBe('resolved');
    await settle(w, a.send('b', 'y', { reliable: true }));
    expect(secondRun.map(text)).toEqual(['y']); // 'x' was not delivered a second time
  });

  test('receiver-side remove + add while an ack was lost (no home): delivered once', async () => {
    const mute = { on: false, dropped: 0 };
    const a = await w.node(A);
    const b = await w.node(B, {}, muting(mute));
    await w.pair(a, b);
    const got = messages(b);
    await settle(w, a.send('b', 'warm-up', { reliable: true }));
    mute.on = true;
    const x = watch(a.send('b', 'x', { reliable: true, timeoutMs: 120_000 }));
    await w.scheduler.advance(1_000);
    expect(got.map(text)).toEqual(['warm-up', 'x']);
    await b.removePeer('a');
    mute.on = false;
    await b.addPeer({ endpoint: `${A}:${SIM_PORT}`, key: a.publicKey, name: 'a' });
    expect(await w.scheduler.runUntil(() => x.state !== 'pending', 60_000)).toBe(true);
    expect(x.state).toBe('resolved');
    await settle(w, a.send('b', 'y', { reliable: true }));
    expect(got.map(text)).toEqual(['warm-up', 'x', 'y']);
  });

  test('sender-side remove + add: the new link starts a new packet-number space (frame `i`), so its packets are not replays', async () => {
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b);
    const got = messages(b);
    for (let i = 0; i < 3; i++) await settle(w, a.send('b', `before${i}`, { reliable: true }));
    await a.removePeer('b');
    await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, key: b.publicKey, name: 'b' });
    const replays = b.status().counters.drops.replay;
    for (let i = 0; i < 3; i++) await settle(w, a.send('b', `after${i}`, { reliable: true }));
    expect(got.map(text)).toEqual(['before0', 'before1', 'before2', 'after0', 'after1', 'after2']);
    expect(b.status().counters.drops.replay).toBe(replays); // packet numbers 0, 1, … again, in a new space
  });

  test('a 2 MiB message to a peer whose maxMessageBytes is 1 MiB is refused at the sender with ERR_TOO_LARGE naming the peer\'s limit', async () => {
    const big = { maxMessageBytes: 4 * 1024 * 1024, inboxMaxBytes: 8 * 1024 * 1024, subscriberBufferBytes: 8 * 1024 * 1024, reassemblyPeerBytes: 8 * 1024 * 1024 };
    const a = await w.node(A, { settings: big });
    const b = await w.node(B, { settings: { maxMessageBytes: 1024 * 1024 } });
    await w.pair(a, b);
    const got = messages(b);
    await settle(w, a.send('b', 'hello', { reliable: true })); // the first exchange carries b's limit
    await w.scheduler.advance(5_000); // the path MTU search (probes and their acks) is over
    const before = w.net.trace.length;
    for (const reliable of [true, false]) {
      await expect(a.send('b', new Uint8Array(2 * 1024 * 1024), { reliable })).rejects.toMatchObject({
        code: 'ERR_TOO_LARGE',
        message: `message of ${2 * 1024 * 1024} bytes exceeds the maxMessageBytes of peer b (1048576 bytes, announced by the peer); it would be refused there`,
      });
    }
    await w.scheduler.advance(100);
    expect(w.net.trace.length).toBe(before); // nothing went on the wire for them
    await settle(w, a.send('b', new Uint8Array(1024 * 1024), { reliable: true })); // exactly the limit still goes
    expect(got.map((m) => m.data.length)).toEqual([5, 1024 * 1024]);
  });

  test('a send reported failed (frozen receiver) carries ERR_NOT_ACKNOWLEDGED = unknown outcome: the message may still arrive, and does', async () => {
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b);
    const got = messages(b);
    w.net.host(B).freeze();
    const p = watch(a.send('b', 'late', { reliable: true, timeoutMs: 1_000 }));
    expect(await w.scheduler.runUntil(() => p.state !== 'pending', 5_000)).toBe(true);
    expect(p.state).toBe('rejected');
    const err = p.error as { code: string; message: string; mayHaveTakenEffect?: boolean };
    expect(err.code).toBe('ERR_NOT_ACKNOWLEDGED');
    expect(err.message).toMatch(/may still (arrive|be delivered)/);
    expect(got).toEqual([]);
    w.net.host(B).thaw();
    await w.scheduler.advance(1_000);
    expect(got.map(text)).toEqual(['late']); // delivered after the failure: exactly what the code warns about
  });
});
