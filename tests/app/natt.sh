#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# A NAT rebound through the gateway (docs/control.md, NAT traversal):
# the peer behind a NAT sends ESP in UDP from port 4500, then from
# 61000 (the NAT's new mapping), both packets authentic (made with
# scapy), then a forged one from 62000. espgw decrypts all but the
# forgery, reports the one change to monitors as ip xfrm monitor prints
# XFRM_MSG_MAPPING, counts it, and with --natt-follow updates the
# outbound and the inbound state to the new port; without it, changes
# nothing. A keepalive and an IKE message on 4500 are counted; with
# --natt-keepalive 1 the idle outbound state sends one a second.
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

# The peer's packets: 10.0.2.5 -> 10.0.1.10 in ESP in UDP from
# 198.51.100.2 to 192.0.2.1:4500, seq 1 from port 4500, 2 and 3 from
# 61000, 4 forged (its ICV broken) from 62000; then a keepalive and an
# IKE message (the non-ESP marker).
/usr/bin/python3 - "$tmp/wan.pcap" "${KI#0x}" <<'EOF' || { echo "not ok - scapy could not make the packets"; exit 1; }
import sys
from scapy.all import IP, UDP, Ether, Raw, wrpcap
from scapy.layers.ipsec import ESP, SecurityAssociation

path, key = sys.argv[1], bytes.fromhex(sys.argv[2])
# broadcast: whatever MAC the pcap port gets, the gateway takes it
eth = Ether(src="02:00:00:00:02:fe", dst="ff:ff:ff:ff:ff:ff")
frames = []
for seq, sport in ((1, 4500), (2, 61000), (3, 61000), (4, 62000)):
    sa = SecurityAssociation(ESP, spi=0x2002, crypt_algo="AES-GCM", crypt_key=key,
                             tunnel_header=IP(src="198.51.100.2", dst="192.0.2.1"),
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

run() { # tag follow(0|1)
	local tag=$1 follow=$2 prefix="natt$$$1" pid mon out
	rm -f "$tmp/stats"
	"$espgw" --no-huge -m 256 -l 0-1 --no-pci --file-prefix "$prefix" \
		--log-level='lib.*:error' --vdev net_null0,no-rx=1 \
		--vdev "net_pcap1,rx_pcap=$tmp/wan.pcap,tx_pcap=$tmp/wan-out-$tag.pcap" \
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
ip route replace 198.51.100.0/24 via 203.0.113.254 dev wan0
EOT
	sleep 3.5 # the control thread reports within a second
	"$espgwctl" --file-prefix "$prefix" xfrm state >"$tmp/states-$tag" 2>&1
	"$espgwctl" --file-prefix "$prefix" -s xfrm state >"$tmp/states-s-$tag" 2>&1
	kill -TERM "$mon" 2>/dev/null
	wait "$mon" 2>/dev/null
	kill -INT "$pid"
	wait "$pid"
	out=$(grep -A1 '^Mapping change' "$tmp/mon-$tag")
	if [ "$(grep -c '^Mapping change' "$tmp/mon-$tag")" = 1 ] &&
		printf '%s\n' "$out" | grep -q '^Mapping change 198.51.100.2:4500 -> 198.51.100.2:61000$' &&
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
	local want=4500
	[ "$follow" = 1 ] && want=61000
	out=$(/usr/bin/python3 - "$tmp/wan-out-$tag.pcap" "$want" <<'EOF'
import sys
from scapy.all import IP, UDP, rdpcap
t = [float(p.time) for p in rdpcap(sys.argv[1])
     if IP in p and UDP in p and p[IP].src == "192.0.2.1" and p[IP].dst == "198.51.100.2"
     and p[UDP].sport == 4500 and p[UDP].dport == int(sys.argv[2])
     and bytes(p[UDP].payload) == b"\xff" and p[UDP].len == 9 and p[UDP].chksum == 0]
gaps = [b - a for a, b in zip(t, t[1:])]
print(len(t), "ok" if gaps and min(gaps) > 0.8 else "gaps %s" % gaps)
EOF
)
	[ "${out% *}" -ge 2 ] 2>/dev/null && [ "${out#* }" = ok ] &&
		[ "${st[gw.natt-keepalives-sent]:-}" = "${out% *}" ] &&
		ok "$tag: keepalives to port $want, a second apart ($out), all counted" ||
		bad "$tag: keepalives to port $want, a second apart" "pcap: $out; gw.natt-keepalives-sent ${st[gw.natt-keepalives-sent]:-}"
	out=$(t_balance "$tmp/stats") && ok "$tag: every packet accounted for" || bad "$tag: every packet accounted for" "$out"
	want=4500
	[ "$follow" = 1 ] && want=61000
	out=$(grep -c "encap type espinudp sport 4500 dport $want addr" "$tmp/states-$tag")
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
[ "${KEEP:-0}" = 1 ] && echo "kept $tmp" || rm -rf "$tmp"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
