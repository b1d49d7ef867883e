/**
 * The dgram transport's receive contract (src/net/udp-transport.ts, net/transport.ts): each
 * datagram is handed over positionally — its own bytes, the canonical source address, the
 * source port — with no object built per datagram; IPv4-mapped IPv6 addresses are unmapped.
 */
import * as dgram from 'node:dgram';
import { canonicalAddress } from '../../src/net/transport';
import { UdpTransport } from '../../src/net/udp-transport';

type Got = { args: unknown[] };

function sendFrom(type: 'udp4' | 'udp6', host: string, bytes: Buffer, port: number, to: string): Promise<number> {
  const s = dgram.createSocket(type);
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, host, () => {
      const from = s.address().port;
      s.send(bytes, port, to, (err) => {
        s.close();
        if (err) reject(err);
        else resolve(from);
      });
    });
  });
}

function until(got: Got[], n: number): Promise<void> {
  return new Promise((resolve) => {
    const poll = (): void => (got.length >= n ? resolve() : void setImmediate(poll));
    poll();
  });
}

test('canonicalAddress unmaps an IPv4-mapped IPv6 address and leaves every other address as it is', () => {
  expect(canonicalAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
  expect(canonicalAddress('::ffff:10.1.2.3')).toBe('10.1.2.3');
  expect(canonicalAddress('::1')).toBe('::1');
  expect(canonicalAddress('::ffff:1.2.3')).toBe('::ffff:1.2.3'); // not an IPv4 address after the prefix
  expect(canonicalAddress('::ffff:abcd::1')).toBe('::ffff:abcd::1');
  expect(canonicalAddress('127.0.0.1')).toBe('127.0.0.1');
});

test('a datagram reaches onMessage as (bytes, address, port) from the IPv4 and the IPv6 socket, each in its own memory', async () => {
  const got: Got[] = [];
  const t = await UdpTransport.open({ host: '127.0.0.1', port: 0, onMessage: (...args: unknown[]) => void got.push({ args }), onError: (e) => { throw e; } });
  try {
    const v4 = Buffer.from([0x40, 1, 2, 3, 4, 5]);
    const from4 = await sendFrom('udp4', '127.0.0.1', v4, t.port, '127.0.0.1');
    await until(got, 1);
    expect(got[0]!.args).toEqual([v4, '127.0.0.1', from4]);
    expect(got[0]!.args).toHaveLength(3);
    const data4 = got[0]!.args[0] as Buffer;
    expect(Buffer.isBuffer(data4)).toBe(true);
    if (t.hasFamily(6)) {
      const v6 = Buffer.from([0x41, 9, 8, 7]);
      const from6 = await sendFrom('udp6', '::1', v6, t.port, '::1');
      await until(got, 2);
      expect(got[1]!.args).toEqual([v6, '::1', from6]);
      expect((got[1]!.args[0] as Buffer).buffer).not.toBe(data4.buffer); // handed over: never the same memory twice
    }
  } finally {
    await t.close();
  }
});
