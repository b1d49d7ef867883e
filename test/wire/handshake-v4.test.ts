/** v4 handshake layouts (src/wire/handshake-v4.ts): exact sizes, anti-amplification, cheap parsing. */
import { DropError } from '../../src/errors';
import {
  COOKIE_REPLY_BYTES,
  encodeCookieReply,
  encodeHandshake,
  messageSizeRange,
  parseCookieReply,
  parseHandshake,
  V4,
  v4Prologue,
  XX1_BYTES,
} from '../../src/wire/handshake-v4';

test('exact size ranges (docs/PROTOCOL.md §4.1)', () => {
  expect(messageSizeRange(V4.ikInit)).toEqual([199, 263]);
  expect(messageSizeRange(V4.ikResponse)).toEqual([123, 187]);
  expect(messageSizeRange(V4.xx1)).toEqual([267, 267]);
  expect(messageSizeRange(V4.xx2)).toEqual([203, 267]);
  expect(messageSizeRange(V4.xx3)).toEqual([171, 235]);
  expect(XX1_BYTES).toBe(267);
  expect(COOKIE_REPLY_BYTES).toBe(61);
});

test('anti-amplification: every answer is at most the size of the smallest message it answers', () => {
  expect(messageSizeRange(V4.ikResponse)[1]).toBeLessThanOrEqual(messageSizeRange(V4.ikInit)[0]);
  expect(messageSizeRange(V4.xx2)[1]).toBeLessThanOrEqual(messageSizeRange(V4.xx1)[0]);
  for (const t of [V4.ikInit, V4.xx1, V4.xx3]) expect(COOKIE_REPLY_BYTES).toBeLessThan(messageSizeRange(t)[0]);
});

test('encode/parse: header, receiver sid, noise, macs', () => {
  const noise = new Uint8Array(86).fill(5);
  const b = encodeHandshake(V4.ikResponse, 0xdeadbeef, noise);
  expect(b.length).toBe(123);
  expect(Buffer.from(b.subarray(0, 5)).toString('hex')).toBe('42deadbeef');
  expect(b.subarray(91).every((x) => x === 0)).toBe(true);
  b.fill(1, 91, 107);
  b.fill(2, 107);
  const m = parseHandshake(b);
  expect(m.type).toBe(0x42);
  expect(m.receiverSid).toBe(0xdeadbeef);
  expect(m.noise).toEqual(noise);
  expect(m.mac1).toEqual(new Uint8Array(16).fill(1));
  expect(m.mac2).toEqual(new Uint8Array(16).fill(2));
  expect(parseHandshake(encodeHandshake(V4.ikInit, null, new Uint8Array(166))).receiverSid).toBeNull();
  expect(() => encodeHandshake(V4.ikInit, 1, new Uint8Array(166))).toThrow('receiver sid');
  expect(() => encodeHandshake(V4.ikInit, null, new Uint8Array(165))).toThrow('outside');
});

test('junk is refused by length and type alone', () => {
  for (const junk of [new Uint8Array(0), new Uint8Array([0x41]), new Uint8Array(198).fill(0x41), new Uint8Array(264).fill(0x41), new Uint8Array(200).fill(0x43), new Uint8Array(266).fill(0x44), new Uint8Array(200).fill(0x31)]) {
    expect(() => parseHandshake(junk)).toThrow(DropError);
  }
  expect(() => parseCookieReply(new Uint8Array(61))).toThrow(DropError);
  expect(() => parseCookieReply(new Uint8Array(60).fill(0x47))).toThrow(DropError);
  const r = encodeCookieReply(new Uint8Array([1, 2, 3, 4]), new Uint8Array(24).fill(9), new Uint8Array(32).fill(8));
  expect(parseCookieReply(r).ref).toEqual(new Uint8Array([1, 2, 3, 4]));
});

test('the prologue binds the version and the first message type', () => {
  expect(Buffer.from(v4Prologue(V4.ikInit)).toString('hex')).toBe(Buffer.from('udpvault handshake').toString('hex') + '0441');
  expect(Buffer.from(v4Prologue(V4.xx1)).toString('hex').slice(-4)).toBe('0444');
});
