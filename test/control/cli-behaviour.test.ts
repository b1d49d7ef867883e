/**
 * CLI behaviour in-process against a control server on a fake node (or a scripted socket):
 * wait's retries, send with empty stdin, progress on a terminal, subscribe's exit codes, and
 * the exact requests of --replace-key and --backlog.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ControlServer } from '../../src/control/server';
import { FakeNode } from './fake-node';
import { fingerprint } from '../../src/crypto/fingerprint';
import { usage } from '../../src/cli/args';
import { SPECS } from '../../src/cli/specs';
import { ManualScheduler } from '../../src/runtime/scheduler';
import type { PeerInfo } from '../../src/node/types';
import { KEY_A } from './fake-node';
import { startHarness, type Harness } from './helpers';
import { FakeDaemon } from './fake-daemon';
import { runCli, startCli, until } from './cli-run';

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.cleanup();
});


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

describe('wait', () => {
  test('retries while nothing answers, exits 0 as soon as a daemon answers', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'uv-wait-'));
    const sock = path.join(dir, 'control.sock');
    // First a socket that hangs up on every connection (a daemon still starting, or gone): counted.
    let attempts = 0;
    const hangUp = net.createServer((s) => {
      attempts++;
      s.destroy();
    });
    await new Promise<void>((r) => hangUp.listen(sock, r));
    let server: ControlServer | null = null;
    try {
      const scheduler = new ManualScheduler();
      const w = startCli(['wait', '--timeout', '60', '--home', dir], { stderrTty: true, scheduler });
      let settled = false;
      void w.done.then(() => (settled = true));
      await until(() => attempts >= 3, 'three attempts');
      expect(settled).toBe(false);
      await scheduler.advance(2000); // on a terminal, the wait shows
      expect(w.err().split('\r\x1b[K').pop()).toBe(`udpvault wait: waiting for the daemon of home ${dir} (2 s)`);
      await new Promise((r) => hangUp.close(r));
      server = await ControlServer.listen({ path: sock, node: new FakeNode(), home: dir, settings: { maxMessageBytes: 1024, subscriberBufferMessages: 10 } });
      expect(await w.done).toBe(0);
      expect(w.err().endsWith('\r\x1b[K')).toBe(true); // the line is cleared
    } finally {
      hangUp.close();
      await server?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('send', () => {
  test('empty stdin: exit 2 with the usage, nothing sent', async () => {
    addPeer({ key: KEY_A, name: 'alice' });
    const r = await runCli(['send', 'alice', '--home', h.dir], { stdin: '' });
    expect(r).toEqual({ code: 2, out: '', err: `udpvault send: no message given: stdin was empty (to send an empty message, pass "" as MESSAGE)\n\n${usage(SPECS.send)}` });
    expect(h.node.sent).toHaveLength(0);
    // An explicit empty argument is a message of 0 bytes.
    expect(await runCli(['send', 'alice', '', '--home', h.dir])).toEqual({ code: 0, out: 'sent 0 bytes to alice\n', err: '' });
  });

  test('a long wait shows progress on a terminal stderr (and only there), then clears it', async () => {
    addPeer({ key: KEY_A, name: 'alice', endpoint: '127.0.0.1:12000', state: 'handshaking' });
    let release!: () => void;
    h.node.sendImpl = () => new Promise<void>((r) => (release = r));
    const scheduler = new ManualScheduler();
    const run = startCli(['send', 'alice', 'x'.repeat(2048), '--reliable', '--home', h.dir], { stderrTty: true, scheduler });
    await until(() => h.node.sent.length === 1, 'the send to reach the node');
    await scheduler.advance(999);
    expect(run.err()).toBe('');
    await scheduler.advance(1);
    const last = (): string => run.err().split('\r\x1b[K').pop()!;
    await until(() => last().includes('handshake pending'), 'progress');
    expect(last()).toBe('udpvault send: 2.0 KiB to alice: handshake pending with 127.0.0.1:12000 (1 s)');
    h.node.peerList[0]!.state = 'established';
    await scheduler.advance(1000);
    await until(() => last().includes('acknowledgement'), 'progress update');
    expect(last()).toBe('udpvault send: 2.0 KiB to alice: waiting for the acknowledgement (2 s)');
    release();
    expect(await run.done).toBe(0);
    expect(run.err().endsWith('\r\x1b[K')).toBe(true);
    expect(run.out()).toBe('delivered (acknowledged) 2048 bytes to alice\n');

    // A narrow terminal: the line is clipped to its width (it must not wrap).
    const narrow = startCli(['send', 'alice', 'z', '--home', h.dir], { stderrTty: true, stderrColumns: 40, scheduler });
    await until(() => h.node.sent.length === 2, 'the narrow send');
    await scheduler.advance(1000);
    await until(() => narrow.err().length > 0, 'narrow progress');
    const shown = narrow.err().split('\r\x1b[K').pop()!;
    expect(shown.length).toBe(39);
    expect(shown.endsWith('… (1 s)')).toBe(true);
    release();
    expect(await narrow.done).toBe(0);

    // Not a terminal: no progress at all.
    const piped = startCli(['send', 'alice', 'y', '--home', h.dir], { scheduler });
    await until(() => h.node.sent.length === 3, 'the last send');
    await scheduler.advance(5000);
    release();
    expect(await piped.done).toBe(0);
    expect(piped.err()).toBe('');
  });
});

describe('subscribe exit codes', () => {
  test('0 when the user stops it; 3 with the home named when the daemon goes away', async () => {
    let interrupt: (() => void) | null = null;
    const stopped = startCli(['subscribe', '--home', h.dir], { onInterrupt: (cb) => (interrupt = cb) });
    await until(() => stopped.err().includes('receiving messages'), 'subscribe');
    interrupt!();
    expect(await stopped.done).toBe(0);

    const ended = startCli(['subscribe', '--json', '--home', h.dir]);
    await until(() => ended.err().includes('receiving messages'), 'subscribe');
    await h.server.close();
    expect(await ended.done).toBe(3);
    expect(ended.err()).toContain(`udpvault subscribe: the daemon of home ${h.dir} ended the stream (daemon stopping); start it again with: udpvault daemon --home ${h.dir}\n`);
  });
});

describe('requests the CLI sends', () => {
  let fake: FakeDaemon;
  afterEach(async () => fake.close());

  test('peer add --replace-key sends replaceKey: true; a key conflict prints the daemon message and exits 2', async () => {
    const message = 'peer bob (127.0.0.1:11002) already has another key; to replace it, add --replace-key';
    fake = await FakeDaemon.start((req) =>
      req.op === 'peers' ? { result: { peers: [] } } : req.replaceKey === true ? { result: { peer: { key: KEY_A, name: 'bob', endpoint: '127.0.0.1:11002', compat: null, allowPlaintext: false, trust: 'pinned', state: 'new', lastHandshake: null, rttMs: null, fingerprint: fingerprint(KEY_A), counters: {} } } } : { error: { code: 'ERR_KEY_CONFLICT', message, kind: 'bad-input' } },
    );
    const refused = await runCli(['peer', 'add', '127.0.0.1:11002', '--key', KEY_A, '--name', 'bob', '--home', fake.home]);
    expect(refused).toEqual({ code: 2, out: '', err: `udpvault peer add: ${message}\n` });
    const ok = await runCli(['peer', 'add', '127.0.0.1:11002', '--key', KEY_A, '--name', 'bob', '--replace-key', '--home', fake.home]);
    expect(ok.code).toBe(0);
    const adds = fake.requests.filter((r) => r.op === 'peer.add').map(({ id: _id, ...r }) => r);
    expect(adds).toEqual([
      { v: 1, op: 'peer.add', endpoint: '127.0.0.1:11002', key: KEY_A, name: 'bob' },
      { v: 1, op: 'peer.add', endpoint: '127.0.0.1:11002', key: KEY_A, name: 'bob', replaceKey: true },
    ]);
  });

  test('subscribe --backlog sends backlog: true (and nothing without it)', async () => {
    fake = await FakeDaemon.start(() => ({ result: { peer: null, backlog: true } }));
    let interrupt: (() => void) | null = null;
    for (const extra of [['--backlog'], []]) {
      const s = startCli(['subscribe', ...extra, '--home', fake.home], { onInterrupt: (cb) => (interrupt = cb) });
      await until(() => s.err().includes('receiving messages'), 'subscribe');
      interrupt!();
      expect(await s.done).toBe(0);
    }
    expect(fake.requests.map(({ id: _id, ...r }) => r)).toEqual([
      { v: 1, op: 'subscribe', backlog: true },
      { v: 1, op: 'subscribe' },
    ]);
  });
});
