#!/bin/bash
# test_mobiked.sh - mobiked (IKEv2 initiator + userspace ESP) against the
# lab's real strongSwan gateway:
#
#   [mn] mobiked --ext1 (DHCP)--[inet]--[fw]--[gw strongSwan]--[int]--[srv]
#                --ext2 (DHCP, behind [nat])--+
#
#   (a) ext1, IPv4 outer, aes256gcm16-prfsha384-x25519: established, TIA from
#       the pool, ping + TCP (iperf3) from the TIA to srv, gw shows the
#       proposal; `mobctl mobiked down` -> the gw's SA is gone
#   (b) aes256-sha256-modp2048 (CBC), same checks
#   (c) IPv6 outer address
#   (d) behind NAT (ext2): NAT detected, ping
#   (e) DPD: gw charon killed -> SA dead within dpd + retransmits; gw back ->
#       mobiked re-establishes by itself; SIGTERM -> DELETE, gw SA gone
#   (f) every captured IKE packet decodes in tshark without malformed/expert
#       errors
# Prints "ok - ..." / "not ok - ..." and "N passed, M failed".  Needs root.
# B = build dir (default build).  LAB_TEST_PREFIX overrides the prefix.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LAB=$HERE/lab.sh
. "$HERE/topology.sh"
B=${B:-build}
case "$B" in /*) ;; *) B=$ROOT/$B ;; esac

export LAB_PREFIX=${LAB_TEST_PREFIX:-m$$-}
export LAB_STATE=/tmp/${LAB_PREFIX}lab
WORK=$(mktemp -d "/tmp/${LAB_PREFIX}mobiked.XXXXXX")
SOCK=$WORK/mobiked.sock
passed=0 failed=0 torn_down=0 summary_done=0
OUT=$WORK/out

exec 3>&1
say() { echo "$@" >&3; }
ok() { say "ok - $*"; passed=$((passed + 1)); }
not_ok() {
	say "not ok - $*"
	failed=$((failed + 1))
	sed 's/^/#   /' "$OUT" | tail -15 >&3
}
check() {
	local d=$1
	shift
	if "$@" >"$OUT" 2>&1; then ok "$d"; else not_ok "$d"; fi
}
lab() { timeout 90 "$LAB" "$@" 3>&-; }
in_ns() { local ns=$1; shift; timeout 30 ip netns exec "${LAB_PREFIX}$ns" "$@" 3>&-; }
wait_for() {   # SECONDS CMD...
	local n=$(($1 * 2))
	shift
	while [ "$n" -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; n=$((n - 1)); done
	return 1
}

diag() {
	[ "$failed" -gt 0 ] || return 0
	local f
	for f in "$LAB_STATE"/log/mobiked.log "$LAB_STATE"/gw/charon.log; do
		[ -f "$f" ] || continue
		say "# --- tail $f"
		tail -25 "$f" | sed 's/^/#   /' >&3
	done
}
teardown() {
	[ "$torn_down" = 1 ] && return 0
	torn_down=1
	diag
	lab down >/dev/null 2>&1 || say "# teardown reported an error"
	rm -rf "$WORK"
}
finish() {
	local rc=$?
	teardown
	if [ "$summary_done" != 1 ]; then
		say "$passed passed, $((failed + 1)) failed (aborted, rc $rc)"
		exit 1
	fi
}
trap finish EXIT
trap 'say "# interrupted"; exit 130' INT TERM

[ "$(id -u)" = 0 ] || { say "not ok - must run as root"; say "0 passed, 1 failed"; summary_done=1; exit 1; }
[ -x "$B/mobiked" ] && [ -x "$B/mobctl" ] || { say "not ok - $B/mobiked and $B/mobctl must be built"; say "0 passed, 1 failed"; summary_done=1; exit 1; }

# ---------------------------------------------------------------- helpers
write_conf() {   # GATEWAY IKE_PROPOSAL ESP_PROPOSAL
	(umask 077; echo 'lab-only-psk-not-a-secret' >"$WORK/mobiked.psk")
	chmod 600 "$WORK/mobiked.psk"
	cat >"$WORK/mobiked.conf" <<-EOF
	log = { level = "debug"; };
	control = { socket = "$SOCK"; };
	connection = {
	  gateway = [ "$1" ];
	  local_id = "mn.lab";
	  remote_id = "gw.lab";
	  psk_file = "mobiked.psk";
	  ike_proposals = [ "$2" ];
	  esp_proposals = [ "$3" ];
	  remote_ts = [ "10.0.0.0/8", "fd00:10::/32" ];
	  vips = [ "0.0.0.0", "::" ];
	  request_dns = true;
	  retransmit = { timeout = 1.0; base = 1.5; tries = 3; };
	  dpd_delay = 5;
	  keepalive = 20;
	  start_action = "start";
	};
	EOF
}
mobctl() { timeout 5 "$B/mobctl" -s "$SOCK" "$@"; }
status_json() { mobctl --json mobiked status; }
field() { status_json | python3 -c "import json,sys; r=json.load(sys.stdin)['result']; print(eval(sys.argv[1]))" "$1"; }
established() { [ "$(field "r['ike_sa']")" = ESTABLISHED ] && [ -n "$(tia4)" ]; }
not_established() { [ "$(field "r['ike_sa']")" != ESTABLISHED ]; }
tia4() { field "[a for a in r.get('tia', []) if '.' in a][0]" 2>/dev/null; }
start_mobiked() { lab spawn mn mobiked "$B/mobiked" -c "$WORK/mobiked.conf"; }
stop_mobiked() { lab stop mobiked; }
gw_sas() { lab swanctl gw --list-sas 2>/dev/null; }
gw_has_proposal() { gw_sas | tee /dev/stderr | grep -q "$1"; }
gw_no_sa() { ! gw_sas | grep -q ESTABLISHED; }
ping_from_tia() { in_ns mn ping -c 3 -W 2 -I "$(tia4)" "$SRV4"; }
ping6_srv() { in_ns mn ping -6 -c 3 -W 2 "$SRV6"; }
tcp_stream() { in_ns mn iperf3 -c "$SRV4" -B "$(tia4)" -t 2; }
mobiked_t() { "$B/mobiked" -t -c "$WORK/mobiked.conf"; }
down_and_gone() { mobctl mobiked down && wait_for 10 gw_no_sa; }
nat_local() { [ "$(field "r['nat']['local']")" = True ]; }
gw_killed() {
	local pid t rest
	read -r pid t rest <"$LAB_STATE/pids/charon-gw.pid" || return 1
	# our own lab's gateway, by its recorded PID and start time
	[ "$(awk '{print $22}' "/proc/$pid/stat" 2>/dev/null)" = "$t" ] || return 1
	kill -9 "$pid" && rm -f "$LAB_STATE/pids/charon-gw.pid"
}
dpd_detects() { local t0=$SECONDS; wait_for 25 not_established || return 1; echo "dead after $((SECONDS - t0)) s"; }
tshark_clean() {
	local n
	n=$(tshark -r "$WORK/ike.pcap" -Y isakmp 2>/dev/null | wc -l)
	echo "$n IKE packets"
	[ "$n" -gt 10 ] || return 1
	! tshark -r "$WORK/ike.pcap" -Y isakmp -V 2>/dev/null | grep -iE "malformed|Expert Info \((Error|Warning)"
}

# ---------------------------------------------------------------- (a) GCM
say "# lab prefix $LAB_PREFIX, build $B"
check "lab.sh up" lab up
check "MN lease on ext1" lab dhcp
lab spawn mn tcpdump tcpdump -i mn0 -U -w "$WORK/ike.pcap" udp port 500 or udp port 4500 >/dev/null 2>&1
lab spawn srv iperf3 iperf3 -s >/dev/null 2>&1
write_conf "$GW_OUT4" aes256gcm16-prfsha384-x25519 aes256gcm16
check "mobiked -t accepts the generated config" mobiked_t
start_mobiked >/dev/null 2>&1
check "IKE SA established with a TIA (ext1, IPv4, GCM)" wait_for 15 established
check "ping srv from the TIA $(tia4)" ping_from_tia
check "TCP stream (iperf3 2 s) from the TIA to srv" tcp_stream
check "gw lists the SA with AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519" \
	gw_has_proposal "AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519"
check "mobctl mobiked down: the gw's SA is gone" down_and_gone
stop_mobiked >/dev/null 2>&1

# ---------------------------------------------------------------- (b) CBC
write_conf "$GW_OUT4" aes256-sha256-modp2048 aes256-sha256
start_mobiked >/dev/null 2>&1
check "IKE SA established (aes256-sha256-modp2048)" wait_for 15 established
check "gw lists AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048" \
	gw_has_proposal "AES_CBC-256/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/MODP_2048"
check "ping srv from the TIA (CBC)" ping_from_tia
check "TCP stream from the TIA (CBC)" tcp_stream
stop_mobiked >/dev/null 2>&1
check "SIGTERM sends DELETE: the gw's SA is gone" wait_for 10 gw_no_sa

# ---------------------------------------------------------------- (c) IPv6 outer
write_conf "$GW_OUT6" aes256gcm16-prfsha384-x25519 aes256gcm16
start_mobiked >/dev/null 2>&1
check "IKE SA established over IPv6 ($GW_OUT6)" wait_for 15 established
check "gw sees the MN's IPv6 outer address" gw_has_proposal "fd00:16:1:"
check "ping6 srv through the tunnel" ping6_srv
stop_mobiked >/dev/null 2>&1

# ---------------------------------------------------------------- (d) NAT
lab move ext2 >/dev/null 2>&1
check "MN lease on ext2 (behind NAT)" lab dhcp -4
write_conf "$GW_OUT4" aes256gcm16-prfsha384-x25519 aes256gcm16
start_mobiked >/dev/null 2>&1
check "IKE SA established behind NAT" wait_for 15 established
check "NAT detected on our side" nat_local
check "ping srv from the TIA behind NAT" ping_from_tia

# ---------------------------------------------------------------- (e) DPD
check "gw charon killed (SIGKILL, no DELETE)" gw_killed
check "DPD declares the SA dead within dpd_delay + retransmits" dpd_detects
check "gw charon restarted" lab charon gw start
check "mobiked re-establishes by itself" wait_for 40 established
check "ping srv after re-establishing" ping_from_tia
stop_mobiked >/dev/null 2>&1
check "SIGTERM: the gw's SA is gone" wait_for 10 gw_no_sa

# ---------------------------------------------------------------- (f) tshark
lab stop tcpdump >/dev/null 2>&1
check "tshark decodes every IKE packet without malformed/expert errors" tshark_clean

say "$passed passed, $failed failed"
summary_done=1
[ "$failed" -eq 0 ]
