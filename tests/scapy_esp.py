#!/usr/bin/python3
"""Independent cross-check of espgw's ESP encapsulation against scapy.

espgw encapsulates packets in IPsec ESP tunnel mode (RFC 4303) with
AES-GCM (RFC 4106) and an IPv4 or IPv6 outer header.  This script is the half of
the cross-check that does not share any code with espgw: it generates
random test cases with scapy and later verifies espgw's output both with
scapy's SecurityAssociation and with a hand-written RFC 4106 decryption
built on python3-cryptography.

Usage (run with /usr/bin/python3; needs python3-scapy and
python3-cryptography)::

    scapy_esp.py gen   --seed S --count N --out CASES
    scapy_esp.py check --cases CASES --results RESULTS

CASES starts with a ``# seed S`` line, then one case per line::

    id key_hex icv_len esn spi_hex seq src dst inner_hex esp_hex encap

``key_hex`` is the AES key (16/24/32 bytes) followed by the 4-byte salt,
``seq`` is the full 64-bit sequence number (without ESN it is < 2**32;
with ESN only ``seq & 0xffffffff`` goes on the wire and ``seq >> 32`` only
into the AAD), ``inner_hex`` is the inner IPv4/IPv6 packet and ``esp_hex``
is scapy's encapsulation of it (outer IPv4 header + ESP, outer IPv4 +
UDP + ESP, or outer IPv6 + ESP).  Every case has a distinct sequence number (distinct even in
its low 32 bits), so an implementation deriving its IV from the sequence
number still produces pairwise distinct IVs.

A quarter of the cases have IPv6 endpoints (``src``/``dst`` in
2001:db8:1::/48 and 2001:db8:2::/48), so with the random inner family
4in6 and 6in6 as well as 4in4 and 6in4; they are plain ESP (espgw has no
ESP in UDP over IPv6).  A third of scapy's IPv6 packets carry a
destination options header between the IPv6 header and ESP (RFC 8200
section 4.6), which a receiver walks past.  espgw's own IPv6 framing must
be xfrm6_tunnel_encap_add()'s: next header 50, hop limit 64, the traffic
class copied from the inner header as the IPv4 TOS is, the inner IPv6
flow label (0 for inner IPv4) and the payload length.

``encap`` is ``-`` for plain ESP (outer protocol 50) or ``SPORT:DPORT``
for ESP in UDP (RFC 3948), as ``ip xfrm state ... encap espinudp SPORT
DPORT 0.0.0.0`` sets it: SPORT is the sender's (src's) UDP port, DPORT
the receiver's.  About a third of the cases have it, a quarter of those
on 4500:4500, the rest on random ports.  Half of scapy's ESP-in-UDP
packets carry a valid UDP checksum, the others checksum 0 (as Linux
sends it): a receiver takes both (RFC 3948 section 3.1.2).  espgw's own
ESP in UDP must be what Linux sends: outer protocol 17, the state's
ports, the datagram's UDP length, checksum 0, and the outer total length
and header checksum over the UDP header too.

RESULTS has one ``id esp_hex`` line per case: espgw's own encapsulation of
the case's inner packet with the case's SA at the case's sequence number.
``check`` prints one line per failing case, then ``N passed, M failed``,
and exits 0 iff nothing failed and every case has exactly one result.

Note on scapy 2.5.0: its stock 'AES-GCM' algorithm ignores
``crypt_icv_size`` (it always appends, and on decryption always expects, a
16-byte tag; secdev/scapy#4903).  For 8- and 12-byte ICVs the SA is
therefore given an equivalent scapy CryptAlgo that uses scapy's other
(Cipher + modes.GCM) code path, which truncates and verifies the tag at
the requested length.  16-byte ICVs use scapy's stock algorithm.

Second note on scapy 2.5.0: with ``nat_t_header`` its encrypt() writes a
UDP length of 8 (it freezes the IPv4 + UDP header before the ESP part is
added); the IPv4 total length is right.  gen therefore writes the UDP
length itself (fix_udp) before it optionally has scapy compute the UDP
checksum.  scapy dissects ESP behind UDP only from or to port 4500, so
check hands decrypt() IPv4 / UDP / ESP built explicitly (as_esp).
"""

