/** Which peers get series (top N by traffic, stable ties) and their labels. */
import { selectPeers } from '../../src/metrics/select';
import { counters, keyString, peer, shortFp } from './fake-node';
import { createHash } from 'node:crypto';

function fullFp(key: string): string {
  const hex = createHash('sha256').update(Buffer.from(key, 'base64url')).digest('hex').slice(0, 24);
  return hex.match(/.{4}/g)!.join('-');
}

test('top N by bytes in + out; ties broken by packets, then by key string; the rest counted', () => {
  const ka = keyString('a');
  const kb = keyString('b');
  const kc = keyString('c');
  const kd = keyString('d');
  const peers = [
    peer({ key: ka, endpoint: '127.0.0.1:1', counters: counters({ bytesIn: 10, bytesOut: 5 }) }), // 15
    peer({ key: kb, endpoint: '127.0.0.1:2', counters: counters({ bytesOut: 20 }) }), // 20
    peer({ key: kc, endpoint: '127.0.0.1:3', counters: counters({ bytesIn: 15, packetsIn: 2 }) }), // 15, more packets than a
    peer({ key: kd, endpoint: '127.0.0.1:4', counters: counters({ bytesIn: 15 }) }), // 15, ties a: by key string
  ];
  const sel = selectPeers(peers, 3);
  const [first, second, third] = [shortFp(kb), shortFp(kc), shortFp([ka, kd].sort()[0]!)];
  expect(sel.labelled.map((l) => l.peer)).toEqual([first, second, third]);
  expect(sel.unlabelled).toBe(1);
  expect(selectPeers(peers, 0)).toEqual({ labelled: [], unlabelled: 4 });
  expect(selectPeers(peers, 99).labelled).toHaveLength(4);
  expect(selectPeers(peers, 99).unlabelled).toBe(0);
});

test('labels: short fingerprint and name; endpoint for a peer without a key; "" for no name', () => {
  const k = keyString('x');
  const sel = selectPeers([peer({ key: k, name: 'xavier', endpoint: '127.0.0.1:5' }), peer({ endpoint: '[::1]:9000' })], 10);
  const got = sel.labelled.map(({ peer: p, name }) => ({ peer: p, name })).sort((a, b) => a.name.localeCompare(b.name));
  expect(got).toEqual([
    { peer: 'endpoint:[::1]:9000', name: '' },
    { peer: shortFp(k), name: 'xavier' },
  ]);
});

test('two keys with the same short fingerprint: the second is labelled with its full fingerprint', () => {
  // Found by search: these two keys share the short fingerprint 937c-97dd.
  const k1 = createHash('sha256').update('c66779').digest().toString('base64url');
  const k2 = createHash('sha256').update('c90833').digest().toString('base64url');
  expect(shortFp(k1)).toBe('937c-97dd');
  expect(shortFp(k2)).toBe('937c-97dd');
  const sel = selectPeers([peer({ key: k1, endpoint: '127.0.0.1:1', counters: counters({ bytesIn: 2 }) }), peer({ key: k2, endpoint: '127.0.0.1:2', counters: counters({ bytesIn: 1 }) })], 10);
  expect(sel.labelled.map((l) => l.peer)).toEqual(['937c-97dd', fullFp(k2)]);
});
