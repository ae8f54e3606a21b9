"""Gateway configurations: espgw's ip/xfrm-style files and ipsec-secgw's
cfg with the same SAs and policies, so the two do the same work."""

import os

from .common import (GW_WAN, KEY_IN, KEY_OUT, LAN_HOST_MAC, NATT_PORT, PEER_MAC, PEER_WAN,
                     SCALE_PKTS, SPI_IN, SPI_OUT, WAN6_HOP, WORK, fam_addrs, inner6, outer6,
                     scale_inner_dst, scale_key, scale_peer, scale_spi)


def hexkey(k):
    return "0x" + k.hex()


def colonkey(k):
    return ":".join("%02x" % b for b in k)


ESPGW_ENCAP_BASE = """\
# espgw bench, {what}: port0 = source (LAN), port1 = sink (WAN)
link set dev port0 up
link set dev port1 up
addr add 10.0.1.1/24 dev port0
addr add {gw}/24 dev port1
route add default via 1.1.1.254 dev port1
route add 10.0.2.0/24 via 1.1.1.254 dev port1 src 10.0.1.1
neigh add 1.1.1.254 lladdr {peer_mac} dev port1 nud permanent
"""

ESPGW_DECAP_BASE = """\
# espgw bench, {what}: port0 = source (WAN), port1 = sink (LAN side)
link set dev port0 up
link set dev port1 up
addr add {gw}/24 dev port0
addr add 192.168.100.1/24 dev port1
route add default via 1.1.1.254 dev port0
route add 10.0.2.0/24 via 192.168.100.254 dev port1
route add 10.64.0.0/10 via 192.168.100.254 dev port1
neigh add 1.1.1.254 lladdr {peer_mac} dev port0 nud permanent
neigh add 192.168.100.254 lladdr {lan_mac} dev port1 nud permanent
"""

SA_LINE = ("xfrm state add src {src} dst {dst} proto esp spi {spi:#x} reqid {reqid} "
           "mode tunnel aead 'rfc4106(gcm(aes))' {key} 128\n")


def espgw_main_conf(direction, udp=False):
    """One SA each way and the policies of both directions (like
    config/r1.conf); the traffic of `direction` uses one SA and one policy.
    udp: both SAs ESP in UDP on port NATT_PORT (RFC 3948)."""
    kw = dict(gw=GW_WAN, peer_mac=PEER_MAC, lan_mac=LAN_HOST_MAC, what=direction)
    sa = (SA_LINE.format(src=GW_WAN, dst=PEER_WAN, spi=SPI_OUT, reqid=1, key=hexkey(KEY_OUT)) +
          SA_LINE.format(src=PEER_WAN, dst=GW_WAN, spi=SPI_IN, reqid=2, key=hexkey(KEY_IN)))
    if udp:
        sa = sa.replace(" 128\n", " 128 encap espinudp %d %d 0.0.0.0\n" % (NATT_PORT, NATT_PORT))
    if direction in ("encap", "bypass"):
        c = ESPGW_ENCAP_BASE.format(**kw) + sa
        if direction == "encap":
            c += ("xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out "
                  "tmpl src 1.1.1.1 dst 2.2.2.2 proto esp reqid 1 mode tunnel\n")
        else:
            c += "xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out action allow\n"
        c += ("xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir fwd "
              "tmpl src 2.2.2.2 dst 1.1.1.1 proto esp reqid 2 mode tunnel\n"
              "xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir in "
              "tmpl src 2.2.2.2 dst 1.1.1.1 proto esp reqid 2 mode tunnel\n")
    else:
        c = ESPGW_DECAP_BASE.format(**kw) + sa
        c += ("xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir fwd "
              "tmpl src 2.2.2.2 dst 1.1.1.1 proto esp reqid 2 mode tunnel\n"
              "xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir out "
              "tmpl src 1.1.1.1 dst 2.2.2.2 proto esp reqid 1 mode tunnel\n")
    return c


# The nets and next hops of the families other than 4in4, for each IP
# version: the traffic's source and destination nets, our address on the
# clear side of encap (LAN) and of decap (toward the inner destination),
# the decap side's next hop; the WAN's by outer version.
INNER_NETS = {
    4: dict(src="10.0.1.0/24", dst="10.0.2.0/24", lan="10.0.1.1/24",
            dlan="192.168.100.1/24", dhop="192.168.100.254"),
    6: dict(src="fd00:1::/64", dst="fd00:2::/64", lan="fd00:1::1/64",
            dlan="fd00:100::1/64", dhop="fd00:100::fe"),
}
WAN = {4: dict(addr=GW_WAN + "/24", hop="1.1.1.254"),
       6: dict(addr="%s/64" % fam_addrs("4in6")[0], hop=WAN6_HOP)}