import argparse
import ipaddress
import random
import struct
import sys
from collections import defaultdict
from typing import List, NamedTuple, Optional

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from scapy.compat import raw
from scapy.layers.inet import ICMP, IP, TCP, UDP, in4_chksum
from scapy.layers.inet6 import (ICMPv6EchoReply, ICMPv6EchoRequest, IPv6,
                                IPv6ExtHdrDestOpt)
from scapy.layers.ipsec import ESP, CryptAlgo, SecurityAssociation
from scapy.packet import Raw

# --- ESP / IP constants -----------------------------------------------------

KEY_SIZES = (16, 24, 32)
SALT_LEN = 4
IV_LEN = 8
ICV_SIZES = (8, 12, 16)
ESP_HDR_LEN = 8                 # SPI + sequence number
OUTER_HDR_LEN = 20              # IPv4 header without options
OUTER6_HDR_LEN = 40             # IPv6 header
OUTER_HOP_LIMIT = 64
NH_DSTOPTS = 60
UDP_HDR_LEN = 8
PROTO_ESP = 50
PROTO_UDP = 17
NH_IPV4 = 4
NH_IPV6 = 41
OUTER_TTL = 64
IP_FLAG_RESERVED = 0x8000
IP_FLAG_DF = 0x4000
IP_FLAG_MF = 0x2000
IP_FRAG_OFFSET_MASK = 0x1FFF
U32_MAX = 0xFFFFFFFF

# --- generator parameters ----------------------------------------------------

MAX_PAYLOAD = 1400
NEAR_MAX_WINDOW = 256           # "near 2**32-1" means within this distance
NEAR_MAX_PROBABILITY = 1 / 8
INNER_V4_NETS = ("10.0.1.", "10.0.2.")
INNER_V6_PREFIX = 0x20010DB8 << 96          # 2001:db8::/32
OUTER_SRC_NET = "192.0.2."
OUTER_DST_NET = "198.51.100."
OUTER6_SRC_NET = "2001:db8:1::"
OUTER6_DST_NET = "2001:db8:2::"
OUTER6_PROBABILITY = 1 / 4      # share of cases with IPv6 endpoints
DSTOPT_PROBABILITY = 1 / 3      # of scapy's IPv6 packets, with options
TCP_FLAGS = ("S", "SA", "A", "PA", "FA", "R", "RA")
UDP_ENCAP_PROBABILITY = 1 / 3   # share of cases with ESP in UDP
NATT_PORT = 4500                # RFC 3947 section 4
NATT_PORT_PROBABILITY = 1 / 4   # of those, on 4500:4500; else random ports

# scapy's AES-GCM, but on the Cipher/modes.GCM path, which honours
# crypt_icv_size (see the module docstring).
AES_GCM_TRUNCATED_ICV = CryptAlgo(
    "AES-GCM",
    cipher=algorithms.AES,
    mode=modes.GCM,
    key_size=KEY_SIZES,
    salt_size=SALT_LEN,
    block_size=1,
    iv_size=IV_LEN,
    icv_size=16,
    format_mode_iv=lambda sa, iv, **kw: sa.crypt_salt + iv,
)


