/**
 * The node takes time, timers, randomness and the network only from its injected seams:
 * a seeded Random gives a deterministic identity; the source of the deterministic core calls
 * no timer or randomness of the platform directly; queued messages expire at their own deadlines.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SimWorld, SIM_PORT, watch } from '../sim/harness';

const SRC = path.join(__dirname, '../../src');
const FORBIDDEN = /\b(setTimeout|setInterval|setImmediate|queueMicrotask|Math\.random|randomInt|randomBytes|Date\.now|performance\.now)\s*\(|new Date\(\s*\)/;

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

describe('seams', () => {
  test('node, peer, compat, engine and delivery use no platform timer, clock or randomness directly', () => {
    const offending: string[] = [];
    for (const dir of ['node', 'peer', 'compat', 'engine', 'delivery']) {
      for (const f of files(path.join(SRC, dir))) {
        fs.readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
          const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '');
          if (FORBIDDEN.test(code)) offending.push(`${path.relative(SRC, f)}:${i + 1}: ${line.trim()}`);
        });
      }
    }
    expect(offending).toEqual([]);
  });

  test('dependencies point one way: compat → (nothing above), peer ↛ engine/node, engine ↛ node', () => {
    const forbidden: Record<string, string[]> = { compat: ['peer', 'engine', 'node'], peer: ['engine', 'node'], engine: ['node'], delivery: ['peer', 'engine', 'node'] };
    const offending: string[] = [];
    for (const [dir, above] of Object.entries(forbidden)) {
      for (const f of files(path.join(SRC, dir))) {
        for (const m of fs.readFileSync(f, 'utf8').matchAll(/from '((?:\.\.\/)+)([a-z-]+)\//g)) {
          const depth = path.relative(SRC, path.dirname(f)).split(path.sep).length;
          if (m[1]!.length / 3 === depth && above.includes(m[2]!)) offending.push(`${path.relative(SRC, f)} imports ${m[2]}/`);
        }
      }
    }
    expect(offending).toEqual([]);
  });

  test('without a home, the identity comes from the injected Random: same seed, same key', async () => {
    const keys: string[] = [];
    for (const seed of [5, 5, 6]) {
      const w = new SimWorld(seed);
      keys.push((await w.node('127.0.0.2')).publicKey);
      await w.closeAll();
    }
    expect(keys[1]).toBe(keys[0]);
    expect(keys[2]).not.toBe(keys[0]);
  });

  test('a queued message expires at its own deadline even behind a longer-lived one', async () => {
    const w = new SimWorld(3);
    const a = await w.node('127.0.0.2');
    await a.addPeer({ endpoint: `127.0.0.9:${SIM_PORT}`, name: 'gone' });
    const long = watch(a.send('gone', 'long', { timeoutMs: 8_000 }));
    const short = watch(a.send('gone', 'short', { timeoutMs: 1_000 }));
    await w.scheduler.advance(1_150);
    expect([long.state, short.state]).toEqual(['pending', 'rejected']);
    expect(short.error).toMatchObject({ code: 'ERR_NO_SESSION', message: 'no session: the handshake with gone did not complete within 1 s' });
    await w.scheduler.advance(7_000);
    expect(long.state).toBe('rejected');
    await w.closeAll();
    expect(w.scheduler.pendingTimers).toBe(0);
  });
});
