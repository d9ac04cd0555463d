#!/bin/bash
# test_lab.sh - integration test of the lab itself (tests/lab/lab.sh) with the
# strongSwan baseline: topology up (every segment pinged, four dnsmasq),
# MN DHCP + IKEv2/MOBIKE tunnel to the gw, firewall policy (only UDP 500/4500
# from outside, to the gw), roaming into NAT, the internal DHCP subnet, clean
# teardown (no namespace, no process of the run anywhere).
# Prints "ok - ..." / "not ok - ..." and a final "N passed, M failed".
# Run as root; env B (build dir) is accepted for `make check` but not needed
# yet (no suite daemon is involved).  LAB_TEST_PREFIX overrides the run prefix.
set -uo pipefail

. "$(dirname "$0")/testlib.sh" # check, wait_for, lab, in_ns, teardown; topology.sh, gone.sh
export LAB_PREFIX=${LAB_TEST_PREFIX:-t$$-}
export LAB_STATE=/tmp/${LAB_PREFIX}lab
FAIL_LOGS=("$LAB_STATE"/gw/charon.log "$LAB_STATE"/mn/charon.log "$LAB_STATE"/log/dhcpcd-mn.log)
test_start

# ---------------------------------------------------------------- helpers
sa_raw() { lab swanctl mn --list-sas --raw 2>/dev/null; }
sa_field() { sa_raw | grep -o " $1=[^ ]*" | head -1 | cut -d= -f2; }
vip4() { sa_raw | sed -n 's/.*local-vips=\[\([0-9.]*\).*/\1/p' | head -1; }

all_ns_exist() {
	local s
	for s in "${TOPO_NS[@]}"; do [ -e "/run/netns/${LAB_PREFIX}$s" ] || { echo "missing ${LAB_PREFIX}$s"; return 1; }; done
}
recorded_running() {
	local name
	for name in "$@"; do
		recorded_pid "$name" >/dev/null || { echo "$name not running"; return 1; }
	done
}
gw_ready() {
	[ -S "$LAB_STATE/gw/charon.vici" ] &&
		lab swanctl gw --list-conns | grep -q '^rw:' &&
		lab swanctl gw --list-pools | grep -q pool4
}
# TCP connect NS ADDR PORT: dropped = times out (timeout(1) exits 124);
# refused = an RST came back (the host itself said no)
tcp_dropped() { in_ns "$1" timeout 2 bash -c "exec 3<>/dev/tcp/$2/$3"; [ $? -eq 124 ]; }
tcp_refused() {
	local out
	out=$(in_ns "$1" timeout 2 bash -c "exec 3<>/dev/tcp/$2/$3" 2>&1)
	echo "$out"
	[[ "$out" == *refused* ]]
}
fw_drops() { in_ns fw nft list chain inet labfw forward | sed -n 's/.*counter packets \([0-9]*\).*dropped by policy.*/\1/p'; }

# ---------------------------------------------------------------- (a) up
say "# lab prefix $LAB_PREFIX, state $LAB_STATE"
check "lab.sh up builds the topology" lab up
check "all ${#TOPO_NS[@]} namespaces exist (${TOPO_NS[*]})" all_ns_exist
gw_up() { recorded_running charon-gw && gw_ready; }
check "gw charon running, connection and pools loaded" gw_up
dhcp_servers() {   # all four dnsmasq alive and serving DHCP on their bridge
	local l name ns br rest
	for l in "${TOPO_DHCP[@]}"; do
		read -r name ns br rest <<<"$l"
		recorded_running "dnsmasq-$name" || return 1
		in_ns "$ns" ss -Hlun "sport = :67" | grep -q "%$br:67 " ||
			{ echo "dnsmasq-$name not on $br:67"; return 1; }
	done
}
check "dnsmasq running and listening on :67 for ext1, ext2, dhcp and inat" dhcp_servers

# Every segment carries traffic: "reach NS ADDR...": one ping each.
reach() {
	local ns=$1 a
	shift
	for a in "$@"; do
		in_ns "$ns" ping -c 1 -W 2 -q "$a" >/dev/null || { echo "$ns cannot reach $a"; return 1; }
	done
}
check "home subnet: HA <-> int router ($HA4, $HOME_R4 and IPv6)" \
	eval 'reach ha "$HOME_R4" "$HOME_R6" && reach int "$HA4" "$HA6"'
check "srv subnet and intranet routing: srv <-> int, srv -> HA" \
	reach srv "$INT_SRV4" "$INT_SRV6" "$HA4" "$HA6"
check "DHCP-only subnet: its router $DHCP_R4 from srv" reach srv "$DHCP_R4" "$DHCP_R6"
check "FA subnet: int <-> fa uplink, srv -> FA router $FA_R4 on br-fa" \
	eval 'reach int "$FA_UP4" "$FA_UP6" && reach srv "$FA_R4" "$FA_R6" && reach fa "$SRV4" "$SRV6"'
check "inat: int <-> inat uplink $INAT_UP4, and 192.168.50.1 reaches srv through the NAT" \
	eval 'reach int "$INAT_UP4" && reach inat "$INT_INAT4" && in_ns inat ping -c 1 -W 2 -q -I "$INAT_R4" "$SRV4"'