class Case(NamedTuple):
    """One test case: an SA, a sequence number and an inner packet."""

    id: int
    key: bytes          # AES key followed by the 4-byte salt
    icv_len: int
    esn: bool
    spi: int
    seq: int            # full 64-bit sequence number
    src: str
    dst: str
    inner: bytes
    esp: bytes          # scapy's encapsulation (outer IPv4 [+ UDP] + ESP)
    encap: Optional[tuple] = None   # (sport, dport) of ESP in UDP, or None

    @property
    def v6(self) -> bool:
        """IPv6 endpoints."""
        return ":" in self.src

    @property
    def outer_len(self) -> int:
        """Bytes in front of espgw's ESP header: IPv4 and UDP if any,
        or IPv6."""
        if self.v6:
            return OUTER6_HDR_LEN
        return OUTER_HDR_LEN + (UDP_HDR_LEN if self.encap else 0)

    def to_line(self) -> str:
        return " ".join((
            str(self.id), self.key.hex(), str(self.icv_len),
            str(int(self.esn)), "%08x" % self.spi, str(self.seq),
            self.src, self.dst, self.inner.hex(), self.esp.hex(),
            "%d:%d" % self.encap if self.encap else "-"))

    @classmethod
    def from_line(cls, line: str) -> "Case":
        f = line.split()
        if len(f) != 11:
            raise ValueError("expected 11 fields, got %d" % len(f))
        encap = None
        if f[10] != "-":
            encap = tuple(int(x) for x in f[10].split(":"))
            if len(encap) != 2 or not all(0 < x < 65536 for x in encap):
                raise ValueError("bad encap %r" % f[10])
        return cls(id=int(f[0]), key=bytes.fromhex(f[1]), icv_len=int(f[2]),
                   esn=bool(int(f[3])), spi=int(f[4], 16), seq=int(f[5]),
                   src=f[6], dst=f[7], inner=bytes.fromhex(f[8]),
                   esp=bytes.fromhex(f[9]), encap=encap)


def make_sa(case: Case) -> SecurityAssociation:
    """Build scapy's SA for a case (tunnel mode, AES-GCM)."""
    outer = IPv6 if case.v6 else IP
    sa = SecurityAssociation(
        ESP, spi=case.spi, seq_num=case.seq & U32_MAX,
        crypt_algo="AES-GCM", crypt_key=case.key,
        crypt_icv_size=case.icv_len,
        tunnel_header=outer(src=case.src, dst=case.dst),
        nat_t_header=(UDP(sport=case.encap[0], dport=case.encap[1])
                      if case.encap else None),
        esn_en=case.esn, esn=case.seq >> 32)
    if case.icv_len != 16:
        sa.crypt_algo = AES_GCM_TRUNCATED_ICV
    return sa


def fix_udp(pkt: bytes) -> bytes:
    """Write the UDP length scapy 2.5 gets wrong (module docstring) into
    outer IPv4 + UDP + ESP; its checksum is 0, so nothing else changes."""
    b = bytearray(pkt)
    b[OUTER_HDR_LEN + 4:OUTER_HDR_LEN + 6] = struct.pack(
        "!H", len(b) - OUTER_HDR_LEN)
    return bytes(b)


def with_udp_checksum(pkt: bytes) -> bytes:
    """The same datagram (UDP checksum 0) with the checksum scapy computes
    over the pseudo-header (RFC 768; 0 is sent as 0xffff)."""
    at = OUTER_HDR_LEN + 6
    csum = in4_chksum(PROTO_UDP, IP(pkt[:OUTER_HDR_LEN]), pkt[OUTER_HDR_LEN:])
    return pkt[:at] + struct.pack("!H", csum or 0xFFFF) + pkt[at + 2:]


def with_dstopts(pkt: bytes) -> bytes:
    """The same IPv6 ESP packet with an empty destination options header
    (PadN to eight bytes) between the IPv6 header and ESP."""
    ip6 = IPv6(pkt[:OUTER6_HDR_LEN])
    ip6.nh = NH_DSTOPTS
    del ip6.plen
    return raw(ip6 / IPv6ExtHdrDestOpt(nh=PROTO_ESP) /
               Raw(pkt[OUTER6_HDR_LEN:]))


