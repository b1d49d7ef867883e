/**
 * The simulator's knob for a Linux sender behind a narrower hop (LinkOptions.fragmentAfterTooBig):
 * the first datagram too big is dropped and its ICMP reaches the sender's kernel latencyMs later;
 * from then on larger datagrams are fragmented by the sender's kernel, arrive whole, and grow the
 * sending host's fragment counter.
 */
import { fragmentCount } from '../../../src/net/sim/link';
import { bytes, makeNet, open, send } from './harness';

const A = '127.0.0.1';
const B = '127.0.0.2';

test('fragment count: 8-byte-aligned fragment data, IPv6 with its fragment header', () => {
  expect(fragmentCount(1472, 28, 1280)).toBe(2); // 1480 IP payload bytes in 1256 + 224
  expect(fragmentCount(1252, 28, 1280)).toBe(1);
  expect(fragmentCount(8972, 28, 1280)).toBe(8);
  expect(fragmentCount(1452, 48, 1280)).toBe(2); // 1232 per fragment
  expect(fragmentCount(2456, 48, 1280)).toBe(2);
  expect(fragmentCount(2457, 48, 1280)).toBe(3);
});

test('dropped until the ICMP is back, then fragmented by the sender and delivered whole; the host counter grows', async () => {
  const { net, sched } = makeNet(1);
  const a = await open(net, sched, A, 1000);
  const b = await open(net, sched, B, 2000);
  net.linkOneWay(A, B, { latencyMs: 10, mtu: 1280, fragmentAfterTooBig: true });
  send(a.t, b.t, bytes(1472, 1));
  await sched.advance(9);
  send(a.t, b.t, bytes(1400, 2)); // the ICMP is not back yet
  await sched.advance(1);
  send(a.t, b.t, bytes(1472, 3));
  send(a.t, b.t, bytes(1252, 4)); // fits: sent whole
  send(a.t, b.t, bytes(8972, 5));
  await sched.advance(20);
  expect(net.trace.map((e) => [e.size, e.fate, e.fragments ?? 0])).toEqual([
    [1472, 'tooBig', 0],
    [1400, 'tooBig', 0],
    [1472, 'delivered', 2],
    [1252, 'delivered', 0],
    [8972, 'delivered', 8],
  ]);
  expect(b.got.map((g) => g.data.length)).toEqual([1472, 1252, 8972]);
  expect(net.host(A).fragmentCounter(4)).toBe(10);
  expect(net.host(A).fragmentCounter(6)).toBe(0);
  expect(net.host(B).fragmentCounter(4)).toBe(0);
});

test('without the knob a too-big datagram is dropped every time and nothing is counted', async () => {
  const { net, sched } = makeNet(1);
  const a = await open(net, sched, A, 1000);
  const b = await open(net, sched, B, 2000);
  net.linkOneWay(A, B, { latencyMs: 10, mtu: 1280 });
  send(a.t, b.t, bytes(1472, 1));
  await sched.advance(50);
  send(a.t, b.t, bytes(1472, 2));
  await sched.advance(50);
  expect(net.trace.map((e) => e.fate)).toEqual(['tooBig', 'tooBig']);
  expect(net.host(A).fragmentCounter(4)).toBe(0);
});
