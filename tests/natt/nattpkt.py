#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""UDP ends and a pcap reader for tests/natt. Standard library only.

    nattpkt.py send SPORT DST DPORT KIND    one datagram from SPORT:
            KIND "marker" is the non-ESP marker (four zero bytes) and
            "natt-probe"; "esp" looks like ESP (SPI 0xdeadbeef, seq 1,
            24 zero bytes); prints "sent KIND LEN"
    nattpkt.py recv PORT [-t S] [--ready F]  wait for one datagram on
            PORT (at most -t seconds, default 10); prints "rx SRC:SPORT
            LEN" (touches F once listening); exit 1 when none came
    nattpkt.py esp-ping SPORT DST DPORT SPI KEY SRC IDST [--reply SPI KEY]
            [--seq N] [-t S]   an ICMP echo request SRC > IDST in ESP
            tunnel mode (rfc4106(gcm(aes)), ICV 16, sequence number N,
            default 1; KEY as ip xfrm takes it, 0x + key + salt) made by
            scapy, sent in UDP from SPORT to DST:DPORT; prints "sent esp
            spi=0x... seq=N LEN". With
            --reply, waits for ESP in UDP on SPORT with that SPI,
            decrypts it and prints "rx SRC:SPORT esp spi=... seq=N:
            INNER_SRC > INNER_DST echo-reply id=I"; exit 1 when none
            came or it does not decrypt to that reply. Needs scapy.
    nattpkt.py pcap FILE    every UDP datagram of a libpcap file (as
            tcpdump -w writes it, Ethernet), one line each:
            "TIME SRC:SPORT > DST:DPORT LEN KIND" where KIND is
            "keepalive" (one byte 0xFF), "non-esp" (four zero bytes
            first) or "esp spi=0x%08x seq=N" (RFC 3948 section 2.2)
"""
import signal
import socket
import struct
import sys
import time


def opt(args, name, default, conv=str):
    if name in args:
        i = args.index(name)
        v = args[i + 1]
        del args[i:i + 2]
        return conv(v)
    return default


def send(sport, dst, dport, kind):
    if kind == "marker":
        data = b"\0\0\0\0natt-probe"
    elif kind == "esp":
        data = struct.pack("!II", 0xDEADBEEF, 1) + bytes(24)
    else:
        raise SystemExit(f"unknown kind {kind}")
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", sport))
    s.sendto(data, (dst, dport))
    print(f"sent {kind} {len(data)}")


def recv(port, timeout, ready):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    s.settimeout(timeout)
    if ready:
        open(ready, "w").close()
    try:
        data, (addr, sport) = s.recvfrom(65535)
    except socket.timeout:
        print(f"nothing on udp port {port} within {timeout} s")
        return 1
    print(f"rx {addr}:{sport} {len(data)}")
    return 0


def esp_sa(spi, key):
    from scapy.layers.inet import IP
    from scapy.layers.ipsec import ESP, SecurityAssociation
    return SecurityAssociation(ESP, spi=int(spi, 16),
                               crypt_algo="AES-GCM",
                               crypt_key=bytes.fromhex(key[2:]),
                               tunnel_header=IP(src="0.0.0.0",
                                                dst="0.0.0.0"))


def esp_ping(sport, dst, dport, spi, key, src, idst, reply, seq, timeout):
    from scapy.layers.inet import ICMP, IP
    from scapy.layers.ipsec import ESP
    ident = 0x4E54
    inner = IP(src=src, dst=idst) / ICMP(id=ident, seq=seq) / b"natt-esp-ping"
    esp = bytes(esp_sa(spi, key).encrypt(inner, seq_num=seq)[ESP])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", sport))
    s.sendto(esp, (dst, dport))
    print(f"sent esp spi={spi} seq={seq} {len(esp)}")
    if not reply:
        return 0
    rspi, rkey = reply
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s.settimeout(max(0.1, deadline - time.monotonic()))
        try:
            data, (addr, port) = s.recvfrom(65535)
        except socket.timeout:
            break
        if len(data) < 8 or struct.unpack("!I", data[:4])[0] != int(rspi, 16):
            print(f"rx {addr}:{port} {kind_of(data)} (not spi {rspi})")
            continue
        seq = struct.unpack("!I", data[4:8])[0]
        pkt = IP(src=addr, dst="0.0.0.0", proto=50) / ESP(data)
        try:
            got = esp_sa(rspi, rkey).decrypt(pkt)
        except Exception as e:  # scapy raises its own on a bad ICV
            print(f"rx {addr}:{port} esp spi={rspi} seq={seq}: "
                  f"does not decrypt: {e}")
            return 1
        ok = (got.haslayer(ICMP) and got[ICMP].type == 0
              and got[ICMP].id == ident and got.src == idst
              and got.dst == src)
        print(f"rx {addr}:{port} esp spi={rspi} seq={seq}: {got.src} > "
              f"{got.dst} {got.summary()}")
        return 0 if ok else 1
    print(f"no ESP with spi {rspi} on udp port {sport} within {timeout} s")
    return 1


def kind_of(payload):
    if payload == b"\xff":
        return "keepalive"
    if payload[:4] == b"\0\0\0\0":
        return "non-esp"
    if len(payload) >= 8:
        spi, seq = struct.unpack("!II", payload[:8])
        return f"esp spi=0x{spi:08x} seq={seq}"
    return "short"


def pcap(path):
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            return 0  # tcpdump stopped before it wrote its header
        magic = struct.unpack("<I", head[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            order = "<"
        elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
            order = ">"
        else:
            raise SystemExit(f"{path}: not a libpcap file")
        nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            sec, frac, caplen, _ = struct.unpack(order + "IIII", rec)
            frame = f.read(caplen)
            t = sec + frac / (1e9 if nano else 1e6)
            if len(frame) < 14 + 20 or frame[12:14] != b"\x08\x00":
                continue
            ip = frame[14:]
            ihl = (ip[0] & 0xF) * 4
            if ip[9] != 17 or struct.unpack("!H", ip[6:8])[0] & 0x1FFF:
                continue  # not UDP, or not a first fragment
            src = socket.inet_ntoa(ip[12:16])
            dst = socket.inet_ntoa(ip[16:20])
            sport, dport, ulen = struct.unpack("!HHH", ip[ihl:ihl + 6])
            payload = ip[ihl + 8:ihl + ulen]
            print(f"{t:.6f} {src}:{sport} > {dst}:{dport} {ulen - 8} "
                  f"{kind_of(payload)}")
    return 0


def main():
    # a reader that has seen enough (grep -q, head) ends us quietly
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = sys.argv[1:]
    timeout = opt(args, "-t", 10.0, float)
    ready = opt(args, "--ready", None)
    if len(args) == 5 and args[0] == "send":
        send(int(args[1]), args[2], int(args[3]), args[4])
        return 0
    if len(args) == 2 and args[0] == "recv":
        return recv(int(args[1]), timeout, ready)
    if args and args[0] == "esp-ping":
        reply = None
        if "--reply" in args:
            i = args.index("--reply")
            reply = (args[i + 1], args[i + 2])
            del args[i:i + 3]
        seq = opt(args, "--seq", 1, int)
        if len(args) == 8:
            return esp_ping(int(args[1]), args[2], int(args[3]), args[4],
                            args[5], args[6], args[7], reply, seq, timeout)
    if len(args) == 2 and args[0] == "pcap":
        return pcap(args[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
