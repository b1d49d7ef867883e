#!/usr/bin/env python3
"""Independent check of test/fixtures/protocol-v5-frame-vectors.json against docs/PROTOCOL.md §17.2–17.4.

Rebuilds the frame and the data datagram from the fixed inputs (a given transport key; the Noise
handshake has its own check, noise_check.py) with other libraries than udpvault uses:
Python `cryptography` (ChaCha20-Poly1305) and HChaCha20 written out here (XChaCha20-Poly1305 = HChaCha20 subkey + ChaCha20-Poly1305-IETF with
nonce 0^4 ‖ last 8 nonce bytes). Usage: python3 test/helpers/protocol_v5_check.py
"""
import json
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'protocol-v5-frame-vectors.json')


def rotl(x, n):
    return ((x << n) | (x >> (32 - n))) & 0xFFFFFFFF


def quarter(s, a, b, c, d):
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 16)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 12)
    s[a] = (s[a] + s[b]) & 0xFFFFFFFF; s[d] = rotl(s[d] ^ s[a], 8)
    s[c] = (s[c] + s[d]) & 0xFFFFFFFF; s[b] = rotl(s[b] ^ s[c], 7)


def hchacha20(key, nonce16):
    s = list(struct.unpack('<4I', b'expand 32-byte k')) + list(struct.unpack('<8I', key)) + list(struct.unpack('<4I', nonce16))
    for _ in range(10):
        quarter(s, 0, 4, 8, 12); quarter(s, 1, 5, 9, 13); quarter(s, 2, 6, 10, 14); quarter(s, 3, 7, 11, 15)
        quarter(s, 0, 5, 10, 15); quarter(s, 1, 6, 11, 12); quarter(s, 2, 7, 8, 13); quarter(s, 3, 4, 9, 14)
    return struct.pack('<8I', *(s[0:4] + s[12:16]))


def xchacha20poly1305_encrypt(key, nonce24, plaintext, ad):
    return ChaCha20Poly1305(hchacha20(key, nonce24[:16])).encrypt(bytes(4) + nonce24[16:], plaintext, ad)


def main():
    v = json.load(open(FIXTURE))
    i = v['inputs']
    h = bytes.fromhex

    def expect(name, got, want_hex):
        if got.hex() != want_hex:
            sys.exit(f'MISMATCH {name}:\n  got  {got.hex()}\n  want {want_hex}')

    i_send = h(i['transportKeyIR'])

    # frame (version 5): fixarray [v = 5, t: uint64, n: fixint, i: uint32, p: [[0, bin]], c: [[0]], r: nil, g: zero bin]
    # padded to the target
    text = i['frameText'].encode()
    assert i['framePacketNumber'] < 0x80 and 0x10000 <= i['frameInstance'] <= 0xFFFFFFFF and len(text) < 0x100
    body = (b'\x98' + b'\x05' + b'\xcf' + struct.pack('>Q', i['frameTimestampMs'])
            + bytes([i['framePacketNumber']]) + b'\xce' + struct.pack('>I', i['frameInstance'])
            + b'\x91\x92\x00\xc4' + bytes([len(text)]) + text + b'\x91\x91\x00' + b'\xc0')
    pad = i['framePaddingTarget'] - len(body) - 2
    assert 0 <= pad < 0x100
    frame = body + b'\xc4' + bytes([pad]) + bytes(pad)
    expect('frame', frame, v['frame'])

    # data: header(0x43 ‖ receiver sid ‖ counter) ‖ XChaCha20-Poly1305(frame, AD = header, nonce = 0^16 ‖ counter)
    header = b'\x43' + struct.pack('>IQ', i['responderSid'], i['dataCounter'])
    nonce = bytes(16) + struct.pack('>Q', i['dataCounter'])
    data = header + xchacha20poly1305_encrypt(i_send, nonce, frame, header)
    expect('data', data, v['data'])
    print('protocol v4 data vectors, frame version 5: all values reproduced independently')


if __name__ == '__main__':
    main()
