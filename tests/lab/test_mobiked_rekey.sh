#!/bin/bash
# test_mobiked_rekey.sh - CHILD_SA rekeying, make-before-break, against the
# lab's real strongSwan gateway (its children rekey_time = 20s via
# LAB_GW_CHILD_REKEY):
#
#   [mn] mobiked --ext1--[inet]--[fw]--[gw strongSwan]--[int]--[srv]
#
#   ping 10/s from the TIA to srv for 26 s while
#     t=3  the gw rekeys the CHILD_SA (swanctl --rekey): gw-initiated #1
#     t=9  again: gw-initiated #2
#     ~t=20 mobiked's own rekey (child_lifetime 12 s: at 90% - jitter)
#   then: loss <= 1%, new SPIs on both sides after each rekey, no stale
#   SAs on either side;
#   IKE SA rekeys (RFC 7296 2.18), ping 10/s for 10 s while
#     t=2  the gw rekeys the IKE SA (swanctl --rekey --ike rw)
#     t=6  mobiked rekeys it (mobctl mobiked rekey sa=ike)
#   each: new IKE SPIs, one IKE SA on the gw with the SPIs mobiked shows,
#   the CHILD_SA kept; loss <= 1%; and tshark decodes every IKE packet.
# Prints "ok - ..." / "not ok - ..." and "N passed, M failed".  Needs root.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LAB=$HERE/lab.sh
. "$HERE/topology.sh"
B=${B:-build}
case "$B" in /*) ;; *) B=$ROOT/$B ;; esac

export LAB_PREFIX=${LAB_TEST_PREFIX:-r$$-}
export LAB_STATE=/tmp/${LAB_PREFIX}lab
WORK=$(mktemp -d "/tmp/${LAB_PREFIX}rekey.XXXXXX")
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

export LAB_GW_CHILD_REKEY=${LAB_GW_CHILD_REKEY:-20s}

write_conf() {   # GATEWAY
	(umask 077; echo 'lab-only-psk-not-a-secret' >"$WORK/mobiked.psk")
	chmod 600 "$WORK/mobiked.psk"
	cat >"$WORK/mobiked.conf" <<-EOC
	log = { level = "debug"; };
	control = { socket = "$SOCK"; };
	connection = {
	  gateway = [ "$1" ];
	  local_id = "mn.lab";
	  remote_id = "gw.lab";
	  psk_file = "mobiked.psk";
	  ike_proposals = [ "aes256gcm16-prfsha384-x25519" ];
	  esp_proposals = [ "aes256gcm16-x25519" ];
	  remote_ts = [ "10.0.0.0/8", "fd00:10::/32" ];
	  vips = [ "0.0.0.0" ];
	  retransmit = { timeout = 1.0; base = 1.5; tries = 3; };
	  dpd_delay = 30;
	  keepalive = 20;
	  child_lifetime = 12;
	  start_action = "start";
	};
	EOC
}
mobctl() { timeout 5 "$B/mobctl" -s "$SOCK" "$@"; }
status_json() { mobctl --json mobiked status; }
field() { status_json | python3 -c "import json,sys; r=json.load(sys.stdin)['result']; print(eval(sys.argv[1]))" "$1"; }
tia4() { field "[a for a in r.get('tia', []) if '.' in a][0]" 2>/dev/null; }
established() { [ "$(field "r['ike_sa']")" = ESTABLISHED ] && [ -n "$(tia4)" ]; }
spi_in() { field "r['child_sa']['spi_in']" 2>/dev/null; }
gw_sas() { lab swanctl gw --list-sas 2>/dev/null; }
gw_in_spis() { gw_sas | sed -n 's/^ *in  *\([0-9a-f]\{8\}\).*/\1/p' | sort | tr '\n' ' '; }
gw_rekey() { lab swanctl gw --rekey --child intranet; }
spi_changed() { local s; s=$(spi_in); [ -n "$s" ] && [ "$s" != "$1" ]; }
gw_spis_changed() { local s; s=$(gw_in_spis); [ -n "$s" ] && [ "$s" != "$1" ]; }
# A gw-initiated rekey: mobiked's current SPI and the gw's inbound SPI both
# move, and the old SA is deleted (one CHILD_SA left on each side).
rekey_by_gw() {
	local s0 g0
	s0=$(spi_in) g0=$(gw_in_spis)
	gw_rekey || return 1
	wait_for 6 spi_changed "$s0" || { echo "mobiked SPI still $s0"; return 1; }
	wait_for 6 gw_spis_changed "$g0" || { echo "gw SPIs still $g0"; return 1; }
	echo "mobiked spi_in $s0 -> $(spi_in); gw in-SPIs $g0-> $(gw_in_spis)"
}
no_stale() {
	[ "$(field "r['rekeyed_child_sas']")" = 0 ] &&
		[ "$(gw_sas | grep -c 'INSTALLED')" = 1 ]
}
stat_at_least() { [ "$(field "r['ike_stats']['$1']")" -ge "$2" ]; }
mobiked_rekeyed() {
	local s0 g0 t0=$SECONDS
	s0=$(spi_in) g0=$(gw_in_spis)
	wait_for 16 stat_at_least child_rekeys_initiated 1 || return 1
	wait_for 4 gw_spis_changed "$g0" || return 1
	echo "after $((SECONDS - t0)) s: spi_in $s0 -> $(spi_in); gw $g0-> $(gw_in_spis)"
}
loss_ok() {   # [FILE]
	local l f=${1:-$WORK/ping.out}
	wait "$PING_PID"
	cat "$f" | tail -3
	l=$(sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p' "$f")
	[ -n "$l" ] && python3 -c "import sys; sys.exit(0 if float('$l') <= 1.0 else 1)"
}
# IKE SPI pairs "spi_i spi_r;" as the gw lists them, and as mobiked does.
gw_ike_spis() {
	gw_sas | sed -n 's/.* \([0-9a-f]\{16\}\)_i\*\{0,1\} \([0-9a-f]\{16\}\)_r.*/\1 \2/p' | tr '\n' ';'
}
mob_ike_spis() { field "r['spi_i'] + ' ' + r['spi_r']" 2>/dev/null; }
ike_changed() { local s; s=$(mob_ike_spis); [ -n "$s" ] && [ "$s" != "$1" ]; }
ike_same() { [ "$(gw_ike_spis)" = "$(mob_ike_spis);" ]; }
ike_rekey() {   # gw|mobiked
	local s0 c0
	s0=$(mob_ike_spis) c0=$(spi_in)
	if [ "$1" = gw ]; then
		lab swanctl gw --rekey --ike rw || return 1
	else
		mobctl mobiked rekey sa=ike || return 1
	fi
	wait_for 6 ike_changed "$s0" || { echo "mobiked IKE SPIs still $s0"; return 1; }
	wait_for 6 ike_same || { echo "gw: $(gw_ike_spis) mobiked: $(mob_ike_spis)"; return 1; }
	[ "$(field "r['ike_sa']")" = ESTABLISHED ] || return 1
	echo "IKE SA $s0 -> $(mob_ike_spis); CHILD_SA $c0 -> $(spi_in)"
}

ike_counted() {
	stat_at_least ike_rekeys_answered 1 && stat_at_least ike_rekeys_initiated 1
}
tshark_clean() {
	local n
	n=$(tshark -r "$WORK/ike.pcap" -Y isakmp 2>/dev/null | wc -l)
	echo "$n IKE packets"
	[ "$n" -gt 6 ] || return 1
	! tshark -r "$WORK/ike.pcap" -Y isakmp -V 2>/dev/null | grep -iE "malformed|Expert Info \((Error|Warning)"
}

say "# lab prefix $LAB_PREFIX, build $B, gw rekey_time $LAB_GW_CHILD_REKEY"
check "lab.sh up" lab up
check "MN lease on ext1" lab dhcp -4
lab spawn mn tcpdump tcpdump -i mn0 -U -w "$WORK/ike.pcap" udp port 500 or udp port 4500 >/dev/null 2>&1
write_conf "$GW_OUT4"
lab spawn mn mobiked "$B/mobiked" -c "$WORK/mobiked.conf" >/dev/null 2>&1
check "IKE SA established with a TIA" wait_for 15 established
in_ns mn ping -c 1 -W 2 -I "$(tia4)" "$SRV4" >/dev/null 2>&1
t_start=$SECONDS
timeout 40 ip netns exec "${LAB_PREFIX}mn" ping -i 0.1 -c 260 -W 1 -I "$(tia4)" "$SRV4" >"$WORK/ping.out" 2>&1 3>&- &
PING_PID=$!
sleep 3
check "gw-initiated rekey #1: new SPIs on both sides" rekey_by_gw
check "no stale SA after gw rekey #1" wait_for 5 no_stale
sleep $((9 - (SECONDS - t_start) > 0 ? 9 - (SECONDS - t_start) : 0))
check "gw-initiated rekey #2: new SPIs on both sides" rekey_by_gw
check "no stale SA after gw rekey #2" wait_for 5 no_stale
check "mobiked-initiated rekey (child_lifetime 12 s)" mobiked_rekeyed
check "no stale SA after mobiked's rekey" wait_for 5 no_stale
check "mobiked answered >= 2 gw rekeys" stat_at_least child_rekeys_answered 2
check "ping 10/s across the rekeys: loss <= 1%" loss_ok
say "# $(grep -m1 'packet loss' "$WORK/ping.out")"
say "# mobiked: $(field "'spi_in %s, rekeys initiated %s answered %s' % (r['child_sa']['spi_in'], r['ike_stats']['child_rekeys_initiated'], r['ike_stats']['child_rekeys_answered'])")"
timeout 20 ip netns exec "${LAB_PREFIX}mn" ping -i 0.1 -c 100 -W 1 -I "$(tia4)" "$SRV4" >"$WORK/ping2.out" 2>&1 3>&- &
PING_PID=$!
sleep 2
check "gw-initiated IKE SA rekey: new SPIs, one IKE SA on the gw" ike_rekey gw
sleep 2
check "mobiked-initiated IKE SA rekey: new SPIs, one IKE SA on the gw" ike_rekey mobiked
check "mobiked counts both IKE rekeys" ike_counted
check "ping 10/s across the IKE rekeys: loss <= 1%" loss_ok "$WORK/ping2.out"
say "# $(grep -m1 'packet loss' "$WORK/ping2.out")"
lab stop mobiked >/dev/null 2>&1
lab stop tcpdump >/dev/null 2>&1
check "tshark decodes every IKE packet without malformed/expert errors" tshark_clean

say "$passed passed, $failed failed"
summary_done=1
[ "$failed" -eq 0 ]
