#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# A NAT rebound through the gateway (docs/control.md, NAT traversal):
# the peer behind a NAT sends ESP in UDP from port 4500, then from
# 61000 (the NAT's new mapping), both packets authentic (made with
# scapy), then a forged one from 62000. espgw decrypts all but the
# forgery, reports the one change to monitors as ip xfrm monitor prints
# XFRM_MSG_MAPPING, counts it, and with --natt-follow updates the
# outbound and the inbound state to the new port; without it, changes
# nothing. In a third run the NAT's new mapping has a new address too:
# the states and the policies' templates move to it (as an IKE daemon
# migrates them), and a packet from the LAN goes there. A keepalive and
# an IKE message on 4500 are counted; with --natt-keepalive 1 the idle
# outbound state sends one a second.
# Usage: natt.sh <espgw> <espgwctl>
set -u
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/../lib.sh"
espgw=$1
espgwctl=$2
tmp=$(mktemp -d)
pass=0
fail=0
KO=0x0102030405060708090a0b0c0d0e0f1011121314
KI=0x1112131415161718191a1b1c1d1e1f2021222324

ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() {
	echo "not ok - $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'
	fail=$((fail + 1))
}

# The peer's packets: 10.0.2.5 -> 10.0.1.10 in ESP in UDP to
# 192.0.2.1:4500, seq 1 from 198.51.100.2:4500, 2 and 3 from the NAT's
# new mapping (ADDR:61000), 4 forged (its ICV broken) from ADDR:62000;
# then a keepalive and an IKE message (the non-ESP marker). The LAN's
# packet: 10.0.1.10 -> 10.0.2.5, for the tunnel.
peer_pcap() { # file new-address
	/usr/bin/python3 - "$1" "${KI#0x}" "$2" <<'EOF' || { echo "not ok - scapy could not make the packets"; exit 1; }
import sys
from scapy.all import IP, UDP, Ether, Raw, wrpcap
from scapy.layers.ipsec import ESP, SecurityAssociation

path, key, nat = sys.argv[1], bytes.fromhex(sys.argv[2]), sys.argv[3]
# broadcast: whatever MAC the pcap port gets, the gateway takes it
eth = Ether(src="02:00:00:00:02:fe", dst="ff:ff:ff:ff:ff:ff")
frames = []
for seq, src, sport in ((1, "198.51.100.2", 4500), (2, nat, 61000), (3, nat, 61000), (4, nat, 62000)):
    sa = SecurityAssociation(ESP, spi=0x2002, crypt_algo="AES-GCM", crypt_key=key,
                             tunnel_header=IP(src=src, dst="192.0.2.1"),
                             nat_t_header=UDP(sport=sport, dport=4500))
    sa.seq_num = seq
    inner = IP(src="10.0.2.5", dst="10.0.1.10", ttl=64) / UDP(sport=7, dport=9) / Raw(b"x" * 40)
    b = bytearray(bytes(sa.encrypt(inner)))
    # scapy 2.5 leaves the UDP length at 8: the datagram's, and
    # checksum 0, as Linux sends
    b[24:26] = (len(b) - 20).to_bytes(2, "big")
    b[26:28] = b"\0\0"
    if seq == 4:
        b[-1] ^= 1
    frames.append(eth / IP(bytes(b)))
for payload in (b"\xff", b"\0\0\0\0" + b"ike"):
    frames.append(eth / IP(src="198.51.100.2", dst="192.0.2.1") / UDP(sport=4500, dport=4500) / payload)
wrpcap(path, frames)
EOF
}
peer_pcap "$tmp/wan.pcap" 198.51.100.2
peer_pcap "$tmp/wan-moved.pcap" 203.0.113.7
/usr/bin/python3 - "$tmp/lan.pcap" <<'EOF' || { echo "not ok - scapy could not make the LAN packet"; exit 1; }
import sys
from scapy.all import IP, UDP, Ether, Raw, wrpcap
wrpcap(sys.argv[1], [Ether(src="02:00:00:00:01:0a", dst="ff:ff:ff:ff:ff:ff") /
                     IP(src="10.0.1.10", dst="10.0.2.5", ttl=64) / UDP(sport=9, dport=7) / Raw(b"y" * 30)])
EOF

