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

. "$(dirname "$0")/testlib.sh" # check, wait_for, lab, in_ns, teardown; topology.sh
. "$LAB_DIR/mobiked_lib.sh"    # mobiked_conf, start_mobiked, field, ike_rekey, ...
export LAB_PREFIX=${LAB_TEST_PREFIX:-r$$-}
export LAB_STATE=/tmp/${LAB_PREFIX}lab
export LAB_GW_CHILD_REKEY=${LAB_GW_CHILD_REKEY:-20s}
FAIL_LOGS=("$LAB_STATE"/log/mobiked.log "$LAB_STATE"/gw/charon.log)
test_start
need_built mobiked mobctl
WORK=$(mktemp -d "/tmp/${LAB_PREFIX}rekey.XXXXXX")

# ---------------------------------------------------------------- helpers
gw_in_spis() { gw_sas | sed -n 's/^ *in  *\([0-9a-f]\{8\}\).*/\1/p' | sort | tr '\n' ' '; }
gw_rekey() { lab swanctl gw --rekey --child intranet; }
gw_spis_changed() { local s; s=$(gw_in_spis); [ -n "$s" ] && [ "$s" != "$1" ]; }
# A gw-initiated rekey: mobiked's current SPI and the gw's inbound SPI both
# move, and the old SA is deleted (one CHILD_SA left on each side).
rekey_by_gw() {
	local s0 g0
	s0=$(spi_in) g0=$(gw_in_spis)
	gw_rekey || return 1
	wait_for 6 spi_moved "$s0" || { echo "mobiked SPI still $s0"; return 1; }
	wait_for 6 gw_spis_changed "$g0" || { echo "gw SPIs still $g0"; return 1; }
	echo "mobiked spi_in $s0 -> $(spi_in); gw in-SPIs $g0-> $(gw_in_spis)"
}
no_stale() {
	[ "$(field "r['rekeyed_child_sas']")" = 0 ] &&
		[ "$(gw_sas | grep -c 'INSTALLED')" = 1 ]
}
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
ike_counted() {
	stat_at_least ike_rekeys_answered 1 && stat_at_least ike_rekeys_initiated 1
}

# ---------------------------------------------------------------- CHILD_SA rekeys
say "# lab prefix $LAB_PREFIX, build $B, gw rekey_time $LAB_GW_CHILD_REKEY"
check "lab.sh up" lab up
check "MN lease on ext1" lab dhcp -4
capture_ike >/dev/null 2>&1
MOBIKED_VIPS='"0.0.0.0"' # an IPv4 TIA only
mobiked_conf "$GW_OUT4" aes256gcm16-prfsha384-x25519 aes256gcm16-x25519 "child_lifetime = 12;"
start_mobiked >/dev/null 2>&1
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

# ---------------------------------------------------------------- IKE SA rekeys
timeout 20 ip netns exec "${LAB_PREFIX}mn" ping -i 0.1 -c 100 -W 1 -I "$(tia4)" "$SRV4" >"$WORK/ping2.out" 2>&1 3>&- &
PING_PID=$!
sleep 2
check "gw-initiated IKE SA rekey: new SPIs, one IKE SA on the gw" ike_rekey gw
sleep 2
check "mobiked-initiated IKE SA rekey: new SPIs, one IKE SA on the gw" ike_rekey mobiked
check "mobiked counts both IKE rekeys" ike_counted
check "ping 10/s across the IKE rekeys: loss <= 1%" loss_ok "$WORK/ping2.out"
say "# $(grep -m1 'packet loss' "$WORK/ping2.out")"
stop_mobiked >/dev/null 2>&1
stop_capture >/dev/null 2>&1
check "tshark decodes every IKE packet without malformed/expert errors" tshark_clean 6

test_end
