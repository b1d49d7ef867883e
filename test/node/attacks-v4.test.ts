/**
 * The issue's flood floor against real node processes over real UDP on loopback: junk from the
 * legitimate peer's IP (127.0.0.1) together with forged inits from 1,000 addresses 127.77.x.y,
 * sent by a separate process (test/helpers/v4-flooder.cjs), for both attacker models: sources
 * that never read the replies, and sources that take every cookie and prove it. The victim and
 * the legitimate peer are node processes of their own (test/helpers/flood-bed.ts, at nice −5
 * when run as root: see flood-scenario.ts): a first handshake completes within 1 s, ≥ 99% of
 * reliable messages are acknowledged, and the victim's RSS (sampled from /proc/PID/status during
 * the flood) stays under its configured byte bounds + 50 MB.
 *
 * `npm test` runs a quarter of the issue's rates (5k/s junk, 2.5k/s forged inits, still from
 * 1,000 addresses); `npm run test:flood` (UDPVAULT_FLOOD_FULL=1) runs the full 20k/s + 10k/s with
 * the same assertions. Each run prints the figures: the flooder's achieved rates and CPU, the
 * victim's CPU, its socket's kernel drops and the load average, so a miss says whether the
 * daemon or the machine was short. The last test measures what each kind of flood datagram
 * costs in the node against one refused init (a DH).
 */
import * as dgram from 'node:dgram';
import { describeResult, FULL_RATES, REDUCED_RATES, RSS_FLOOR_BYTES, runFloodScenario } from '../helpers/flood-scenario';
import { startNode, waitFor } from '../helpers/nodes';
import { forgeIkInit } from '../helpers/v4-forge';
import { CookieGenerator } from '../../src/crypto/cookie';
import { decodeKey, identityFromSeed } from '../../src/crypto/identity';
import { x25519FromIdentityKey } from '../../src/crypto/noise/common';
import * as sodium from '../../src/crypto/sodium';
import { systemClock } from '../../src/runtime/clock';
import { SeededRandom } from '../../src/runtime/random';
import type { Datagram } from '../../src/net/transport';

const FULL = process.env['UDPVAULT_FLOOD_FULL'] === '1';

describe.each([['blind' as const], ['replies' as const]])("real UDP: junk from the peer's IP + forged inits from 1,000 127.x addresses (%s)", (mode) => {
  test('a legitimate first handshake completes within 1 s, ≥ 99% of reliable messages are acknowledged, RSS stays under the byte bounds + 50 MB', async () => {
    const r = await runFloodScenario({ mode, rates: FULL ? FULL_RATES : REDUCED_RATES, victimHost: '127.0.0.1', peerHost: '127.0.0.1', firstOctets: '127.77' });
    process.stdout.write(`${describeResult(`real UDP (${mode}, ${FULL ? 'full rates' : 'a quarter of the rates'})`, r)}\n`);
    // The flood reached the victim: the junk and the forged inits were counted as drops or answered.
    expect((r.drops['malformed'] ?? 0) + (r.drops['unknownVersion'] ?? 0) + (r.drops['unknownSession'] ?? 0)).toBeGreaterThan(r.flooder.junk / 2);
    if (mode === 'replies') expect(r.flooder.withMac2).toBeGreaterThan(r.flooder.inits / 2);
    expect(r.handshakeMs).toBeLessThanOrEqual(1_000);
    expect(r.acked / r.sent).toBeGreaterThanOrEqual(0.99);
    expect(r.rssPeak).toBeLessThan(RSS_FLOOR_BYTES);
    expect(r.keysOk).toBe(true);
  }, 120_000);
});

/** Best of `rounds` × n calls, in µs per call. */
function micros(n: number, rounds: number, f: (i: number) => void): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f(r * n + i);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1000 / n);
  }
  return best;
}

