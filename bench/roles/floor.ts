/**
 * The floor of any encrypted datagram design on Node's dgram + sodium-native (issue 12, dg14):
 * raw dgram plus only what udpvault's contract cannot avoid. Sender: per message, a pooled
 * buffer, a 13-byte data header (type, receiver id, counter — the AD and the nonce's counter),
 * the payload copied in after a small frame header, the datagram padded as udpvault's 'bucket'
 * policy pads it, sealed in place (ChaCha20-Poly1305-IETF, as udpvault's native path), handed
 * to the kernel with synchronous address handling, and one promise per send resolved from the
 * send callback (the buffer goes back to the pool there). Receiver: one open into a pooled
 * plaintext slab per datagram. No framing logic, no queue, no acks, no congestion control.
 */
import * as dgram from 'node:dgram';
import { sodiumNative } from '../../src/crypto/native-lib';
import { literalLookup } from '../../src/net/udp-transport';
import { paddedSize } from '../../src/wire/padding';
import type { Command, Hello } from '../protocol';
import { Blaster, Counter, memory, payload, type RoleHandler } from './role';
import { bindLoopback } from './raw';

const HEADER_BYTES = 13;
const TAG_BYTES = 16;
/** A frame's own bytes before the payload (type, flags, length: about udpvault's). */
const FRAME_HEADER_BYTES = 8;
const SLOT_BYTES = 2048;
const NONCE = new Uint8Array(12);

function nonceOf(b: Uint8Array): Uint8Array {
  for (let i = 0; i < 8; i++) NONCE[4 + i] = b[5 + i]!;
  return NONCE;
}

type Na = NonNullable<ReturnType<typeof sodiumNative>>;

/**
 * Writes datagram `ctr` into `b` (≥ 29 + plainBytes bytes): header (type 4, receiver id 1, the
 * counter), frame header (payload length, 4 zero bytes), the payload, zero padding up to
 * `plainBytes`, sealed in place with the tag after it. Returns the datagram's length.
 */
export function sealFloorDatagram(na: Na, key: Uint8Array, b: Buffer, ctr: number, data: Uint8Array, plainBytes: number): number {
  b[0] = 4;
  b.writeUInt32BE(1, 1);
  b.writeUInt32BE(Math.floor(ctr / 0x100000000), 5);
  b.writeUInt32BE(ctr >>> 0, 9);
  b.writeUInt32BE(data.length, HEADER_BYTES);
  b.writeUInt32BE(0, HEADER_BYTES + 4);
  b.set(data, HEADER_BYTES + FRAME_HEADER_BYTES);
  b.fill(0, HEADER_BYTES + FRAME_HEADER_BYTES + data.length, HEADER_BYTES + plainBytes);
  const { buffer, byteOffset: at } = b;
  na.crypto_aead_chacha20poly1305_ietf_encrypt(
    new Uint8Array(buffer, at + HEADER_BYTES, plainBytes + TAG_BYTES),
    new Uint8Array(buffer, at + HEADER_BYTES, plainBytes),
    new Uint8Array(buffer, at, HEADER_BYTES),
    null,
    nonceOf(b),
    key,
  );
  return HEADER_BYTES + plainBytes + TAG_BYTES;
}

/** Opens a floor datagram into `plain`; returns its payload length, or -1 when it does not authenticate. */
export function openFloorDatagram(na: Na, key: Uint8Array, d: Uint8Array, plain: Uint8Array): number {
  if (d.length < HEADER_BYTES + TAG_BYTES) return -1;
  const { buffer, byteOffset: at, length } = d;
  try {
    na.crypto_aead_chacha20poly1305_ietf_decrypt(
      new Uint8Array(plain.buffer, plain.byteOffset, length - HEADER_BYTES - TAG_BYTES),
      null,
      new Uint8Array(buffer, at + HEADER_BYTES, length - HEADER_BYTES),
      new Uint8Array(buffer, at, HEADER_BYTES),
      nonceOf(d),
      key,
    );
  } catch {
    return -1;
  }
  return ((plain[0]! << 24) | (plain[1]! << 16) | (plain[2]! << 8) | plain[3]!) >>> 0; // the frame's payload length
}

export function floorRole(): RoleHandler {
  const na = sodiumNative();
  if (!na) throw new Error('floor: sodium-native did not load');
  const s = dgram.createSocket({ type: 'udp4', lookup: literalLookup as unknown as dgram.SocketOptions['lookup'] });
  const counter = new Counter();
  const key = new Uint8Array(32);
  globalThis.crypto.getRandomValues(key);
  let peerKey: Uint8Array | null = null;
  let blaster: Blaster | null = null;
  // Receiver: plaintexts land in one reused buffer (the counter only reads the payload length).
  const plain = new Uint8Array(SLOT_BYTES);
  s.on('message', (d: Buffer) => {
    if (!peerKey) return;
    const n = openFloorDatagram(na, peerKey, d, plain);
    if (n >= 0) counter.add(n);
  });
  return {
    async init(): Promise<Hello> {
      return { port: await bindLoopback(s), key: Buffer.from(key).toString('hex') };
    },
    async handle(c: Command): Promise<unknown> {
      switch (c.cmd) {
        case 'connect':
          peerKey = Uint8Array.from(Buffer.from(c.key, 'hex'));
          return { ms: 0, mtu: null };
        case 'count':
          counter.start();
          return {};
        case 'report':
          return counter.stop();
        case 'blast': {
          const data = payload(c.size);
          const plainBytes = paddedSize(HEADER_BYTES + FRAME_HEADER_BYTES + c.size + TAG_BYTES, 1472, 'bucket') - HEADER_BYTES - TAG_BYTES;
          const datagramBytes = HEADER_BYTES + plainBytes + TAG_BYTES;
          const free: Buffer[] = [];
          let ctr = 0;
          const send = (port: number): Promise<void> =>
            new Promise<void>((resolve, reject) => {
              const b = free.pop() ?? Buffer.allocUnsafeSlow(SLOT_BYTES);
              const { buffer, byteOffset: at } = b;
              sealFloorDatagram(na, key, b, ++ctr, data, plainBytes);
              s.send(new Uint8Array(buffer, at, datagramBytes), port, '127.0.0.1', (err) => {
                free.push(b);
                if (err) reject(err);
                else resolve();
              });
            });
          const ignore = (): void => undefined;
          blaster = new Blaster(() => {
            for (let i = 0; i < c.batch; i++) send(c.port).catch(ignore);
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
          throw new Error(`floor: no command ${c.cmd}`);
      }
    },
  };
}
