/**
 * The generic Noise HandshakeState against the published cacophony vectors for
 * Noise_IK_25519_ChaChaPoly_BLAKE2b and Noise_XX_25519_ChaChaPoly_BLAKE2b (every handshake and
 * transport message byte and the handshake hash), plus transactional reads and wiping.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chachaPolyDecrypt, chachaPolyEncrypt, scalarmultBase, sodiumReady } from '../../../src/crypto/sodium';
import { HandshakeState, IK, NoiseError, XX, type DhKeyPair, type HandshakePattern } from '../../../src/crypto/noise/handshake-state';
import { noiseWorkView } from '../../../src/crypto/noise/symmetric-state';
import { SeededRandom } from '../../../src/runtime/random';
import { eachBackend } from '../each-backend';

interface Vector {
  protocol_name: string;
  init_prologue: string;
  init_static: string;
  init_ephemeral: string;
  init_remote_static?: string;
  resp_static: string;
  resp_ephemeral: string;
  handshake_hash: string;
  messages: { payload: string; ciphertext: string }[];
}
const file = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'fixtures', 'noise-cacophony-vectors.json'), 'utf8')) as { vectors: Vector[] };
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const kp = (sk: string): DhKeyPair => ({ privateKey: unhex(sk), publicKey: scalarmultBase(unhex(sk)) });

eachBackend(() => {
  beforeAll(sodiumReady);

  /** Transport messages after the handshake: ChaChaPoly with nonce 0^4 ‖ u64le(n), empty AD. */
  function transport(key: Uint8Array, n: number, pt: Uint8Array): Uint8Array {
    const nonce = new Uint8Array(12);
    nonce[4] = n;
    return chachaPolyEncrypt(pt, new Uint8Array(0), nonce, key);
  }

  describe.each([
    ['Noise_IK_25519_ChaChaPoly_BLAKE2b', IK],
    ['Noise_XX_25519_ChaChaPoly_BLAKE2b', XX],
  ] as [string, HandshakePattern][])('%s cacophony vector', (name, pattern) => {
    test('every message byte, the handshake hash and the transport messages', () => {
      const v = file.vectors.find((x) => x.protocol_name === name)!;
      expect(v).toBeDefined();
      const respStatic = kp(v.resp_static);
      const i = new HandshakeState({ pattern, initiator: true, prologue: unhex(v.init_prologue), s: kp(v.init_static), e: kp(v.init_ephemeral), ...(pattern === IK ? { rs: respStatic.publicKey } : {}) });
      const r = new HandshakeState({ pattern, initiator: false, prologue: unhex(v.init_prologue), s: respStatic, e: kp(v.resp_ephemeral) });
      const n = pattern.messages.length;
      for (let m = 0; m < n; m++) {
        const [w, rd] = m % 2 === 0 ? [i, r] : [r, i];
        const msg = w.writeMessage(unhex(v.messages[m]!.payload));
        expect(hex(msg)).toBe(v.messages[m]!.ciphertext);
        expect(hex(rd.readMessage(msg))).toBe(v.messages[m]!.payload);
      }
      expect(hex(i.handshakeHash)).toBe(v.handshake_hash);
      expect(hex(r.handshakeHash)).toBe(v.handshake_hash);
      const ik = i.split();
      const rk = r.split();
      expect(hex(ik.sendKey)).toBe(hex(rk.recvKey));
      expect(hex(ik.recvKey)).toBe(hex(rk.sendKey));
      const counters = { i: 0, r: 0 };
      for (let m = n; m < v.messages.length; m++) {
        // Cacophony continues the turn order: after an odd-length pattern the responder sends next.
        const fromInitiator = m % 2 === 0;
        const key = fromInitiator ? ik.sendKey : rk.sendKey;
        const c = fromInitiator ? counters.i++ : counters.r++;
        const ct = transport(key, c, unhex(v.messages[m]!.payload));
        expect(hex(ct)).toBe(v.messages[m]!.ciphertext);
        const nonce = new Uint8Array(12);
        nonce[4] = c;
        expect(hex(chachaPolyDecrypt(ct, new Uint8Array(0), nonce, fromInitiator ? rk.recvKey : ik.recvKey)!)).toBe(v.messages[m]!.payload);
      }
    });
  });

  describe('HandshakeState', () => {
    const random = new SeededRandom(7);
    const pair = (): [HandshakeState, HandshakeState] => {
      const rs = kp('11'.repeat(32));
      const is = kp('22'.repeat(32));
      const prologue = new Uint8Array([1, 2, 3]);
      return [
        new HandshakeState({ pattern: IK, initiator: true, prologue, s: is, rs: rs.publicKey, random: random.fork() }),
        new HandshakeState({ pattern: IK, initiator: false, prologue, s: rs, random: random.fork() }),
      ];
    };

    test('a tampered message is refused and leaves the reader usable for the genuine one', () => {
      const [i, r] = pair();
      const msg1 = i.writeMessage(new Uint8Array([9]));
      r.readMessage(msg1);
      const msg2 = r.writeMessage(new Uint8Array([8]));
      for (const at of [0, 40, msg2.length - 1]) {
        const bad = msg2.slice();
        bad[at]! ^= 1;
        expect(() => i.readMessage(bad)).toThrow(NoiseError);
        expect(i.messageIndex).toBe(1);
      }
      expect(() => i.readMessage(msg2.subarray(0, 40))).toThrow('too short');
      expect([...i.readMessage(msg2)]).toEqual([8]);
      expect(hex(i.split().sendKey)).toBe(hex(r.split().recvKey));
    });

    test('a different prologue (version/type downgrade) fails authentication', () => {
      const rs = kp('11'.repeat(32));
      const i = new HandshakeState({ pattern: IK, initiator: true, prologue: new Uint8Array([0x41]), s: kp('22'.repeat(32)), rs: rs.publicKey, random });
      const r = new HandshakeState({ pattern: IK, initiator: false, prologue: new Uint8Array([0x31]), s: rs, random });
      expect(() => r.readMessage(i.writeMessage(new Uint8Array(0)))).toThrow('static key does not decrypt');
    });

    test('onRemoteStatic runs before the ss DH and can refuse', () => {
      const [i, r] = pair();
      const msg1 = i.writeMessage(new Uint8Array(0));
      const seen: string[] = [];
      expect(() =>
        r.readMessage(msg1, {
          onRemoteStatic: (k) => {
            seen.push(hex(k));
            throw new NoiseError('refused', 'unknown initiator');
          },
        }),
      ).toThrow('unknown initiator');
      expect(seen).toEqual([hex(scalarmultBase(unhex('22'.repeat(32))))]);
      expect(r.remoteStatic).toBeNull();
      expect(r.messageIndex).toBe(0);
    });

    test('out-of-turn and post-destroy use is refused', () => {
      const [i, r] = pair();
      expect(() => r.writeMessage(new Uint8Array(0))).toThrow('not our turn');
      i.destroy();
      expect(() => i.writeMessage(new Uint8Array(0))).toThrow('destroyed');
      r.destroy();
    });

    const zero = (views: Uint8Array[]): boolean => views.every((b) => b.every((x) => x === 0));

    test('destroy() zeroes the ephemeral secret, chaining key and cipher key (abandon after msg1)', () => {
      const [i, r] = pair();
      r.readMessage(i.writeMessage(new Uint8Array(0)));
      const views = i.secretViews();
      expect(views).toHaveLength(3); // e.sk, ck, k
      expect(zero(views)).toBe(false);
      i.destroy();
      expect(zero(views)).toBe(true);
      const rv = r.secretViews();
      expect(rv).toHaveLength(2); // ck, k (the responder has no ephemeral yet)
      r.destroy();
      expect(zero(rv)).toBe(true);
    });

    test('split() wipes everything; a failed read keeps the secrets live until destroy', () => {
      const [i, r] = pair();
      r.readMessage(i.writeMessage(new Uint8Array(0)));
      const rViewsBefore = r.secretViews();
      expect(rViewsBefore).toHaveLength(2); // ck, k
      const oldValues = rViewsBefore.map((v) => Buffer.from(v));
      const msg2 = r.writeMessage(new Uint8Array(0));
      // superseded ck and k are overwritten in place by mixKey (one array per state), no copy left
      expect(rViewsBefore.map((v, j) => Buffer.from(v).equals(oldValues[j]!))).toEqual([false, false]);
      expect(r.secretViews().slice(1).map((v) => v.buffer)).toEqual(rViewsBefore.map((v) => v.buffer)); // [e.sk, ck, k]: the same ck and k
      // HMAC pads and HKDF outputs live in a shared scratch area, zeroed after every use
      expect(zero([noiseWorkView()])).toBe(true);
      const bad = msg2.slice();
      bad[5]! ^= 1;
      expect(() => i.readMessage(bad)).toThrow(NoiseError);
      const iv = i.secretViews();
      expect(zero(iv)).toBe(false);
      const rv = r.secretViews();
      r.split();
      expect(zero(rv)).toBe(true);
      i.destroy();
      expect(zero(iv)).toBe(true);
    });
  });
});