check "DMZ: fw <-> gw outside $GW_OUT4, int <-> gw inside $GW_IN4, gw -> srv" \
	eval 'reach fw "$GW_OUT4" "$GW_OUT6" && reach int "$GW_IN4" "$GW_IN6" && reach gw "$SRV4" "$SRV6"'
check "outside: inet <-> fw and nat router, ext2 router $EXT2_R4 from nat" \
	eval 'reach inet "$FW_OUT4" "$FW_OUT6" "$NAT_OUT4" "$NAT_OUT6" && reach nat "$INET_NAT_4" "$EXT2_R4"'
check "the intranet reaches the outside (srv -> inet, masqueraded by fw)" \
	reach srv "$INET_FW_4" "$INET_FW_6"

# ---------------------------------------------------------------- (b) ext1 + tunnel
check "MN on ext1 gets a DHCP lease" lab dhcp
a4=$(mn_addr -4) a6=$(mn_addr -6)
ext1_lease() { [[ "$a4" == 172.16.1.* && "$a6" == fd00:16:1::* ]]; }
check "ext1 lease is in $EXT1_NET4 ($a4) and IPv6 in fd00:16:1::/64 ($a6)" ext1_lease
check "MN client charon starts" lab charon mn start
check "swanctl --initiate brings the tunnel up through the firewall" \
	lab swanctl mn --initiate --child intranet --timeout 20
ike_proposal() { sa_raw | grep -q 'state=ESTABLISHED.*encr-alg=AES_GCM_16 encr-keysize=256 prf-alg=PRF_HMAC_SHA2_384 dh-group=CURVE_25519'; }
check "IKE SA established with aes256gcm16-prfsha384-x25519" ike_proposal
vip=$(vip4)
vips_ok() { [[ "$vip" == 10.99.0.* ]] && sa_raw | grep -q 'local-vips=\[10.99.0.[0-9]* fd00:10:99::'; }
check "virtual IPs from the pools ($vip, IPv6 from $POOL6)" vips_ok
check "ping from the virtual IP reaches srv $SRV4 through the tunnel" \
	in_ns mn ping -c 3 -i 0.2 -W 2 -I "${vip:-none}" "$SRV4"
check "IPv6 ping reaches srv $SRV6 through the tunnel" \
	in_ns mn ping -6 -c 3 -i 0.2 -W 2 "$SRV6"
# TCP through the tunnel: iperf3 server on srv, a 1 s client run from the VIP
lab spawn srv iperf3-srv iperf3 -s -B "$SRV4" >/dev/null 2>&1
wait_for 5 tcp_listening srv 5201
check "TCP (iperf3, 1 s) from the virtual IP to srv through the tunnel" \
	in_ns mn timeout 15 iperf3 -c "$SRV4" -B "${vip:-0.0.0.0}" -t 1
lab stop iperf3-srv >/dev/null 2>&1

# ---------------------------------------------------------------- (c) firewall
drops0=$(fw_drops)
ping_blocked() { ! in_ns mn ping -c 2 -i 0.2 -W 1 "$GW_OUT4"; }
check "firewall: ping from the MN on ext1 to the gw outside $GW_OUT4 is dropped" ping_blocked
check "firewall: TCP from the MN to the gw outside times out (dropped, not refused)" \
	tcp_dropped mn "$GW_OUT4" 22
drops_up() { [ "$(fw_drops)" -gt "${drops0:-0}" ]; }
check "firewall drop counter went up (was $drops0)" drops_up
check "control: from the intranet the same TCP connect is refused by the gw itself" \
	tcp_refused int "$GW_OUT4" 22
# What reaches the gw from the MN, counted in the gw's input hook (counters
# only, policy accept): UDP 500/4500 must arrive, UDP 1234 and TCP not.
in_ns gw nft -f - <<EOF
table inet labprobe {
	chain input {
		type filter hook input priority filter - 10; policy accept;
		ip saddr $a4 udp dport 500 counter comment "p500"
		ip saddr $a4 udp dport 4500 counter comment "p4500"
		ip saddr $a4 udp dport 1234 counter comment "p1234"
		ip6 saddr $a6 udp dport 1234 counter comment "p1234v6"
		ip saddr $a4 tcp dport 22 counter comment "ptcp"
	}
}
EOF
probe_count() { in_ns gw nft list chain inet labprobe input | sed -n "s/.*counter packets \([0-9]*\).*\"$1\".*/\1/p"; }
udp_send() {   # NS ADDR PORT: one datagram (a NAT-keepalive-like 0xff byte)
	in_ns "$1" bash -c "printf '\\xff' >/dev/udp/$2/$3"
}
p500=$(probe_count p500) p4500=$(probe_count p4500)
for port in 500 4500 1234; do udp_send mn "$GW_OUT4" $port; done
udp_send mn "$GW_OUT6" 1234
tcp_dropped mn "$GW_OUT4" 22 >/dev/null 2>&1
sleep 0.3
ike_ports_pass() {
	[ "$(probe_count p500)" -gt "${p500:-0}" ] && [ "$(probe_count p4500)" -gt "${p4500:-0}" ] ||
		{ in_ns gw nft list table inet labprobe; return 1; }
}
check "firewall: UDP 500 and 4500 from the MN on ext1 arrive at the gw" ike_ports_pass
others_dropped() {
	local c
	for c in p1234 p1234v6 ptcp; do
		[ "$(probe_count "$c")" = 0 ] || { in_ns gw nft list table inet labprobe; return 1; }
	done
}
check "firewall: UDP 1234 (IPv4 and IPv6) and TCP 22 from the MN never reach the gw" others_dropped
in_ns gw nft delete table inet labprobe
# [inet] has no route to the intranet; give it one, so that only the
# firewall stands between the outside and srv.
in_ns inet ip route add "$INTRANET4" via "$FW_OUT4"
in_ns inet ip -6 route add "$INTRANET6" via "$FW_OUT6"
srv_unreachable() {
	! in_ns inet ping -c 1 -W 1 -q "$SRV4" && ! in_ns inet ping -6 -c 1 -W 1 -q "$SRV6" &&
		tcp_dropped inet "$SRV4" 22
}
check "firewall: from outside (inet, routed to the intranet) srv gets no ping, no TCP" srv_unreachable
check "control: from int the same TCP connect to srv is refused by srv itself" \
	tcp_refused int "$SRV4" 22
