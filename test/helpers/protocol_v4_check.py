#!/usr/bin/env python3
"""Independent check of test/fixtures/protocol-v4-frame-vectors.json against docs/PROTOCOL.md.

Rebuilds every vector from the fixed inputs with other libraries than udpvault uses:
Python `cryptography` (Ed25519, X25519, ChaCha20-Poly1305), hashlib.blake2b, and HChaCha20
written out here (XChaCha20-Poly1305 = HChaCha20 subkey + ChaCha20-Poly1305-IETF with
nonce 0^4 ‖ last 8 nonce bytes). Usage: python3 test/helpers/protocol_v4_check.py
"""
import hashlib
import json
import os
import struct
import sys

from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'protocol-v4-frame-vectors.json')


def raw(public_key):
    return public_key.public_bytes(ser.Encoding.Raw, ser.PublicFormat.Raw)


def kx_seed_keypair(seed):
    """crypto_kx_seed_keypair: sk = BLAKE2b-256(seed), pk = X25519(sk, 9)."""
    sk = hashlib.blake2b(seed, digest_size=32).digest()
    key = X25519PrivateKey.from_private_bytes(sk)
    return key, raw(key.public_key())


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

    a = Ed25519PrivateKey.from_private_bytes(h(i['initiatorIdentitySeed']))
    b = Ed25519PrivateKey.from_private_bytes(h(i['responderIdentitySeed']))
    s_i, s_r = raw(a.public_key()), raw(b.public_key())
    expect('initiator public key', s_i, v['initiatorPublicKey'])
    expect('responder public key', s_r, v['responderPublicKey'])
    e_i, e_i_pk = kx_seed_keypair(h(i['initiatorEphemeralSeed']))
    e_r, e_r_pk = kx_seed_keypair(h(i['responderEphemeralSeed']))
    expect('initiator ephemeral', e_i_pk, v['initiatorEphemeralPublic'])
    expect('responder ephemeral', e_r_pk, v['responderEphemeralPublic'])

    # init: 0x41 ‖ sid_i ‖ ts_i ‖ S_I ‖ S_R ‖ E_I ‖ sig("udpvault v3 init\0" ‖ init[0..109))
    init = b'\x41' + struct.pack('>IQ', i['initiatorSid'], i['initTimestampMs']) + s_i + s_r + e_i_pk
    init += a.sign(b'udpvault v3 init\0' + init)
    expect('init', init, v['init'])
    # response: 0x42 ‖ sid_r ‖ sid_i ‖ ts_r ‖ S_R ‖ E_R ‖ sig("udpvault v3 resp\0" ‖ init ‖ resp[0..81))
    resp = b'\x42' + struct.pack('>IIQ', i['responderSid'], i['initiatorSid'], i['responseTimestampMs']) + s_r + e_r_pk
    resp += b.sign(b'udpvault v3 resp\0' + init + resp)
    expect('response', resp, v['response'])

    # keys: crypto_kx client keys, then BLAKE2b-256(key = kx key, "udpvault v3 data key\0" ‖ H(init ‖ resp))
    q = e_i.exchange(X25519PublicKey.from_public_bytes(e_r_pk))
    assert q == e_r.exchange(X25519PublicKey.from_public_bytes(e_i_pk))
    kx = hashlib.blake2b(q + e_i_pk + e_r_pk, digest_size=64).digest()
    client_rx, client_tx = kx[:32], kx[32:]
    expect('kx client rx', client_rx, v['kxClientRx'])
    expect('kx client tx', client_tx, v['kxClientTx'])
    th = hashlib.blake2b(init + resp, digest_size=32).digest()
    expect('transcript hash', th, v['transcriptHash'])
    label = b'udpvault v3 data key\0' + th
    i_send = hashlib.blake2b(label, digest_size=32, key=client_tx).digest()
    i_recv = hashlib.blake2b(label, digest_size=32, key=client_rx).digest()
    expect('initiator send key', i_send, v['initiatorSendKey'])
    expect('initiator recv key', i_recv, v['initiatorRecvKey'])
    expect('responder recv key', i_send, v['responderRecvKey'])
    expect('responder send key', i_recv, v['responderSendKey'])

    # frame: fixmap {v: 4, t: uint64, n: uint, i: uint32, p: [[0, bin]], c: [[0]], g: zero bin} padded to the target
    text = i['frameText'].encode()
    assert i['framePacketNumber'] < 0x80 and i['frameInstance'] >= 0x10000
    body = (b'\x87' + b'\xa1v\x04' + b'\xa1t\xcf' + struct.pack('>Q', i['frameTimestampMs'])
            + b'\xa1n' + bytes([i['framePacketNumber']]) + b'\xa1i\xce' + struct.pack('>I', i['frameInstance'])
            + b'\xa1p\x91\x92\x00\xc4' + bytes([len(text)]) + text + b'\xa1c\x91\x91\x00' + b'\xa1g')
    pad = i['framePaddingTarget'] - len(body) - 2
    frame = body + b'\xc4' + bytes([pad]) + bytes(pad)
    expect('frame', frame, v['frame'])

    # data: header(0x43 ‖ receiver sid ‖ counter) ‖ XChaCha20-Poly1305(frame, AD = header, nonce = 0^16 ‖ counter)
    header = b'\x43' + struct.pack('>IQ', i['responderSid'], i['dataCounter'])
    nonce = bytes(16) + struct.pack('>Q', i['dataCounter'])
    data = header + xchacha20poly1305_encrypt(i_send, nonce, frame, header)
    expect('data', data, v['data'])
    print('protocol v4 vectors: all values reproduced independently')


if __name__ == '__main__':
    main()
