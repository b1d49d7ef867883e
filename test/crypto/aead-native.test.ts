/**
 * The native packet cipher's key store (src/crypto/aead-native.ts, issue 12): 32-byte slots in
 * 4 KiB sodium_malloc'd slabs, free slots kept as numbers; a wiped cipher's slot is zeroed and
 * handed out again; every cipher shares one nonce scratch and still seals exactly its own bytes.
 */
import _sodium from 'libsodium-wrappers';
import { loadNativeAead, type NativeAead } from '../../src/crypto/aead-native';
import { sodiumNative, sodiumNativeRawAead } from '../../src/crypto/native-lib';
import { SealBuffer } from '../../src/crypto/packet-cipher';
import { writeDataHeader } from '../../src/wire/packet';
import { cipherPair } from '../../src/crypto/aead';

const native = sodiumNative() ? describe : describe.skip;

beforeAll(async () => {
  await _sodium.ready;
});

/** libsodium-wrappers' ChaCha20-Poly1305-IETF of header ‖ frame under `subkey` (nonce 0^4 ‖ counter). */
function reference(subkey: Uint8Array, sid: number, counter: number, frame: Uint8Array): string {
  const header = new Uint8Array(13);
  writeDataHeader(header, sid, counter);
  const nonce = new Uint8Array(12);
  nonce.set(header.subarray(5, 13), 4);
  return Buffer.from([...header, ..._sodium.crypto_aead_chacha20poly1305_ietf_encrypt(frame, header, null, nonce, subkey)]).toString('hex');
}

function sealed(n: NativeAead, key: Uint8Array, sid: number, counter: number, frame: Uint8Array): { hex: string; cipher: ReturnType<NativeAead['cipher']>; slot: Uint8Array } {
  const slot = n.allocKey();
  slot.set(key);
  const cipher = n.cipher(slot);
  const buf = new Uint8Array(13 + frame.length + 16);
  writeDataHeader(buf, sid, counter);
  buf.set(frame, 13);
  cipher.seal(buf, 13, frame.length);
  return { hex: Buffer.from(buf).toString('hex'), cipher, slot };
}

native('native key store', () => {
  test('a wiped cipher zeroes its slot, and the next key takes that slot (the slabs do not grow)', () => {
    const n = loadNativeAead();
    const slots: Uint8Array[] = [];
    for (let i = 0; i < 128; i++) slots.push(n.allocKey()); // one whole slab
    const slab = slots[0]!.buffer;
    expect(new Set(slots.map((s) => s.byteOffset - slots[0]!.byteOffset)).size).toBe(128);
    expect(slots.every((s) => s.buffer === slab && s.length === 32)).toBe(true);
    const victim = slots[77]!;
    victim.fill(0xa5);
    const c = n.cipher(victim as Buffer);
    c.wipe();
    expect([...victim].every((b) => b === 0)).toBe(true);
    const again = n.allocKey();
    expect(again.buffer).toBe(slab);
    expect(again.byteOffset).toBe(victim.byteOffset);
    // the slab is full again: the next key comes from a new slab
    expect(n.allocKey().buffer).not.toBe(slab);
  });

  test('ciphers sealing in turn (one shared nonce scratch) give each its own exact bytes', () => {
    const n = loadNativeAead();
    const k1 = new Uint8Array(32).fill(1);
    const k2 = new Uint8Array(32).fill(2);
    const frame = Uint8Array.from({ length: 40 }, (_, i) => i);
    const a = sealed(n, k1, 7, 0x0102030405, frame);
    const b = sealed(n, k2, 9, 3, frame);
    const a2 = sealed(n, k1, 7, 0x0102030405, frame);
    expect(a.hex).toBe(reference(k1, 7, 0x0102030405, frame));
    expect(b.hex).toBe(reference(k2, 9, 3, frame));
    expect(a2.hex).toBe(a.hex);
    // and opens with the other cipher's nonce left in the scratch
    const out = new Uint8Array(frame.length);
    expect(a.cipher.open(Buffer.from(a.hex, 'hex'), 13, out)).toBe(true);
    expect([...out]).toEqual([...frame]);
    expect(b.cipher.open(Buffer.from(a.hex, 'hex'), 13, out)).toBe(false);
  });
});