def as_esp(pkt: bytes, udp: bool):
    """scapy's IPv4 [/ UDP] / ESP or IPv6 / ESP of a raw packet, whatever
    the ports."""
    if pkt[0] >> 4 == 6:
        return IPv6(pkt)
    if not udp:
        return IP(pkt)
    u = OUTER_HDR_LEN + UDP_HDR_LEN
    return (IP(pkt[:OUTER_HDR_LEN]) / UDP(pkt[OUTER_HDR_LEN:u]) /
            ESP(pkt[u:]))


def parse_inner(inner: bytes):
    """Dissect a raw inner packet as IPv4 or IPv6 according to its version."""
    return IP(inner) if inner[0] >> 4 == 4 else IPv6(inner)


# --- gen ---------------------------------------------------------------------

def random_seq(rng: random.Random, esn: bool, used_low: set) -> int:
    """Random 64-bit sequence number whose low 32 bits are not yet used."""
    while True:
        if rng.random() < NEAR_MAX_PROBABILITY:
            # Half of these within the last 4 values, so 2**32-1 shows up.
            window = rng.choice((4, NEAR_MAX_WINDOW))
            low = U32_MAX - rng.randrange(window)
        else:
            low = rng.randint(1, U32_MAX)
        if low in used_low:
            continue
        used_low.add(low)
        if not esn:
            return low
        r = rng.random()
        if r < 1 / 8:
            high = 0
        elif r < 2 / 8:
            high = U32_MAX
        else:
            high = rng.randint(0, U32_MAX)
        return (high << 32) | low


def random_l4(rng: random.Random, ipv6: bool, payload: bytes):
    """Random TCP, UDP or ICMP/ICMPv6 echo header carrying payload."""
    kind = rng.choice(("tcp", "udp", "icmp"))
    if kind == "tcp":
        return TCP(sport=rng.randint(1, 65535), dport=rng.randint(1, 65535),
                   seq=rng.getrandbits(32), ack=rng.getrandbits(32),
                   flags=rng.choice(TCP_FLAGS),
                   window=rng.randrange(65536)) / Raw(payload)
    if kind == "udp":
        return UDP(sport=rng.randint(1, 65535),
                   dport=rng.randint(1, 65535)) / Raw(payload)
    ident, seq = rng.randrange(65536), rng.randrange(65536)
    if ipv6:
        echo = rng.choice((ICMPv6EchoRequest, ICMPv6EchoReply))
        return echo(id=ident, seq=seq, data=payload)
    return ICMP(type=rng.choice((0, 8)), id=ident, seq=seq) / Raw(payload)


def random_inner(rng: random.Random) -> bytes:
    """Random inner IPv4 or IPv6 packet, serialised by scapy."""
    ipv6 = rng.random() < 0.5
    payload = rng.randbytes(rng.randint(0, MAX_PAYLOAD))
    l4 = random_l4(rng, ipv6, payload)
    if ipv6:
        src, dst = (str(ipaddress.IPv6Address(
            INNER_V6_PREFIX | rng.getrandbits(96))) for _ in range(2))
        ip = IPv6(src=src, dst=dst, tc=rng.randrange(256),
                  fl=rng.getrandbits(20), hlim=rng.randint(1, 255))
    else:
        nets = list(INNER_V4_NETS)
        rng.shuffle(nets)
        src, dst = (net + str(rng.randint(1, 254)) for net in nets)
        ip = IP(src=src, dst=dst, tos=rng.randrange(256),
                id=rng.randrange(65536), ttl=rng.randint(1, 255),
                flags="DF" if rng.random() < 0.5 else 0)
    return raw(ip / l4)


def random_encap(rng: random.Random) -> Optional[tuple]:
    """None (plain ESP) or the (sport, dport) of ESP in UDP."""
    if rng.random() >= UDP_ENCAP_PROBABILITY:
        return None
    if rng.random() < NATT_PORT_PROBABILITY:
        return (NATT_PORT, NATT_PORT)
    return (rng.randint(1, 65535), rng.randint(1, 65535))


