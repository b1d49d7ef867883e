/** `status` per address family on the simulated network (IPv4-only and IPv6-only nodes). */
import { SimWorld } from './harness';

describe('status reports the largest datagram per address family', () => {
  let w: SimWorld;
  beforeEach(() => {
    w = new SimWorld(5);
  });
  afterEach(async () => {
    await w.closeAll();
  });

  test('an IPv4 node: the IPv4 figure (1500 − 20 − 8), no IPv6 socket', async () => {
    const n = await w.node('127.0.0.2');
    expect(n.status().maxDatagramBytes).toBe(1472);
    expect(n.status().maxDatagramBytesByFamily).toEqual({ ipv4: 1472, ipv6: null });
  });

  test('an IPv6-only node: the IPv6 figure (1500 − 40 − 8), not the IPv4 one', async () => {
    const n = await w.node('fd00::2');
    expect(n.status().maxDatagramBytes).toBe(1452);
    expect(n.status().maxDatagramBytesByFamily).toEqual({ ipv4: null, ipv6: 1452 });
  });

  test('a 9000-byte MTU: the IPv6 figure follows it', async () => {
    const n = await w.node('fd00::3', { settings: { mtu: 9000 } });
    expect(n.status().maxDatagramBytesByFamily).toEqual({ ipv4: null, ipv6: 9000 - 48 });
  });
});
