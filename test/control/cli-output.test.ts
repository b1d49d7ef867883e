/**
 * CLI output in-process against a control server on a fake node: the JSON schemas of status
 * and peer list, the human forms in 100 columns, and the documentation of drop reasons.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DROP_REASONS } from '../../src/errors';
import { DROP_HELP } from '../../src/cli/format-status';
import { fingerprint } from '../../src/crypto/fingerprint';
import { packageVersion } from '../../src/control/version';
import type { PeerInfo } from '../../src/node/types';
import { KEY_A, KEY_B, OWN_KEY } from './fake-node';
import { startHarness, type Harness } from './helpers';
import { runCli, startCli, until } from './cli-run';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.cleanup();
});

const zeroDrops = Object.fromEntries(DROP_REASONS.map((r) => [r, 0]));

function addPeer(p: Partial<PeerInfo>): PeerInfo {
  const peer: PeerInfo = {
    key: null,
    name: null,
    endpoint: '127.0.0.1:1',
    compat: null,
    allowPlaintext: false,
    trust: 'unknown',
    state: 'new',
    lastHandshake: null,
    rttMs: null,
    counters: { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0, drops: {} },
    ...p,
  };
  h.node.peerList.push(peer);
  return peer;
}

describe('--json', () => {
  test('status: every drop reason present (0 when none), fingerprint, subscribers apart from connections', async () => {
    h.node.nodeCounters = { packetsIn: 5, packetsOut: 6, bytesIn: 700, bytesOut: 800, messagesIn: 1, messagesOut: 2, drops: { replay: 3 } };
    const r = await runCli(['status', '--json', '--home', h.dir]);
    expect(r.code).toBe(0);
    const st = JSON.parse(r.out) as Record<string, unknown>;
    expect(st).toEqual({
      publicKey: OWN_KEY,
      port: 11999,
      host: '127.0.0.1',
      maxDatagramBytes: 1472,
      mtu: 1500,
      peers: 0,
      counters: { packetsIn: 5, packetsOut: 6, bytesIn: 700, bytesOut: 800, messagesIn: 1, messagesOut: 2, clockSkew: 0, drops: { ...zeroDrops, replay: 3 } },
      startedAt: '1970-01-01T00:00:00.000Z',
      fingerprint: fingerprint(OWN_KEY),
      home: h.dir,
      version: packageVersion(),
      subscribers: 0,
      connections: 1,
      daemon: null,
    });
    expect(Object.keys((st.counters as { drops: object }).drops)).toEqual([...DROP_REASONS]);
  });

  test('peer list: rttMs rounded to 0.1 ms, fingerprints, every drop reason', async () => {
    addPeer({ key: KEY_A, name: 'alice', trust: 'pinned', state: 'established', rttMs: 0.4567, counters: { packetsIn: 1, packetsOut: 1, bytesIn: 1, bytesOut: 1, messagesIn: 1, messagesOut: 1, drops: { stale: 1 } } });
    addPeer({ endpoint: '127.0.0.2:5', rttMs: 12.349999 });
    const r = await runCli(['peer', 'list', '--json', '--home', h.dir]);
    const peers = JSON.parse(r.out) as Record<string, unknown>[];
    expect(peers.map((p) => [p.rttMs, p.fingerprint])).toEqual([
      [0.5, fingerprint(KEY_A)],
      [12.3, null],
    ]);
    expect((peers[0]!.counters as { drops: object }).drops).toEqual({ ...zeroDrops, stale: 1 });
  });
});

describe('human output', () => {
  test('peer list: a table in 100 columns with units and short fingerprints; --verbose shows everything', async () => {
    const fa = fingerprint(KEY_A).slice(0, 9);
    addPeer({ key: KEY_A, name: 'alice', endpoint: '127.0.0.1:11002', trust: 'pinned', state: 'established', rttMs: 0.42, counters: { packetsIn: 9, packetsOut: 8, bytesIn: 13_567_834, bytesOut: 2048, messagesIn: 3, messagesOut: 2, drops: { replay: 2, stale: 1 } } });
    addPeer({ key: KEY_B, name: 'bob', endpoint: '192.0.2.7:11000', trust: 'tofu', state: 'handshaking' });
    addPeer({ endpoint: '192.0.2.20:11000', compat: 'vault-v2' });
    const r = await runCli(['peer', 'list', '--home', h.dir]);
    expect(r.code).toBe(0);
    const fb = fingerprint(KEY_B).slice(0, 9);
    expect(r.out).toBe(
      [
        'NAME   KEY         ENDPOINT               STATE        HANDSHAKE  RTT     IN        OUT      DROPS',
        `alice  ${fa}   127.0.0.1:11002        established  never      0.4 ms  12.9 MiB  2.0 KiB  3`,
        `bob    ${fb}*  192.0.2.7:11000        handshaking  never      -       0 B       0 B      0`,
        '-      (none yet)  192.0.2.20:11000 (v2)  new          never      -       0 B       0 B      0',
        '',
        '* key recorded on first use (TOFU), not given with --key',
        '(none yet): no --key given; the first key this peer presents is recorded',
        '(v2): spoken to in py-vault-udp protocol v2',
        'KEY is the start of the key fingerprint; --verbose shows full keys, raw counters and drop reasons',
        '',
      ].join('\n'),
    );
    // Long names and endpoints are clipped so that every line still fits 100 columns.
    addPeer({ key: null, name: 'a-rather-long-peer-name-that-goes-on-and-on', endpoint: 'a-very-long-host-name.in.some.example.org:11000' });
    const long = await runCli(['peer', 'list', '--home', h.dir]);
    for (const l of long.out.split('\n')) expect(l.length).toBeLessThanOrEqual(100);
    expect(long.out).toMatch(/\na-rathe… +\(none yet\) +a-very-long-\S*… +new/);
    expect(long.out).toMatch(/\nalice +\S+ +127\.0\.0\.1:11002 +established/); // the outlier is clipped, not every row

    const v = await runCli(['peer', 'list', '--verbose', '--home', h.dir]);
    for (const l of v.out.split('\n')) expect(l.length).toBeLessThanOrEqual(100);
    expect(v.out).toContain(`  key          ${KEY_A}\n  fingerprint  ${fingerprint(KEY_A)}\n  trust        pinned\n`);
    expect(v.out).toContain('  in           3 messages, 9 packets, 13567834 bytes (12.9 MiB)\n');
    for (const reason of DROP_REASONS) expect(v.out).toMatch(new RegExp(`\\b${reason} ${reason === 'replay' ? 2 : reason === 'stale' ? 1 : 0}\\b`));
  });

  test('status: units, drops explained (unknownPeer included), subscribers apart from connections; --verbose raw', async () => {
    h.node.nodeCounters = { packetsIn: 12, packetsOut: 10, bytesIn: 1536, bytesOut: 3 * 1024 * 1024, messagesIn: 3, messagesOut: 4, drops: { unknownPeer: 1 } };
    addPeer({ key: KEY_A, name: 'alice', state: 'established' });
    addPeer({ key: KEY_B, state: 'handshaking' });
    const sub = startCli(['subscribe', '--home', h.dir]);
    await until(() => sub.err().includes('receiving messages'), 'subscribe');
    const r = await runCli(['status', '--home', h.dir]);
    const lines = r.out.trimEnd().split('\n');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(100);
    expect(lines).toEqual([
      `udpvault ${packageVersion()}: daemon running (home ${h.dir})`,
      `  public key   ${OWN_KEY}`,
      `  fingerprint  ${fingerprint(OWN_KEY)}`,
      '  listening    127.0.0.1:11999 (udp)',
      '  MTU          1500; largest datagram 1472 B',
      expect.stringMatching(/^ {2}up {11}\d+ days \(since 1970-01-01T00:00:00\.000Z\)$/),
      '  peers        2 (1 established)',
      '  subscribers  1',
      '  in           3 messages, 1.5 KiB',
      '  out          4 messages, 3.0 MiB',
      '  drops        1 in total',
      '               unknownPeer 1: a handshake from an identity that is not a peer (yet)',
      '               unknownPeer is normal while two daemons add each other: the first handshake',
      '               arrives before the other side has added this peer; it is answered or retried.',
    ]);
    const v = await runCli(['status', '--verbose', '--home', h.dir]);
    expect(v.out).toContain('  control      2 connections (this status request included)\n');
    expect(v.out).toContain('  in           3 messages, 12 packets, 1536 bytes (1.5 KiB)\n');
    for (const reason of DROP_REASONS) expect(v.out).toMatch(new RegExp(`\\b${reason} ${reason === 'unknownPeer' ? 1 : 0}\\b`));
    await h.server.close();
    expect(await sub.done).toBe(3);
  });
});

describe('documentation', () => {
  test('docs/CONTROL.md and the status explanations name every drop reason', () => {
    const doc = fs.readFileSync(path.join(__dirname, '../../docs/CONTROL.md'), 'utf8');
    for (const r of DROP_REASONS) {
      expect(doc).toContain(`| \`${r}\` |`);
      expect(DROP_HELP[r]).toEqual(expect.any(String));
    }
  });
});