def espgw_family_conf(direction, fam):
    """espgw_main_conf's SAs and policies for a family other than 4in4:
    inner nets of the inner version, tunnel ends of the outer one."""
    i = INNER_NETS[6 if inner6(fam) else 4]
    w = WAN[6 if outer6(fam) else 4]
    gw, peer = fam_addrs(fam)
    wan, lan = ("port1", "port0") if direction == "encap" else ("port0", "port1")
    c = ["# espgw bench, %s %s: port0 = source, port1 = sink" % (direction, fam),
         "link set dev port0 up", "link set dev port1 up",
         "addr add %s dev %s" % (w["addr"], wan),
         "route add default via %s dev %s" % (w["hop"], wan),
         "neigh add %s lladdr %s dev %s nud permanent" % (w["hop"], PEER_MAC, wan)]
    if direction == "encap":
        c.append("addr add %s dev %s" % (i["lan"], lan))
    else:
        c += ["addr add %s dev %s" % (i["dlan"], lan),
              "route add %s via %s dev %s" % (i["dst"], i["dhop"], lan),
              "neigh add %s lladdr %s dev %s nud permanent" % (i["dhop"], LAN_HOST_MAC, lan)]
    c = "\n".join(c) + "\n"
    sa = (SA_LINE.format(src=gw, dst=peer, spi=SPI_OUT, reqid=1, key=hexkey(KEY_OUT)) +
          SA_LINE.format(src=peer, dst=gw, spi=SPI_IN, reqid=2, key=hexkey(KEY_IN)))
    if fam in ("4in6", "6in4"):
        # the other family inside, as Linux wants it said (docs/configuration.md)
        sa = sa.replace(" 128\n", " 128 flag af-unspec\n")
    c += sa
    out = ("xfrm policy add src {a} dst {b} dir {d} "
           "tmpl src %s dst %s proto esp reqid 1 mode tunnel\n" % (gw, peer))
    back = ("xfrm policy add src {a} dst {b} dir {d} "
            "tmpl src %s dst %s proto esp reqid 2 mode tunnel\n" % (peer, gw))
    if direction == "encap":
        c += out.format(a=i["src"], b=i["dst"], d="out")
        c += back.format(a=i["dst"], b=i["src"], d="fwd")
        c += back.format(a=i["dst"], b=i["src"], d="in")
    else:
        c += back.format(a=i["src"], b=i["dst"], d="fwd")
        c += out.format(a=i["dst"], b=i["src"], d="out")
    return c


def filler_policies(n, start=0):
    """n policies (alternately out and fwd) that no benchmark packet matches."""
    out = []
    for i in range(start, start + n):
        a = "172.%d.%d.%d" % (16 + (i >> 16) % 16, (i >> 8) & 255, i & 255)
        b = "172.%d.%d.%d" % (32 + (i >> 16) % 16, (i >> 8) & 255, i & 255)
        d = "out" if i % 2 == 0 else "fwd"
        out.append("xfrm policy add src %s dst %s proto udp dport %d dir %s "
                   "priority 10 action allow\n" % (a, b, 1 + i % 60000, d))
    return "".join(out)


def scale_hits(direction, nsa, npol):
    """How many distinct SAs the traffic of a scale row hits."""
    if direction == "encap":
        return min(nsa, npol, SCALE_PKTS)
    return min(nsa, SCALE_PKTS)


def espgw_scale_conf(direction, nsa, npol):
    kw = dict(gw=GW_WAN, peer_mac=PEER_MAC, lan_mac=LAN_HOST_MAC,
              what="scale %s: %d SAs, %d policies" % (direction, nsa, npol))
    parts = []
    if direction == "encap":
        parts.append(ESPGW_ENCAP_BASE.format(**kw))
        parts.append("route add 3.0.0.0/8 via 1.1.1.254 dev port1\n")
        for j in range(nsa):
            parts.append(SA_LINE.format(src=GW_WAN, dst=scale_peer(j), spi=scale_spi(j),
                                        reqid=j + 1, key=hexkey(scale_key(j))))
        active = scale_hits("encap", nsa, npol)
        # the traffic of destination k goes to SA (k * nsa // active)
        for k in range(active):
            j = k * nsa // active
            parts.append("xfrm policy add src 10.0.1.0/24 dst %s dir out priority 100 "
                         "tmpl src %s dst %s proto esp reqid %d mode tunnel\n"
                         % (scale_inner_dst(j), GW_WAN, scale_peer(j), j + 1))
        parts.append(filler_policies(npol - active))
    else:
        parts.append(ESPGW_DECAP_BASE.format(**kw))
        for j in range(nsa):
            parts.append(SA_LINE.format(src=scale_peer(j), dst=GW_WAN, spi=scale_spi(j),
                                        reqid=j + 1, key=hexkey(scale_key(j))))
        # one fwd policy takes whatever any of the SAs decrypted
        parts.append("xfrm policy add src 10.0.1.0/24 dst 10.64.0.0/10 dir fwd "
                     "priority 100 tmpl proto esp mode tunnel\n")
        parts.append(filler_policies(npol - 1))
    return "".join(parts)


