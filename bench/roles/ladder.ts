/**
 * The ladder (issue 12, dg19): from the floor up to what a datagram-mode protocol needs, one
 * part per rung, each measured in two processes like the contenders (`node dist/bench/hot.js
 * ladder-R-1024`, R = the rung; both processes read it from BENCH_LADDER, which bench/rounds.ts `measure()` passes them; rung 4 is
 * also a reference row of `npm run bench`).
 * Every rung holds the ones below it:
 *
 * 0. the floor with udpvault's own cipher binding: a pooled slot (datagram-pool.ts), the 13-byte
 *    data header (writeDataHeader), an 8-byte frame header and the payload, padded to the
 *    'bucket' size, sealed in place (aead-native.ts, the addon's unchecked call), handed to dgram
 *    with a callback that releases the slot and resolves the send's promise; the receiver opens
 *    in place (the datagram's own buffer) and reads the payload length.
 * 1. + udpvault's frame: the real frame (time, packet number, instance, one item, padding bin)
 *    encoded by encodeFrameInto and decoded by fastDecodeFrame; the receiver's replay window
 *    and one monotonic clock read per datagram, the sender's clock reads per frame.
 * 2. + packet acks: the receiver seals a small ack datagram (a packetAck control naming the
 *    largest number and the count) every ACK_EVERY datagrams and sends it; the sender opens and
 *    decodes each.
 * 3. + the sent-packet record and the window: per datagram a ring entry of plain numbers (send
 *    time, bytes); per ack the entries up to the largest number retire (bytes in flight, an RTT
 *    sample, the window grows as slow start's); a send waits while the window is full (the
 *    blaster parks until an ack makes room).
 * 4. + the application's objects: the receiver emits a `message` event ({ data, from,
 *    receivedAt: Date }) through an EventEmitter to a listener; the sender builds a message
 *    record per send.
 *
 * 5. + a busy wait per message on each side (BENCH_LADDER_SPIN_NS, default 1000 ns): the JavaScript
 *    udpvault's send and receive paths spend per message beyond rung 4 in process (pathcost.js),
 *    to tell that time from what the two-process dynamics add.
 *
 * Rung R + 10: rung R with the sender's hand-offs deferred to the end of each batch (the 64
 * datagrams of a turn sealed first, then handed to dgram back to back).
 *
 * Above the top rung is udpvault itself (uv-dgram-N): what it costs beyond it is its
 * implementation (queues, checks, timers, counters, the general frame paths).
 */
import * as dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { loadNativeAead } from '../../src/crypto/aead-native';
import type { PacketCipher } from '../../src/crypto/packet-cipher';
import { ReplayWindow } from '../../src/crypto/replay';
import { literalLookup } from '../../src/net/udp-transport';
import { paddedSize } from '../../src/wire/padding';
import { readU64, writeDataHeader } from '../../src/wire/packet';
import { encodeFrameInto, encodedFrameBytes, unpaddedFrameBytes, type ControlItem, type Frame, type PayloadItem } from '../../src/wire/frame';
import { fastDecodeFrame } from '../../src/wire/frame-decode';
import { releaseDatagram, takeDatagram } from '../../src/engine/native/datagram-pool';
import type { Command, Hello } from '../protocol';
import { Blaster, Counter, memory, payload, type RoleHandler } from './role';
import { bindLoopback } from './raw';

const HEADER_BYTES = 13;
const TAG_BYTES = 16;
const FRAME_HEADER_BYTES = 8;
const MAX_DATAGRAM = 1472;
/** The receiver's ack spacing (udpvault's thinned acks on loopback: every ~20th). */
export const ACK_EVERY = 20;
/** Ring slots of the sender's record (a power of two, more than a window's datagrams). */
const RING = 1 << 14;
const INITIAL_WINDOW = 64 * 1024;
const MAX_WINDOW = 8 * 1024 * 1024;

/** The rung (BENCH_LADDER modulo 10); from 10 on, the same rung with the turn's datagrams handed to the socket back to back. */
export function ladderRung(): { rung: number; burst: boolean } {
  const r = Number(process.env['BENCH_LADDER'] ?? 0);
  return { rung: r % 10, burst: r >= 10 };
}

/** A random 32-byte key in secure memory and its cipher (both directions use the same key here). */
function makeCipher(hex: string | null): { cipher: PacketCipher; hex: string } {
  const aead = loadNativeAead();
  const k = aead.allocKey();
  if (hex) k.set(Buffer.from(hex, 'hex'));
  else k.set(randomBytes(32));
  return { cipher: aead.cipher(k), hex: Buffer.from(k).toString('hex') };
}

