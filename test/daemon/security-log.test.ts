/** Security summaries on a manual clock: one warn line per kind per interval, whatever the flood. */
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/runtime/log';
import type { DropReason } from '../../src/errors';
import { ManualScheduler } from '../../src/runtime/scheduler';
import { SecurityLog } from '../../src/daemon/security-log';

let text: string;
let drops: Partial<Record<DropReason, number>>;
let scheduler: ManualScheduler;
let log: SecurityLog;

beforeEach(() => {
  text = '';
  const out = new PassThrough();
  out.on('data', (c: Buffer) => (text += c.toString()));
  drops = { replay: 3 }; // counted before the log started: never reported
  scheduler = new ManualScheduler();
  log = new SecurityLog({ logger: createLogger('info', out), drops: () => drops, scheduler });
});
afterEach(() => log.close());

const lines = (): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const { time: _t, pid: _p, ...rest } = JSON.parse(l) as Record<string, unknown>;
      return rest;
    });

test('a flood of 100,000 refused handshakes is one line per interval with the count', async () => {
  for (let i = 0; i < 100_000; i++) {
    drops.unknownPeer = (drops.unknownPeer ?? 0) + 1;
    log.sample('unknown-identity', { source: `192.0.2.${i % 7}:4000`, fingerprint: 'aaaa-bbbb-cccc-dddd-eeee-ffff' });
  }
  await scheduler.advance(9_999);
  expect(lines()).toEqual([]);
  await scheduler.advance(1);
  drops.unknownPeer! += 5;
  await scheduler.advance(10_000);
  await scheduler.advance(10_000); // quiet: nothing
  const msg = 'security: refused handshakes from identities that are not peers';
  expect(lines()).toEqual([
    {
      level: 40,
      msg,
      event: 'unknown-identity',
      count: 100_000,
      intervalS: 10,
      total: 100_000,
      samples: [0, 1, 2, 3, 4].map((i) => ({ source: `192.0.2.${i}:4000`, fingerprint: 'aaaa-bbbb-cccc-dddd-eeee-ffff' })),
    },
    { level: 40, msg, event: 'unknown-identity', count: 5, intervalS: 10, total: 100_005 },
  ]);
});

test('a key change is reported with both fingerprints; replay and rate limits only as storms (20 per interval)', async () => {
  drops.keyChanged = 1;
  log.sample('key-changed', { peer: 'bob', source: '127.0.0.1:11002', fingerprint: '1111-2222-3333-4444-5555-6666', recordedFingerprint: '7777-8888-9999-aaaa-bbbb-cccc' });
  drops.replay = 3 + 19; // 19 in the interval: below the storm threshold
  drops.rateLimited = 20;
  await scheduler.advance(10_000);
  drops.replay += 20;
  await scheduler.advance(10_000);
  expect(lines()).toEqual([
    {
      level: 40,
      msg: "security: refused handshakes signed by a key other than the peer's recorded key",
      event: 'key-changed',
      count: 1,
      intervalS: 10,
      total: 1,
      samples: [{ peer: 'bob', source: '127.0.0.1:11002', fingerprint: '1111-2222-3333-4444-5555-6666', recordedFingerprint: '7777-8888-9999-aaaa-bbbb-cccc' }],
    },
    { level: 40, msg: 'security: rate-limit storm: packets dropped over a rate limit', event: 'rate-limited', count: 20, intervalS: 10, total: 20 },
    { level: 40, msg: 'security: replay storm: replayed or duplicated packets dropped', event: 'replay', count: 20, intervalS: 10, total: 39 },
  ]);
});

test('close writes what the current interval holds, then stops its timer', async () => {
  drops.unknownPeer = 2;
  log.close();
  expect(lines()).toEqual([expect.objectContaining({ event: 'unknown-identity', count: 2 })]);
  expect(scheduler.pendingTimers).toBe(0);
  drops.unknownPeer = 10;
  await scheduler.advance(20_000);
  expect(lines()).toHaveLength(1);
});
