/**
 * Floods and crowds on the simulated network, with exact counters (the manual clock does not
 * move during a flood, so every limit is hit exactly).
 */
import { SimWorld, SIM_PORT, established, messages, text } from './harness';
import { decodeKey, identityFromSeed } from '../../src/crypto/identity';
import { SeededRandom } from '../../src/runtime/random';
import { forgeIkInit, COOKIE_REPLY_BYTES } from '../helpers/v4-forge';
import type { UdpVaultNode } from '../../src/node/types';

const A = '127.0.0.2';
const B = '127.0.0.3';
const MALLORY = '127.0.0.66';

describe('floods and crowds', () => {
  let w: SimWorld;
  beforeEach(() => {
    w = new SimWorld(99);
    w.net.setDefaultLink({ latencyMs: 5 });
  });
  afterEach(async () => {
    await w.closeAll();
    expect(w.scheduler.errors).toEqual([]);
  });

  test('a flood of forged inits and garbage: only the burst reaches a Diffie-Hellman, the rest get cookies or are refused; the peers keep talking', async () => {
    const burst = 20;
    const a = await w.node(A);
    const b = await w.node(B, { settings: { handshakesPerSecondPerIp: 1, handshakeBurstPerIp: burst } });
    await w.pair(a, b);
    const before = { ...b.status().counters.drops };
    const mallory = identityFromSeed(new Uint8Array(32).fill(66));
    const raw = await w.net.host(MALLORY).openTransport({ host: MALLORY, port: 5000, onMessage: () => undefined, onError: () => undefined });
    const traceBefore = w.net.trace.length;
    const random = new SeededRandom(7);
    const n = 1000;
    for (let i = 0; i < n; i++) {
      // claims to be a (valid mac1: a's key is public), keyed with another secret: fails the AEAD after one DH
      const forged = forgeIkInit({ claimed: decodeKey(a.publicKey), secretOf: mallory, responderKey: decodeKey(b.publicKey), sid: i + 1, random, wallMs: w.clock.now() + i, clock: w.clock });
      raw.send(forged, SIM_PORT, B, 4);
      raw.send(new Uint8Array([0x43, 1, 2, 3]), SIM_PORT, B, 4); // too short for data
      raw.send(new Uint8Array([0x77, 0]), SIM_PORT, B, 4); // another protocol version
    }
    const atB = messages(b);
    const sent = a.send('b', 'through the flood');
    await w.scheduler.advance(20);
    await sent;
    expect(atB.map(text)).toEqual(['through the flood']);
    const d = b.status().counters.drops;
    const grew = (r: string): number => ((d as Record<string, number>)[r] ?? 0) - ((before as Record<string, number>)[r] ?? 0);
    const cookies = w.net.trace.slice(traceBefore).filter((e) => e.size === COOKIE_REPLY_BYTES).length;
    expect(grew('authFailure')).toBeGreaterThan(0);
    expect(grew('authFailure')).toBeLessThanOrEqual(burst + 1); // the burst and the newcomer token: the only DH spent
    expect(grew('authFailure') + grew('rateLimited') + cookies).toBe(n);
    expect(cookies).toBe(0); // under load, a source that spent its share gets neither work nor cookie replies (no reflection)
    expect([grew('malformed'), grew('unknownVersion')]).toEqual([n, n]);
    const peerA = b.peers().find((p) => p.name === 'a')!;
    expect(peerA.counters.drops.authFailure).toBe(grew('authFailure')); // a forged init names a: counted on it too
    expect(peerA.state).toBe('established');
    await raw.close();
  });

  test('50 nodes in one process all reach each other and deliver every message', async () => {
    const n = 50;
    const all: UdpVaultNode[] = [];
    const addr = (i: number): string => `127.0.1.${i + 1}`;
    for (let i = 0; i < n; i++) all.push(await w.node(addr(i), { settings: { handshakeBurstPerIp: 500, handshakesPerSecondPerIp: 500 } }));
    const got = all.map((x) => messages(x));
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) if (i !== j) await all[i]!.addPeer({ endpoint: `${addr(j)}:${SIM_PORT}`, key: all[j]!.publicKey, name: `n${j}` });
    }
    const allUp = (): boolean => all.every((x, i) => all.every((_, j) => i === j || established(x, `n${j}`)));
    expect(await w.scheduler.runUntil(allUp, 30_000)).toBe(true);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j) void all[i]!.send(`n${j}`, `from n${i}`);
    await w.scheduler.advance(100);
    for (let j = 0; j < n; j++) {
      expect(got[j]!.map(text).sort()).toEqual(all.map((_, i) => `from n${i}`).filter((s) => s !== `from n${j}`).sort());
    }
  }, 60_000);
});
