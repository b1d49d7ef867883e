import { NAT_PORT_RANGE } from '../../../src/net/sim';
import { bytes, makeNet, open, send } from './harness';

const INSIDE = '127.0.10.1';
const PUBLIC = '127.0.20.1';
const SERVER = '127.0.0.2';
const OTHER = '127.0.0.3';

async function natted(filtering?: 'endpoint' | 'address' | 'addressPort', mappingTimeoutMs?: number) {
  const { net, sched } = makeNet();
  const nat = net.nat(INSIDE, { publicAddress: PUBLIC, portBase: 40_000, filtering, mappingTimeoutMs });
  const client = await open(net, sched, INSIDE, 5000);
  const server = await open(net, sched, SERVER, 6000);
  const server2 = await open(net, sched, SERVER, 6001);
  const other = await open(net, sched, OTHER, 6000);
  return { net, sched, nat, client, server, server2, other };
}

describe('NAT', () => {
  test('outbound appears from the public address and a mapped port; the reply comes back through the mapping', async () => {
    const { net, sched, nat, client, server } = await natted();
    send(client.t, server.t, bytes(1, 1));
    await sched.advance(0);
    expect(server.got.map((g) => [g.address, g.port])).toEqual([[PUBLIC, 40_000]]);
    server.t.send(bytes(1, 2), 40_000, PUBLIC, 4);
    await sched.advance(0);
    expect(client.got.map((g) => [g.data[0], g.address, g.port])).toEqual([[2, SERVER, 6000]]);
    expect(net.trace.map((e) => [e.from, e.to, e.mappedFrom, e.mappedTo, e.fate])).toEqual([
      [`${INSIDE}:5000`, `${SERVER}:6000`, `${PUBLIC}:40000`, undefined, 'delivered'],
      [`${SERVER}:6000`, `${PUBLIC}:40000`, undefined, `${INSIDE}:5000`, 'delivered'],
    ]);
    expect(nat.mappings(sched.clock.monotonic())).toBe(1);
  });

  test('one mapping per inside port whatever the remote; a second inside port gets the next public port', async () => {
    const { sched, net, client, server, other } = await natted();
    const client2 = await open(net, sched, INSIDE, 5001);
    send(client.t, server.t, bytes(1));
    send(client.t, other.t, bytes(1));
    send(client2.t, server.t, bytes(1));
    await sched.advance(0);
    expect(server.got.map((g) => g.port)).toEqual([40_000, 40_001]);
    expect(other.got.map((g) => g.port)).toEqual([40_000]);
  });

  test.each([
    ['addressPort', [false, false, true]],
    ['address', [false, true, true]],
    ['endpoint', [true, true, true]],
  ] as const)('filtering %s: unsolicited from another host / same host other port / the remote itself', async (filtering, admitted) => {
    const { net, sched, client, server, server2, other } = await natted(filtering);
    send(client.t, server.t, bytes(1));
    await sched.advance(0);
    other.t.send(bytes(1, 1), 40_000, PUBLIC, 4);
    server2.t.send(bytes(1, 2), 40_000, PUBLIC, 4);
    server.t.send(bytes(1, 3), 40_000, PUBLIC, 4);
    await sched.advance(0);
    expect([1, 2, 3].map((n) => client.got.some((g) => g.data[0] === n))).toEqual(admitted);
    expect(net.stats(undefined, PUBLIC).filtered.count).toBe(admitted.filter((x) => !x).length);
  });

  test('the inside address is not routable from outside, even to a port with a mapping', async () => {
    const { net, sched, client, server } = await natted('endpoint');
    send(client.t, server.t, bytes(1));
    server.t.send(bytes(1), 5000, INSIDE, 4);
    await sched.advance(0);
    expect(client.got).toEqual([]);
    expect(net.stats(SERVER, INSIDE).filtered.count).toBe(1);
  });

  test('a link set on the inside address applies even after traffic made a default one for the public address', async () => {
    const { net, sched, client, server } = await natted();
    send(client.t, server.t, bytes(1));
    await sched.advance(0);
    net.linkOneWay(INSIDE, SERVER, { latencyMs: 40 });
    send(client.t, server.t, bytes(1));
    await sched.advance(40);
    expect(server.got.map((g) => g.atMs)).toEqual([0, 40]);
  });

  test('unsolicited inbound to a public port with no mapping is filtered', async () => {
    const { net, sched, client, server } = await natted('endpoint');
    server.t.send(bytes(1), 40_000, PUBLIC, 4);
    await sched.advance(0);
    expect(client.got).toEqual([]);
    expect(net.trace.map((e) => e.fate)).toEqual(['filtered']);
  });

  test('rebind flushes the mappings: replies to the old port are filtered, traffic continues from a new port range', async () => {
    const { net, sched, nat, client, server } = await natted();
    send(client.t, server.t, bytes(1));
    await sched.advance(0);
    net.rebind(INSIDE);
    expect(nat.mappings(sched.clock.monotonic())).toBe(0);
    server.t.send(bytes(1, 9), 40_000, PUBLIC, 4);
    send(client.t, server.t, bytes(1));
    await sched.advance(0);
    expect(client.got).toEqual([]);
    expect(server.got.map((g) => g.port)).toEqual([40_000, 40_000 + NAT_PORT_RANGE]);
    server.t.send(bytes(1, 7), 40_000 + NAT_PORT_RANGE, PUBLIC, 4);
    await sched.advance(0);
    expect(client.got.map((g) => g.data[0])).toEqual([7]);
    expect(() => net.rebind(SERVER)).toThrow('simulated address 127.0.0.2 has no NAT');
  });

  test('rebind to a new public address (roaming): traffic appears from there, the old address is dead', async () => {
    const { net, sched, nat, client, server } = await natted();
    send(client.t, server.t, bytes(1));
    await sched.advance(0);
    net.rebind(INSIDE, '127.0.30.1');
    expect(nat.publicAddress).toBe('127.0.30.1');
    send(client.t, server.t, bytes(1));
    server.t.send(bytes(1, 5), 40_000, PUBLIC, 4);
    await sched.advance(0);
    expect(server.got.map((g) => [g.address, g.port])).toEqual([
      [PUBLIC, 40_000],
      ['127.0.30.1', 40_000 + NAT_PORT_RANGE],
    ]);
    server.t.send(bytes(1, 6), 40_000 + NAT_PORT_RANGE, '127.0.30.1', 4);
    await sched.advance(0);
    expect(client.got.map((g) => g.data[0])).toEqual([6]);
    expect(net.trace.map((e) => e.fate)).toEqual(['delivered', 'delivered', 'noListener', 'delivered']);
  });

  test('a mapping expires mappingTimeoutMs after its last outbound datagram; inbound does not refresh it', async () => {
    const { sched, client, server } = await natted('addressPort', 30_000);
    send(client.t, server.t, bytes(1));
    await sched.advance(29_999);
    server.t.send(bytes(1, 1), 40_000, PUBLIC, 4);
    await sched.advance(1);
    server.t.send(bytes(1, 2), 40_000, PUBLIC, 4);
    await sched.advance(0);
    expect(client.got.map((g) => g.data[0])).toEqual([1]);
    // A new outbound datagram makes a new mapping (the old one was dropped).
    send(client.t, server.t, bytes(1));
    await sched.advance(0);
    expect(server.got.map((g) => g.port)).toEqual([40_000, 40_001]);
  });

  test('a partition on the public address cuts the natted host; links may be keyed by the public address', async () => {
    const { net, sched, client, server } = await natted();
    net.link(PUBLIC, SERVER, { latencyMs: 25 });
    send(client.t, server.t, bytes(1));
    await sched.advance(25);
    expect(server.got.map((g) => g.atMs)).toEqual([25]);
    net.partition(PUBLIC, SERVER, true);
    send(client.t, server.t, bytes(1));
    await sched.advance(25);
    expect(server.got).toHaveLength(1);
    expect(net.stats(INSIDE).partitioned.count).toBe(1);
  });

  test('a partition on the inside address cuts both directions, also replies sent to the public address', async () => {
    const { net, sched, client, server } = await natted();
    send(client.t, server.t, bytes(1));
    await sched.advance(0);
    net.partition(SERVER, INSIDE, true);
    server.t.send(bytes(1), 40_000, PUBLIC, 4);
    send(client.t, server.t, bytes(1));
    await sched.advance(0);
    expect(client.got).toEqual([]);
    expect(server.got).toHaveLength(1);
    expect(net.stats().partitioned.count).toBe(2);
  });

  test('NAT options are validated; one NAT per inside address', () => {
    const { net } = makeNet();
    expect(() => net.nat(INSIDE, { publicAddress: PUBLIC, portBase: 0 })).toThrow('NAT portBase must be an integer');
    net.nat(INSIDE, { publicAddress: PUBLIC, portBase: 1000 });
    expect(() => net.nat(INSIDE, { publicAddress: PUBLIC, portBase: 2000 })).toThrow('already has a NAT');
  });
});
