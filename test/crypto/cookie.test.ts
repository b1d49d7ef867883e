/**
 * mac1 / mac2 / cookie replies (src/crypto/cookie.ts). Exact bytes are pinned by the v4 vectors
 * (test/crypto/noise/vectors.test.ts, checked by python); here: the rules.
 */
import { ANONYMOUS_STATIC, COOKIE_SECRET_ROTATION_MS, CookieChecker, CookieGenerator, mac1Key } from '../../src/crypto/cookie';
import { genericHash, sodiumReady } from '../../src/crypto/sodium';
import { ManualClock } from '../../src/runtime/clock';
import { SeededRandom } from '../../src/runtime/random';
import { COOKIE_REPLY_BYTES, encodeHandshake, messageSizeRange, V4, type V4HandshakeType } from '../../src/wire/handshake-v4';
import { eachBackend } from './each-backend';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const responderStatic = new Uint8Array(32).fill(0x42);
const src1 = new Uint8Array([127, 0, 0, 1, 0x2a, 0xf8]);
const src2 = new Uint8Array([127, 0, 0, 2, 0x2a, 0xf8]);

let clock: ManualClock;
let random: SeededRandom;
let checker: CookieChecker;
let gen: CookieGenerator;
const msg = (fill: number): Uint8Array => encodeHandshake(V4.ikInit, null, new Uint8Array(166).fill(fill));

eachBackend(() => {
  beforeAll(sodiumReady);
  beforeEach(() => {
    clock = new ManualClock();
    random = new SeededRandom(1);
    checker = new CookieChecker({ receiverStatic: responderStatic, clock, random });
    gen = new CookieGenerator({ receiverStatic: responderStatic, clock });
  });

  test('mac1 is BLAKE2b-128 keyed by BLAKE2b-256("mac1----" ‖ static) over the bytes before it; mac2 is zero without a cookie', () => {
    const m = msg(1);
    gen.addMacs(m);
    const key = genericHash(32, new Uint8Array([...new TextEncoder().encode('mac1----'), ...responderStatic]));
    expect(hex(mac1Key(responderStatic))).toBe(hex(key));
    expect(hex(m.subarray(m.length - 32, m.length - 16))).toBe(hex(genericHash(16, m.subarray(0, m.length - 32), key)));
    expect(hex(m.subarray(m.length - 16))).toBe('00'.repeat(16));
    expect(checker.checkMac1(m)).toBe(true);
    expect(checker.checkMac2(m, src1)).toBe(false);
    for (const at of [0, 50, m.length - 17]) {
      const bad = m.slice();
      bad[at]! ^= 1;
      expect(checker.checkMac1(bad)).toBe(false);
    }
    // keyed by the receiver: another node's checker refuses it
    expect(new CookieChecker({ receiverStatic: new Uint8Array(32).fill(7), clock, random }).checkMac1(m)).toBe(false);
    expect(new CookieChecker({ receiverStatic: ANONYMOUS_STATIC, clock, random }).checkMac1(m)).toBe(false);
  });

  test('cookie round trip: reply (61 bytes, smaller than every handshake) → mac2 valid for that source only', () => {
    const m = msg(2);
    gen.addMacs(m);
    const reply = checker.createReply(m, src1);
    expect(reply.length).toBe(COOKIE_REPLY_BYTES);
    expect(reply[0]).toBe(0x47);
    expect(hex(reply.subarray(1, 5))).toBe(hex(m.subarray(m.length - 32, m.length - 28)));
    for (const t of [V4.ikInit, V4.ikResponse, V4.xx1, V4.xx2, V4.xx3] as V4HandshakeType[]) expect(reply.length).toBeLessThan(messageSizeRange(t)[0]);
    expect(gen.consumeReply(reply)).toBe(true);
    expect(gen.consumeReply(reply)).toBe(false); // one reply per message
    const m2 = msg(3);
    gen.addMacs(m2);
    expect(checker.checkMac1(m2)).toBe(true);
    expect(checker.checkMac2(m2, src1)).toBe(true);
    expect(checker.checkMac2(m2, src2)).toBe(false);
    const bad = m2.slice();
    bad[bad.length - 1]! ^= 1;
    expect(checker.checkMac2(bad, src1)).toBe(false);
  });

  test('a reply is bound to the mac1 of the message it answers', () => {
    const a = msg(4);
    gen.addMacs(a);
    const replyToA = checker.createReply(a, src1);
    const b = msg(5);
    gen.addMacs(b); // the generator now waits for a reply to b
    expect(gen.consumeReply(replyToA)).toBe(false);
    const replyToB = checker.createReply(b, src1);
    const tampered = replyToB.slice();
    tampered[30]! ^= 1;
    expect(gen.consumeReply(tampered)).toBe(false);
    expect(gen.consumeReply(replyToB.subarray(0, 60))).toBe(false);
    expect(gen.consumeReply(replyToB)).toBe(true);
  });

  test('the secret rotates every 2 minutes (old cookies stop working); the generator drops a cookie after 2 minutes', () => {
    const m = msg(6);
    gen.addMacs(m);
    expect(gen.consumeReply(checker.createReply(m, src1))).toBe(true);
    clock.advance(COOKIE_SECRET_ROTATION_MS - 1);
    const m2 = msg(7);
    gen.addMacs(m2);
    expect(checker.checkMac2(m2, src1)).toBe(true);
    clock.advance(1);
    expect(gen.hasFreshCookie()).toBe(false);
    const m3 = msg(8);
    gen.addMacs(m3);
    expect(hex(m3.subarray(m3.length - 16))).toBe('00'.repeat(16));
    expect(checker.checkMac2(m2, src1)).toBe(false); // the secret was replaced
  });

  test('the anonymous static (XX msg1/msg2) works the same way with the zero key', () => {
    const c = new CookieChecker({ receiverStatic: ANONYMOUS_STATIC, clock, random });
    const g = new CookieGenerator({ receiverStatic: ANONYMOUS_STATIC, clock });
    const m = encodeHandshake(V4.xx1, null, new Uint8Array(234));
    g.addMacs(m);
    expect(c.checkMac1(m)).toBe(true);
    expect(checker.checkMac1(m)).toBe(false);
    expect(g.consumeReply(c.createReply(m, src2))).toBe(true);
    const m2 = encodeHandshake(V4.xx1, null, new Uint8Array(234).fill(1));
    g.addMacs(m2);
    expect(c.checkMac2(m2, src2)).toBe(true);
  });
});
