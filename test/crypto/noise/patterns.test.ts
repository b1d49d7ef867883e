/**
 * IK and XX as udpvault runs them: Ed25519 identities converted to X25519 statics, the v4
 * payload, identity binding, own-key refusal, transactional reads and wiping on every exit path.
 */
import { noiseStaticFromIdentity, staticStaticFor, type NoiseStatic } from '../../../src/crypto/noise/common';
import { generateDhKeyPair, HandshakeState, IK, NoiseError } from '../../../src/crypto/noise/handshake-state';
import { IkInitiator, IkResponder, type OwnPayload } from '../../../src/crypto/noise/ik';
import { encodePayload, tai64nFromMs } from '../../../src/crypto/noise/payload';
import { XxInitiator, XxResponder } from '../../../src/crypto/noise/xx';
import { identityFromSeed } from '../../../src/crypto/identity';
import * as sodium from '../../../src/crypto/sodium';
import { sodiumReady } from '../../../src/crypto/sodium';
import { SeededRandom } from '../../../src/runtime/random';
import { encodeHandshake, messageSizeRange, V4, v4Prologue, XX1_BYTES } from '../../../src/wire/handshake-v4';
import { eachBackend } from '../each-backend';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const zero = (views: Uint8Array[]): boolean => views.length > 0 && views.every((b) => b.every((x) => x === 0));
let alice: NoiseStatic;
let bob: NoiseStatic;
let mallory: NoiseStatic;
const random = new SeededRandom(42);

const payload = (sid: number, ms: number): OwnPayload => ({ timestamp: tai64nFromMs(ms), wallClockMs: ms, sessionId: sid, maxMessageBytes: 1 << 20, streamEpoch: 7, extensions: [] });

