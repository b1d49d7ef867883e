#!/usr/bin/env python3
"""The bed's competing TCP flow with a chosen congestion control: connects to HOST:PORT with
TCP_CONGESTION set to CC (root may pick any the kernel has, where a network namespace's default
can only be one of net.ipv4.tcp_allowed_congestion_control), prints {"type":"ready","port":N}
like scripts/netns-flow.ts, then writes as fast as TCP takes it until killed.
Usage: tcp_source.py HOST PORT CC"""
import json
import socket
import sys


def main() -> None:
    host, port, cc = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
    s.connect((host, port))
    print(json.dumps({"type": "ready", "port": s.getsockname()[1]}), flush=True)
    chunk = b"\x5a" * 65536
    while True:
        s.sendall(chunk)


if __name__ == "__main__":
    try:
        main()
    except (BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
        pass
