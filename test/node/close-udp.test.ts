/** close() on real UDP sockets: what send() reported sent reaches the peer; no exception escapes. */
import { startNode, pair, collect, waitFor } from '../helpers/nodes';
import type { UdpVaultNode } from '../../src/node/types';

describe('close() on real UDP', () => {
  const nodes: UdpVaultNode[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()));
  });

  test('2,000 awaited sends and 200 un-awaited ones, then close: every send resolves and all 2,200 arrive in order', async () => {
    // On a loaded machine acks can lag: a generous window wait keeps congestion drops out of a close() test.
    const a = await startNode({ settings: { datagramWindowWaitMs: 30_000 } });
    const b = await startNode();
    nodes.push(a, b);
    await pair(a, b);
    const got = collect(b);
    for (let i = 0; i < 2000; i++) await a.send('b', `m${i}`);
    const unawaited = Array.from({ length: 200 }, (_, i) => a.send('b', `m${2000 + i}`));
    await a.close();
    await expect(Promise.all(unawaited)).resolves.toHaveLength(200);
    await waitFor(() => got.length >= 2200, 10_000, '2,200 messages');
    expect(got.map((m) => new TextDecoder().decode(m.data))).toEqual(Array.from({ length: 2200 }, (_, i) => `m${i}`));
  });

  test('un-awaited sends then close twice in one turn: sends settle, no uncaught error', async () => {
    const errors: unknown[] = [];
    const onError = (e: unknown): void => void errors.push(e);
    process.on('uncaughtException', onError);
    try {
      const a = await startNode();
      const b = await startNode();
      nodes.push(b);
      await pair(a, b);
      const settled = [a.send('b', 'x'), a.send('b', 'y', { reliable: true }), a.send('b', 'z')].map((p) => p.then(() => 'sent', (e: { code: string }) => e.code));
      const closing = [a.close(), a.close()];
      await Promise.all(closing);
      await a.close();
      expect(await Promise.all(settled)).toEqual(['sent', 'sent', 'sent']); // the reliable one is acknowledged within the close grace
      await new Promise((r) => setImmediate(r));
      expect(errors).toEqual([]);
    } finally {
      process.off('uncaughtException', onError);
    }
  });
});
