/*
 * Test-only attacker process for the real-UDP flood test (test/node/attacks-v4.test.ts): forged
 * v4 inits from many 127.x source addresses and junk from one address, at fixed rates, in its own
 * process so that the victim's CPU is its own. Mode 'blind': replies are never read. Mode
 * 'replies': each source takes the cookie replies it receives (XChaCha20-Poly1305 under
 * BLAKE2b-256("cookie--" ‖ responder static), AD = the mac1 it answers) and adds mac2 =
 * BLAKE2b-128(cookie, message before mac2) to its later inits.
 *
 * argv[2]: JSON { port, target?, pool: hex[], responderStaticHex, mode, sources, initsPerSecond,
 * junkPerSecond, junkAddress, firstOctets, countReplies? }. target: the victim's address (default 127.0.0.1).
 * Source i is firstOctets.(1 + i >> 8).(i & 255): 127.77.x.y on loopback, or addresses routed to
 * the attacker's namespace only locally (test/netns/blind-spoof.test.ts). Prints 'ready' once
 * bound; on SIGTERM prints the counts: what it sent, every datagram that reached any of its
 * sockets (repliesSeen: 0 for a truly blind spoofer), its own elapsed and CPU time.
 */
'use strict';
const dgram = require('node:dgram');
const crypto = require('node:crypto');
const sodium = require('libsodium-wrappers');

const o = JSON.parse(process.argv[2]);
const STEP_MS = 10;

async function main() {
  await sodium.ready;
  const label = Buffer.from('cookie--');
  const cookieKey = sodium.crypto_generichash(32, Buffer.concat([label, Buffer.from(o.responderStaticHex, 'hex')]));
  const pool = o.pool.map((h) => Buffer.from(h, 'hex'));
  const target = o.target || '127.0.0.1';
  const counts = { inits: 0, junk: 0, cookiesTaken: 0, withMac2: 0, repliesSeen: 0, sendErrors: 0, elapsedMs: 0, cpuMs: 0 };
  const sources = [];
  for (let i = 0; i < o.sources; i++) {
    const address = `${o.firstOctets}.${1 + (i >> 8)}.${i & 255}`;
    const s = dgram.createSocket('udp4');
    const src = { s, cookie: null, lastMac1: null };
    s.on('error', () => counts.sendErrors++);
    // Blind sources read nothing unless asked to count what reaches them (countReplies).
    if (o.mode === 'replies' || o.countReplies) s.on('message', (d) => {
      counts.repliesSeen++;
      if (o.mode === 'replies') {
        if (d.length !== 61 || d[0] !== 0x47 || !src.lastMac1) return;
        if (!d.subarray(1, 5).equals(src.lastMac1.subarray(0, 4))) return;
        try {
          src.cookie = Buffer.from(sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, d.subarray(29), src.lastMac1, d.subarray(5, 29), cookieKey));
          counts.cookiesTaken++;
        } catch {
          /* not for our last message */
        }
      }
    });
    await new Promise((r) => s.bind(0, address, r));
    sources.push(src);
  }
  const junk = dgram.createSocket('udp4');
  junk.on('error', () => counts.sendErrors++);
  await new Promise((r) => junk.bind(0, o.junkAddress, r));
  const types = [0x41, 0x42, 0x44, 0x46, 0x47, 0x33, 0x43];
  let k = 0;
  const initsPerStep = Math.round((o.initsPerSecond * STEP_MS) / 1000);
  const junkPerStep = Math.round((o.junkPerSecond * STEP_MS) / 1000);
  const started = Date.now();
  const cpu0 = process.cpuUsage();
  let next = started;
  const step = () => {
    for (let i = 0; i < initsPerStep; i++, k++) {
      const src = sources[k % sources.length];
      const m = Buffer.from(pool[k % pool.length]);
      src.lastMac1 = m.subarray(m.length - 32, m.length - 16);
      if (src.cookie) {
        m.set(sodium.crypto_generichash(16, m.subarray(0, m.length - 16), src.cookie), m.length - 16);
        counts.withMac2++;
      }
      src.s.send(m, o.port, target);
      counts.inits++;
    }
    for (let i = 0; i < junkPerStep; i++) {
      const j = crypto.randomBytes(1 + ((i * 37) % 300));
      j[0] = types[i % types.length];
      junk.send(j, o.port, target);
      counts.junk++;
    }
    next += STEP_MS;
    setTimeout(step, Math.max(0, next - Date.now()));
  };
  process.on('SIGTERM', () => {
    const cpu = process.cpuUsage(cpu0);
    counts.elapsedMs = Date.now() - started;
    counts.cpuMs = Math.round((cpu.user + cpu.system) / 1000);
    process.stdout.write(JSON.stringify(counts) + '\n', () => process.exit(0));
  });
  process.stdout.write('ready\n');
  step();
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e) + '\n');
  process.exit(1);
});
