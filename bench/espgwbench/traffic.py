"""Traffic: the pcap files the gateways read, made with scapy and cached,
so that espgw and ipsec-secgw see byte-identical frames (and l3fwd their
twins, to the destination its built-in routes send to port 1)."""

import os
import struct

from .common import (FCS, INNER6_DST, INNER6_SRC, INNER_DST, INNER_SRC, KEY_IN, LAN_HOST_MAC,
                     MAIN_PKTS, NATT_PORT, PEER_MAC, SPI_IN, SRC_MAC, WORK, fam_addrs,
                     frame_lens, inner6, log, scale_inner_dst, scale_key, scale_peer,
                     scale_spi)


def scapy_mods():
    from scapy.all import Ether, IP, UDP, Raw, wrpcap, rdpcap  # noqa
    from scapy.layers.inet6 import IPv6
    from scapy.layers.ipsec import SecurityAssociation, ESP
    return dict(Ether=Ether, IP=IP, IPv6=IPv6, UDP=UDP, Raw=Raw, wrpcap=wrpcap,
                rdpcap=rdpcap, SA=SecurityAssociation, ESP=ESP)


def inner_ip(S, flen, dst=INNER_DST, sport=1024):
    """An inner IPv4/UDP packet for an Ethernet frame of flen bytes (FCS
    included: 64 -> 46-byte IP packet)."""
    p = S["IP"](src=INNER_SRC, dst=dst, ttl=64, id=sport) / S["UDP"](sport=sport, dport=5001)
    pad = flen - 14 - FCS - len(p)
    assert pad >= 0
    return S["IP"](bytes(p / S["Raw"](bytes((i * 7 + sport) & 0xff for i in range(pad)))))


def inner_ip6(S, flen, sport=1024):
    """An inner IPv6/UDP packet for an Ethernet frame of flen bytes (FCS
    included: 66 -> 48 bytes, IPv6 and UDP headers only)."""
    p = S["IPv6"](src=INNER6_SRC, dst=INNER6_DST, hlim=64, fl=sport) / \
        S["UDP"](sport=sport, dport=5001)
    pad = flen - 14 - FCS - len(p)
    assert pad >= 0
    return S["IPv6"](bytes(p / S["Raw"](bytes((i * 7 + sport) & 0xff for i in range(pad)))))


def esp_sa(S, spi, key, src, dst):
    """An SA of scapy's; IPv6 tunnel ends (a ':' in src) make 4in6/6in6."""
    hdr = S["IPv6"](src=src, dst=dst) if ":" in src else S["IP"](src=src, dst=dst)
    return S["SA"](S["ESP"], spi=spi, crypt_algo="AES-GCM", crypt_key=key,
                   tunnel_header=hdr)


def in_udp(S, e):
    """ESP packet e (outer IPv4 + ESP) as ESP in UDP (RFC 3948) on NATT_PORT,
    checksum 0 as Linux sends it."""
    b = bytes(e)
    return S["IP"](src=e.src, dst=e.dst, ttl=e.ttl, id=e.id) / \
        S["UDP"](sport=NATT_PORT, dport=NATT_PORT, chksum=0) / S["Raw"](b[20:])


def make_pcaps(S, kind, size, n, path, scale_nsa=None, hit=1, fam="4in4", dst=INNER_DST):
    """kind 'plain': Ether + inner IP; 'esp': Ether + outer IP + ESP(inner);
    'esp-udp': the same in UDP; fam: inner and outer IP versions.
    With scale_nsa, frame k goes to destination / SA j = (k % hit) * nsa // hit
    of the scale configurations; else to dst."""
    lens = frame_lens(size, fam)
    gw, peer = fam_addrs(fam)
    frames = []
    sas = {}
    for k in range(n):
        flen = lens[k % len(lens)]
        j = None if scale_nsa is None else (k % hit) * scale_nsa // hit
        to = dst if j is None else scale_inner_dst(j)
        if inner6(fam):
            ip = inner_ip6(S, flen, sport=1024 + (k % 64))
        else:
            ip = inner_ip(S, flen, dst=to, sport=1024 + (k % 64))
        if kind == "plain":
            f = S["Ether"](dst=SRC_MAC, src=LAN_HOST_MAC) / ip
        else:
            sa = sas.get(j)
            if sa is None:
                sa = sas[j] = (esp_sa(S, SPI_IN, KEY_IN, peer, gw) if j is None
                               else esp_sa(S, scale_spi(j), scale_key(j), scale_peer(j),
                                           gw))
            seq = k + 1
            e = sa.encrypt(ip, seq_num=seq, iv=struct.pack("!Q", 0x5eed000000000000 + seq))
            if kind == "esp-udp":
                e = in_udp(S, e)
            f = S["Ether"](dst=SRC_MAC, src=PEER_MAC) / e
        frames.append(f)
    tmp = path + ".tmp"
    S["wrpcap"](tmp, frames)
    os.replace(tmp, path)


def traffic(S, kind, size, n=MAIN_PKTS, scale_nsa=None, hit=1, fam="4in4", dst=INNER_DST):
    """Path of a cached pcap; made when missing. dst: another inner
    destination, the same frames otherwise (l3fwd's twin of bypass)."""
    d = os.path.join(WORK, "pcap")
    os.makedirs(d, exist_ok=True)
    tag = "%s-%s-n%d" % (kind, size, n)
    if kind == "plain":
        if inner6(fam):   # the clear side is the inner packet alone
            tag = "ip6-" + tag
    elif fam != "4in4":
        tag = fam + "-" + tag
    if scale_nsa is not None:
        tag += "-scale-sa%d-hit%d" % (scale_nsa, hit)
    if dst != INNER_DST:
        tag += "-to-" + dst
    path = os.path.join(d, tag + ".pcap")
    if not os.path.exists(path):
        log("  making %s" % os.path.basename(path))
        make_pcaps(S, kind, size, n, path, scale_nsa, hit, fam, dst)
    return path
