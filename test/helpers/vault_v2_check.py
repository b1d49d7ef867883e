"""Cross-checks udpvault's vault-v2 datagrams with the libraries py-vault-udp uses
(PyNaCl, msgpack, zstandard), and makes datagrams the way the reference does.

stdin: JSON {"vectors": <vault-v2.json object>, "now": unix seconds, "mtu_effective": int,
             "ours": [{"hex": ..., "encrypted": bool, "text": str | null, "announcement": bool}],
             "texts": [str, ...]}
stdout: JSON {"errors": [str], "checked": int, "announcement_hex": hex,
              "datagrams": [{"hex": ..., "text": str}]}
Ours are read as B reads datagrams from A; the made datagrams go from A to B.
"""
import base64
import json
import os
import struct
import sys

import msgpack
import zstandard
from nacl.public import Box, PrivateKey, PublicKey
from nacl.signing import SigningKey, VerifyKey

b64d = base64.b64decode


def b64e(b):
    return base64.b64encode(b).decode("ascii")


def check(item, vec, now, mtu_eff, errors):
    a, b = vec["A"], vec["B"]
    raw = bytes.fromhex(item["hex"])
    where = "datagram %s" % item["hex"][:16]
    if item["encrypted"]:
        inner = Box(PrivateKey(b64d(b["enc_sk"])), PublicKey(b64d(a["enc_pk"]))).decrypt(raw)
        (ts,) = struct.unpack(">d", inner[16:24])
        if not 0 <= now - ts <= 60:
            errors.append("%s: timestamp %r not fresh at %r" % (where, ts, now))
        body = inner[24:]
    else:
        body = raw
    m = msgpack.unpackb(body, raw=False)
    if list(m.keys()) != ["v", "p", "c", "g"] or m["v"] != 2 or type(m["v"]) is not int:
        errors.append("%s: bad map keys/version %r" % (where, list(m.keys())))
        return
    for k in "pcg":
        if not isinstance(m[k], bytes):
            errors.append("%s: field %s is %s, not bin" % (where, k, type(m[k]).__name__))
    if len(body) not in (mtu_eff, mtu_eff + 1, mtu_eff + 3):
        errors.append("%s: body length %d for effective MTU %d" % (where, len(body), mtu_eff))
    if item.get("text") is not None:
        text = zstandard.ZstdDecompressor().decompress(m["p"], max_output_size=1 << 20).decode("utf-8")
        if text != item["text"]:
            errors.append("%s: text differs" % where)
    if item.get("announcement"):
        ann = json.loads(m["c"].decode("utf-8"))
        signed = VerifyKey(b64d(ann["sign_key"])).verify(b64d(ann["signature"]))
        if signed != (ann["enc_key"] + ann["sign_key"]).encode("ascii"):
            errors.append("%s: announcement signs other content" % where)
        if ann["enc_key"] != a["enc_pk"] or ann["sign_key"] != a["sign_pk"]:
            errors.append("%s: announcement keys differ from A's" % where)


def make_body(p, c, mtu_eff):
    base = len(msgpack.packb({"v": 2, "p": p, "c": c, "g": b""}, use_bin_type=True))
    return msgpack.packb({"v": 2, "p": p, "c": c, "g": os.urandom(mtu_eff - base)}, use_bin_type=True)


def main():
    req = json.load(sys.stdin)
    vec, now, mtu_eff = req["vectors"], req["now"], req["mtu_effective"]
    a, b = vec["A"], vec["B"]
    errors = []
    for item in req["ours"]:
        try:
            check(item, vec, now, mtu_eff, errors)
        except Exception as e:  # report, don't crash: the TS test prints these
            errors.append("datagram %s: %s: %s" % (item["hex"][:16], type(e).__name__, e))
    sk = SigningKey(b64d(a["sign_sk_seed"]))
    enc_key, sign_key = a["enc_pk"], b64e(bytes(sk.verify_key))
    signature = b64e(bytes(sk.sign((enc_key + sign_key).encode("ascii"))))
    port = int(a["addr"].rsplit(":", 1)[1])
    ann = json.dumps({"enc_key": enc_key, "sign_key": sign_key, "signature": signature, "port": port})
    box = Box(PrivateKey(b64d(a["enc_sk"])), PublicKey(b64d(b["enc_pk"])))
    made = []
    for text in req["texts"]:
        p = zstandard.ZstdCompressor(level=16).compress(text.encode("utf-8"))
        inner = os.urandom(16) + struct.pack(">d", now) + make_body(p, b"", mtu_eff)
        made.append({"hex": bytes(box.encrypt(inner)).hex(), "text": text})
    out = {"errors": errors, "checked": len(req["ours"]), "announcement_hex": ann.encode("ascii").hex(), "datagrams": made}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
