/**
 * First contact between two real nodes (UDP on loopback) that add each other a moment apart, in
 * both key orders and at once (PROTOCOL §5.5): ~1 round trip plus the handshake's CPU, one
 * handshake, never the crossing rule's 100 ms wait. When the first side's init was refused (the
 * other did not know it yet), the other answers that kept init when it adds the first, and sends
 * no init of its own. Loaded-machine safe: the property is asserted by counts (who answered, no
 * crossing init ignored), and wall time only as the best of the pairs against 50 ms (half the
 * wait, which every pair of the greater key first paid before: one quiet moment of the machine
 * suffices; medians swing from 2 to 70 ms with the load here). Each pair has fresh loopback
 * addresses (one per-source admission budget each, as distinct peers have).
 */
import { createNode } from '../../../src/node/node';
import { UdpTransport } from '../../../src/net/udp-transport';
import { PeerTimers } from '../../../src/peer/timers';
import { decodeKey } from '../../../src/crypto/identity';
import { V4 } from '../../../src/wire/handshake-v4';
import { waitFor } from '../../helpers/nodes';
import type { OpenTransport } from '../../../src/net/transport';
import type { UdpVaultNode } from '../../../src/node/types';

interface Counted {
  node: UdpVaultNode;
  sent: Map<number, number>;
}

/** A node on `host` whose sent handshake messages are counted by type. */
async function counted(host: string): Promise<Counted> {
  const sent = new Map<number, number>();
  const open: OpenTransport = async (o) => {
    const t = await UdpTransport.open(o);
    const send = t.send.bind(t);
    t.send = (parts, port, address, family, done) => {
      const d = parts instanceof Uint8Array ? parts : parts[0]!;
      if (d[0] !== undefined) sent.set(d[0], (sent.get(d[0]) ?? 0) + 1);
      return send(parts, port, address, family, done);
    };
    return t;
  };
  return { node: await createNode({ port: 0, host, settings: { mtu: 1500 }, runtime: { openTransport: open } }), sent };
}

const greater = (x: UdpVaultNode, y: UdpVaultNode): boolean => Buffer.compare(Buffer.from(decodeKey(x.publicKey)), Buffer.from(decodeKey(y.publicKey))) > 0;
const unknownPeer = (n: UdpVaultNode): number => (n.status().counters.drops as Record<string, number>)['unknownPeer'] ?? 0;
const up = (n: UdpVaultNode): boolean => n.peers()[0]?.state === 'established';

const PAIRS = 6;
let next = 0;
const host = (): string => `127.0.8.${++next}`;

describe('first contact between two nodes on loopback', () => {
  let ignored: jest.SpyInstance;
  beforeEach(() => {
    ignored = jest.spyOn(PeerTimers.prototype, 'crossingInitIgnored');
  });
  afterEach(() => ignored.mockRestore());

  test.each(['greater', 'smaller'] as const)('the %s key adds first; its init is refused (the other does not know it yet); the other adds: answered at once, no 100 ms wait', async (firstKey) => {
    const ms: number[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const [x, y] = [await counted(host()), await counted(host())];
      const [first, second] = greater(x.node, y.node) === (firstKey === 'greater') ? [x, y] : [y, x];
      try {
        await first.node.addPeer({ endpoint: `${second.node.status().host}:${second.node.port}`, key: second.node.publicKey });
        await waitFor(() => unknownPeer(second.node) === 1, 5_000, 'the first init refused');
        const t0 = performance.now();
        await second.node.addPeer({ endpoint: `${first.node.status().host}:${first.node.port}`, key: first.node.publicKey });
        await waitFor(() => up(first.node) && up(second.node), 5_000, 'both established');
        ms.push(performance.now() - t0);
        // The second answered the first's refused init (before: it sent an init of its own,
        // which the greater key ignored, resending its own 100 ms later; the smaller key answered
        // it, so the second answered nothing either way).
        expect([first.sent.get(V4.ikResponse) ?? 0, second.sent.get(V4.ikResponse) ?? 0]).toEqual([0, 1]);
      } finally {
        await Promise.all([x.node.close(), y.node.close()]);
      }
    }
    expect(ignored).not.toHaveBeenCalled();
    console.log(`first contact, the ${firstKey} key first, ${PAIRS} pairs: ${ms.map((m) => m.toFixed(1)).join(', ')} ms`);
    expect(Math.min(...ms)).toBeLessThan(50);
  }, 60_000);

  test('both add at once: established in about a round trip with one handshake, whichever key is greater', async () => {
    const ms: number[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const [x, y] = [await counted(host()), await counted(host())];
      try {
        const t0 = performance.now();
        await Promise.all([
          x.node.addPeer({ endpoint: `${y.node.status().host}:${y.node.port}`, key: y.node.publicKey }),
          y.node.addPeer({ endpoint: `${x.node.status().host}:${x.node.port}`, key: x.node.publicKey }),
        ]);
        await waitFor(() => up(x.node) && up(y.node), 5_000, 'both established');
        ms.push(performance.now() - t0);
        // One handshake: one answer (the smaller key's, to a crossing init; or the kept init's,
        // when one side's init came before the other's add).
        expect((x.sent.get(V4.ikResponse) ?? 0) + (y.sent.get(V4.ikResponse) ?? 0)).toBe(1);
      } finally {
        await Promise.all([x.node.close(), y.node.close()]);
      }
    }
    console.log(`first contact, both add at once, ${PAIRS} pairs: ${ms.map((m) => m.toFixed(1)).join(', ')} ms`);
    expect(Math.min(...ms)).toBeLessThan(50);
  }, 60_000);
});
