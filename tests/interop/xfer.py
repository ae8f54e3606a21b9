#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Traffic ends on the host side of the interop tests (run in hostA's
network namespace). Standard library only. Every mode is bounded by -t.

    xfer.py tcp-send HOST PORT FILE [-t S] [--rate BYTES_PER_S]
            connect (retrying until -t), send FILE (paced when --rate is
            given), shut the write side, wait for the peer to close;
            prints "sent <bytes> sha256 <hex>"
    xfer.py tcp-recv PORT [-t S] [--ready F] listen on PORT, accept one
            connection, read to EOF; prints "received <bytes> sha256 <hex>"
            (touches F once listening)
    xfer.py udp-send HOST PORT COUNT SIZE [-t S]  COUNT datagrams of SIZE
            bytes ("udp <seq>" padded with dots, newline-terminated),
            1 ms apart; prints "datagrams <n> sha256 <hex of all sent>"
    xfer.py udp-recv PORT [-t S] [--ready F] [--idle S]  collect datagrams
            until none came for --idle seconds (default 2) after the
            first, or -t; prints "datagrams <n> bytes <b> sha256 <hex>"
            (concatenated in arrival order) and one "dgram <len>" line each
    xfer.py inject PCAP IFACE   send every Ethernet frame of a libpcap
            file (as tcpdump -w writes it) out of IFACE, 10 ms apart, with
            an AF_PACKET socket; prints "injected <n>"
"""
import hashlib
import os
import socket
import sys
import time


def opt(args, name, default, conv=str):
    if name in args:
        i = args.index(name)
        v = args[i + 1]
        del args[i:i + 2]
        return conv(v)
    return default


def touch(path):
    if path:
        with open(path, "w"):
            pass


def tcp_send(host, port, path, timeout, rate):
    deadline = time.monotonic() + timeout
    with open(path, "rb") as f:
        data = f.read()
    # the family from the address: tests/interop6 sends over IPv6 too
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    while True:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect((host, int(port)))
            break
        except OSError as e:
            s.close()
            if time.monotonic() > deadline:
                print(f"connect {host}:{port}: {e}", file=sys.stderr)
                return 1
            time.sleep(0.5)
    s.settimeout(max(1.0, deadline - time.monotonic()))
    try:
        if rate:
            t0 = time.monotonic()
            chunk = 16384
            for off in range(0, len(data), chunk):
                s.sendall(data[off:off + chunk])
                ahead = (off + chunk) / rate - (time.monotonic() - t0)
                if ahead > 0:
                    time.sleep(ahead)
        else:
            s.sendall(data)
        s.shutdown(socket.SHUT_WR)
        while s.recv(65536):
            pass
    except OSError as e:
        print(f"send to {host}:{port}: {e}", file=sys.stderr)
        return 1
    s.close()
    print(f"sent {len(data)} sha256 {hashlib.sha256(data).hexdigest()}")
    return 0


def tcp_recv(port, timeout, ready):
    deadline = time.monotonic() + timeout
    # both families on [::] where the namespace has IPv6, else IPv4's
    try:
        ls = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        ls.bind(("::", int(port)))
    except OSError:
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("0.0.0.0", int(port)))
    ls.listen(1)
    touch(ready)
    ls.settimeout(timeout)
    try:
        s, _ = ls.accept()
    except OSError as e:
        print(f"accept on {port}: {e}", file=sys.stderr)
        return 1
    h = hashlib.sha256()
    n = 0
    try:
        while True:
            s.settimeout(max(0.5, deadline - time.monotonic()))
            b = s.recv(1 << 16)
            if not b:
                break
            h.update(b)
            n += len(b)
            if time.monotonic() > deadline:
                raise TimeoutError("deadline")
    except OSError as e:
        print(f"receive on {port}: {e} after {n} bytes", file=sys.stderr)
        print(f"received {n} sha256 {h.hexdigest()} (incomplete)")
        return 1
    s.close()
    print(f"received {n} sha256 {h.hexdigest()}")
    return 0


def udp_payload(seq, size):
    head = f"udp {seq:05d} ".encode()
    return head + b"." * max(0, size - len(head) - 1) + b"\n"


def udp_send(host, port, count, size, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    h = hashlib.sha256()
    deadline = time.monotonic() + timeout
    for i in range(1, int(count) + 1):
        p = udp_payload(i, int(size))
        s.sendto(p, (host, int(port)))
        h.update(p)
        time.sleep(0.001)
        if time.monotonic() > deadline:
            return 1
    print(f"datagrams {count} sha256 {h.hexdigest()}")
    return 0


def udp_recv(port, timeout, ready, idle):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", int(port)))
    touch(ready)
    deadline = time.monotonic() + timeout
    got = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(min(left, idle) if got else left)
        try:
            b, _ = s.recvfrom(65536)
        except socket.timeout:
            if got:
                break
            continue
        got.append(b)
    data = b"".join(got)
    print(f"datagrams {len(got)} bytes {len(data)} "
          f"sha256 {hashlib.sha256(data).hexdigest()}")
    for b in got:
        print(f"dgram {len(b)}")
    return 0


def inject(path, iface):
    import struct
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        print(f"{path}: not a pcap file", file=sys.stderr)
        return 1
    linktype = struct.unpack(end + "I", data[20:24])[0]
    if linktype != 1:
        print(f"{path}: link type {linktype}, not Ethernet", file=sys.stderr)
        return 1
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    off, n = 24, 0
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        s.send(frame)
        n += 1
        time.sleep(0.01)
    print(f"injected {n}")
    return 0


def main():
    a = sys.argv[1:]
    timeout = opt(a, "-t", 60.0, float)
    ready = opt(a, "--ready", None)
    idle = opt(a, "--idle", 2.0, float)
    rate = opt(a, "--rate", 0, float)
    if not a:
        print(__doc__, file=sys.stderr)
        return 2
    mode, rest = a[0], a[1:]
    if mode == "tcp-send" and len(rest) == 3:
        return tcp_send(*rest, timeout, rate)
    if mode == "tcp-recv" and len(rest) == 1:
        return tcp_recv(rest[0], timeout, ready)
    if mode == "udp-send" and len(rest) == 4:
        return udp_send(*rest, timeout)
    if mode == "udp-recv" and len(rest) == 1:
        return udp_recv(rest[0], timeout, ready, idle)
    if mode == "inject" and len(rest) == 2:
        return inject(*rest)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
