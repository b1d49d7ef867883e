/**
 * The sent frame's timestamp from the sender's monotonic read (frame-send.ts numberAndSeal,
 * wall-clock.ts): on the system clock the wall clock is read once per millisecond of monotonic
 * time, not once per datagram — and the frames still carry it (plus the handshake's bias) and
 * are accepted as fresh by the peer. Two real nodes on loopback (the system clock; a
 * ManualClock is read every time, so the simulated worlds' frames are unchanged).
 */
import { createNode } from '../../../src/node/node';
import type { UdpVaultNode } from '../../../src/node/types';
import { Session } from '../../../src/crypto/session';
import { DATA_HEADER_BYTES } from '../../../src/constants';
import { decodeFrame } from '../../../src/wire/frame';
import { expressSent } from '../../../src/engine/native/express';
import { linkOf } from './link-probe';
import { collect, pair, waitFor } from '../../helpers/nodes';
import { bytesOf } from '../../sim/harness';

let a: UdpVaultNode;
let b: UdpVaultNode;
beforeEach(async () => {
  a = await createNode({ port: 0, host: '127.0.0.1', settings: { mtu: 1500 } });
  b = await createNode({ port: 0, host: '127.0.0.1', settings: { mtu: 1500 } });
});
afterEach(async () => {
  jest.restoreAllMocks();
  await a.close();
  await b.close();
});

test('5 express sends in one millisecond: one wall-clock read, every frame stamped with it, all delivered', async () => {
  const atB = collect(b);
  await pair(a, b);
  const link = linkOf(a, 'b');
  await waitFor(() => !link.path.pmtu.searching, 5000, 'the path MTU search'); // no probe goes before the messages
  const session = link.current()!;
  const stamps: number[] = [];
  const seal = Session.prototype.sealInto;
  jest.spyOn(Session.prototype, 'sealInto').mockImplementation(function (this: Session, buf: Uint8Array, frameBytes: number, nowMs: number) {
    if (this === session) stamps.push(decodeFrame(buf.slice(DATA_HEADER_BYTES, DATA_HEADER_BYTES + frameBytes)).t);
    return seal.call(this, buf, frameBytes, nowMs);
  });
  // Monotonic time stands still 5 ms after any earlier read (so the first send reads the wall clock); the wall clock is counted.
  const mono = performance.now() + 5;
  const wall = Date.now();
  jest.spyOn(performance, 'now').mockReturnValue(mono);
  const dateNow = jest.spyOn(Date, 'now').mockReturnValue(wall);
  const express0 = expressSent();
  const sends = [1, 2, 3, 4, 5].map((k) => a.send('b', bytesOf(1024, k)));
  const reads = dateNow.mock.calls.length;
  const viaExpress = expressSent() - express0;
  jest.restoreAllMocks();
  await Promise.all(sends);
  expect(viaExpress).toBe(5);
  expect(reads).toBe(1); // one per datagram before (5)
  expect(stamps).toEqual(Array(5).fill(wall + session.timeBiasMs));
  await waitFor(() => atB.length === 5);
  expect(atB.map((m) => Buffer.from(m.data).equals(bytesOf(1024, atB.indexOf(m) + 1)))).toEqual(Array(5).fill(true)); // incompressible: each fills its own datagram
  expect(b.status().counters.drops.stale ?? 0).toBe(0);
});