native('a native cipher holds its key as a slot number (pack19)', () => {
  test('no Buffer view per cipher: the key is copied into one secure scratch per call and zeroed after it, seal and open alike', () => {
    const n = loadNativeAead();
    const key = new Uint8Array(32).fill(9);
    const frame = Uint8Array.from({ length: 64 }, (_, i) => i * 3);
    const a = sealed(n, key, 4, 77, frame);
    // the view handed to cipher() is not kept: the cipher's key view is a new one on the same memory
    const view = a.cipher.keyView()!;
    expect(view).not.toBe(a.slot);
    expect([view.buffer, view.byteOffset, view.length]).toEqual([a.slot.buffer, a.slot.byteOffset, 32]);
    expect(a.hex).toBe(reference(key, 4, 77, frame));
    // the slot's key stays; the scratch is zero after the seal, after an open, and after a refused open
    const scratch = n.scratch();
    expect(scratch.every((b) => b === 0)).toBe(true);
    const out = new Uint8Array(64);
    expect(a.cipher.open(Buffer.from(a.hex, 'hex'), 13, out)).toBe(true);
    expect([...out]).toEqual([...frame]);
    expect(scratch.every((b) => b === 0)).toBe(true);
    const bad = Buffer.from(a.hex, 'hex');
    bad[20]! ^= 1;
    expect(a.cipher.open(bad, 13, out)).toBe(false);
    expect(scratch.every((b) => b === 0)).toBe(true);
    expect([...view].every((b) => b === 9)).toBe(true);
    a.cipher.wipe();
    expect([...view].every((b) => b === 0)).toBe(true);
    expect(a.cipher.keyView()).toBeNull();
    expect(() => a.cipher.seal(new Uint8Array(13 + 16), 13, 0)).toThrow('packet cipher wiped');
    // a key not from this store is refused
    expect(() => n.cipher(Buffer.alloc(32))).toThrow(RangeError);
    expect(() => n.cipher(loadNativeAead().allocKey())).toThrow(RangeError);
  });
});

native('a session\'s two directions in one object (pack19)', () => {
  test('the pair takes both ciphers\' slots: it seals with the send key and opens with the receive key exactly as they did, the two given are unusable, wipe zeroes both slots', () => {
    const n = loadNativeAead();
    const frame = Uint8Array.from({ length: 50 }, (_, i) => 255 - i);
    const kSend = new Uint8Array(32).fill(0x11);
    const kRecv = new Uint8Array(32).fill(0x22);
    const send = sealed(n, kSend, 3, 1000, frame);
    const recv = sealed(n, kRecv, 4, 2000, frame);
    const views = [send.cipher.keyView()!, recv.cipher.keyView()!];
    const pair = cipherPair(send.cipher, recv.cipher);
    expect(pair.constructor.name).toBe('NativeCipherPair');
    expect([send.cipher.keyView(), recv.cipher.keyView()]).toEqual([null, null]); // moved to the pair
    expect(() => send.cipher.seal(new Uint8Array(13 + 16), 13, 0)).toThrow('packet cipher wiped');
    expect(pair.keyViews().map((v) => [v.buffer, v.byteOffset])).toEqual(views.map((v) => [v.buffer, v.byteOffset]));
    const buf = new Uint8Array(13 + frame.length + 16);
    writeDataHeader(buf, 3, 1000);
    buf.set(frame, 13);
    pair.seal(buf, 13, frame.length);
    expect(Buffer.from(buf).toString('hex')).toBe(send.hex); // the send key's bytes
    const out = new Uint8Array(frame.length);
    expect(pair.open(Buffer.from(recv.hex, 'hex'), 13, out)).toBe(true); // the receive key opens
    expect([...out]).toEqual([...frame]);
    expect(pair.open(Buffer.from(send.hex, 'hex'), 13, out)).toBe(false); // not with the send key
    expect(n.scratch().every((b) => b === 0)).toBe(true);
    pair.wipe();
    expect(views.every((v) => v.every((b) => b === 0))).toBe(true);
    expect(pair.keyViews()).toEqual([]);
    expect(pair.open(Buffer.from(recv.hex, 'hex'), 13, out)).toBe(false);
    // the slots are free again: the next two keys take them
    const again = [n.allocKey(), n.allocKey()].map((v) => v.byteOffset).sort();
    expect(again).toEqual(views.map((v) => v.byteOffset).sort());
  });
});

