#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""A TCP stream that lasts as long as the test wants (tests/control; run
in hostA's network namespace). Standard library only.

    stream.py HOST PORT --until FILE [--rate BYTES_PER_S] [-t S]
        connect (retrying until -t), send random bytes at --rate (default
        150000) until FILE exists or -t runs out, shut the write side,
        wait for the peer to close; prints "sent <bytes> sha256 <hex>".
        Exit status 1 on a socket error or when -t ran out first.
"""
import argparse
import hashlib
import os
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--until", required=True)
    ap.add_argument("--rate", type=float, default=150000)
    ap.add_argument("-t", type=float, default=600)
    a = ap.parse_args()
    deadline = time.monotonic() + a.t
    while True:
        s = socket.socket()
        s.settimeout(5)
        try:
            s.connect((a.host, a.port))
            break
        except OSError as e:
            s.close()
            if time.monotonic() > deadline:
                print(f"connect {a.host}:{a.port}: {e}", file=sys.stderr)
                return 1
            time.sleep(0.5)
    h = hashlib.sha256()
    n = 0
    chunk = 16384
    t0 = time.monotonic()
    try:
        while not os.path.exists(a.until):
            if time.monotonic() > deadline:
                print(f"-t {a.t} s ran out before {a.until} appeared",
                      file=sys.stderr)
                return 1
            b = os.urandom(chunk)
            s.settimeout(max(1.0, deadline - time.monotonic()))
            s.sendall(b)
            h.update(b)
            n += len(b)
            ahead = n / a.rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(max(1.0, deadline - time.monotonic()))
        while s.recv(65536):
            pass
    except OSError as e:
        print(f"send to {a.host}:{a.port}: {e} after {n} bytes",
              file=sys.stderr)
        return 1
    s.close()
    print(f"sent {n} sha256 {h.hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
