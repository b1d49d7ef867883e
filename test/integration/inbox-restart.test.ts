/**
 * The measured failure of issue 9: reliable messages that reached a restarted daemon before
 * its subscriber reconnected were acknowledged and lost. Real daemons, the CLI for subscribe
 * and restarts; the control client for the 34 reliable sends (one connection, in parallel).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { connect } from '../../src/control/client';
import { cli, Daemon, pairedDaemons, requireBuild, subscribe, tempDir, waitFor, type Proc } from './cli-helpers';

jest.setTimeout(120_000);

let root: string;
const procs: Proc[] = [];

beforeAll(() => requireBuild());
beforeEach(() => {
  root = tempDir();
});
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.stop('SIGKILL')));
  fs.rmSync(root, { recursive: true, force: true });
});

test('34 reliable messages reaching a restarted daemon before its subscriber reconnects are kept across a clean restart and read with subscribe --backlog', async () => {
  const { a, b } = await pairedDaemons(root);
  procs.push(a, b);
  const first = await subscribe(b.home);
  procs.push(first);
  expect((await cli(['send', 'bob', 'warm-up', '--reliable', '--timeout', '10', '--home', a.home])).code).toBe(0);
  await waitFor(() => first.jsonLines().length === 1, 10_000, 'warm-up message');
  await first.stop('SIGINT');

  // The receiving daemon restarts; nobody subscribes; 34 reliable messages arrive and are acknowledged.
  await b.stop('SIGTERM');
  const b2 = await Daemon.start(b.home, b.port);
  procs.push(b2);
  const client = await connect({ home: a.home });
  try {
    await Promise.all(Array.from({ length: 34 }, (_, i) => client.send('bob', `m${i}`, { reliable: true, timeoutMs: 20_000 })));
  } finally {
    client.close();
  }

  // A clean stop writes the inbox to the home (mode 0600); the next start restores it.
  await b2.stop('SIGTERM');
  const file = path.join(b.home, 'inbox.json');
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  const b3 = await Daemon.start(b.home, b.port);
  procs.push(b3);
  expect(fs.existsSync(file)).toBe(false); // in memory again: a crash from now on may lose what was never read

  // A subscriber without --backlog sees only new messages; --backlog gets the 34 first, in order.
  const live = await subscribe(b.home);
  procs.push(live);
  const backlog = await subscribe(b.home, ['--backlog']);
  procs.push(backlog);
  expect((await cli(['send', 'bob', 'after', '--reliable', '--timeout', '10', '--home', a.home])).code).toBe(0);
  await waitFor(() => backlog.jsonLines().length === 35 && live.jsonLines().length === 1, 10_000, 'backlog and the new message');
  expect(backlog.jsonLines().map((m) => m.text)).toEqual([...Array.from({ length: 34 }, (_, i) => `m${i}`), 'after']);
  expect(backlog.jsonLines().every((m) => m.reliable === true && m.name === 'alice')).toBe(true);
  expect(live.jsonLines().map((m) => m.text)).toEqual(['after']);

  // Taken: a second --backlog subscriber finds the inbox empty.
  const again = await subscribe(b.home, ['--backlog']);
  procs.push(again);
  expect((await cli(['send', 'bob', 'last', '--reliable', '--timeout', '10', '--home', a.home])).code).toBe(0);
  await waitFor(() => again.jsonLines().length >= 1, 10_000, 'last message');
  expect(again.jsonLines().map((m) => m.text)).toEqual(['last']);
});

test('kill -9: with inboxFsync the acknowledged messages survive in the inbox; without it they are lost (the documented crash case)', async () => {
  const { a, b } = await pairedDaemons(root);
  procs.push(a, b);
  await b.stop('SIGTERM');
  const results: Record<string, unknown[]> = {};
  for (const fsync of ['true', 'false']) {
    const d = await Daemon.start(b.home, b.port, [], { UDPVAULT_INBOX_FSYNC: fsync });
    procs.push(d);
    const client = await connect({ home: a.home });
    try {
      await Promise.all(Array.from({ length: 5 }, (_, i) => client.send('bob', `${fsync}${i}`, { reliable: true, timeoutMs: 20_000 })));
    } finally {
      client.close();
    }
    await d.stop('SIGKILL');
    const next = await Daemon.start(b.home, b.port);
    procs.push(next);
    const sub = await subscribe(b.home, ['--backlog']);
    procs.push(sub);
    expect((await cli(['send', 'bob', 'marker', '--reliable', '--timeout', '10', '--home', a.home])).code).toBe(0);
    await waitFor(() => sub.jsonLines().some((m) => m.text === 'marker'), 10_000, 'marker');
    results[fsync] = sub.jsonLines().map((m) => m.text);
    await sub.stop('SIGINT');
    await next.stop('SIGTERM');
  }
  expect(results).toEqual({ true: ['true0', 'true1', 'true2', 'true3', 'true4', 'marker'], false: ['marker'] });
});
