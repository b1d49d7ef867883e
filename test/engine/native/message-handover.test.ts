/**
 * The send callback of a sealed datagram (src/engine/native/hand-over.ts, used by frame-send.ts
 * sendFrame and sendMessageFrame): reused once its callback ran, so a flow of sends makes a
 * handful of callback objects, not one closure per datagram — and each datagram still settles
 * what rode in it: its messages resolved and counted once handed over, rejected
 * (ERR_PEER_UNREACHABLE) when the network refused it, with no cross-talk between the datagrams
 * sharing an object.
 */
import { SimWorld, bytesOf, watch } from '../../sim/harness';
import { expressSent } from '../../../src/engine/native/express';
import { handOverStats } from '../../../src/engine/native/hand-over';
import type { OpenTransport } from '../../../src/net/transport';
import type { UdpVaultNode } from '../../../src/index';

const A = '10.7.0.1';
const B = '10.7.0.2';

/** A 1 KiB message's datagram is 1088–1120 bytes (padded to its bucket); the path MTU probes are larger (1252 and up). */
const PROBE_MIN_BYTES = 1200;
/** Two 64-byte messages in one frame of the pump, padded to its bucket. */
const PUMP_FRAME_BYTES = 256;

type Done = (err: Error | null) => void;

/** a's transport, recording each data datagram's callback; `failNext` makes the next N sends fail in their callback. */
function recorder(records: (bytes: number) => boolean = (len) => len > 1000 && len < PROBE_MIN_BYTES): { wrap: (open: OpenTransport) => OpenTransport; callbacks: Done[]; failNext: number } {
  const r = {
    callbacks: [] as Done[],
    failNext: 0,
    wrap: (open: OpenTransport): OpenTransport => async (o) => {
      const t = await open(o);
      return {
        get host() { return t.host; },
        get port() { return t.port; },
        hasFamily: (f) => t.hasFamily(f),
        close: () => t.close(),
        send: (parts, port, address, family, done) => {
          const len = Array.isArray(parts) ? 0 : (parts as Uint8Array).length;
          if (done && records(len)) {
            r.callbacks.push(done);
            if (r.failNext > 0) {
              r.failNext--;
              // The network refused it after taking it (the callback's error), as dgram reports an EPERM.
              const e = Object.assign(new Error('refused'), { code: 'EPERM' });
              setImmediate(() => done(e));
              return true;
            }
          }
          return t.send(parts, port, address, family, done);
        },
      };
    },
  };
  return r;
}

/** Messages a counted as sent: the node's counter and its peer's (both moved by the callback). */
function out(n: UdpVaultNode): number[] {
  return [n.status().counters.messagesOut, n.peers()[0]!.counters.messagesOut];
}

async function pairWith(w: SimWorld, wrap: (open: OpenTransport) => OpenTransport, wrapB?: (open: OpenTransport) => OpenTransport): Promise<[UdpVaultNode, UdpVaultNode]> {
  const a = await w.node(A, {}, wrap);
  const b = await w.node(B, {}, wrapB);
  await w.pair(a, b);
  return [a, b];
}

