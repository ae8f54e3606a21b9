#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""TCP ends of tests/interop6 on the host side, IPv6 or IPv4: those of
tests/interop/xfer.py (the family from the address), and the Packet Too
Big reader. Standard library only; every mode is bounded by -t.

    xfer6.py tcp-send HOST PORT FILE [-t S] [--rate BYTES_PER_S]
            connect (retrying until -t), send FILE, shut the write side,
            wait for the peer to close; prints "sent <bytes> sha256 <hex>"
    xfer6.py tcp-recv PORT [-t S] [--ready F]   listen on [::]:PORT, both
            families, accept one connection, read to EOF; prints
            "received <bytes> sha256 <hex>" (touches F once listening)
    xfer6.py ptb PCAP   every ICMPv6 Packet Too Big (RFC 4443 section
            3.2) of an Ethernet capture, one line each: "ptb <src> <dst>
            mtu <M> len <IPv6 packet bytes> cksum ok|bad quotes <src> >
            <dst> <quoted payload length>"
"""
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "interop"))
from xfer import opt, tcp_recv, tcp_send  # noqa: E402


def pcap_frames(path):
    with open(path, "rb") as f:
        data = f.read()
    end = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        yield data[off + 16:off + 16 + incl]
        off += 16 + incl


def cksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def ptb(path):
    for fr in pcap_frames(path):
        if len(fr) < 14 + 48 or fr[12:14] != b"\x86\xdd":
            continue
        ip = fr[14:]
        plen = struct.unpack("!H", ip[4:6])[0]
        if ip[6] != 58 or ip[40] != 2:
            continue
        icmp = ip[40:40 + plen]
        pseudo = ip[8:40] + struct.pack("!IxxxB", plen, 58)
        ok = "ok" if cksum(pseudo + icmp) == 0xFFFF else "bad"
        mtu = struct.unpack("!I", icmp[4:8])[0]
        q = icmp[8:]
        quoted = "none"
        if len(q) >= 40:
            quoted = (f"{socket.inet_ntop(socket.AF_INET6, q[8:24])} > "
                      f"{socket.inet_ntop(socket.AF_INET6, q[24:40])} "
                      f"{struct.unpack('!H', q[4:6])[0]}")
        print(f"ptb {socket.inet_ntop(socket.AF_INET6, ip[8:24])} "
              f"{socket.inet_ntop(socket.AF_INET6, ip[24:40])} mtu {mtu} "
              f"len {40 + plen} cksum {ok} quotes {quoted}")
    return 0


def main():
    a = sys.argv[1:]
    timeout = opt(a, "-t", 60.0, float)
    ready = opt(a, "--ready", None)
    rate = opt(a, "--rate", 0, float)
    if a and a[0] == "tcp-send" and len(a) == 4:
        return tcp_send(*a[1:], timeout, rate)
    if a and a[0] == "tcp-recv" and len(a) == 2:
        return tcp_recv(a[1], timeout, ready)
    if a and a[0] == "ptb" and len(a) == 2:
        return ptb(a[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