def make_case(rng: random.Random, case_id: int, used_low: set) -> Case:
    key_len = rng.choice(KEY_SIZES)
    esn = rng.random() < 0.5
    v6 = rng.random() < OUTER6_PROBABILITY
    if v6:
        src = OUTER6_SRC_NET + "%x" % rng.randint(1, 0xFFFF)
        dst = OUTER6_DST_NET + "%x" % rng.randint(1, 0xFFFF)
    else:
        src = OUTER_SRC_NET + str(rng.randint(1, 254))
        dst = OUTER_DST_NET + str(rng.randint(1, 254))
    case = Case(
        id=case_id,
        key=rng.randbytes(key_len + SALT_LEN),
        icv_len=rng.choice(ICV_SIZES),
        esn=esn,
        spi=rng.randint(1, U32_MAX),
        seq=random_seq(rng, esn, used_low),
        src=src,
        dst=dst,
        inner=random_inner(rng),
        esp=b"",
        encap=None if v6 else random_encap(rng))
    sa = make_sa(case)
    esp = raw(sa.encrypt(parse_inner(case.inner), seq_num=case.seq & U32_MAX,
                         iv=rng.randbytes(IV_LEN),
                         esn_en=case.esn, esn=case.seq >> 32))
    if case.encap:
        esp = fix_udp(esp)
        if rng.random() < 0.5:
            esp = with_udp_checksum(esp)
    if v6 and rng.random() < DSTOPT_PROBABILITY:
        esp = with_dstopts(esp)
    return case._replace(esp=esp)


def cmd_gen(args) -> int:
    rng = random.Random(args.seed)
    used_low = set()
    with open(args.out, "w") as out:
        out.write("# seed %d\n" % args.seed)
        for case_id in range(args.count):
            out.write(make_case(rng, case_id, used_low).to_line() + "\n")
    return 0


# --- check -------------------------------------------------------------------

