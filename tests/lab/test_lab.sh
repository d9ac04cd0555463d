#!/bin/bash
# test_lab.sh - integration test of the lab itself (tests/lab/lab.sh) with the
# strongSwan baseline: topology up, MN DHCP + IKEv2/MOBIKE tunnel to the gw,
# firewall policy, roaming into NAT, the internal DHCP subnet, clean teardown.
# Prints "ok - ..." / "not ok - ..." and a final "N passed, M failed".
# Run as root; env B (build dir) is accepted for `make check` but not needed
# yet (no suite daemon is involved).  LAB_TEST_PREFIX overrides the run prefix.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
LAB=$HERE/lab.sh
. "$HERE/topology.sh"          # addresses (GW_OUT4, SRV4, ...)

export LAB_PREFIX=${LAB_TEST_PREFIX:-t$$-}
export LAB_STATE=/tmp/${LAB_PREFIX}lab
T0=$(date +%s)
passed=0 failed=0 torn_down=0
OUT=$(mktemp "/tmp/${LAB_PREFIX}test.XXXXXX")   # command output of the current check

# Report lines go to fd 3 (the real stdout): a trap may fire while a check
# function runs with its stdout redirected into $OUT.
exec 3>&1
say() { echo "$@" >&3; }
ok() { say "ok - $*"; passed=$((passed + 1)); }
not_ok() {
	say "not ok - $*"
	failed=$((failed + 1))
	sed 's/^/#   /' "$OUT" | tail -15 >&3
}
# check DESCRIPTION CMD...: CMD's output goes to $OUT (shown on failure)
check() {
	local d=$1
	shift
	if "$@" >"$OUT" 2>&1; then ok "$d"; else not_ok "$d"; fi
}
# (fd 3 closed: daemons started through lab.sh must not hold our stdout)
lab() { timeout 90 "$LAB" "$@" 3>&-; }
in_ns() { local ns=$1; shift; timeout 30 ip netns exec "${LAB_PREFIX}$ns" "$@" 3>&-; }

# On failure show the daemon logs' tails (the state dir goes with teardown).
diag() {
	local f
	[ "$failed" -gt 0 ] || return 0
	for f in "$LAB_STATE"/gw/charon.log "$LAB_STATE"/mn/charon.log "$LAB_STATE"/log/dhcpcd-mn.log; do
		[ -f "$f" ] || continue
		say "# --- tail $f"
		tail -20 "$f" | sed 's/^/#   /' >&3
	done
}

teardown() {
	[ "$torn_down" = 1 ] && return 0
	torn_down=1
	diag
	lab down >/dev/null 2>&1 || say "# teardown reported an error"
}
finish() {
	local rc=$?
	teardown
	rm -f "$OUT"
	# a run killed half-way still gets a summary line
	if [ "$summary_done" != 1 ]; then
		say "$passed passed, $((failed + 1)) failed (aborted, rc $rc)"
		exit 1
	fi
}
summary_done=0
trap finish EXIT
trap 'say "# interrupted"; exit 130' INT TERM

[ "$(id -u)" = 0 ] || { say "not ok - must run as root"; say "0 passed, 1 failed"; summary_done=1; exit 1; }

# ---------------------------------------------------------------- helpers
mn_addr() { in_ns mn ip "$1" -o addr show dev mn0 scope global | awk '{print $4}' | cut -d/ -f1 | head -1; }
sa_raw() { lab swanctl mn --list-sas --raw 2>/dev/null; }
sa_field() { sa_raw | grep -o " $1=[^ ]*" | head -1 | cut -d= -f2; }
vip4() { sa_raw | sed -n 's/.*local-vips=\[\([0-9.]*\).*/\1/p' | head -1; }

all_ns_exist() {
	local s
	for s in "${TOPO_NS[@]}"; do [ -e "/run/netns/${LAB_PREFIX}$s" ] || { echo "missing ${LAB_PREFIX}$s"; return 1; }; done
}
recorded_running() {
	local name pid t rest
	for name in "$@"; do
		read -r pid t rest <"$LAB_STATE/pids/$name.pid" || return 1
		[ "$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null)" = "$t" ] || { echo "$name not running"; return 1; }
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
wait_for() {   # SECONDS CMD...: poll CMD every 0.5 s
	local n=$(($1 * 2))
	shift
	while [ "$n" -gt 0 ]; do "$@" && return 0; sleep 0.5; n=$((n - 1)); done
	return 1
}

# ---------------------------------------------------------------- (a) up
say "# lab prefix $LAB_PREFIX, state $LAB_STATE"
check "lab.sh up builds the topology" lab up
check "all ${#TOPO_NS[@]} namespaces exist (${TOPO_NS[*]})" all_ns_exist
gw_up() { recorded_running charon-gw && gw_ready; }
check "gw charon running, connection and pools loaded" gw_up
check "dnsmasq running on ext1, ext2 and the internal DHCP subnet" \
	recorded_running dnsmasq-ext1 dnsmasq-ext2 dnsmasq-dhcp

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
srv_listens() { in_ns srv ss -Hltn "sport = :5201" | grep -q .; }
wait_for 5 srv_listens
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
started=$(cat "$LAB_STATE/pids.history" 2>/dev/null)
torn_down=1
diag
check "lab.sh down" lab down
no_ns_left() { ! ip netns list | grep "^${LAB_PREFIX}"; }
check "no namespace of this run is left" no_ns_left
no_started_pid_alive() {
	local name pid t rest st
	[ -n "$started" ] || { echo "no processes recorded"; return 1; }
	while read -r name pid t rest; do
		# alive = same PID with the same start time and not a zombie
		st=$(awk '{print $3 " " $22}' "/proc/$pid/stat" 2>/dev/null) || continue
		if [ "${st#* }" = "$t" ] && [ "${st%% *}" != Z ]; then
			echo "$name (pid $pid) still alive"
			return 1
		fi
	done <<<"$started"
}
check "none of the $(echo "$started" | grep -c .) processes the run started is alive" no_started_pid_alive
no_state() { [ ! -e "$LAB_STATE" ]; }
check "state dir removed" no_state

say "# took $(($(date +%s) - T0)) s"
summary_done=1
say "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