describe('the reused send callback', () => {
  test('40 messages sent one per turn: every one by the express path, resolved and counted, on 1 callback object; the lone acks answering them on 1 too', async () => {
    const w = new SimWorld(31);
    const rec = recorder();
    const acks = recorder((len) => len === 128); // b's lone acks (the pump: sendFrame), padded to 128 bytes
    try {
      const [a, b] = await pairWith(w, rec.wrap, acks.wrap);
      const acks0 = acks.callbacks.length;
      let got = 0;
      b.on('message', () => got++);
      const made0 = handOverStats().made;
      const out0 = out(a);
      const express0 = expressSent();
      const sends = [];
      for (let k = 0; k < 40; k++) {
        sends.push(watch(a.send('b', bytesOf(1024, k))));
        await w.scheduler.advance(1);
      }
      await w.scheduler.advance(100);
      expect(expressSent() - express0).toBe(40);
      expect(sends.map((s) => s.state)).toEqual(Array(40).fill('resolved'));
      expect(out(a).map((v, k) => v - out0[k]!)).toEqual([40, 40]);
      expect(got).toBe(40);
      expect(rec.callbacks.length).toBe(40);
      // One object served them all (a closure per message before: 40 distinct functions).
      expect(new Set(rec.callbacks).size).toBe(1);
      // b's lone acks in the meantime: one object too (sendFrame's closure per datagram before).
      const lone = acks.callbacks.slice(acks0);
      expect(lone.length).toBeGreaterThanOrEqual(10);
      expect(new Set(lone).size).toBe(1);
      expect(handOverStats().made - made0).toBeLessThanOrEqual(2);
    } finally {
      await w.closeAll();
    }
  });

  test("a refused datagram rejects its own message only; the object serves the next message, which resolves", async () => {
    const w = new SimWorld(32);
    const rec = recorder();
    try {
      const [a] = await pairWith(w, rec.wrap);
      const out0 = out(a);
      const express0 = expressSent();
      rec.failNext = 1;
      const first = watch(a.send('b', bytesOf(1024, 1)));
      await w.scheduler.advance(1);
      const second = watch(a.send('b', bytesOf(1024, 2)));
      await w.scheduler.advance(50);
      expect(expressSent() - express0).toBe(2);
      expect(first.state).toBe('rejected');
      expect((first.error as { code?: string }).code).toBe('ERR_PEER_UNREACHABLE');
      expect(String((first.error as Error).message)).toContain('(EPERM)');
      expect(second.state).toBe('resolved');
      expect(out(a).map((v, k) => v - out0[k]!)).toEqual([1, 1]); // the refused one is not counted
      expect(rec.callbacks.length).toBe(2);
      expect(rec.callbacks[1]).toBe(rec.callbacks[0]); // the same object, reused after the refusal
    } finally {
      await w.closeAll();
    }
  });

  test('messages sent in one turn each hold their own object until their callback ran', async () => {
    const w = new SimWorld(33);
    const rec = recorder();
    try {
      const [a] = await pairWith(w, rec.wrap);
      const express0 = expressSent();
      const sends = [watch(a.send('b', bytesOf(1024, 1))), watch(a.send('b', bytesOf(1024, 2))), watch(a.send('b', bytesOf(1024, 3)))];
      const inTurn = expressSent() - express0;
      await w.scheduler.advance(50);
      expect(inTurn).toBe(3);
      expect(sends.map((s) => s.state)).toEqual(['resolved', 'resolved', 'resolved']);
      expect(new Set(rec.callbacks).size).toBe(3); // in flight together: three objects
    } finally {
      await w.closeAll();
    }
  });

  test("a pump's frame of two messages: refused in its callback, both rejected; the object then settles the next frame's two", async () => {
    const w = new SimWorld(34);
    const rec = recorder((len) => len === PUMP_FRAME_BYTES);
    try {
      const [a] = await pairWith(w, rec.wrap);
      await w.scheduler.advance(1_000);
      const out0 = out(a);
      rec.failNext = 1;
      const first = [watch(a.send('b', bytesOf(64, 1))), watch(a.send('b', bytesOf(64, 2)))];
      await w.scheduler.advance(50);
      const second = [watch(a.send('b', bytesOf(64, 3))), watch(a.send('b', bytesOf(64, 4)))];
      await w.scheduler.advance(50);
      expect(first.map((s) => s.state)).toEqual(['rejected', 'rejected']);
      for (const s of first) expect((s.error as { code?: string }).code).toBe('ERR_PEER_UNREACHABLE');
      expect(second.map((s) => s.state)).toEqual(['resolved', 'resolved']);
      expect(out(a).map((v, k) => v - out0[k]!)).toEqual([2, 2]); // the refused two are not counted
      expect(rec.callbacks.length).toBe(2); // one datagram per turn, each carrying both messages
      expect(rec.callbacks[1]).toBe(rec.callbacks[0]);
    } finally {
      await w.closeAll();
    }
  });
});
