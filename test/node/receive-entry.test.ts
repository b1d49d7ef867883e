/**
 * The receive entry (node.ts → dispatch.ts → engine.ts → receive.ts) takes a datagram
 * positionally (bytes, address, port), as the transport hands it over: a data datagram is routed
 * by the 4-byte receiver index in its header; an unknown index is one counted drop.
 */
import { SimWorld, messages } from '../sim/harness';
import type { OpenTransport } from '../../src/net/transport';
import { TYPE_DATA } from '../../src/constants';

const A = '127.0.0.2';
const B = '127.0.0.3';

test('data is delivered from the positional entry with its source; an unknown receiver index is exactly one unknownSession drop', async () => {
  const w = new SimWorld(21);
  w.net.link(A, B, { latencyMs: 5 });
  let handler: ((data: Buffer, address: string, port: number) => void) | null = null;
  let last: { data: Buffer; address: string; port: number } | null = null;
  const capture = (open: OpenTransport): OpenTransport => async (o) =>
    open({
      ...o,
      onMessage: (data, address, port) => {
        handler = o.onMessage;
        if (data[0] === TYPE_DATA) last = { data: Buffer.from(data), address, port }; // a copy: the node decrypts in place
        o.onMessage(data, address, port);
      },
    });
  const a = await w.node(A);
  const b = await w.node(B, {}, capture);
  await w.pair(a, b);
  const got = messages(b);
  const body = w.random.bytes(1000);
  void a.send('b', body);
  expect(await w.scheduler.runUntil(() => got.length === 1, 5_000)).toBe(true);
  expect(Buffer.from(got[0]!.data).equals(Buffer.from(body))).toBe(true);
  expect(last!.address).toBe(A);
  expect(got[0]!.addr).toBe(`${A}:${last!.port}`);

  // The same datagram with another receiver index: no session has it (the pair has one each way).
  const forged = Buffer.from(last!.data);
  const sid = forged.readUInt32BE(1);
  forged.writeUInt32BE((sid + 1) >>> 0, 1);
  const before = b.status().counters;
  const unknownBefore = before.drops.unknownSession ?? 0;
  handler!(forged, last!.address, last!.port);
  const after = b.status().counters;
  expect(after.drops.unknownSession).toBe(unknownBefore + 1);
  expect(after.packetsIn).toBe(before.packetsIn + 1);
  expect(after.bytesIn).toBe(before.bytesIn + forged.length);
  expect(after.messagesIn).toBe(before.messagesIn);
  expect({ ...after.drops, unknownSession: 0 }).toEqual({ ...before.drops, unknownSession: 0 });
  await w.closeAll();
});
