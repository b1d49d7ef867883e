#!/usr/bin/env python3
"""Link helper for the network-namespace tests (test/helpers/netns.ts). Standard library only.

  netwire.py wire IF_A IF_B
      Creates two TUN interfaces (IF_A, IF_B) in the current network namespace and forwards
      every IP packet read from one to the other, with netem-like impairments: loss,
      delay ± jitter (uniform), reordering (that share of packets skips the delay, as
      netem's "reorder" does) and duplication. The caller moves IF_B into the other
      namespace; the descriptors stay attached, so the two namespaces talk through this
      process. It is the stand-in for `tc netem` on kernels built without sch_netem.

  netwire.py sniff IF
      Counts the IPv4 packets that arrive on IF (an AF_PACKET socket), for MTU checks.

Both report statistics per direction ("aToB", "bToA"; sniff uses "in"): packets, bytes,
dropped, duplicated, reordered (delivered before a packet that arrived earlier), the largest
IP packet, the largest UDP payload and IP fragments seen.

Protocol: JSON lines. stdout: {"type":"ready"} once, then {"type":"stats","id":N,...} per
request. stdin: {"cmd":"set","id":N,"loss":0.2,"delayMs":5,"jitterMs":2,"reorder":0.1,
"duplicate":0,"seed":1} (wire only), {"cmd":"stats","id":N}, {"cmd":"reset","id":N}.
Exits when stdin closes or on SIGTERM/SIGINT (the TUN interfaces vanish with it).
"""
import fcntl
import heapq
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4


def new_stats():
    return {"packets": 0, "bytes": 0, "dropped": 0, "duplicated": 0, "reordered": 0,
            "maxIpBytes": 0, "maxUdpPayload": 0, "ipFragments": 0, "udpPackets": 0}


def inspect(st, pkt):
    """Counts one IPv4 packet into st (sizes and fragmentation)."""
    st["packets"] += 1
    st["bytes"] += len(pkt)
    st["maxIpBytes"] = max(st["maxIpBytes"], len(pkt))
    if len(pkt) < 20 or pkt[0] >> 4 != 4:
        return
    ihl = (pkt[0] & 0x0F) * 4
    flags_frag = struct.unpack("!H", pkt[6:8])[0]
    more_fragments = bool(flags_frag & 0x2000)
    offset = flags_frag & 0x1FFF
    if more_fragments or offset:
        st["ipFragments"] += 1
        return
    if pkt[9] == 17 and len(pkt) >= ihl + 8:
        udp_len = struct.unpack("!H", pkt[ihl + 4:ihl + 6])[0]
        st["udpPackets"] += 1
        st["maxUdpPayload"] = max(st["maxUdpPayload"], udp_len - 8)


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


class Wire:
    def __init__(self, if_a, if_b):
        self.fds = {"a": open_tun(if_a), "b": open_tun(if_b)}
        self.rates = {"loss": 0.0, "delayMs": 0.0, "jitterMs": 0.0, "reorder": 0.0, "duplicate": 0.0}
        self.rng = random.Random(1)
        self.queue = []  # (due, seq, direction, arrival number, packet)
        self.seq = 0
        self.reset()

    def reset(self):
        self.stats = {"aToB": new_stats(), "bToA": new_stats()}
        self.arrived = {"aToB": 0, "bToA": 0}
        self.delivered_max = {"aToB": -1, "bToA": -1}

    def configure(self, msg):
        for k in self.rates:
            if k in msg:
                self.rates[k] = float(msg[k])
        if "seed" in msg:
            self.rng = random.Random(msg["seed"])

    def schedule(self, direction, n, pkt, now):
        r = self.rates
        if r["reorder"] > 0 and self.rng.random() < r["reorder"]:
            due = now
        else:
            jitter = self.rng.uniform(-r["jitterMs"], r["jitterMs"]) if r["jitterMs"] > 0 else 0.0
            due = now + max(0.0, r["delayMs"] + jitter) / 1000.0
        self.seq += 1
        heapq.heappush(self.queue, (due, self.seq, direction, n, pkt))

    def on_packet(self, direction, pkt):
        st = self.stats[direction]
        inspect(st, pkt)
        n = self.arrived[direction]
        self.arrived[direction] += 1
        r = self.rates
        if r["loss"] > 0 and self.rng.random() < r["loss"]:
            st["dropped"] += 1
            return
        now = time.monotonic()
        self.schedule(direction, n, pkt, now)
        if r["duplicate"] > 0 and self.rng.random() < r["duplicate"]:
            st["duplicated"] += 1
            self.schedule(direction, n, pkt, now)

    def deliver_due(self):
        now = time.monotonic()
        while self.queue and self.queue[0][0] <= now:
            _, _, direction, n, pkt = heapq.heappop(self.queue)
            if n < self.delivered_max[direction]:
                self.stats[direction]["reordered"] += 1
            self.delivered_max[direction] = max(self.delivered_max[direction], n)
            out = self.fds["b" if direction == "aToB" else "a"]
            try:
                os.write(out, pkt)
            except OSError:
                pass  # interface down or gone: the packet is lost, like on a wire

    def timeout(self):
        if not self.queue:
            return None
        return max(0.0, self.queue[0][0] - time.monotonic())

    def readers(self):
        return {self.fds["a"]: "aToB", self.fds["b"]: "bToA"}

    def read(self, fd, direction):
        for _ in range(64):
            try:
                pkt = os.read(fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                return
            self.on_packet(direction, pkt)


class Sniffer:
    def __init__(self, ifname):
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
        self.sock.bind((ifname, ETH_P_IP))
        self.sock.setblocking(False)
        self.reset()

    def reset(self):
        self.stats = {"in": new_stats()}

    def configure(self, msg):
        raise ValueError("sniff mode has no impairments")

    def deliver_due(self):
        pass

    def timeout(self):
        return None

    def readers(self):
        return {self.sock.fileno(): "in"}

    def read(self, fd, direction):
        for _ in range(64):
            try:
                pkt, addr = self.sock.recvfrom(65536)
            except BlockingIOError:
                return
            if addr[2] != PACKET_OUTGOING:
                inspect(self.stats["in"], pkt)


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "wire" and len(sys.argv) == 4:
        link = Wire(sys.argv[2], sys.argv[3])
    elif mode == "sniff" and len(sys.argv) == 3:
        link = Sniffer(sys.argv[2])
    else:
        sys.stderr.write("usage: netwire.py wire IF_A IF_B | netwire.py sniff IF\n")
        sys.exit(2)
    stdin = sys.stdin.fileno()
    os.set_blocking(stdin, False)
    pending = b""
    emit({"type": "ready"})
    readers = link.readers()
    while True:
        ready, _, _ = select.select([stdin, *readers], [], [], link.timeout())
        for fd in ready:
            if fd != stdin:
                link.read(fd, readers[fd])
                continue
            try:
                chunk = os.read(stdin, 65536)
            except BlockingIOError:
                continue
            if not chunk:
                sys.exit(0)
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if not line.strip():
                    continue
                msg = json.loads(line)
                reply = {"type": "stats", "id": msg.get("id")}
                try:
                    if msg["cmd"] == "set":
                        link.configure(msg)
                    elif msg["cmd"] == "reset":
                        link.reset()
                    elif msg["cmd"] != "stats":
                        raise ValueError("unknown command " + str(msg["cmd"]))
                except (ValueError, KeyError) as e:
                    emit({"type": "error", "id": msg.get("id"), "message": str(e)})
                    continue
                reply.update(link.stats)
                emit(reply)
        link.deliver_due()


if __name__ == "__main__":
    main()
