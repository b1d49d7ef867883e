/**
 * The cost of unreachable peers (issue 9, liveness): one node on the simulated network with N
 * peers that never answer (no host at their addresses). After every peer is reported
 * unreachable, the retries go on, backing off to the cap; this measures the process CPU per
 * second of simulated time in that steady state, and the handshakes sent per second.
 *
 *   npm run build && node dist/bench/unreachable.js [peers=10000] [seconds=120]
 */
import { createNode } from '../src/node/node';
import { ManualClock } from '../src/runtime/clock';
import { ManualScheduler } from '../src/runtime/scheduler';
import { SeededRandom } from '../src/runtime/random';
import { SimNetwork } from '../src/net/sim';
import { identityFromSeed } from '../src/crypto/identity';
import { sodiumReady } from '../src/crypto/sodium';

const INIT_BYTES = 173;

async function main(): Promise<void> {
  const peers = Number(process.argv[2] ?? 10_000);
  const seconds = Number(process.argv[3] ?? 120);
  await sodiumReady();
  const clock = new ManualClock();
  const scheduler = new ManualScheduler(clock);
  const random = new SeededRandom(1);
  const net = new SimNetwork({ scheduler, random: random.fork(), trace: false });
  const node = await createNode({
    port: 11000,
    host: '10.0.0.1',
    settings: { mtu: 1500, logLevel: 'silent' },
    runtime: { clock, scheduler, random: random.fork(), openTransport: net.host('10.0.0.1').openTransport },
  });
  const seed = new Uint8Array(32);
  for (let i = 0; i < peers; i++) {
    new DataView(seed.buffer).setUint32(0, i + 1);
    const key = identityFromSeed(seed).keyString;
    await node.addPeer({ endpoint: `10.1.${(i >> 8) & 0xff}.${i & 0xff}:11000`, key, name: `p${i}` });
  }
  await scheduler.advance(60_000); // every peer past the handshake timeout: unreachable
  const unreachable = node.peers().filter((p) => p.state === 'unreachable').length;
  const sentBefore = net.stats().noListener;
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  await scheduler.advance(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - wall0;
  const sent = net.stats().noListener;
  const inits = (sent.count - sentBefore.count) / seconds;
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const stillUnreachable = node.peers().filter((p) => p.state === 'unreachable').length;
  console.log(
    JSON.stringify({
      peers,
      unreachable,
      stillUnreachable,
      simulatedSeconds: seconds,
      cpuMsPerSimulatedSecond: Math.round(cpuMs / seconds),
      cpuShareOfOneCore: Number((cpuMs / seconds / 1000).toFixed(3)),
      handshakesPerSecond: Math.round(inits),
      bytesPerSecond: Math.round((sent.bytes - sentBefore.bytes) / seconds),
      initBytes: INIT_BYTES,
      wallMs: Math.round(wallMs),
    }),
  );
  await node.close();
  await scheduler.drain();
}

void main();
