/** The transport's socket lookup (src/net/udp-transport.ts): IP literals answered synchronously, names left to dns.lookup. */
import { literalLookup } from '../../src/net/udp-transport';

test('an IPv4 or IPv6 literal is answered before literalLookup returns (dgram then sends in the same call)', () => {
  const answers: Array<[string, number]> = [];
  literalLookup('127.0.0.1', 4, (err, address, family) => {
    expect(err).toBeNull();
    answers.push([address, family]);
  });
  literalLookup('::1', 6, (err, address, family) => {
    expect(err).toBeNull();
    answers.push([address, family]);
  });
  expect(answers).toEqual([
    ['127.0.0.1', 4],
    ['::1', 6],
  ]);
});

test('a name goes to dns.lookup (asynchronously)', async () => {
  let returned = false;
  let beforeReturn: boolean | null = null;
  const got = await new Promise<[NodeJS.ErrnoException | null, string, number]>((resolve) => {
    literalLookup('localhost', 4, (err, address, family) => {
      beforeReturn = !returned;
      resolve([err, address, family]);
    });
    returned = true;
  });
  expect(beforeReturn).toBe(false);
  expect(got[0]).toBeNull();
  expect(got[1]).toBe('127.0.0.1');
  expect(got[2]).toBe(4);
});
