#!/usr/bin/env python3
"""Independent implementation of the udpvault v4 handshake (docs/PROTOCOL.md §3–§5).

Noise_IK_25519_ChaChaPoly_BLAKE2b and Noise_XX_25519_ChaChaPoly_BLAKE2b written out from the
Noise specification (rev. 34) with Debian's python3-nacl (X25519, ChaCha20-Poly1305-IETF,
XChaCha20-Poly1305, Ed25519 -> X25519 conversion) and hashlib/hmac (BLAKE2b, HMAC-BLAKE2b).
It shares no code with udpvault. Given the fixed inputs of test/fixtures/protocol-v4-vectors.json
it prints, as JSON, every wire message and both transport keys of each handshake, plus the
cookie reply. Usage: python3 test/helpers/noise_check.py [fixture.json]
"""
import hashlib
import hmac
import json
import os
import struct
import sys

import nacl.bindings as nb

HASHLEN = 64
DEFAULT_FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'protocol-v4-vectors.json')


def H(data):
    return hashlib.blake2b(data, digest_size=64).digest()


def HMAC(key, data):
    return hmac.new(key, data, hashlib.blake2b).digest()


def HKDF(ck, ikm, n):
    temp = HMAC(ck, ikm)
    out = [HMAC(temp, b'\x01')]
    out.append(HMAC(temp, out[0] + b'\x02'))
    if n == 3:
        out.append(HMAC(temp, out[1] + b'\x03'))
    return out


def nonce(n):
    return b'\x00' * 4 + struct.pack('<Q', n)


class Cipher:
    def __init__(self):
        self.k = None
        self.n = 0

    def enc(self, ad, pt):
        if self.k is None:
            return pt
        ct = nb.crypto_aead_chacha20poly1305_ietf_encrypt(pt, ad, nonce(self.n), self.k)
        self.n += 1
        return ct

    def dec(self, ad, ct):
        if self.k is None:
            return ct
        pt = nb.crypto_aead_chacha20poly1305_ietf_decrypt(ct, ad, nonce(self.n), self.k)
        self.n += 1
        return pt


class Symmetric:
    def __init__(self, name):
        name = name.encode()
        self.h = name.ljust(HASHLEN, b'\x00') if len(name) <= HASHLEN else H(name)
        self.ck = self.h
        self.cs = Cipher()

    def mix_hash(self, data):
        self.h = H(self.h + data)

    def mix_key(self, ikm):
        self.ck, temp = HKDF(self.ck, ikm, 2)
        self.cs.k, self.cs.n = temp[:32], 0

    def enc_hash(self, pt):
        ct = self.cs.enc(self.h, pt)
        self.mix_hash(ct)
        return ct

    def dec_hash(self, ct):
        pt = self.cs.dec(self.h, ct)
        self.mix_hash(ct)
        return pt

    def split(self):
        a, b = HKDF(self.ck, b'', 2)
        return a[:32], b[:32]


PATTERNS = {
    'IK': (True, [['e', 'es', 's', 'ss'], ['e', 'ee', 'se']]),
    'XX': (False, [['e'], ['e', 'ee', 's', 'es'], ['s', 'se']]),
}


class Handshake:
    def __init__(self, pattern, initiator, prologue, s_sk, e_sk, rs=None):
        self.pre, self.msgs = PATTERNS[pattern]
        self.initiator = initiator
        self.s_sk, self.s_pk = s_sk, nb.crypto_scalarmult_base(s_sk)
        self.e_sk, self.e_pk = e_sk, nb.crypto_scalarmult_base(e_sk)
        self.rs, self.re = rs, None
        self.sym = Symmetric('Noise_%s_25519_ChaChaPoly_BLAKE2b' % pattern)
        self.sym.mix_hash(prologue)
        if self.pre:
            self.sym.mix_hash(rs if initiator else self.s_pk)
        self.i = 0

    def dh(self, t):
        local_e = t == 'ee' or (t == 'es' and self.initiator) or (t == 'se' and not self.initiator)
        remote_e = t == 'ee' or (t == 'es' and not self.initiator) or (t == 'se' and self.initiator)
        self.sym.mix_key(nb.crypto_scalarmult(self.e_sk if local_e else self.s_sk, self.re if remote_e else self.rs))

    def write(self, payload):
        out = b''
        for t in self.msgs[self.i]:
            if t == 'e':
                out += self.e_pk
                self.sym.mix_hash(self.e_pk)
            elif t == 's':
                out += self.sym.enc_hash(self.s_pk)
            else:
                self.dh(t)
        self.i += 1
        return out + self.sym.enc_hash(payload)

    def read(self, msg):
        off = 0
        for t in self.msgs[self.i]:
            if t == 'e':
                self.re = msg[off:off + 32]
                off += 32
                self.sym.mix_hash(self.re)
            elif t == 's':
                n = 48 if self.sym.cs.k is not None else 32
                self.rs = self.sym.dec_hash(msg[off:off + n])
                off += n
            else:
                self.dh(t)
        self.i += 1
        return self.sym.dec_hash(msg[off:])


# ---- udpvault v4 framing ----
T_IK_INIT, T_IK_RESP, T_XX1, T_XX2, T_XX3, T_COOKIE = 0x41, 0x42, 0x44, 0x45, 0x46, 0x47
XX1_PAYLOAD_BYTES = 202


def prologue(first_type):
    return b'udpvault handshake' + bytes([4, first_type])


def tai64n(ms):
    secs = ms // 1000
    nanos = ((ms % 1000) * 1000000) & ~0xFFFFFF
    return struct.pack('>QI', (1 << 62) + secs, nanos)