in_ns inet ip route del "$INTRANET4" via "$FW_OUT4"
in_ns inet ip -6 route del "$INTRANET6" via "$FW_OUT6"
sa_up() { sa_raw | grep -q 'state=ESTABLISHED'; }
check "IKE worked through that firewall (SA still established)" sa_up

# ---------------------------------------------------------------- (d) ext2, behind NAT
ike_id=$(sa_field uniqueid)
check "move MN to ext2 (behind the NAT router)" lab move ext2
check "MN on ext2 gets a DHCP lease from the NAT router's dnsmasq" lab dhcp
b4=$(mn_addr -4)
ext2_lease() { [[ "$b4" == 192.168.2.* ]]; }
check "ext2 lease is in $EXT2_NET4 ($b4)" ext2_lease
# MOBIKE: the running client follows the new address with the SAME IKE SA
# (ext2 is IPv4 only, so the outer path stays IPv4 and behind the NAT).
mobike_moved() { [ "$(sa_field uniqueid)" = "$ike_id" ] && [ "$(sa_field local-host)" = "$b4" ]; }
check "MOBIKE moved IKE SA #$ike_id to the ext2 address $b4" wait_for 20 mobike_moved
nat_seen() { sa_raw | grep -q 'nat-local=yes'; }
check "NAT detected: swanctl --list-sas shows nat-local (outer $b4 behind $NAT_OUT4)" nat_seen
say "# $(lab swanctl mn --list-sas 2>/dev/null | grep -E "local  '" | sed 's/^ *//')"
check "ping srv through the tunnel after the move" \
	wait_for 10 in_ns mn ping -c 1 -W 1 -I "${vip:-none}" "$SRV4"

# ---------------------------------------------------------------- (e) internal DHCP subnet
check "stop the MN client charon" lab charon mn stop
check "move MN to the internal DHCP-only subnet" lab move dhcp
check "MN gets a DHCP lease there" lab dhcp
c4=$(mn_addr -4)
dhcp_lease() { [[ "$c4" == 10.20.0.* ]]; }
check "lease is in 10.20.0.0/24 ($c4)" dhcp_lease
no_tun() { ! ip -n "${LAB_PREFIX}mn" link show ipsec0; }
check "no tunnel device left on the MN" no_tun
check "MN pings srv $SRV4 directly from $c4" in_ns mn ping -c 2 -i 0.2 -W 2 -I "${c4:-none}" "$SRV4"
check "MN pings srv $SRV6 directly over IPv6" in_ns mn ping -6 -c 2 -i 0.2 -W 2 "$SRV6"

# ---------------------------------------------------------------- (f) teardown
# A process the run started without recording it, one that ignores SIGTERM:
# teardown must find it by its namespace.
ip netns exec "${LAB_PREFIX}srv" sh -c 'trap "" TERM; exec sleep 300' </dev/null >/dev/null 2>&1 3>&- &
stray=$!
started=$(cat "$LAB_STATE/pids.history" 2>/dev/null)
inodes=$(run_ns_inodes "$LAB_PREFIX")
torn_down=1 # this is the teardown: not again at exit
show_fail_logs
check "lab.sh down" lab down
check "no namespace of this run is left in ip netns list" no_ns_of "$LAB_PREFIX"
check "none of the $(echo "$started" | grep -c .) processes the run started is alive" none_alive <<<"$started"
# shellcheck disable=SC2086
check "no process anywhere is in one of the run's $(echo $inodes | wc -w) namespaces (stray sleep included)" \
	none_in_netns $inodes
kill -KILL "$stray" 2>/dev/null   # ours; only alive if that check failed
wait 2>/dev/null
no_state() { [ ! -e "$LAB_STATE" ]; }
check "state dir removed" no_state

test_end