run() { # tag follow(0|1) [the NAT's new address]
	local tag=$1 follow=$2 nat=${3:-198.51.100.2} prefix="natt$$$1" pid mon out
	local wan=$tmp/wan.pcap
	[ "$nat" != 198.51.100.2 ] && wan=$tmp/wan-moved.pcap
	rm -f "$tmp/stats"
	"$espgw" --no-huge -m 256 -l 0-1 --no-pci --file-prefix "$prefix" \
		--log-level='lib.*:error' --vdev net_null0,no-rx=1 \
		--vdev "net_pcap1,rx_pcap=$wan,tx_pcap=$tmp/wan-out-$tag.pcap" \
		--vdev "net_pcap2,rx_pcap=$tmp/lan.pcap,tx_pcap=$tmp/lan-out-$tag.pcap" \
		-- -s "$tmp/stats" --poll-idle-us 100 \
		$([ "$follow" = 1 ] && echo --natt-follow) --natt-keepalive 1 \
		>"$tmp/espgw-$tag.out" 2>&1 &
	pid=$!
	for _ in $(seq 600); do # 60 s: ASan on a loaded machine is slow
		grep -q running "$tmp/espgw-$tag.out" 2>/dev/null && break
		sleep 0.1
	done
	"$espgwctl" --file-prefix "$prefix" -batch - <<EOT || bad "$tag: the set-up was refused"
link set dev net_null0 up name lan0
ip addr add 10.0.1.1/24 dev lan0
ip addr add 192.0.2.1/24 dev lan0
ip route add 198.51.100.0/24 via 192.0.2.254 dev lan0
ip neigh add 10.0.1.10 lladdr 02:00:00:00:01:0a dev lan0
xfrm state add src 192.0.2.1 dst 198.51.100.2 proto esp spi 0x1001 reqid 1 mode tunnel aead 'rfc4106(gcm(aes))' $KO 128 encap espinudp 4500 4500 0.0.0.0
xfrm state add src 198.51.100.2 dst 192.0.2.1 proto esp spi 0x2002 reqid 2 mode tunnel aead 'rfc4106(gcm(aes))' $KI 128 encap espinudp 4500 4500 0.0.0.0
xfrm policy add src 10.0.1.0/24 dst 10.0.2.0/24 dir out tmpl src 192.0.2.1 dst 198.51.100.2 proto esp reqid 1 mode tunnel
xfrm policy add src 10.0.2.0/24 dst 10.0.1.0/24 dir fwd tmpl src 198.51.100.2 dst 192.0.2.1 proto esp reqid 2 mode tunnel
EOT
	"$espgwctl" --file-prefix "$prefix" monitor xfrm >"$tmp/mon-$tag" 2>&1 &
	mon=$!
	sleep 0.3
	# the WAN port up: its pcap is read at once (the tunnel's address
	# is on lan0, so that the states could come first)
	"$espgwctl" --file-prefix "$prefix" -batch - <<EOT || bad "$tag: the WAN port did not come up"
link set dev net_pcap1 up name wan0
ip addr add 203.0.113.1/24 dev wan0
ip neigh add 203.0.113.254 lladdr 02:00:00:00:02:fe dev wan0
ip neigh add 203.0.113.7 lladdr 02:00:00:00:02:fe dev wan0
ip route replace 198.51.100.0/24 via 203.0.113.254 dev wan0
EOT
	sleep 2 # the control thread reports and follows within a second
	# then the LAN's packet, for the tunnel: wherever it now goes
	"$espgwctl" --file-prefix "$prefix" link set dev net_pcap2 up name lan1 ||
		bad "$tag: the second LAN port did not come up"
	sleep 2.5
	"$espgwctl" --file-prefix "$prefix" xfrm policy >"$tmp/policies-$tag" 2>&1
	"$espgwctl" --file-prefix "$prefix" xfrm state >"$tmp/states-$tag" 2>&1
	"$espgwctl" --file-prefix "$prefix" -s xfrm state >"$tmp/states-s-$tag" 2>&1
	kill -TERM "$mon" 2>/dev/null
	wait "$mon" 2>/dev/null
	kill -INT "$pid"
	wait "$pid"
	out=$(grep -A1 '^Mapping change' "$tmp/mon-$tag")
	if [ "$(grep -c '^Mapping change' "$tmp/mon-$tag")" = 1 ] &&
		printf '%s\n' "$out" | grep -q "^Mapping change 198.51.100.2:4500 -> $nat:61000\$" &&
		printf '%s\n' "$out" | grep -qP '^\tdst 192.0.2.1  reqid 0x2 protocol esp  SPI 0x2002$'; then
		ok "$tag: one Mapping change, as ip xfrm monitor prints it; none for the forgery"
	else
		bad "$tag: one Mapping change, as ip xfrm monitor prints it; none for the forgery" "$(cat "$tmp/mon-$tag")"
	fi
	declare -A st
	while read -r k v; do st[$k]=$v; done <"$tmp/stats"
	[ "${st[sa.192.0.2.1/esp/0x00002002/in.packets]:-}" = 3 ] &&
		[ "${st[sa.192.0.2.1/esp/0x00002002/in.bad-icv]:-}" = 1 ] &&
		[ "${st[sa.192.0.2.1/esp/0x00002002/in.mappings]:-}" = 1 ] &&
		[ "${st[gw.drop-natt-keepalive]:-}" = 1 ] &&
		[ "${st[gw.drop-natt-ike-unhandled]:-}" = 1 ] &&
		[ "${st[gw.decrypted]:-}" = 3 ] &&
		ok "$tag: 3 decrypted, the forgery bad-icv, 1 mapping change, the keepalive and the IKE message counted" ||
		bad "$tag: 3 decrypted, the forgery bad-icv, 1 mapping change, the keepalive and the IKE message counted" \
			"$(grep -E '0x00002002/in\.(packets|bad-icv|mappings)|natt|decrypted' "$tmp/stats")"
	# --natt-keepalive 1 on an outbound state that carries nothing: one
	# a second, 0xFF from its port to the peer's (after a follow, the
	# new one), counted as made
	grep -q '^	  mapping changes 1$' "$tmp/states-s-$tag" &&
		ok "$tag: espgwctl -s xfrm state: mapping changes 1" ||
		bad "$tag: espgwctl -s xfrm state: mapping changes 1" "$(cat "$tmp/states-s-$tag")"
	local want=4500 to=198.51.100.2
	[ "$follow" = 1 ] && want=61000 && to=$nat
	out=$(/usr/bin/python3 - "$tmp/wan-out-$tag.pcap" "$want" "$to" <<'EOF'
import sys
from scapy.all import IP, UDP, rdpcap
t = [float(p.time) for p in rdpcap(sys.argv[1])
     if IP in p and UDP in p and p[IP].src == "192.0.2.1" and p[IP].dst == sys.argv[3]
     and p[UDP].sport == 4500 and p[UDP].dport == int(sys.argv[2])
     and bytes(p[UDP].payload) == b"\xff" and p[UDP].len == 9 and p[UDP].chksum == 0]
gaps = [b - a for a, b in zip(t, t[1:])]
print(len(t), "ok" if gaps and min(gaps) > 0.8 else "gaps %s" % gaps)
EOF
)
	[ "${out% *}" -ge 2 ] 2>/dev/null && [ "${out#* }" = ok ] &&
		[ "${st[gw.natt-keepalives-sent]:-}" = "${out% *}" ] &&
		ok "$tag: keepalives to $to:$want, a second apart ($out), all counted" ||
		bad "$tag: keepalives to $to:$want, a second apart" "pcap: $out; gw.natt-keepalives-sent ${st[gw.natt-keepalives-sent]:-}"
	# the LAN's packet through the SA itself, decrypted with scapy
	out=$(/usr/bin/python3 - "$tmp/wan-out-$tag.pcap" "$want" "$to" "${KO#0x}" <<'EOF'
import sys
from scapy.all import IP, UDP, rdpcap
from scapy.layers.ipsec import ESP, SecurityAssociation
sa = SecurityAssociation(ESP, spi=0x1001, crypt_algo="AES-GCM", crypt_key=bytes.fromhex(sys.argv[4]),
                         tunnel_header=IP(src="192.0.2.1", dst=sys.argv[3]))
got = []
for p in rdpcap(sys.argv[1]):
    if IP not in p or UDP not in p or p[UDP].len <= 9:
        continue
    ip = p[IP]
    plain = IP(bytes(ip)[:20]) / ESP(bytes(ip[UDP].payload))
    plain[IP].proto = 50
    inner = sa.decrypt(IP(bytes(plain)))
    got.append("%s:%d %s>%s" % (ip.dst, ip[UDP].dport, inner.src, inner.dst))
print(" ".join(got))
EOF
)
	[ "$out" = "$to:$want 10.0.1.10>10.0.2.5" ] &&
		ok "$tag: the LAN's packet goes to $to:$want" ||
		bad "$tag: the LAN's packet goes to $to:$want" "$out"
	out=$(t_balance "$espgw" "$tmp/stats") && ok "$tag: every packet accounted for" || bad "$tag: every packet accounted for" "$out"
	want=4500
	[ "$follow" = 1 ] && want=61000
	out=$(grep -c "encap type espinudp sport 4500 dport $want addr" "$tmp/states-$tag")
	if [ "$nat" != 198.51.100.2 ]; then
		grep -q "^src 192.0.2.1 dst $nat\$" "$tmp/states-$tag" &&
			grep -q "^src $nat dst 192.0.2.1\$" "$tmp/states-$tag" &&
			! grep -q 198.51.100.2 "$tmp/states-$tag" &&
			ok "--natt-follow: both states moved to $nat" ||
			bad "--natt-follow: both states moved to $nat" "$(cat "$tmp/states-$tag")"
		grep -qP "^\ttmpl src 192.0.2.1 dst $nat\$" "$tmp/policies-$tag" &&
			grep -qP "^\ttmpl src $nat dst 192.0.2.1\$" "$tmp/policies-$tag" &&
			! grep -q 198.51.100.2 "$tmp/policies-$tag" &&
			ok "--natt-follow: the templates name $nat" ||
			bad "--natt-follow: the templates name $nat" "$(cat "$tmp/policies-$tag")"
	fi
	if [ "$follow" = 1 ]; then
		grep -q "encap type espinudp sport 61000 dport 4500 addr" "$tmp/states-$tag" &&
			[ "$out" = 1 ] &&
			ok "--natt-follow: the outbound state sends to 61000, the inbound expects the peer there" ||
			bad "--natt-follow: the outbound state sends to 61000, the inbound expects the peer there" "$(cat "$tmp/states-$tag")"
	else
		[ "$out" = 2 ] &&
			ok "without --natt-follow: both states as they were" ||
			bad "without --natt-follow: both states as they were" "$(cat "$tmp/states-$tag")"
	fi
}

run report 0
run follow 1
run move 1 203.0.113.7
[ "${KEEP:-0}" = 1 ] && echo "kept $tmp" || rm -rf "$tmp"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
