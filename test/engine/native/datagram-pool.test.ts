/**
 * Pooled datagram buffers (src/engine/native/datagram-pool.ts): a slot is reused only after the
 * transport's callback ran, never while the network still has the bytes; real traffic runs on
 * a handful of slots.
 */
import { randomBytes } from 'node:crypto';
import { datagramPoolStats, releaseDatagram, SLOT_BYTES, takeDatagram } from '../../../src/engine/native/datagram-pool';
import { SealBuffer } from '../../../src/crypto/packet-cipher';
import type { OpenTransport, Transport } from '../../../src/net/transport';
import { SimWorld, messages } from '../../sim/harness';

describe('datagram pool', () => {
  test('slots are reused after release; sizes above a slot are plain allocations, never pooled', () => {
    const a = takeDatagram(1200);
    expect(a.length).toBe(1200);
    expect(a.buffer.byteLength).toBe(SLOT_BYTES);
    releaseDatagram(a);
    const b = takeDatagram(100);
    expect(b.buffer).toBe(a.buffer); // the same slot
    const big = takeDatagram(SLOT_BYTES + 1);
    expect(big.length).toBe(SLOT_BYTES + 1);
    const before = datagramPoolStats().free;
    releaseDatagram(big);
    releaseDatagram(Buffer.alloc(SLOT_BYTES).subarray(1)); // not from the pool: ignored
    expect(datagramPoolStats().free).toBe(before);
    releaseDatagram(b);
  });

  test('a slot taken again for the same length is the same view (its seal views with it); another length is a new view of the slot', () => {
    const a = takeDatagram(1120);
    expect(a).toBeInstanceOf(SealBuffer);
    releaseDatagram(a);
    const b = takeDatagram(1120);
    expect(b).toBe(a);
    releaseDatagram(b);
    const c = takeDatagram(1000);
    expect(c).not.toBe(a);
    expect(c.buffer).toBe(a.buffer);
    expect(c.length).toBe(1000);
    releaseDatagram(c);
  });

  test('two nodes exchanging 3,000 messages: every datagram still holds its sealed bytes when the transport calls back, and a few slots serve them all', async () => {
    const w = new SimWorld(77);
    w.net.link('127.0.0.2', '127.0.0.3', { latencyMs: 3 });
    let checked = 0;
    let changed = 0;
    // A transport that checks, when its callback is due, that the bytes it was given are untouched.
    const guard = (open: OpenTransport): OpenTransport => async (o) => {
      const t = await open(o);
      const wrapped: Transport = {
        host: t.host,
        port: t.port,
        hasFamily: (f) => t.hasFamily(f),
        close: () => t.close(),
        send: (parts, port, address, family, done) => {
          const view = parts as Uint8Array;
          const copy = Buffer.from(view);
          return t.send(parts, port, address, family, (err) => {
            checked++;
            if (!copy.equals(view)) changed++;
            done?.(err);
          });
        },
      };
      return wrapped;
    };
    const a = await w.node('127.0.0.2', {}, guard);
    const b = await w.node('127.0.0.3', {}, guard);
    await w.pair(a, b);
    const made = datagramPoolStats().made;
    const got = messages(b);
    for (let i = 0; i < 3000; i += 100) {
      for (let k = i; k < i + 100; k++) void a.send('b', randomBytes(k % 3 === 0 ? 1000 : 20)); // incompressible
      await w.scheduler.advance(10);
    }
    await w.scheduler.advance(100);
    expect(got).toHaveLength(3000);
    expect(checked).toBeGreaterThan(1000);
    expect(changed).toBe(0);
    expect(datagramPoolStats().made - made).toBeLessThan(checked / 10); // slots reused, not one per datagram
    await w.closeAll();
  });
});
