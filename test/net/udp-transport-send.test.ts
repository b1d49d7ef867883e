/**
 * UdpTransport's send side on real loopback sockets (src/net/udp-transport.ts), the contract the
 * send path's pooled datagram buffers rely on: each `done` is its own datagram's, called once,
 * in call order and never before send() returns — a slot released by a wrong `done` would be
 * resealed while the kernel still has it — a synchronous send error reaches the `done` of the
 * datagram that failed (dgram drops it silently for a send without a callback: issue 12's
 * dgsend17 kept the callback for that), and close() waits for the callbacks owed.
 * (Loopback never queues a send in libuv: the kernel frees the socket's send buffer at once, so
 * even a tiny SO_SNDBUF gives no EAGAIN here.)
 */
import * as dgram from 'node:dgram';
import { UdpTransport } from '../../src/net/udp-transport';
import { releaseDatagram, takeDatagram } from '../../src/engine/native/datagram-pool';

function receiver(): Promise<{ socket: dgram.Socket; got: Buffer[]; port: number }> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const got: Buffer[] = [];
    socket.on('message', (m) => got.push(m));
    socket.bind(0, '127.0.0.1', () => {
      socket.setRecvBufferSize(8 * 1024 * 1024);
      resolve({ socket, got, port: socket.address().port });
    });
  });
}

/** A 1,120-byte datagram whose every 4-byte word is its sequence number. */
function fill(d: Uint8Array, seq: number): void {
  new DataView(d.buffer, d.byteOffset, d.length).setUint32(0, seq);
  for (let i = 4; i + 4 <= d.length; i += 4) new DataView(d.buffer, d.byteOffset, d.length).setUint32(i, seq);
}

async function until(pred: () => boolean): Promise<void> {
  while (!pred()) await new Promise((r) => setImmediate(r));
}

let transport: UdpTransport;
let rx: Awaited<ReturnType<typeof receiver>>;
beforeEach(async () => {
  transport = await UdpTransport.open({ host: '127.0.0.1', port: 0, onMessage: () => undefined, onError: () => undefined });
  rx = await receiver();
});
afterEach(async () => {
  await transport.close();
  await new Promise<void>((r) => rx.socket.close(() => r()));
});

describe('UdpTransport send', () => {
  test("pooled datagrams in bursts: each `done` is its own datagram's, in call order; the bytes received are exactly those sent", async () => {
    const N = 3000;
    const done: number[] = [];
    const errors: (Error | null)[] = [];
    let sent = 0;
    while (sent < N) {
      // 64 per turn, as the send pump; a slot released by a `done` is taken again at once and overwritten.
      for (let k = 0; k < 64 && sent < N; k++, sent++) {
        const seq = sent;
        const d = takeDatagram(1120);
        fill(d, seq);
        expect(
          transport.send(d, rx.port, '127.0.0.1', 4, (err) => {
            done.push(seq);
            errors.push(err);
            releaseDatagram(d);
          }),
        ).toBe(true);
      }
      await new Promise((r) => setImmediate(r));
    }
    await until(() => done.length === N);
    expect(done).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(errors.every((e) => e === null)).toBe(true);
    // Loopback drops only when the receiver's 8 MiB buffer overflows; what arrives must be intact.
    const deadline = Date.now() + 10_000;
    await until(() => rx.got.length === N || Date.now() > deadline);
    expect(rx.got.length).toBeGreaterThan(N / 2);
    const seen = new Set<number>();
    let torn = 0;
    for (const m of rx.got) {
      const seq = m.readUInt32BE(0);
      let whole = m.length === 1120 && seq < N && !seen.has(seq);
      for (let i = 4; whole && i + 4 <= m.length; i += 4) whole = m.readUInt32BE(i) === seq;
      if (!whole) torn++;
      seen.add(seq);
    }
    expect(torn).toBe(0);
  });

  test('a synchronous send error (EMSGSIZE) reaches the `done` of the datagram that failed, between the others', async () => {
    const calls: string[] = [];
    const cb = (name: string) => (err: Error | null): void => void calls.push(`${name} ${(err as NodeJS.ErrnoException | null)?.code ?? 'ok'}`);
    transport.send(Buffer.alloc(100), rx.port, '127.0.0.1', 4, cb('a'));
    transport.send(Buffer.alloc(66_000), rx.port, '127.0.0.1', 4, cb('too-big'));
    transport.send([Buffer.alloc(50), Buffer.alloc(50)], rx.port, '127.0.0.1', 4); // no done
    transport.send(Buffer.alloc(100), rx.port, '127.0.0.1', 4, cb('b'));
    expect(calls).toEqual([]); // never called back before send() returns
    await until(() => calls.length === 3);
    expect(calls).toEqual(['a ok', 'too-big EMSGSIZE', 'b ok']);
    await until(() => rx.got.length === 3);
    expect(rx.got.map((m) => m.length)).toEqual([100, 100, 100]);
  });

  test('close() waits for the callbacks of datagrams already passed to send()', async () => {
    const calls: number[] = [];
    for (let i = 0; i < 200; i++) transport.send(Buffer.alloc(200), rx.port, '127.0.0.1', 4, () => void calls.push(i));
    await transport.close();
    expect(calls).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  test('a family without a socket: false, and no `done`', async () => {
    const t6 = await UdpTransport.open({ host: '::1', port: 0, onMessage: () => undefined, onError: () => undefined });
    let called = false;
    expect(t6.send(Buffer.alloc(10), 9, '127.0.0.1', 4, () => (called = true))).toBe(false);
    await t6.close();
    expect(called).toBe(false);
  });
});