def ipv4_checksum_ok(header: bytes) -> bool:
    """True iff the one's-complement sum over the header is 0xffff."""
    total = sum(struct.unpack("!%dH" % (len(header) // 2), header))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return total == 0xFFFF


def inner_tos(inner: bytes) -> int:
    """IPv4 TOS or IPv6 traffic class of the inner packet."""
    if inner[0] >> 4 == 4:
        return inner[1]
    return ((inner[0] & 0x0F) << 4) | (inner[1] >> 4)


def outer_tos(tos: int) -> int:
    """The outer TOS or traffic class Linux makes of an inner one
    (INET_ECN_encapsulate): copied, but CE (3) goes out as ECT(0) (2)."""
    return tos ^ 1 if tos & 3 == 3 else tos


def inner_df(inner: bytes) -> bool:
    return inner[0] >> 4 == 4 and bool(
        struct.unpack("!H", inner[6:8])[0] & IP_FLAG_DF)


def check_outer(case: Case, pkt: bytes) -> List[str]:
    """Outer IPv4 header rules (RFC 4301 tunnel mode, ECN as Linux)."""
    errs = []
    (ver_ihl, tos, tot_len, _ident, flags_frag, ttl, proto, csum,
     src, dst) = struct.unpack("!BBHHHBBH4s4s", pkt[:OUTER_HDR_LEN])
    ihl = ver_ihl & 0x0F
    if ver_ihl >> 4 != 4:
        errs.append("outer version %d != 4" % (ver_ihl >> 4))
    if ihl != 5:
        errs.append("outer IHL %d != 5" % ihl)
    want_proto = PROTO_UDP if case.encap else PROTO_ESP
    if proto != want_proto:
        errs.append("outer protocol %d != %d" % (proto, want_proto))
    if ttl != OUTER_TTL:
        errs.append("outer TTL %d != %d" % (ttl, OUTER_TTL))
    if not ipv4_checksum_ok(pkt[:OUTER_HDR_LEN]):
        errs.append("outer header checksum wrong (0x%04x)" % csum)
    if tot_len != len(pkt):
        errs.append("outer total length %d != packet length %d"
                    % (tot_len, len(pkt)))
    if str(ipaddress.IPv4Address(src)) != case.src:
        errs.append("outer src %s != %s"
                    % (ipaddress.IPv4Address(src), case.src))
    if str(ipaddress.IPv4Address(dst)) != case.dst:
        errs.append("outer dst %s != %s"
                    % (ipaddress.IPv4Address(dst), case.dst))
    want_tos = outer_tos(inner_tos(case.inner))
    if tos >> 2 != want_tos >> 2:
        errs.append("outer DSCP %d != inner DSCP %d"
                    % (tos >> 2, want_tos >> 2))
    if tos & 3 != want_tos & 3:
        errs.append("outer ECN %d != %d (inner ECN %d)"
                    % (tos & 3, want_tos & 3, inner_tos(case.inner) & 3))
    want_df = inner_df(case.inner)
    if bool(flags_frag & IP_FLAG_DF) != want_df:
        errs.append("outer DF %s but inner is %s" % (
            "set" if flags_frag & IP_FLAG_DF else "clear",
            "IPv4 with DF" if want_df else
            ("IPv4 without DF" if case.inner[0] >> 4 == 4 else "IPv6")))
    if flags_frag & IP_FLAG_MF:
        errs.append("outer MF set")
    if flags_frag & IP_FLAG_RESERVED:
        errs.append("outer reserved flag bit set")
    if flags_frag & IP_FRAG_OFFSET_MASK:
        errs.append("outer fragment offset %d != 0"
                    % (flags_frag & IP_FRAG_OFFSET_MASK))
    return errs


def check_outer6(case: Case, pkt: bytes) -> List[str]:
    """Outer IPv6 header rules (xfrm6_tunnel_encap_add: traffic class as
    the IPv4 TOS, the inner flow label, next header ESP, hop limit 64)."""
    errs = []
    vtc, plen, nh, hlim = struct.unpack("!IHBB", pkt[:8])
    src = ipaddress.IPv6Address(pkt[8:24])
    dst = ipaddress.IPv6Address(pkt[24:40])
    if vtc >> 28 != 6:
        errs.append("outer version %d != 6" % (vtc >> 28))
    if nh != PROTO_ESP:
        errs.append("outer next header %d != %d" % (nh, PROTO_ESP))
    if hlim != OUTER_HOP_LIMIT:
        errs.append("outer hop limit %d != %d" % (hlim, OUTER_HOP_LIMIT))
    if plen != len(pkt) - OUTER6_HDR_LEN:
        errs.append("outer payload length %d != %d"
                    % (plen, len(pkt) - OUTER6_HDR_LEN))
    if src != ipaddress.IPv6Address(case.src):
        errs.append("outer src %s != %s" % (src, case.src))
    if dst != ipaddress.IPv6Address(case.dst):
        errs.append("outer dst %s != %s" % (dst, case.dst))
    tc, want_tc = (vtc >> 20) & 0xFF, outer_tos(inner_tos(case.inner))
    if tc != want_tc:
        errs.append("outer traffic class 0x%02x != 0x%02x"
                    % (tc, want_tc))
    want_fl = (struct.unpack("!I", case.inner[:4])[0] & 0xFFFFF
               if case.inner[0] >> 4 == 6 else 0)
    if vtc & 0xFFFFF != want_fl:
        errs.append("outer flow label 0x%05x != 0x%05x"
                    % (vtc & 0xFFFFF, want_fl))
    return errs


def check_udp(case: Case, pkt: bytes) -> List[str]:
    """The UDP header of ESP in UDP as Linux sends it (RFC 3948 section
    2.1 and 3.1.1): the state's ports, the datagram's length, checksum 0."""
    sport, dport, length, csum = struct.unpack(
        "!HHHH", pkt[OUTER_HDR_LEN:OUTER_HDR_LEN + UDP_HDR_LEN])
    errs = []
    if (sport, dport) != case.encap:
        errs.append("UDP ports %d:%d != %d:%d" % ((sport, dport) + case.encap))
    if length != len(pkt) - OUTER_HDR_LEN:
        errs.append("UDP length %d != datagram length %d"
                    % (length, len(pkt) - OUTER_HDR_LEN))
    if csum != 0:
        errs.append("UDP checksum 0x%04x != 0" % csum)
    return errs


def gcm_decrypt(key: bytes, nonce: bytes, aad: bytes, ciphertext: bytes,
                tag: bytes) -> Optional[bytes]:
    """AES-GCM decryption with a possibly truncated tag; None if forged."""
    decryptor = Cipher(algorithms.AES(key),
                       modes.GCM(nonce, tag, min_tag_length=len(tag))
                       ).decryptor()
    decryptor.authenticate_additional_data(aad)
    try:
        return decryptor.update(ciphertext) + decryptor.finalize()
    except InvalidTag:
        return None


def check_esp(case: Case, esp: bytes) -> List[str]:
    """ESP header and RFC 4106 payload, decrypted by hand."""
    min_len = ESP_HDR_LEN + IV_LEN + 2 + case.icv_len
    if len(esp) < min_len:
        return ["ESP part %d bytes, shorter than minimum %d"
                % (len(esp), min_len)]
    errs = []
    spi, wire_seq = struct.unpack("!II", esp[:ESP_HDR_LEN])
    if spi != case.spi:
        errs.append("SPI 0x%08x != 0x%08x" % (spi, case.spi))
    if wire_seq != case.seq & U32_MAX:
        errs.append("wire seq %d != %d" % (wire_seq, case.seq & U32_MAX))

    aes_key, salt = case.key[:-SALT_LEN], case.key[-SALT_LEN:]
    iv = esp[ESP_HDR_LEN:ESP_HDR_LEN + IV_LEN]
    if case.esn:
        aad = struct.pack("!III", case.spi, case.seq >> 32, case.seq & U32_MAX)
    else:
        aad = struct.pack("!II", case.spi, case.seq & U32_MAX)
    ciphertext = esp[ESP_HDR_LEN + IV_LEN:-case.icv_len]
    tag = esp[-case.icv_len:]
    plain = gcm_decrypt(aes_key, salt + iv, aad, ciphertext, tag)
    if plain is None:
        errs.append("hand AES-GCM decryption: ICV does not verify")
        return errs

    pad_len, next_header = plain[-2], plain[-1]
    if pad_len > len(plain) - 2:
        errs.append("pad length %d exceeds plaintext" % pad_len)
        return errs
    payload = plain[:len(plain) - 2 - pad_len]
    padding = plain[len(payload):-2]
    want_pad_len = -(len(case.inner) + 2) % 4
    if pad_len != want_pad_len:
        errs.append("pad length %d != minimum %d" % (pad_len, want_pad_len))
    if padding != bytes(range(1, pad_len + 1)):
        errs.append("padding bytes %s != 1..%d" % (padding.hex(), pad_len))
    want_nh = NH_IPV4 if case.inner[0] >> 4 == 4 else NH_IPV6
    if next_header != want_nh:
        errs.append("next header %d != %d" % (next_header, want_nh))
    if payload != case.inner:
        errs.append("hand-decrypted payload (%d bytes) != inner (%d bytes)"
                    % (len(payload), len(case.inner)))
    return errs


def check_scapy(case: Case, pkt: bytes) -> List[str]:
    """scapy's SecurityAssociation.decrypt must give back the inner packet."""
    try:
        inner = raw(make_sa(case).decrypt(as_esp(pkt, bool(case.encap))))
    except Exception as exc:  # scapy raises many types on bad input
        return ["scapy decrypt failed: %r" % exc]
    if inner != case.inner:
        return ["scapy-decrypted packet (%d bytes) != inner (%d bytes)"
                % (len(inner), len(case.inner))]
    return []


def check_packet(case: Case, pkt: bytes) -> List[str]:
    if len(pkt) < case.outer_len:
        return ["packet %d bytes, shorter than its outer headers (%d)"
                % (len(pkt), case.outer_len)]
    errs = check_outer6(case, pkt) if case.v6 else check_outer(case, pkt)
    if case.encap:
        errs += check_udp(case, pkt)
    errs += check_esp(case, pkt[case.outer_len:])
    errs += check_scapy(case, pkt)
    return errs


def read_cases(path: str):
    """Return (seed or None, {id: Case}) from a CASES file."""
    seed, cases = None, {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("#"):
                words = line[1:].split()
                if seed is None and len(words) == 2 and words[0] == "seed":
                    seed = words[1]
                continue
            if line:
                case = Case.from_line(line)
                cases[case.id] = case
    return seed, cases


def read_results(path: str, cases: dict):
    """Return ({id: [packet, ...]}, [problem lines]) from a RESULTS file."""
    results, problems = defaultdict(list), []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            fields = line.split()
            try:
                if len(fields) != 2:
                    raise ValueError("expected 2 fields, got %d" % len(fields))
                case_id, pkt = int(fields[0]), bytes.fromhex(fields[1])
            except ValueError as exc:
                problems.append("results line %d malformed: %s"
                                % (lineno, exc))
                continue
            if case_id not in cases:
                problems.append("results line %d: unknown case id %d"
                                % (lineno, case_id))
                continue
            results[case_id].append(pkt)
    return results, problems


def cmd_check(args) -> int:
    seed, cases = read_cases(args.cases)
    results, problems = read_results(args.results, cases)
    seed = seed if seed is not None else "unknown"

    errors = {}
    iv_users = defaultdict(list)
    for case_id, case in sorted(cases.items()):
        pkts = results.get(case_id, [])
        if not pkts:
            errors[case_id] = ["no result line"]
            continue
        if len(pkts) > 1:
            errors[case_id] = ["%d result lines" % len(pkts)]
            continue
        pkt = pkts[0]
        errors[case_id] = check_packet(case, pkt)
        iv_start = case.outer_len + ESP_HDR_LEN
        if len(pkt) >= iv_start + IV_LEN:
            iv_users[pkt[iv_start:iv_start + IV_LEN]].append(case_id)

    for iv, users in iv_users.items():
        if len(users) > 1:
            for case_id in users:
                others = ",".join(str(u) for u in users if u != case_id)
                errors[case_id].append("IV %s also used by case(s) %s"
                                       % (iv.hex(), others))

    failed = 0
    for case_id, errs in sorted(errors.items()):
        if errs:
            failed += 1
            print("FAIL case %d (seed %s): %s"
                  % (case_id, seed, "; ".join(errs)))
    for problem in problems:
        print("ERROR (seed %s): %s" % (seed, problem))
    print("%d passed, %d failed" % (len(cases) - failed, failed))
    return 0 if failed == 0 and not problems else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Cross-check espgw's ESP (AES-GCM, tunnel mode) "
                    "against scapy and a hand-written RFC 4106 decryption.")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("gen", help="write random cases encrypted by scapy")
    gen.add_argument("--seed", type=int, required=True)
    gen.add_argument("--count", type=int, required=True)
    gen.add_argument("--out", required=True, help="CASES file to write")
    gen.set_defaults(func=cmd_gen)

    check = sub.add_parser("check", help="verify espgw's results for cases")
    check.add_argument("--cases", required=True, help="CASES file from gen")
    check.add_argument("--results", required=True,
                       help="RESULTS file: 'id esp_hex' per case")
    check.set_defaults(func=cmd_check)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
