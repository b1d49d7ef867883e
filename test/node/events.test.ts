/**
 * One source for events and counters: a refused key is reported once per offered key, every
 * drop attributable to a peer is counted on it as well as globally; addPeer never re-keys or
 * renames silently (ERR_KEY_CONFLICT / ERR_NAME_CONFLICT; replaceKey: one key-changed + a warn line).
 */
import { SimWorld, SIM_PORT, established, peerEvents, messages, text, watch } from '../sim/harness';
import type { Logger } from '../../src/runtime/log';
import type { UdpVaultNode } from '../../src/node/types';

const A = '127.0.0.2';
const B = '127.0.0.3';

const drops = (n: UdpVaultNode, reason: string): number => (n.status().counters.drops as Record<string, number>)[reason] ?? 0;
const peerDrops = (n: UdpVaultNode, name: string, reason: string): number =>
  (n.peers().find((p) => p.name === name)!.counters.drops as Record<string, number>)[reason] ?? 0;

function recordingLogger(lines: Array<{ level: string; obj: object; msg?: string }>): Logger {
  const at = (level: string) => (obj: object, msg?: string): void => void lines.push({ level, obj, msg });
  const l: Logger = { trace: at('trace'), debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => l };
  return l;
}

describe('events and counters', () => {
  let w: SimWorld;
  beforeEach(() => {
    w = new SimWorld(11);
    w.net.link(A, B, { latencyMs: 5 });
  });
  afterEach(async () => {
    await w.closeAll();
    expect(w.scheduler.errors).toEqual([]);
  });

  /** `a` knows the peer at B; the node at B is then replaced by another identity that keeps retrying. */
  async function impostorAtB(pinned: boolean): Promise<{ a: UdpVaultNode; m: UdpVaultNode; events: ReturnType<typeof peerEvents> }> {
    const a = await w.node(A);
    const b = await w.node(B);
    await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, name: 'b', ...(pinned ? { key: b.publicKey } : {}) });
    await b.addPeer({ endpoint: `${A}:${SIM_PORT}`, name: 'a', key: a.publicKey });
    expect(await w.scheduler.runUntil(() => established(a, 'b'), 5_000)).toBe(true);
    expect(a.peers()[0]!.trust).toBe(pinned ? 'pinned' : 'tofu');
    await b.close();
    const m = await w.node(B);
    const events = peerEvents(a);
    await m.addPeer({ endpoint: `${A}:${SIM_PORT}`, name: 'a', key: a.publicKey });
    await w.scheduler.advance(12_000); // m retries its init several times (its first may meet an empty admission share: B's source just handshook)
    return { a, m, events };
  }

  test('a TOFU peer\'s changed key raises key-changed once per offered key; each refusal counts on the peer and globally', async () => {
    const { a, m, events } = await impostorAtB(false);
    const changed = events.filter((e) => e.type === 'key-changed');
    expect(changed.map((e) => e.offeredKey)).toEqual([m.publicKey]);
    expect(changed[0]!.peer.key).not.toBe(m.publicKey);
    const refused = drops(a, 'keyChanged');
    expect(refused).toBeGreaterThanOrEqual(3);
    expect(peerDrops(a, 'b', 'keyChanged')).toBe(refused);
  });

  test('a pinned peer\'s endpoint taken by another identity: refusals count on the peer, no key-changed event', async () => {
    const { a, events } = await impostorAtB(true);
    expect(events.filter((e) => e.type === 'key-changed')).toEqual([]);
    const refused = drops(a, 'keyChanged');
    expect(refused).toBeGreaterThanOrEqual(3);
    expect(peerDrops(a, 'b', 'keyChanged')).toBe(refused);
  });

  test('drops on a session (replayed data) count on the peer and globally', async () => {
    const a = await w.node(A);
    const b = await w.node(B);
    await w.pair(a, b);
    w.net.link(A, B, { latencyMs: 5, duplicate: 1 });
    const got = messages(b);
    for (let i = 0; i < 5; i++) await a.send('b', `m${i}`);
    await w.scheduler.advance(100);
    expect(got.map(text)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(drops(b, 'replay')).toBeGreaterThanOrEqual(5);
    expect(peerDrops(b, 'a', 'replay')).toBe(drops(b, 'replay'));
  });

  test('a replayed handshake init is refused and counted on the peer it names, exactly once per copy', async () => {
    const sent: Uint8Array[] = [];
    const a = await w.node(A, {}, (open) => async (o) => {
      const t = await open(o);
      return {
        host: t.host, port: t.port, hasFamily: (f) => t.hasFamily(f), close: () => t.close(),
        send: (parts, port, address, family, done) => {
          sent.push(Buffer.concat(Array.isArray(parts) ? (parts as Uint8Array[]) : [parts as Uint8Array]));
          return t.send(parts, port, address, family, done);
        },
      };
    });
    const b = await w.node(B);
    await w.pair(a, b);
    await w.scheduler.advance(1_000);
    const init = sent.find((d) => d[0] === 0x41)!;
    const raw = await w.net.host(A).openTransport({ host: A, port: 5000, onMessage: () => undefined, onError: () => undefined });
    const before = [drops(b, 'replay'), peerDrops(b, 'a', 'replay'), b.status().counters.packetsOut];
    for (let i = 0; i < 3; i++) raw.send(init, SIM_PORT, B, 4);
    await w.scheduler.advance(100);
    expect([drops(b, 'replay'), peerDrops(b, 'a', 'replay'), b.status().counters.packetsOut]).toEqual([before[0]! + 3, before[1]! + 3, before[2]]);
    expect(b.peers()[0]!.state).toBe('established');
    await raw.close();
  });

  test('addPeer never re-keys or renames silently; replaceKey re-keys with one key-changed event and a warn line', async () => {
    const lines: Array<{ level: string; obj: object; msg?: string }> = [];
    const a = await w.node(A, { logger: recordingLogger(lines) });
    const b = await w.node(B);
    await w.pair(a, b);
    const other = await w.node('127.0.0.4');
    await a.addPeer({ endpoint: `127.0.0.4:${SIM_PORT}`, key: other.publicKey, name: 'c' });
    const events = peerEvents(a);
    const before = a.peers();
    await expect(a.addPeer({ endpoint: `${B}:${SIM_PORT}`, key: b.publicKey, name: 'b' })).resolves.toMatchObject({ key: b.publicKey });
    const b2 = await (async () => {
      await b.close();
      return w.node(B);
    })();
    const reKey = a.addPeer({ endpoint: `${B}:${SIM_PORT}`, key: b2.publicKey, name: 'b' });
    await expect(reKey).rejects.toMatchObject({ name: 'BadInputError', code: 'ERR_KEY_CONFLICT' });
    await expect(reKey).rejects.toThrow(/--replace-key/);
    await expect(a.addPeer({ endpoint: `${B}:${SIM_PORT}`, key: b.publicKey, name: 'renamed' })).rejects.toMatchObject({ code: 'ERR_NAME_CONFLICT' });
    await expect(a.addPeer({ endpoint: `127.0.0.4:${SIM_PORT}`, key: other.publicKey, name: 'b' })).rejects.toMatchObject({ code: 'ERR_NAME_CONFLICT' });
    expect(a.peers().map((p) => [p.name, p.key])).toEqual(before.map((p) => [p.name, p.key]));
    expect(events.map((e) => e.type)).toEqual(['added']); // only the idempotent re-add
    const warnsBefore = lines.filter((l) => l.level === 'warn').length;
    await b2.addPeer({ endpoint: `${A}:${SIM_PORT}`, key: a.publicKey, name: 'a' });
    await a.addPeer({ endpoint: `${B}:${SIM_PORT}`, key: b2.publicKey, name: 'b', replaceKey: true });
    const changed = events.filter((e) => e.type === 'key-changed');
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({ offeredKey: b2.publicKey, peer: { name: 'b', key: b2.publicKey, trust: 'pinned' } });
    const warns = lines.filter((l) => l.level === 'warn').slice(warnsBefore);
    expect(warns.map((l) => l.msg)).toEqual(['peer key replaced']);
    expect(JSON.stringify(warns)).not.toContain('privateKey');
    expect(await w.scheduler.runUntil(() => established(a, 'b') && established(b2, 'a'), 5_000)).toBe(true);
    const got = messages(b2);
    const sent = watch(a.send('b', 'to the new key'));
    await w.scheduler.advance(50);
    expect(sent.state).toBe('resolved');
    expect(got.map(text)).toEqual(['to the new key']);
    expect(events.filter((e) => e.type === 'key-changed')).toHaveLength(1);
  });
});
