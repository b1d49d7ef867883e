/**
 * A raw dgram peer that speaks vault-v2 the way the reference (py-vault-udp) does: it listens
 * on its announced port and sends from other, random source ports. Built with the codec and its
 * own keys; used to test a live node's vault-v2 mode.
 */
import * as dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../../src/runtime/clock';
import { boxKeypair, signKeypair, type KeyPair } from '../../src/crypto/sodium';
import { encodeKey } from '../../src/crypto/identity';
import {
  VaultV2NonceCache,
  buildAnnouncement,
  buildPaddedBody,
  classify,
  decodeBody,
  decodePayload,
  encodePayloadText,
  openEnvelope,
  parseAnnouncement,
  sealEnvelope,
  type VaultV2Announcement,
  type VaultV2Body,
} from '../../src/compat/vault-v2-codec';
import { waitFor } from './nodes';

export const MTU = 1500;
const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n));

export interface RawReceived {
  data: Buffer;
  port: number;
}

function bindSocket(): Promise<dgram.Socket> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
}

/** Call after sodiumReady(). */
export class RawV2Peer {
  readonly sign: KeyPair = signKeypair();
  readonly enc: KeyPair = boxKeypair();
  readonly received: RawReceived[] = [];
  readonly seen = new VaultV2NonceCache();
  #sockets: dgram.Socket[];

  private constructor(sockets: dgram.Socket[]) {
    this.#sockets = sockets;
    sockets[0]!.on('message', (data, r) => this.received.push({ data, port: r.port }));
  }

  static async open(): Promise<RawV2Peer> {
    return new RawV2Peer(await Promise.all([bindSocket(), bindSocket(), bindSocket()]));
  }

  get keyString(): string {
    return encodeKey(this.sign.publicKey);
  }

  /** The announced (listening) port. */
  get port(): number {
    return this.#sockets[0]!.address().port;
  }

  /** Source port of sending socket i (1 or 2: never the announced port). */
  sourcePort(i: 1 | 2): number {
    return this.#sockets[i]!.address().port;
  }

  announcementBody(o: { port?: number; sign?: KeyPair; encPk?: Uint8Array } = {}): Uint8Array {
    const sign = o.sign ?? this.sign;
    const c = buildAnnouncement({ encPk: o.encPk ?? this.enc.publicKey, signPk: sign.publicKey, signSk: sign.privateKey, port: o.port ?? this.port });
    return buildPaddedBody({ c }, MTU, random);
  }

  payloadBody(text: string): Uint8Array {
    return buildPaddedBody({ p: encodePayloadText(text) }, MTU, random);
  }

  /**
   * An envelope as the reference seals it: a random 24-byte nonce first, so 7 in 256 start with
   * a native type byte (0x41–0x47) and take the node's native path first. `nonceFirstByte`
   * fixes that byte (a test of an unauthenticated envelope must: the node counts one of those
   * under the native path's reason, not authFailure).
   */
  seal(body: Uint8Array, nodeEncPk: Uint8Array, clock: Clock = systemClock, encSk: Uint8Array = this.enc.privateKey, nonceFirstByte?: number): Uint8Array {
    const rand =
      nonceFirstByte === undefined
        ? random
        : (n: number): Uint8Array => {
            const r = random(n);
            if (n === 24) r[0] = nonceFirstByte;
            return r;
          };
    const sealed = sealEnvelope(body, { receiverEncPk: nodeEncPk, senderEncSk: encSk, clock, random: rand });
    if (nonceFirstByte !== undefined && sealed[0] !== nonceFirstByte) throw new Error('the nonce is not the first byte of the envelope');
    return sealed;
  }

  /** Sends from source socket i (1 or 2) to the node's port. */
  send(bytes: Uint8Array, nodePort: number, from: 1 | 2 = 1): Promise<void> {
    return new Promise((resolve, reject) => this.#sockets[from]!.send(bytes, nodePort, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  }

  /** Waits for the next received datagram after index `from` matching `pred`. */
  async next(from: number, pred: (r: RawReceived) => boolean = () => true, what = 'a datagram from the node'): Promise<RawReceived> {
    let found: RawReceived | undefined;
    await waitFor(() => (found = this.received.slice(from).find(pred)) !== undefined, 20_000, what); // a bound for a stall only (a loaded machine)
    return found!;
  }

  /** Parses a plaintext announcement datagram (throws if it is not one). */
  static announcementOf(r: RawReceived): { body: Uint8Array; ann: VaultV2Announcement } {
    const k = classify(r.data);
    if (k.kind !== 'plaintext' || k.body.c.length === 0) throw new Error('not a plaintext announcement');
    return { body: r.data, ann: parseAnnouncement(k.body.c) };
  }

  static isPlainAnnouncement(r: RawReceived): boolean {
    try {
      RawV2Peer.announcementOf(r);
      return true;
    } catch {
      return false;
    }
  }

  /** Opens an encrypted datagram from the node; returns the body and the payload text. */
  open(r: RawReceived, nodeEncPk: Uint8Array): { body: Uint8Array; fields: VaultV2Body; text: string } {
    const body = openEnvelope(r.data, { senderEncPk: nodeEncPk, receiverEncSk: this.enc.privateKey, clock: systemClock, seen: this.seen });
    const fields = decodeBody(body);
    return { body, fields, text: new TextDecoder().decode(decodePayload(fields.p, 1 << 20)) };
  }

  async close(): Promise<void> {
    await Promise.all(this.#sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
