/**
 * Bytes allocated per rekey of an idle, established pair (issue 12; docs/BENCHMARKS-JOURNAL.md
 * "rekeyalloc17"): an idle link rekeys every ~120 s, so what a rekey allocates, averaged over
 * its interval, is part of an idle peer's allocation rate. Two nodes on the simulator, past
 * their setup (path MTU search done, spaces resting, no keepalive due in the measured period);
 * then the initiator rekeys `ROUNDS` times (the same entry the rekey timer calls), each time run
 * until the new session is confirmed on both sides and the old one wiped after its grace. The
 * V8 heap allocated meanwhile (both sides, the simulator included) is divided by the rekeys; the
 * heap profiler's samples give the node's own code by function (`REKEY_ALLOC_PROFILE=1`).
 *
 * Exact and load-proof as idle-alloc.test.ts is: TurboFan off (`--no-opt`) and constant
 * sampling intervals, both restored after the file.
 */
import { Session } from 'node:inspector/promises';
import { allocatedBy, exactAllocationFlags } from './heap-allocated';
import { SimWorld } from './harness';
import { nativeLinkOf } from '../node/internals';
import { initiateHandshake } from '../../src/engine/native/handshake';
import { IK_INIT_BYTES, IK_RESPONSE_BYTES } from '../helpers/v4-forge';

interface ProfileNode { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: ProfileNode[] }

const ROUNDS = Number(process.env['REKEY_ALLOC_ROUNDS'] ?? 8);
/** `REKEY_ALLOC_OPT=1`: TurboFan left on (a daemon's figures; not exact). */
const OPT = process.env['REKEY_ALLOC_OPT'] === '1';


const nodeCode = (url: string): boolean => /\/src\//.test(url) && !/\/src\/(runtime|net\/sim)\//.test(url);

/** The node's own sampled allocations per rekey; by function printed when asked. */
function own(head: ProfileNode, per: number, print: boolean): number {
  const by = new Map<string, number>();
  let total = 0;
  const name = (f: ProfileNode['callFrame']): string => `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(src|test)\//, '$1/')}:${f.lineNumber + 1}`;
  const walk = (p: ProfileNode, parent: string, parentOwn: boolean): void => {
    // sodium-native's wrappers (their argument checks) are charged to the caller, as built-ins are
    const builtin = p.callFrame.url === '' || p.callFrame.url.startsWith('node:') || p.callFrame.url.includes('/node_modules/sodium-native/');
    // The node's tick loop's iterator results (unoptimized code only; idle-alloc.test.ts leaves them out too).
    const tickLoop = builtin && (parent.startsWith('#onTick src/node/node.ts:') || parent.startsWith('values src/peer/table.ts:'));
    const isOwn = builtin ? parentOwn && !tickLoop : nodeCode(p.callFrame.url);
    const key = builtin ? `${name(p.callFrame)} <- ${parent}` : name(p.callFrame);
    if (isOwn) total += p.selfSize;
    if (isOwn || process.env['REKEY_ALLOC_PROFILE'] === 'all') by.set(key, (by.get(key) ?? 0) + p.selfSize);
    for (const c of p.children) walk(c, builtin ? parent : name(p.callFrame), isOwn);
  };
  walk(head, '(root)', false);
  if (print) console.log([...by].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env['REKEY_ALLOC_TOP'] ?? 60)).map(([k, b]) => `${String(Math.round(b / per)).padStart(7)} B  ${k}`).join('\n'));
  return total / per;
}

describe('rekey of an idle pair', () => {
  exactAllocationFlags(OPT);
  let w: SimWorld;
  beforeEach(() => {
    w = new SimWorld(17);
    w.net.setDefaultLink({ latencyMs: 5 });
  });
  afterEach(async () => {
    await w.closeAll();
    expect(w.scheduler.errors).toEqual([]);
  });

  test('bytes allocated per rekey, both sides', async () => {
    const settings = { keepaliveMs: 600_000, rejectAfterMs: 3_600_000, sessionGraceMs: 1_000 };
    const a = await w.node('127.0.4.1', { settings });
    const b = await w.node('127.0.4.2', { settings });
    await w.pair(a, b);
    await w.scheduler.advance(30_000); // past the setup: path MTU search done, spaces resting
    const la = nativeLinkOf(a, 'b');
    const lb = nativeLinkOf(b, 'a');
    expect([la.path.space.resting, lb.path.space.resting]).toEqual([true, true]);
    const sid = (): [number, number] => [la.current()!.localSid, lb.current()!.localSid];
    w.net.clearTrace();
    const profile = new Session();
    profile.connect();
    await profile.post('HeapProfiler.startSampling', { samplingInterval: 64, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
    const sizes: number[] = [];
    const sids: [number, number][] = [sid()];
    const kept: number[] = [];
    const bytes = await allocatedBy(async () => {
      for (let r = 0; r < ROUNDS; r++) {
        initiateHandshake(la); // what the rekey timer calls (timers.ts)
        for (let t = 0; t < 3_000; t += 500) await w.scheduler.advance(500);
        sids.push(sid());
        kept.push(la.keypairs.size, lb.keypairs.size);
        for (const e of w.net.trace) sizes.push(e.size);
        w.net.clearTrace();
      }
    });
    const { profile: p } = (await profile.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: ProfileNode } };
    profile.disconnect();
    const mine = own(p.head, ROUNDS, process.env['REKEY_ALLOC_PROFILE'] !== undefined);
    // every round made a new session on both sides, the old one wiped after its grace
    expect(new Set(sids.map((x) => x[0])).size).toBe(ROUNDS + 1);
    expect(new Set(sids.map((x) => x[1])).size).toBe(ROUNDS + 1);
    expect(kept).toEqual(Array.from({ length: 2 * ROUNDS }, () => 1));
    // per rekey: the init, the response and the initiator's confirming keepalive, its ack
    expect(sizes.filter((s) => s === IK_INIT_BYTES)).toHaveLength(ROUNDS);
    expect(sizes.filter((s) => s === IK_RESPONSE_BYTES)).toHaveLength(ROUNDS);
    expect(sizes).toHaveLength(6 * ROUNDS); // and the confirming keepalive and the idle keepalive exchange each way: no path MTU probe
    console.log(`rekey: ${sizes.length / ROUNDS} datagrams per rekey (${sizes.slice(0, 6).join(', ')}), ${Math.round(bytes / ROUNDS)} B allocated per rekey (simulator included), the node's own code ${Math.round(mine)} B`);
    if (!OPT && ROUNDS === 8) {
      // Measured (rekeyalloc17, Node 20, unoptimized code, the same on every run): the node's own
      // code 126.2 KB per rekey, both sides (main at e27968d: 237.1 KB, of which HChaCha20's boxed
      // numbers 68 KB and sodium-native's argument checks ~36 KB). Lower when other files ran
      // first in the jest worker (code they optimized stays optimized). Optimized
      // (REKEY_ALLOC_OPT=1, not exact): 75.5 KB (main 90.9 KB).
      expect(mine).toBeLessThan(136_000);
    }
    expect(a.peers()[0]!.state).toBe('established');
    expect(b.peers()[0]!.state).toBe('established');
  }, 120_000);
});