eachBackend(() => {
  beforeAll(async () => {
    await sodiumReady();
    alice = noiseStaticFromIdentity(identityFromSeed(new Uint8Array(32).fill(1)));
    bob = noiseStaticFromIdentity(identityFromSeed(new Uint8Array(32).fill(2)));
    mallory = noiseStaticFromIdentity(identityFromSeed(new Uint8Array(32).fill(3)));
  });

  describe('IK', () => {
    test('one round trip: matching split keys, both payloads, identities and session ids', () => {
      const i = IkInitiator.start({ local: alice, remoteIdentity: bob.identity, payload: payload(0x1111, 1000), random });
      const seen: string[] = [];
      const r = IkResponder.readInit({ local: bob, message: i.message, random, onRemoteStatic: (k) => void seen.push(hex(k)) });
      expect(seen).toEqual([hex(alice.keyPair.publicKey)]);
      expect(hex(r.remoteIdentity)).toBe(hex(alice.identity));
      expect(r.remotePayload.sessionId).toBe(0x1111);
      expect(r.remotePayload.wallClockMs).toBe(1000);
      const { message, result: rr } = r.respond(payload(0x2222, 2000));
      expect(encodeHandshake(V4.ikResponse, 0x1111, message).length).toBeLessThan(encodeHandshake(V4.ikInit, null, i.message).length);
      const ir = i.consumeResponse(message);
      expect(hex(ir.sendKey)).toBe(hex(rr.recvKey));
      expect(hex(ir.recvKey)).toBe(hex(rr.sendKey));
      expect(hex(ir.sendKey)).not.toBe(hex(ir.recvKey));
      expect(hex(ir.handshakeHash)).toBe(hex(rr.handshakeHash));
      expect([ir.localSessionId, ir.remoteSessionId, rr.localSessionId, rr.remoteSessionId]).toEqual([0x1111, 0x2222, 0x2222, 0x1111]);
      expect(hex(ir.remoteIdentity)).toBe(hex(bob.identity));
      expect(ir.remotePayload.streamEpoch).toBe(7);
      expect(i.destroyed).toBe(true);
    });

    test('an init to another responder fails at the first AEAD (es), before the lookup hook', () => {
      const i = IkInitiator.start({ local: alice, remoteIdentity: mallory.identity, payload: payload(1, 1), random });
      const hook = jest.fn();
      const dh = jest.spyOn(sodium, 'x25519');
      expect(() => IkResponder.readInit({ local: bob, message: i.message, random, onRemoteStatic: hook })).toThrow('static key does not decrypt');
      expect(dh).toHaveBeenCalledTimes(1);
      dh.mockRestore();
      expect(hook).not.toHaveBeenCalled();
      i.destroy();
    });

    test('an unknown initiator is refused by the hook (one DH spent, no second)', () => {
      const i = IkInitiator.start({ local: mallory, remoteIdentity: bob.identity, payload: payload(1, 1), random });
      const dh = jest.spyOn(sodium, 'x25519');
      expect(() =>
        IkResponder.readInit({
          local: bob,
          message: i.message,
          random,
          onRemoteStatic: () => {
            throw new NoiseError('refused', 'unknown peer');
          },
        }),
      ).toThrow('unknown peer');
      expect(dh).toHaveBeenCalledTimes(1);
      dh.mockClear();
      IkResponder.readInit({ local: bob, message: i.message, random }).destroy(); // accepted: es + ss
      expect(dh).toHaveBeenCalledTimes(2);
      dh.mockRestore();
      i.destroy();
    });

    test('a cached static-static DH (per peer) gives the same keys and makes a forged init cost one DH', () => {
      const ssA = staticStaticFor(alice, bob.identity)!;
      const ssB = staticStaticFor(bob, alice.identity)!;
      expect(hex(ssA)).toBe(hex(ssB));
      const dh = jest.spyOn(sodium, 'x25519');
      const i = IkInitiator.start({ local: alice, remoteIdentity: bob.identity, payload: payload(3, 3), random, staticStatic: ssA });
      expect(dh).toHaveBeenCalledTimes(1); // es only
      dh.mockClear();
      const forged = i.message.slice();
      forged[forged.length - 1]! ^= 1;
      expect(() => IkResponder.readInit({ local: bob, message: forged, random, onRemoteStatic: () => ssB })).toThrow('payload does not decrypt');
      expect(dh).toHaveBeenCalledTimes(1); // es only: ss came from the cache
      dh.mockClear();
      const r = IkResponder.readInit({ local: bob, message: i.message, random, onRemoteStatic: () => ssB });
      const { message, result } = r.respond(payload(4, 4));
      expect(dh).toHaveBeenCalledTimes(3); // es, then ee and se for the response
      dh.mockRestore();
      expect(hex(i.consumeResponse(message).sendKey)).toBe(hex(result.recvKey));
      // a wrong cache entry (another peer's) cannot authenticate
      const i2 = IkInitiator.start({ local: alice, remoteIdentity: bob.identity, payload: payload(5, 5), random });
      expect(() => IkResponder.readInit({ local: bob, message: i2.message, random, onRemoteStatic: () => staticStaticFor(bob, mallory.identity)! })).toThrow('payload does not decrypt');
      i2.destroy();
    });

    test('identity binding: a payload naming another Ed25519 key than the static is refused', () => {
      const hs = new HandshakeState({ pattern: IK, initiator: true, prologue: v4Prologue(V4.ikInit), s: mallory.keyPair, rs: bob.keyPair.publicKey, random });
      const msg = hs.writeMessage(encodePayload({ ...payload(5, 5), identity: alice.identity }));
      expect(() => IkResponder.readInit({ local: bob, message: msg, random })).toThrow('identity key does not match');
    });

    test('a handshake naming this node’s own key is refused on both sides', () => {
      expect(() => IkInitiator.start({ local: bob, remoteIdentity: bob.identity, payload: payload(1, 1), random })).toThrow('own key');
      const hs = new HandshakeState({ pattern: IK, initiator: true, prologue: v4Prologue(V4.ikInit), s: bob.keyPair, rs: bob.keyPair.publicKey, random });
      const msg = hs.writeMessage(encodePayload({ ...payload(5, 5), identity: bob.identity }));
      expect(() => IkResponder.readInit({ local: bob, message: msg, random })).toThrow('own key');
    });

    test('a forged response is refused and the attempt still completes with the genuine one', () => {
      const i = IkInitiator.start({ local: alice, remoteIdentity: bob.identity, payload: payload(9, 9), random });
      const r = IkResponder.readInit({ local: bob, message: i.message, random });
      const { message, result } = r.respond(payload(10, 10));
      const forged = message.slice();
      forged[forged.length - 1]! ^= 0x80;
      expect(() => i.consumeResponse(forged)).toThrow(NoiseError);
      expect(() => i.consumeResponse(generateDhKeyPair(random).publicKey)).toThrow(NoiseError);
      expect(hex(i.consumeResponse(message).sendKey)).toBe(hex(result.recvKey));
    });

    test('secrets are zero after success, abandon and a refused init', () => {
      const e = generateDhKeyPair(random);
      const i = IkInitiator.start({ local: alice, remoteIdentity: bob.identity, payload: payload(1, 1), random, ephemeral: e });
      const views = i.secretViews();
      expect(views).toHaveLength(3);
      expect(zero(views)).toBe(false);
      i.destroy(); // abandon (timeout, retry, close)
      expect(zero(views)).toBe(true);

      const e2 = generateDhKeyPair(random);
      const re = generateDhKeyPair(random);
      const i2 = IkInitiator.start({ local: alice, remoteIdentity: bob.identity, payload: payload(1, 1), random, ephemeral: e2 });
      const r2 = IkResponder.readInit({ local: bob, message: i2.message, random, ephemeral: re });
      const rv = r2.secretViews();
      const resp = r2.respond(payload(2, 2)).message;
      expect(zero(rv)).toBe(true);
      expect(zero([re.privateKey])).toBe(true);
      const iv = i2.secretViews();
      i2.consumeResponse(resp); // success
      expect(zero(iv)).toBe(true);
      expect(zero([e2.privateKey])).toBe(true);

      // refused init: the responder's injected ephemeral is wiped although it was never used
      const re3 = generateDhKeyPair(random);
      const i3 = IkInitiator.start({ local: mallory, remoteIdentity: bob.identity, payload: payload(1, 1), random });
      expect(() =>
        IkResponder.readInit({
          local: bob,
          message: i3.message,
          random,
          ephemeral: re3,
          onRemoteStatic: () => {
            throw new NoiseError('refused', 'unknown');
          },
        }),
      ).toThrow('unknown');
      expect(zero([re3.privateKey])).toBe(true);
      i3.destroy();
    });
  });

  describe('XX', () => {
    test('three messages: TOFU learns the responder’s identity; msg2 is never larger than msg1', () => {
      const i = XxInitiator.start({ local: alice, sessionId: 0xabcdef01, random });
      const w1 = encodeHandshake(V4.xx1, null, i.message);
      expect(w1.length).toBe(XX1_BYTES);
      const r = XxResponder.readMessage1({ local: bob, message: i.message, random });
      expect(r.remoteSessionId).toBe(0xabcdef01);
      const m2 = r.writeMessage2({ ...payload(0x0badcafe, 3), extensions: [{ type: 1, value: new Uint8Array(62) }] });
      const w2 = encodeHandshake(V4.xx2, 0xabcdef01, m2);
      expect(w2.length).toBe(messageSizeRange(V4.xx2)[1]);
      expect(w2.length).toBeLessThanOrEqual(w1.length);
      const learned: string[] = [];
      const { message: m3, result: ir } = i.consumeMessage2(m2, payload(0xabcdef01, 4), (id) => learned.push(hex(id)));
      expect(learned).toEqual([hex(bob.identity)]);
      const rr = r.consumeMessage3(m3);
      expect(hex(ir.sendKey)).toBe(hex(rr.recvKey));
      expect(hex(ir.recvKey)).toBe(hex(rr.sendKey));
      expect(hex(rr.remoteIdentity)).toBe(hex(alice.identity));
      expect([ir.remoteSessionId, rr.remoteSessionId]).toEqual([0x0badcafe, 0xabcdef01]);
      expect(ir.remotePayload.extensions).toEqual([{ type: 1, value: new Uint8Array(62) }]);
    });

    test('msg1 with non-zero padding or sid 0 is refused', () => {
      const i = XxInitiator.start({ local: alice, sessionId: 5, random });
      const bad = i.message.slice();
      bad[bad.length - 1] = 1;
      expect(() => XxResponder.readMessage1({ local: bob, message: bad, random })).toThrow('padding');
      expect(() => XxInitiator.start({ local: alice, sessionId: 0, random })).toThrow('non-zero');
      i.destroy();
    });

    test('the initiator refusing the responder’s identity ends the attempt and wipes it', () => {
      const e = generateDhKeyPair(random);
      const i = XxInitiator.start({ local: alice, sessionId: 5, random, ephemeral: e });
      const r = XxResponder.readMessage1({ local: bob, message: i.message, random });
      const m2 = r.writeMessage2(payload(6, 6));
      const views = i.secretViews();
      expect(() =>
        i.consumeMessage2(m2, payload(5, 7), () => {
          throw new NoiseError('refused', 'key changed');
        }),
      ).toThrow('key changed');
      expect(zero(views)).toBe(true);
      expect(zero([e.privateKey])).toBe(true);
      expect(i.destroyed).toBe(true);
      r.destroy();
    });

    test('a forged msg3 leaves the responder usable; a msg3 with another sid than msg1 is refused', () => {
      const i = XxInitiator.start({ local: alice, sessionId: 5, random });
      const r = XxResponder.readMessage1({ local: bob, message: i.message, random });
      const m2 = r.writeMessage2(payload(6, 6));
      const { message: m3 } = i.consumeMessage2(m2, payload(5, 7));
      const forged = m3.slice();
      forged[3]! ^= 1;
      expect(() => r.consumeMessage3(forged)).toThrow(NoiseError);
      expect(r.destroyed).toBe(false);
      expect(r.consumeMessage3(m3).remoteSessionId).toBe(5);

      const i2 = XxInitiator.start({ local: alice, sessionId: 5, random });
      const r2 = XxResponder.readMessage1({ local: bob, message: i2.message, random });
      const { message: m3b } = i2.consumeMessage2(r2.writeMessage2(payload(6, 6)), payload(99, 7));
      expect(() => r2.consumeMessage3(m3b)).toThrow('differs from msg1');
      expect(r2.destroyed).toBe(true);
    });
  });

  describe('hostile input', () => {
    test('a low-order ephemeral key is refused as malformed; an invalid pinned key is refused at start', () => {
      const i = IkInitiator.start({ local: alice, remoteIdentity: bob.identity, payload: payload(1, 1), random });
      const msg = i.message.slice();
      msg.fill(0, 0, 32); // e = 0 (low order)
      expect(() => IkResponder.readInit({ local: bob, message: msg, random })).toThrow('low-order');
      i.destroy();
      const notAPoint = new Uint8Array(32).fill(0xff);
      expect(() => IkInitiator.start({ local: alice, remoteIdentity: notAPoint, payload: payload(1, 1), random })).toThrow(RangeError);
    });

    test('random bytes of every plausible length only ever raise NoiseError, and leave no state', () => {
      const r = new SeededRandom(2024);
      let refused = 0;
      for (let n = 0; n < 300; n++) {
        const len = r.int(0, 300);
        const junk = r.bytes(len);
        for (const f of [
          () => IkResponder.readInit({ local: bob, message: junk, random: r }),
          () => XxResponder.readMessage1({ local: bob, message: junk, random: r }),
        ]) {
          try {
            f();
          } catch (e) {
            expect(e).toBeInstanceOf(NoiseError);
            refused++;
          }
        }
      }
      // XX msg1 accepts any 234-byte message whose padding is zero: junk never has zero padding
      expect(refused).toBe(600);
      const i = IkInitiator.start({ local: alice, remoteIdentity: bob.identity, payload: payload(1, 1), random });
      for (let n = 0; n < 100; n++) expect(() => i.consumeResponse(r.bytes(r.int(0, 200)))).toThrow(NoiseError);
      expect(i.destroyed).toBe(false); // still waiting for the genuine response
      i.destroy();
    });
  });
});