native('native seal into a SealBuffer (a pooled datagram slot)', () => {
  test('the cached views seal exactly the bytes of a plain seal, are reused for the same split and remade for another', () => {
    const n = loadNativeAead();
    const key = new Uint8Array(32).fill(7);
    const slot = n.allocKey();
    slot.set(key);
    const cipher = n.cipher(slot);
    const ab = new ArrayBuffer(2048);
    const check = (buf: SealBuffer, counter: number, frameBytes: number): void => {
      const frame = new Uint8Array(frameBytes).map((_, i) => (i * 31 + counter) & 0xff);
      writeDataHeader(buf, 9, counter);
      buf.set(frame, 13);
      cipher.seal(buf, 13, frameBytes);
      expect(Buffer.from(buf.subarray(0, 13 + frameBytes + 16)).toString('hex')).toBe(reference(key, 9, counter, frame));
    };
    const a = new SealBuffer(ab, 0, 13 + 1091 + 16);
    check(a, 1, 1091);
    const views = [a.ad, a.plain, a.sealed];
    expect(views.map((v) => [v!.byteOffset, v!.length])).toEqual([[0, 13], [13, 1091], [13, 1107]]);
    check(a, 2, 1091); // same split: the same view objects
    expect([a.ad, a.plain, a.sealed]).toEqual(views);
    expect(a.ad).toBe(views[0]);
    expect(a.sealed).toBe(views[2]);
    check(a, 3, 500); // another split in the same buffer: new views, still exact
    expect(a.plain!.length).toBe(500);
    expect(a.sealed!.length).toBe(516);
    const b = new SealBuffer(ab, 0, 13 + 100 + 16); // another view of the same slot
    check(b, 4, 100);
    cipher.wipe();
  });
});

native('native open through the addon without its JS wrapper (issue 12)', () => {
  test('is in use with sodium-native 5 (seal too: the seal tests above run through it), and opens exactly what the checked wrapper opens; every refusal zeroes the output', () => {
    expect(sodiumNativeRawAead()).not.toBeNull();
    const n = loadNativeAead();
    const key = new Uint8Array(32).fill(3);
    const slot = n.allocKey();
    slot.set(key);
    const cipher = n.cipher(slot);
    const na = sodiumNative()!;
    for (const size of [0, 1, 64, 1091, 1443, 65535 - 29]) {
      const frame = new Uint8Array(size).map((_, i) => (i * 7 + size) & 0xff);
      const good = Buffer.from(reference(key, 5, size + 1, frame), 'hex');
      // The reference: sodium-native's checked wrapper on the same bytes.
      const want = new Uint8Array(size);
      const nonce = new Uint8Array(12);
      nonce.set(good.subarray(5, 13), 4);
      na.crypto_aead_chacha20poly1305_ietf_decrypt(want, null, good.subarray(13), good.subarray(0, 13), nonce, key);
      const out = new Uint8Array(size).fill(0xee);
      expect(cipher.open(good, 13, out)).toBe(true);
      expect(Buffer.from(out).equals(Buffer.from(want))).toBe(true);
      expect(Buffer.from(out).equals(Buffer.from(frame))).toBe(true);
      // A datagram inside a larger buffer (dgram's pooled receive): the view's own bytes only.
      const host = new Uint8Array(good.length + 40).fill(0x55);
      host.set(good, 17);
      const inner = host.subarray(17, 17 + good.length);
      expect(cipher.open(inner, 13, out.fill(0xee))).toBe(true);
      expect(Buffer.from(out).equals(Buffer.from(frame))).toBe(true);
      // Forged: a flipped bit in the header (the AD), the ciphertext or the tag.
      for (const at of [1, 12, 13, good.length - 1]) {
        if (at >= good.length) continue;
        const bad = Uint8Array.from(good);
        bad[at]! ^= 1;
        const o = new Uint8Array(size).fill(0xee);
        expect(cipher.open(bad, 13, o)).toBe(false);
        expect(o.every((x) => x === 0)).toBe(true);
      }
    }
    // An output of the wrong length is refused before the addon is called (it checks nothing itself).
    const good = Buffer.from(reference(key, 5, 9, new Uint8Array(100).fill(1)), 'hex');
    for (const len of [99, 101, 0]) {
      const o = new Uint8Array(len).fill(0xee);
      expect(cipher.open(good, 13, o)).toBe(false);
      expect(o.every((x) => x === 0)).toBe(true);
    }
    expect(cipher.open(good.subarray(0, 28), 13, new Uint8Array(0))).toBe(false); // shorter than a tag
    cipher.wipe();
    expect(cipher.open(good, 13, new Uint8Array(100))).toBe(false);
  });
});
