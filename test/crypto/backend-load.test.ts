/**
 * Loading the crypto backends (src/crypto/native-lib.ts, wasm-lib.ts): on sodium-native,
 * libsodium-wrappers is never loaded — not in a jest registry where requiring it throws, not in
 * a real process's require.cache; without sodium-native (its require throws, as when no prebuilt
 * binary fits) 'auto' runs everything on wasm and 'native' is refused with the reason; and two
 * processes, one on each backend, handshake and exchange reliable messages over loopback.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';

type Sim = typeof import('../sim/harness');
type Sodium = typeof import('../../src/crypto/sodium');

/** Two SimWorld nodes on `backend` pair and exchange a message each way (in the isolated registry). */
async function pairTalks(sim: Sim, backend: 'auto' | 'native' | 'wasm'): Promise<string[]> {
  const w = new sim.SimWorld(5);
  w.net.link('127.0.0.2', '127.0.0.3', { latencyMs: 2 });
  const a = await w.node('127.0.0.2', { settings: { aeadBackend: backend } });
  const b = await w.node('127.0.0.3', { settings: { aeadBackend: backend } });
  await w.pair(a, b);
  const atA = sim.messages(a);
  const atB = sim.messages(b);
  await a.send('b', 'to b');
  await b.send('a', 'to a');
  await w.scheduler.advance(20);
  await w.closeAll();
  return [...atA.map(sim.text), ...atB.map(sim.text)];
}

test('on sodium-native nothing needs libsodium-wrappers: a node pair handshakes and talks while requiring it throws', async () => {
  await jest.isolateModulesAsync(async () => {
    const loaded = jest.fn();
    jest.doMock('libsodium-wrappers', () => {
      loaded();
      throw new Error('libsodium-wrappers must not be loaded on the native backend');
    });
    /* eslint-disable @typescript-eslint/no-require-imports */
    const sodium = require('../../src/crypto/sodium') as Sodium;
    const sim = require('../sim/harness') as Sim;
    /* eslint-enable @typescript-eslint/no-require-imports */
    await sodium.sodiumReady();
    expect(sodium.cryptoBackendName()).toBe('native');
    expect(await pairTalks(sim, 'auto')).toEqual(['to a', 'to b']);
    expect(loaded).not.toHaveBeenCalled();
    // control: asking for wasm does load it (and so fails here)
    await expect(sodium.useCryptoBackend('wasm')).rejects.toThrow('must not be loaded');
    expect(loaded).toHaveBeenCalledTimes(1);
  });
  jest.dontMock('libsodium-wrappers');
});

test('without sodium-native: auto runs every primitive on wasm, native is refused with the reason, nodes talk', async () => {
  await jest.isolateModulesAsync(async () => {
    jest.doMock('sodium-native', () => {
      throw new Error('No native build was found for platform=test');
    });
    /* eslint-disable @typescript-eslint/no-require-imports */
    const sodium = require('../../src/crypto/sodium') as Sodium;
    const sim = require('../sim/harness') as Sim;
    const aead = require('../../src/crypto/aead') as typeof import('../../src/crypto/aead');
    /* eslint-enable @typescript-eslint/no-require-imports */
    expect(sodium.availableCryptoBackends()).toEqual(['wasm']);
    await sodium.sodiumReady();
    expect(sodium.cryptoBackendName()).toBe('wasm');
    await expect(sodium.useCryptoBackend('native')).rejects.toThrow("aeadBackend 'native': sodium-native could not be loaded (No native build was found for platform=test)");
    expect(await pairTalks(sim, 'auto')).toEqual(['to a', 'to b']);
    expect(sodium.cryptoBackendName()).toBe('wasm');
    expect(aead.aeadBackendName()).toBe('wasm');
    await expect(pairTalks(sim, 'native')).rejects.toThrow('sodium-native could not be loaded');
  });
  jest.dontMock('sodium-native');
});

// ---- two processes (the built package: npm test builds dist first) ----
const CHILD = path.join(__dirname, 'backend-node.cjs');
type Line = Record<string, unknown>;

class Child {
  readonly p: ChildProcessWithoutNullStreams;
  readonly lines: Line[] = [];
  #waiters: Array<() => void> = [];
  constructor(backend: string, noNative = false) {
    this.p = spawn(process.execPath, [CHILD, backend, noNative ? '1' : '0'], { stdio: ['pipe', 'pipe', 'pipe'] });
    readline.createInterface({ input: this.p.stdout }).on('line', (l) => {
      this.lines.push(JSON.parse(l) as Line);
      for (const w of this.#waiters.splice(0)) w();
    });
    this.p.on('exit', () => {
      for (const w of this.#waiters.splice(0)) w();
    });
  }
  send(cmd: Line): void {
    this.p.stdin.write(JSON.stringify(cmd) + '\n');
  }
  /** The first line matching `pred` (waits for it; fails when the process exits first). */
  async next(pred: (l: Line) => boolean, what: string): Promise<Line> {
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit) return hit;
      const err = this.lines.find((l) => 'error' in l);
      if (err) throw new Error(`${what}: ${String(err['error'])}`);
      if (this.p.exitCode !== null) throw new Error(`${what}: the process exited (${this.p.exitCode})`);
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }
}

const built = fs.existsSync(path.join(__dirname, '..', '..', 'dist', 'src', 'crypto', 'native-lib.js'));
(built ? test : test.skip)('two processes, one on sodium-native and one on wasm, handshake and exchange reliable messages; only the wasm one loaded libsodium-wrappers', async () => {
  const n = new Child('native');
  const w = new Child('wasm');
  const f = new Child('auto', true); // sodium-native unloadable: auto falls back to wasm
  try {
    const [rn, rw, rf] = await Promise.all([n.next((l) => l['ready'] === true, 'native start'), w.next((l) => l['ready'] === true, 'wasm start'), f.next((l) => l['ready'] === true, 'fallback start')]);
    expect([rn['backend'], rn['wasmLoaded']]).toEqual(['native', false]);
    expect([rw['backend'], rw['wasmLoaded']]).toEqual(['wasm', true]);
    expect([rf['backend'], rf['wasmLoaded']]).toEqual(['wasm', true]);
    n.send({ cmd: 'pair', endpoint: `127.0.0.1:${String(rw['port'])}`, key: rw['key'] });
    w.send({ cmd: 'pair', endpoint: `127.0.0.1:${String(rn['port'])}`, key: rn['key'] });
    await Promise.all([n.next((l) => l['paired'] === true, 'pair'), w.next((l) => l['paired'] === true, 'pair')]);
    n.send({ cmd: 'send', text: 'from native' });
    w.send({ cmd: 'send', text: 'from wasm' });
    await Promise.all([w.next((l) => l['message'] === 'from native', 'native → wasm'), n.next((l) => l['message'] === 'from wasm', 'wasm → native')]);
    await Promise.all([n.next((l) => l['sent'] === 'from native', 'acknowledged'), w.next((l) => l['sent'] === 'from wasm', 'acknowledged')]);
    n.send({ cmd: 'close' });
    w.send({ cmd: 'close' });
    const [cn, cw] = await Promise.all([n.next((l) => l['closed'] === true, 'close'), w.next((l) => l['closed'] === true, 'close')]);
    expect([cn['state'], cn['wasmLoaded']]).toEqual(['established', false]); // still not loaded after a handshake and messages
    expect([cw['state'], cw['wasmLoaded']]).toEqual(['established', true]);
  } finally {
    for (const c of [n, w, f]) if (c.p.exitCode === null) c.p.kill();
  }
}, 60_000);
