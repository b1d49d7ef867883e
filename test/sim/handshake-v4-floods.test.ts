/**
 * The floor on the simulated network: 20k/s junk from the legitimate peer's own IP
 * together with 10k/s forged inits from 1,000 addresses, for both attacker models — blind
 * spoofers (replies go nowhere: they never hold a cookie) and sources that receive replies (they
 * take every cookie and prove it). A legitimate first handshake completes within 1 s and ≥ 99% of
 * reliable messages are acknowledged. Simulated time: the figures are protocol behaviour
 * (admission, cookies, fair share), not CPU time (the real-UDP test in test/node shows that).
 */
import { SimWorld, SIM_PORT, established } from './harness';
import { CookieGenerator } from '../../src/crypto/cookie';
import { x25519FromIdentityKey } from '../../src/crypto/noise/common';
import { decodeKey, identityFromSeed } from '../../src/crypto/identity';
import { SeededRandom } from '../../src/runtime/random';
import type { UdpVaultNode } from '../../src/node/types';
import { forgeIkInit } from '../helpers/v4-forge';

const A = '127.0.0.2';
const B = '127.0.0.3';
const SOURCES = 1000;
const STEP_MS = 10;
const INITS_PER_STEP = 100; // 10k/s
const JUNK_PER_STEP = 200; // 20k/s

interface Flood {
  stop(): void;
  counts: { inits: number; junk: number; cookiesTaken: number };
}

/** Starts the flood: junk from A's IP (another port), forged inits from SOURCES addresses. */
async function startFlood(w: SimWorld, b: UdpVaultNode, claimed: string, receivesReplies: boolean): Promise<Flood> {
  const random = new SeededRandom(11);
  const mallory = identityFromSeed(new Uint8Array(32).fill(0x6d));
  const bStatic = x25519FromIdentityKey(decodeKey(b.publicKey))!;
  // A pool of forged inits: half claim the legitimate peer's key (cost a DH, then fail the AEAD), half an unknown key.
  const pool = Array.from({ length: 40 }, (_, i) =>
    forgeIkInit({ claimed: i % 2 ? decodeKey(claimed) : mallory.publicKey, secretOf: mallory, responderKey: decodeKey(b.publicKey), sid: i + 1, random, wallMs: w.clock.now() + i, clock: w.clock }),
  );
  const counts = { inits: 0, junk: 0, cookiesTaken: 0 };
  const senders: Array<{ t: Awaited<ReturnType<ReturnType<typeof w.net.host>['openTransport']>>; gen: CookieGenerator }> = [];
  for (let i = 0; i < SOURCES; i++) {
    const address = `10.66.${i >> 8}.${i & 255}`;
    const gen = new CookieGenerator({ receiverStatic: bStatic, clock: w.clock });
    const t = await w.net.host(address).openTransport({
      host: address, port: 5000, onError: () => undefined,
      // a reply-receiving attacker takes the cookie and proves it from then on; a blind one never reads
      onMessage: (data) => void (receivesReplies && data[0] === 0x47 && gen.consumeReply(data) && counts.cookiesTaken++),
    });
    senders.push({ t, gen });
  }
  const junkSrc = await w.net.host(A).openTransport({ host: A, port: 6000, onMessage: () => undefined, onError: () => undefined });
  let k = 0;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    for (let i = 0; i < INITS_PER_STEP; i++, k++) {
      const s = senders[k % SOURCES]!;
      const m = Buffer.from(pool[k % pool.length]!);
      if (receivesReplies) s.gen.addMacs(m); // mac2 once it holds a cookie; remembers mac1 for the reply
      s.t.send(m, SIM_PORT, B, 4);
      counts.inits++;
    }
    for (let i = 0; i < JUNK_PER_STEP; i++) {
      const j = random.bytes(1 + random.int(0, 300));
      j[0] = [0x41, 0x42, 0x44, 0x46, 0x47, 0x33, 0x43][i % 7]!; // handshake types with a bad mac1, short data, cookie replies nobody asked for
      junkSrc.send(j, SIM_PORT, B, 4);
      counts.junk++;
    }
    w.scheduler.timeout(tick, STEP_MS);
  };
  tick();
  return {
    counts,
    stop: () => {
      stopped = true;
      for (const s of senders) void s.t.close();
      void junkSrc.close();
    },
  };
}

describe.each([
  ['blind spoofers (replies go nowhere)', false],
  ['sources that receive replies and prove their cookies', true],
])('20k/s junk from the peer\'s IP + 10k/s forged inits from 1,000 addresses: %s', (_name, receivesReplies) => {
  test('the first handshake completes within 1 s and ≥ 99% of reliable messages are acknowledged', async () => {
    const w = new SimWorld(77);
    w.net.setDefaultLink({ latencyMs: 10 });
    try {
      const a = await w.node(A);
      const b = await w.node(B);
      await b.addPeer({ endpoint: `${A}:${SIM_PORT}`, key: a.publicKey, name: 'a' });
      await w.scheduler.advance(2_000);
      const flood = await startFlood(w, b, a.publicKey, receivesReplies);
      await w.scheduler.advance(1_000); // the flood is in full swing: b is under load
      const t0 = w.clock.monotonic();
      await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, key: b.publicKey, name: 'b' });
      expect(await w.scheduler.runUntil(() => established(a, 'b') && established(b, 'a'), 1_000)).toBe(true);
      const handshakeMs = w.clock.monotonic() - t0;
      const n = 200;
      let acked = 0;
      const sends = Array.from({ length: n }, (_, i) => a.send('b', `r${i}`, { reliable: true, timeoutMs: 10_000 }).then(() => void acked++, () => undefined));
      await w.scheduler.advance(3_000);
      flood.stop();
      await Promise.all(sends);
      const d = b.status().counters.drops as Record<string, number>;
      process.stdout.write(
        `${_name}: handshake ${handshakeMs} ms, ${acked}/${n} reliable acknowledged; sent ${flood.counts.inits} inits, ${flood.counts.junk} junk; cookies taken ${flood.counts.cookiesTaken}; b drops ${JSON.stringify(d)}\n`,
      );
      expect(handshakeMs).toBeLessThanOrEqual(1_000);
      expect(acked / n).toBeGreaterThanOrEqual(0.99);
      expect(a.peers()[0]!.key).toBe(b.publicKey);
    } finally {
      await w.closeAll();
    }
  }, 300_000);
});