SECGW_CONF = """\
# ipsec-secgw bench, {what}: port 0 = source, port 1 = sink; -u {umask}
{sp}
sa out {spi_out} aead_algo aes-128-gcm aead_key {key_out} mode ipv4-tunnel src {gw} dst {peer}
sa in {spi_in} aead_algo aes-128-gcm aead_key {key_in} mode ipv4-tunnel src {peer} dst {gw}
rt ipv4 dst {peer}/32 port 1
rt ipv4 dst 10.0.2.0/24 port 1
"""


SECGW_FAMILY_CONF = """\
# ipsec-secgw bench, {what} {fam}: port 0 = source, port 1 = sink; -u {umask}
sp ipv{iv} {d1} esp protect {spi1} pri 1 dst {net1} sport 0:65535 dport 0:65535
sp ipv{iv} {d2} esp protect {spi2} pri 1 dst {net2} sport 0:65535 dport 0:65535
sa out {spi_out} aead_algo aes-128-gcm aead_key {key_out} mode ipv{ov}-tunnel src {gw} dst {peer}
sa in {spi_in} aead_algo aes-128-gcm aead_key {key_in} mode ipv{ov}-tunnel src {peer} dst {gw}
rt ipv{ov} dst {peer}/{plen} port 1
rt ipv{iv} dst {dst} port 1
"""


def secgw_conf(direction, fam="4in4"):
    """The same SAs and policies as espgw's: returns (text, unprotected mask)."""
    if fam != "4in4":
        i = INNER_NETS[6 if inner6(fam) else 4]
        gw, peer = fam_addrs(fam)
        if direction == "encap":
            kw = dict(d1="out", spi1=SPI_OUT, net1=i["dst"], d2="in", spi2=SPI_IN,
                      net2=i["src"], umask="0x2")
        else:
            kw = dict(d1="in", spi1=SPI_IN, net1=i["dst"], d2="out", spi2=SPI_OUT,
                      net2=i["src"], umask="0x1")
        text = SECGW_FAMILY_CONF.format(
            what=direction, fam=fam, iv=6 if inner6(fam) else 4,
            ov=6 if outer6(fam) else 4, spi_out=SPI_OUT, spi_in=SPI_IN,
            key_out=colonkey(KEY_OUT), key_in=colonkey(KEY_IN), gw=gw, peer=peer,
            plen=128 if outer6(fam) else 32, dst=i["dst"], **kw)
        return text, kw["umask"]
    any_ports = "sport 0:65535 dport 0:65535"
    if direction == "encap":
        sp = ("sp ipv4 out esp protect %d pri 1 dst 10.0.2.0/24 %s\n"
              "sp ipv4 in esp protect %d pri 1 dst 10.0.1.0/24 %s" %
              (SPI_OUT, any_ports, SPI_IN, any_ports))
        umask = "0x2"
    elif direction == "bypass":
        sp = ("sp ipv4 out esp bypass pri 1 dst 10.0.2.0/24 %s\n"
              "sp ipv4 in esp protect %d pri 1 dst 10.0.1.0/24 %s" %
              (any_ports, SPI_IN, any_ports))
        umask = "0x2"
    else:
        sp = ("sp ipv4 in esp protect %d pri 1 dst 10.0.2.0/24 %s\n"
              "sp ipv4 out esp protect %d pri 1 dst 10.0.1.0/24 %s" %
              (SPI_IN, any_ports, SPI_OUT, any_ports))
        umask = "0x1"
    return SECGW_CONF.format(what=direction, umask=umask, sp=sp, spi_out=SPI_OUT,
                             spi_in=SPI_IN, key_out=colonkey(KEY_OUT),
                             key_in=colonkey(KEY_IN), gw=GW_WAN, peer=PEER_WAN), umask


def write_conf(name, text):
    d = os.path.join(WORK, "conf")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, name)
    if not os.path.exists(path) or open(path).read() != text:
        with open(path, "w") as fp:
            fp.write(text)
    return path