describe('the cost of each kind of flood datagram, in the node (the receive path after the socket)', () => {
  beforeAll(sodium.sodiumReady);

  test('junk, a forged init over its cookie budget and a cookie-proven init over its share cost a small fraction of one refused init (a DH); a cookie reply less than half', async () => {
    const b = await startNode({ settings: { handshakesPerSecond: 400, handshakeBurst: 100 } });
    // no limit keeps an init from its DH here: the reference cost
    const r = await startNode({ settings: { handshakesPerSecond: 1_000_000, handshakeBurst: 10_000_000, handshakesPerSecondPerIp: 100_000, handshakeBurstPerIp: 1_000_000 } });
    const feed = (d: Datagram, to = b): void => (to as unknown as { onDatagram(data: Buffer, address: string, port: number): void }).onDatagram(d.data, d.address, d.port);
    const sock = dgram.createSocket('udp4');
    try {
      await b.addPeer({ endpoint: '127.0.0.1:9', key: identityFromSeed(new Uint8Array(32).fill(1)).keyString, name: 'p' });
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
      const mallory = identityFromSeed(new Uint8Array(32).fill(0x6d));
      const random = new SeededRandom(3);
      const bStatic = x25519FromIdentityKey(decodeKey(b.publicKey))!;
      const gen = new CookieGenerator({ receiverStatic: bStatic, clock: systemClock });
      const forge = (g?: CookieGenerator, to = b): Buffer => Buffer.from(forgeIkInit({ claimed: mallory.publicKey, secretOf: mallory, responderKey: decodeKey(to.publicKey), sid: 7, random, wallMs: Date.now(), ...(g ? { gen: g } : {}) }));
      const init = forge();
      const initR = forge(undefined, r);
      const junk = Array.from({ length: 1024 }, (_, i) => {
        const j = Buffer.from(random.bytes(1 + ((i * 37) % 300)));
        j[0] = [0x41, 0x42, 0x44, 0x46, 0x47, 0x33, 0x43][i % 7]!;
        return j;
      });
      const N = 4000;
      // Every X25519 of the process from here on is counted: the exact DH count per kind of
      // datagram is the property; the µs below are its shadow on this machine.
      const dh = jest.spyOn(sodium, 'x25519');
      const dhSince = (() => {
        let mark = 0;
        return (): number => {
          const n = dh.mock.calls.length - mark;
          mark = dh.mock.calls.length;
          return n;
        };
      })();
      // 1 a refused init (unknown key): mac1, admission, one DH, the lookup — each from a fresh source, under budget
      const refusal = micros(200, 3, (i) => feed({ data: Buffer.from(initR), address: `10.1.${i >> 8}.${i & 255}`, port: 4000 }, r));
      expect(r.status().counters.drops).toEqual({ unknownPeer: 600 }); // each one reached its DH
      expect(dhSince()).toBe(600); // exactly one DH (es) per refused init
      // now the node is under load (demand over half the budget): every init needs a cookie
      for (let i = 0; i < 2000; i++) feed({ data: Buffer.from(init), address: `10.2.${i >> 8}.${i & 255}`, port: 4000 });
      dhSince();
      // 2 junk from a peer's IP
      const junkUs = micros(N, 5, (i) => feed({ data: junk[i & 1023]!, address: '127.0.0.1', port: 5000 }));
      expect(dhSince()).toBe(0);
      // 3 a forged init answered with a cookie reply (fresh sources: within their cookie budget)
      const sentBefore = b.status().counters.packetsOut;
      const cookieUs = micros(N, 5, (i) => feed({ data: init, address: `10.${3 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, port: 4000 }));
      const replies = b.status().counters.packetsOut - sentBefore;
      expect(dhSince()).toBe(0);
      // 4 a forged init over its source's cookie budget: dropped
      const quietUs = micros(N, 5, () => feed({ data: init, address: '10.9.9.9', port: 4000 }));
      expect(dhSince()).toBe(0);
      // 5 an init proving a cookie, over its source's share: dropped after mac1, mac2 and admission
      let cookie: Buffer | null = null;
      sock.once('message', (m) => (cookie = m));
      for (let i = 0; i < 300; i++) feed({ data: init, address: `10.8.${i >> 8}.${i & 255}`, port: 4000 }); // under load again, whatever the scheduler did
      feed({ data: forge(gen), address: '127.0.0.1', port: sock.address().port });
      await waitFor(() => cookie !== null, 10_000, 'the cookie reply');
      expect(gen.consumeReply(cookie!)).toBe(true);
      const proven = forge(gen);
      dhSince();
      const refusedBefore = b.status().counters.drops['unknownPeer'] ?? 0;
      const provenUs = micros(N, 5, () => feed({ data: proven, address: '127.0.0.1', port: sock.address().port }));
      // The source's share refills while the rounds run (more of it on a slow, loaded machine):
      // the few inits it admits each cost their DH and are refused (unknown key); every other one
      // is dropped before any DH.
      const admitted = (b.status().counters.drops['unknownPeer'] ?? 0) - refusedBefore;
      expect(dhSince()).toBe(admitted);
      expect(admitted).toBeLessThan((5 * N) / 100);
      dh.mockRestore();
      process.stdout.write(
        `cost per datagram in the node: refused init (DH) ${refusal.toFixed(1)} µs; junk ${junkUs.toFixed(2)} µs; forged init → cookie reply ${cookieUs.toFixed(2)} µs ` +
          `(${replies} replies); forged init over its cookie budget ${quietUs.toFixed(2)} µs; cookie-proven init over its share ${provenUs.toFixed(2)} µs\n`,
      );
      expect(replies).toBeGreaterThanOrEqual(3 * N);
      // No DH on any of these paths (counted exactly above). Their time: the jest build runs the
      // JS several times slower than dist, and a loaded machine stretches the 600 refusals
      // (best of 3 × 200) differently from the 4,000-call rounds, so the bounds here are loose;
      // quiet-machine figures in dist are in the closing notes.
      expect(junkUs).toBeLessThan(refusal / 2);
      expect(quietUs).toBeLessThan(refusal / 2);
      expect(provenUs).toBeLessThan(refusal / 2);
      expect(cookieUs).toBeLessThan(refusal);
    } finally {
      sock.close();
      await b.close();
      await r.close();
    }
  }, 120_000);
});