def payload(ms, sid, max_bytes, epoch, identity=None, ext=b''):
    p = bytes([1]) + tai64n(ms) + struct.pack('>QIIQ', ms, sid, max_bytes, epoch)
    if identity is not None:
        p += identity
    return p + bytes([len(ext)]) + ext


def mac(key, data):
    return hashlib.blake2b(data, digest_size=16, key=key).digest()


def mac1_key(static):
    return hashlib.blake2b(b'mac1----' + static, digest_size=32).digest()


def cookie_key(static):
    return hashlib.blake2b(b'cookie--' + static, digest_size=32).digest()


def frame(type_, sid, noise, receiver_static, cookie=None):
    head = bytes([type_]) + (struct.pack('>I', sid) if sid is not None else b'') + noise
    m1 = mac(mac1_key(receiver_static), head)
    m2 = mac(cookie, head + m1) if cookie is not None else b'\x00' * 16
    return head + m1 + m2


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_FIXTURE
    I = json.load(open(path))['inputs']
    x = bytes.fromhex
    ed_i_pk, ed_i_sk = nb.crypto_sign_seed_keypair(x(I['initiatorIdentitySeed']))
    ed_r_pk, ed_r_sk = nb.crypto_sign_seed_keypair(x(I['responderIdentitySeed']))
    si = nb.crypto_sign_ed25519_sk_to_curve25519(ed_i_sk)
    sr = nb.crypto_sign_ed25519_sk_to_curve25519(ed_r_sk)
    si_pk, sr_pk = nb.crypto_sign_ed25519_pk_to_curve25519(ed_i_pk), nb.crypto_sign_ed25519_pk_to_curve25519(ed_r_pk)
    assert si_pk == nb.crypto_scalarmult_base(si) and sr_pk == nb.crypto_scalarmult_base(sr)
    ei, er = x(I['initiatorEphemeralSecret']), x(I['responderEphemeralSecret'])
    mb = I['maxMessageBytes']
    ext = bytes([I['responderExtensionType'], len(x(I['responderExtensionValue']))]) + x(I['responderExtensionValue'])
    p_i = lambda ident: payload(I['initiatorWallClockMs'], I['initiatorSid'], mb, I['initiatorStreamEpoch'], ident)
    p_r = lambda ident: payload(I['responderWallClockMs'], I['responderSid'], mb, I['responderStreamEpoch'], ident, ext)
    zero = b'\x00' * 32

    # IK
    hi = Handshake('IK', True, prologue(T_IK_INIT), si, ei, rs=sr_pk)
    hr = Handshake('IK', False, prologue(T_IK_INIT), sr, er)
    n1 = hi.write(p_i(ed_i_pk))
    assert hr.read(n1) == p_i(ed_i_pk) and hr.rs == si_pk
    n2 = hr.write(p_r(None))
    assert hi.read(n2) == p_r(None)
    assert hi.sym.h == hr.sym.h
    ik_send, ik_recv = hi.sym.split()
    init = frame(T_IK_INIT, None, n1, sr_pk)
    out = {'ik': {
        'init': init.hex(),
        'response': frame(T_IK_RESP, I['initiatorSid'], n2, si_pk).hex(),
        'handshakeHash': hi.sym.h.hex(),
        'initiatorSendKey': ik_send.hex(),
        'initiatorRecvKey': ik_recv.hex(),
    }}

    # cookie reply to the IK init, then the init again with mac2
    src = bytes(int(b) for b in I['cookieSourceAddress'].split('.')) + struct.pack('>H', I['cookieSourcePort'])
    cookie = mac(x(I['cookieSecret']), src)
    m1 = init[-32:-16]
    sealed = nb.crypto_aead_xchacha20poly1305_ietf_encrypt(cookie, m1, x(I['cookieNonce']), cookie_key(sr_pk))
    out['cookie'] = {
        'cookieReply': (bytes([T_COOKIE]) + m1[:4] + x(I['cookieNonce']) + sealed).hex(),
        'initWithMac2': frame(T_IK_INIT, None, n1, sr_pk, cookie).hex(),
    }

    # XX
    hi = Handshake('XX', True, prologue(T_XX1), si, ei)
    hr = Handshake('XX', False, prologue(T_XX1), sr, er)
    n1 = hi.write(struct.pack('>I', I['initiatorSid']) + b'\x00' * (XX1_PAYLOAD_BYTES - 4))
    hr.read(n1)
    n2 = hr.write(p_r(ed_r_pk))
    assert hi.read(n2) == p_r(ed_r_pk) and hi.rs == sr_pk
    n3 = hi.write(p_i(ed_i_pk))
    assert hr.read(n3) == p_i(ed_i_pk) and hr.rs == si_pk
    assert hi.sym.h == hr.sym.h
    xx_send, xx_recv = hi.sym.split()
    out['xx'] = {
        'msg1': frame(T_XX1, None, n1, zero).hex(),
        'msg2': frame(T_XX2, I['initiatorSid'], n2, zero).hex(),
        'msg3': frame(T_XX3, I['responderSid'], n3, sr_pk).hex(),
        'handshakeHash': hi.sym.h.hex(),
        'initiatorSendKey': xx_send.hex(),
        'initiatorRecvKey': xx_recv.hex(),
    }
    out.update({
        'initiatorIdentityPublic': ed_i_pk.hex(),
        'responderIdentityPublic': ed_r_pk.hex(),
        'initiatorStaticX25519': si_pk.hex(),
        'responderStaticX25519': sr_pk.hex(),
        'initiatorEphemeralPublic': nb.crypto_scalarmult_base(ei).hex(),
        'responderEphemeralPublic': nb.crypto_scalarmult_base(er).hex(),
    })
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
    print()


if __name__ == '__main__':
    main()