/** The sender's record of datagrams in flight: a ring of plain numbers indexed by packet number. */
class SentRing {
  readonly #at = new Float64Array(RING);
  readonly #bytes = new Uint32Array(RING);
  #lowest = 0; // lowest number not yet acknowledged
  #next = 0;
  inFlight = 0;
  window = INITIAL_WINDOW;
  srtt = 0;
  room(bytes: number): boolean {
    return this.inFlight + bytes <= this.window && this.#next - this.#lowest < RING;
  }
  sent(pn: number, now: number, bytes: number): void {
    const i = pn & (RING - 1);
    this.#at[i] = now;
    this.#bytes[i] = bytes;
    this.inFlight += bytes;
    this.#next = pn + 1;
  }
  /** Retires everything up to `largest` (the receiver's cumulative report). */
  acked(largest: number, now: number): void {
    if (largest < this.#lowest || largest >= this.#next) return;
    let bytes = 0;
    for (let pn = this.#lowest; pn <= largest; pn++) bytes += this.#bytes[pn & (RING - 1)]!;
    const rtt = now - this.#at[largest & (RING - 1)]!;
    this.srtt = this.srtt === 0 ? rtt : this.srtt + (rtt - this.srtt) / 8;
    this.#lowest = largest + 1;
    this.inFlight -= bytes;
    if (this.window < MAX_WINDOW) this.window += bytes; // slow start
  }
}

/** Busy for `ns` nanoseconds (rung 5). */
function spin(ns: number): void {
  const until = performance.now() + ns / 1e6;
  while (performance.now() < until);
}

export function ladderRole(): RoleHandler {
  const { rung, burst } = ladderRung();
  const spinNs = rung >= 5 ? Number(process.env['BENCH_LADDER_SPIN_NS'] ?? 1000) : 0;
  const s = dgram.createSocket({ type: 'udp4', lookup: literalLookup as unknown as dgram.SocketOptions['lookup'] });
  const counter = new Counter();
  const mine = makeCipher(null);
  let peer: PacketCipher | null = null;
  let blaster: Blaster | null = null;
  const replay = new ReplayWindow();
  const ring = new SentRing();
  const events = new EventEmitter();
  if (rung >= 4) events.on('message', (m: { data: Uint8Array }) => counter.add(m.data.length));
  // The receiver's ack: a frame with one packetAck control (largest number, count), sealed with our key.
  const ackBody = new Uint8Array(12);
  const ackControls: ControlItem[] = [{ type: 'packetAck', ack: ackBody }];
  const ackFrame: Frame = { t: 0, n: 0, i: 7, p: [], c: ackControls };
  let acksOut = 0;
  let received = 0;
  let largestIn = -1;
  let ackCtr = 0;
  const ackSent = (): void => undefined;
  const sendAck = (port: number): void => {
    ackBody[0] = 0;
    new DataView(ackBody.buffer).setFloat64(0, largestIn);
    new DataView(ackBody.buffer).setUint32(8, received);
    ackFrame.t = Date.now();
    ackFrame.n = ackCtr;
    const base = unpaddedFrameBytes(ackFrame);
    const target = paddedSize(HEADER_BYTES + base + TAG_BYTES, MAX_DATAGRAM, 'bucket') - HEADER_BYTES - TAG_BYTES;
    const n = encodedFrameBytes(ackFrame, target, base);
    const b = Buffer.allocUnsafe(HEADER_BYTES + n + TAG_BYTES);
    writeDataHeader(b, 2, ackCtr++);
    encodeFrameInto(ackFrame, target, b, HEADER_BYTES, base);
    mine.cipher.seal(b, HEADER_BYTES, n);
    s.send(b, port, '127.0.0.1', ackSent);
    acksOut++;
  };
  // The sender's side of the acks.
  const onAck = (d: Buffer): void => {
    if (!peer || rung < 2) return;
    const plain = new Uint8Array(d.buffer, d.byteOffset + HEADER_BYTES, d.length - HEADER_BYTES - TAG_BYTES);
    if (!peer.open(d, HEADER_BYTES, plain)) return;
    const f = fastDecodeFrame(plain);
    if (!f) return;
    for (const c of f.c) {
      if (c.type !== 'packetAck' || rung < 3) continue;
      const largest = new DataView(c.ack.buffer, c.ack.byteOffset, c.ack.length).getFloat64(0);
      ring.acked(largest, performance.now());
    }
    if (rung >= 3) blaster?.resume();
  };
  s.on('message', (d: Buffer, rinfo: dgram.RemoteInfo) => {
    if (!peer) return;
    if (d.length < 200) return onAck(d); // an ack (the data datagrams are ~1.1 KB)
    const counterIn = readU64(d, 5);
    if (rung >= 1 && !replay.wouldAccept(counterIn)) return;
    const plain = new Uint8Array(d.buffer, d.byteOffset + HEADER_BYTES, d.length - HEADER_BYTES - TAG_BYTES);
    if (!peer.open(d, HEADER_BYTES, plain)) return;
    if (rung === 0) {
      counter.add(((plain[0]! << 24) | (plain[1]! << 16) | (plain[2]! << 8) | plain[3]!) >>> 0);
      return;
    }
    const now = performance.now();
    if (!replay.accept(counterIn)) return;
    const f = fastDecodeFrame(plain);
    if (!f || f.p.length !== 1) return;
    if (f.n > largestIn) largestIn = f.n;
    received++;
    if (rung >= 2 && received % ACK_EVERY === 0) sendAck(rinfo.port);
    const item = f.p[0]!;
    if (spinNs > 0) spin(spinNs);
    if (rung >= 4) events.emit('message', { data: item.data, from: `${rinfo.address}:${rinfo.port}`, receivedAt: new Date(Date.now()), at: now });
    else counter.add(item.data.length);
  });
  return {
    async init(): Promise<Hello> {
      return { port: await bindLoopback(s), key: mine.hex };
    },
    async handle(c: Command): Promise<unknown> {
      switch (c.cmd) {
        case 'connect':
          peer = makeCipher(c.key).cipher;
          return { ms: 0, mtu: null };
        case 'count':
          counter.start();
          acksOut = 0;
          return {};
        case 'report':
          return { ...counter.stop(), acksOut, srtt: ring.srtt, window: ring.window };
        case 'blast': {
          const data = payload(c.size);
          const item: PayloadItem = { flags: 0, data };
          const frame: Frame = { t: 0, n: 0, i: 7, p: [item], c: [] };
          const base = unpaddedFrameBytes(frame);
          const plainBytes0 = paddedSize(HEADER_BYTES + FRAME_HEADER_BYTES + c.size + TAG_BYTES, MAX_DATAGRAM, 'bucket') - HEADER_BYTES - TAG_BYTES;
          const target = paddedSize(HEADER_BYTES + base + 8 + TAG_BYTES, MAX_DATAGRAM, 'bucket') - HEADER_BYTES - TAG_BYTES; // + room for a larger n and t
          let ctr = 0;
          let pn = 0;
          const send = (port: number): Promise<void> =>
            new Promise<void>((resolve, reject) => {
              let plainBytes = plainBytes0;
              let b: Uint8Array;
              if (rung === 0) {
                b = takeDatagram(HEADER_BYTES + plainBytes + TAG_BYTES);
                b[HEADER_BYTES] = data.length >>> 24;
                b[HEADER_BYTES + 1] = (data.length >>> 16) & 0xff;
                b[HEADER_BYTES + 2] = (data.length >>> 8) & 0xff;
                b[HEADER_BYTES + 3] = data.length & 0xff;
                b.set(data, HEADER_BYTES + FRAME_HEADER_BYTES);
                b.fill(0, HEADER_BYTES + FRAME_HEADER_BYTES + data.length, HEADER_BYTES + plainBytes);
              } else {
                frame.t = Date.now();
                frame.n = pn;
                plainBytes = encodedFrameBytes(frame, target);
                b = takeDatagram(HEADER_BYTES + plainBytes + TAG_BYTES);
                encodeFrameInto(frame, target, b, HEADER_BYTES);
              }
              if (spinNs > 0) spin(spinNs);
              writeDataHeader(b, 1, ctr++);
              mine.cipher.seal(b, HEADER_BYTES, plainBytes);
              if (rung >= 3) ring.sent(pn, performance.now(), b.length);
              pn++;
              const record = rung >= 4 ? { data, resolve, reject } : null;
              const done = (err: Error | null): void => {
                releaseDatagram(b);
                if (err) (record ?? { reject }).reject(err);
                else (record ?? { resolve }).resolve();
              };
              if (burst) {
                pendingBytes.push(b);
                pendingDone.push(done);
              } else s.send(b, port, '127.0.0.1', done);
            });
          const pendingBytes: Uint8Array[] = [];
          const pendingDone: ((err: Error | null) => void)[] = [];
          const handOff = (port: number): void => {
            for (let i = 0; i < pendingBytes.length; i++) s.send(pendingBytes[i]!, port, '127.0.0.1', pendingDone[i]!);
            pendingBytes.length = 0;
            pendingDone.length = 0;
          };
          const ignore = (): void => undefined;
          const wire = plainBytes0 + HEADER_BYTES + TAG_BYTES + 16;
          blaster = new Blaster(() => {
            for (let i = 0; i < c.batch; i++) {
              if (rung >= 3 && !ring.room(wire)) {
                handOff(c.port);
                return false;
              }
              send(c.port).catch(ignore);
            }
            handOff(c.port);
            return true;
          });
          blaster.start();
          return {};
        }
        case 'stop':
          blaster?.stop();
          return {};
        case 'rss':
          return memory();
        default:
          throw new Error(`ladder: no command ${c.cmd}`);
      }
    },
  };
}
