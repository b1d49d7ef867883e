/**
 * The flood floor against real nodes over real UDP: 20k/s junk from the legitimate
 * peer's IP (127.0.0.1) together with 10k/s forged inits from 1,000 addresses 127.77.x.y, sent
 * by a separate process (test/helpers/v4-flooder.cjs), for both attacker models: sources that
 * never use the replies, and sources that take every cookie and prove it. A legitimate first
 * handshake completes within 1 s and ≥ 99% of reliable messages are acknowledged.
 *
 * The full rates are a CPU property of the machine: on a shared 2-core machine under load the
 * victim's event loop cannot read 30k datagrams/s, and the kernel drops a share of the
 * legitimate handshake too (its retry comes 1.5 s later). By default the test runs at a tenth of
 * the rates (2k/s junk, 1k/s forged inits, still from 1,000 addresses) and asserts that
 * the handshake completes within 10 s; UDPVAULT_FLOOD_FULL=1 runs the full rates, and
 * UDPVAULT_FLOOD_FLOOR=1 asserts the 1 s floor (a quiet machine). It always prints the figures.
 * The simulator test (test/sim/handshake-v4-floods.test.ts) asserts the 1 s floor for the
 * protocol logic at the full rates, independent of CPU.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { startNode, waitFor } from '../helpers/nodes';
import { decodeKey, identityFromSeed } from '../../src/crypto/identity';
import { sodiumReady } from '../../src/crypto/sodium';
import { x25519FromIdentityKey } from '../../src/crypto/noise/common';
import { SeededRandom } from '../../src/runtime/random';
import type { UdpVaultNode } from '../../src/node/types';
import { forgeIkInit } from '../helpers/v4-forge';

const FLOODER = path.join(__dirname, '..', 'helpers', 'v4-flooder.cjs');
const FULL = process.env.UDPVAULT_FLOOD_FULL === '1';
const ASSERT_FLOOR = process.env.UDPVAULT_FLOOD_FLOOR === '1';

async function startFlooder(b: UdpVaultNode, claimed: string, mode: 'blind' | 'replies'): Promise<{ child: ChildProcess; stop(): Promise<Record<string, number>> }> {
  const random = new SeededRandom(21);
  const mallory = identityFromSeed(new Uint8Array(32).fill(0x6d));
  const pool = Array.from({ length: 40 }, (_, i) =>
    Buffer.from(forgeIkInit({ claimed: i % 2 ? decodeKey(claimed) : mallory.publicKey, secretOf: mallory, responderKey: decodeKey(b.publicKey), sid: i + 1, random, wallMs: Date.now() + i })).toString('hex'),
  );
  const args = {
    port: b.port, pool, responderStaticHex: Buffer.from(x25519FromIdentityKey(decodeKey(b.publicKey))!).toString('hex'), mode,
    sources: 1000, initsPerSecond: FULL ? 10_000 : 1_000, junkPerSecond: FULL ? 20_000 : 2_000, junkAddress: '127.0.0.1', firstOctets: '127.77',
  };
  const child = spawn(process.execPath, [FLOODER, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await waitFor(() => out.includes('ready') || child.exitCode !== null, 30_000, 'flooder ready');
  if (!out.includes('ready')) throw new Error(`flooder failed: ${err}`);
  return {
    child,
    stop: async () => {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await exited;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      return line ? (JSON.parse(line) as Record<string, number>) : {};
    },
  };
}

describe.each([['blind' as const], ['replies' as const]])('real UDP: junk from the peer\'s IP + forged inits from 1,000 127.x addresses (%s)', (mode) => {
  beforeAll(sodiumReady);

  test('a legitimate first handshake completes (≤ 1 s with UDPVAULT_FLOOD_FLOOR=1, else ≤ 10 s), ≥ 99% of reliable messages are acknowledged, only the real keys are recorded', async () => {
    const a = await startNode();
    // The global verification budget is set to what this machine's wasm DH affords (~0.4 ms each:
    // 400/s ≈ 16% of a core); at the 2,000/s default, admitted forged inits alone fill a core here.
    const b = await startNode({ settings: { handshakesPerSecond: 400, handshakeBurst: 100 } });
    let flood: Awaited<ReturnType<typeof startFlooder>> | null = null;
    try {
      await b.addPeer({ endpoint: `127.0.0.1:${a.port}`, key: a.publicKey, name: 'a' });
      await new Promise((r) => setTimeout(r, 200));
      flood = await startFlooder(b, a.publicKey, mode);
      await new Promise((r) => setTimeout(r, 1_000)); // the flood is in full swing
      const t0 = Date.now();
      await a.addPeer({ endpoint: `127.0.0.1:${b.port}`, key: b.publicKey, name: 'b' });
      await waitFor(() => a.peers()[0]?.state === 'established' && b.peers()[0]?.state === 'established', 10_000, 'established');
      const handshakeMs = Date.now() - t0;
      const n = 200;
      let acked = 0;
      const sends = Array.from({ length: n }, (_, i) => a.send('b', `r${i}`, { reliable: true, timeoutMs: 10_000 }).then(() => void acked++, () => undefined));
      await Promise.all(sends);
      const counts = await flood.stop();
      flood = null;
      const d = b.status().counters.drops as Record<string, number>;
      process.stdout.write(`real UDP (${mode}, ${FULL ? 'full rates' : 'a tenth of the rates'}): handshake ${handshakeMs} ms, ${acked}/${n} reliable acknowledged; flooder ${JSON.stringify(counts)}; b drops ${JSON.stringify(d)}\n`);
      expect(handshakeMs).toBeLessThanOrEqual(ASSERT_FLOOR ? 1_000 : 10_000);
      expect(acked / n).toBeGreaterThanOrEqual(0.99);
      expect(a.peers()[0]!.key).toBe(b.publicKey);
      expect(b.peers()[0]!.key).toBe(a.publicKey);
    } finally {
      if (flood) await flood.stop();
      await a.close();
      await b.close();
    }
  }, 120_000);
});
