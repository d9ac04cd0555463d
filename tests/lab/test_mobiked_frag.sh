#!/bin/bash
# test_mobiked_frag.sh - RFC 7383 IKE fragmentation between mobiked and the
# lab's real strongSwan gateway, which fragments everything it sends above
# LAB_GW_FRAGMENT_SIZE octets (charon.fragment_size, set small here):
#
#   [mn] mobiked --ext1--[inet]--[fw]--[gw strongSwan]--[int]--[srv]
#
#   (a) mobiked with the default fragment_size (1280): the gw's IKE_AUTH
#       response arrives as SKF fragments (tshark: payload type 53 from the
#       gw; charon: "splitting"), mobiked reassembles it (its log): SA
#       established, TIA assigned, ping srv; the gw's own CREATE_CHILD_SA
#       request (swanctl --rekey) comes fragmented too and is answered
#   (b) mobiked with fragment_size 256: its IKE_AUTH request and its
#       CREATE_CHILD_SA (mobctl mobiked rekey) go as SKF fragments no larger
#       than 256 octets of IP, charon reassembles them (its log) and the SAs
#       follow; mobiked's answer to the gw's rekey is fragmented as well;
#       the IKE SA rekeyed by either side (the gw's DELETE of the old SA
#       fragmented too); ping after each step
#   (c) every captured IKE packet decodes in tshark without malformed or
#       expert errors
# Prints "ok - ..." / "not ok - ..." and "N passed, M failed".  Needs root.
# B = build dir (default build).  LAB_TEST_PREFIX overrides the prefix;
# FRAG_PCAP=FILE keeps the capture.
set -uo pipefail

. "$(dirname "$0")/testlib.sh" # check, wait_for, lab, in_ns, teardown; topology.sh
. "$LAB_DIR/mobiked_lib.sh"    # mobiked_conf, start_mobiked, field, ike_rekey, ...
export LAB_PREFIX=${LAB_TEST_PREFIX:-f$$-}
export LAB_STATE=/tmp/${LAB_PREFIX}lab
# The gw's IP datagram limit for what it sends.  strongSwan 5.9 takes any
# value and keeps at least one content octet per fragment: at 94 and below
# (IPv4, port 4500) its 356-octet PSK IKE_AUTH response needs 299 one-octet
# fragments, more than mobiked takes (IKE_DEFRAG_MAX 255: dropped, no SA).
# 95 is the smallest that works: two octets per fragment, the IKE_AUTH
# response in 150 fragments, its CREATE_CHILD_SA request in 226, even its
# DELETE in 6.  (300, for instance, gives 2 and 3.)
export LAB_GW_FRAGMENT_SIZE=${LAB_GW_FRAGMENT_SIZE:-95}
MN_FRAG=256 # mobiked's fragment_size in (b): the configuration's minimum
FAIL_LOGS=("$LAB_STATE"/log/mobiked.log "$LAB_STATE"/gw/charon.log)
TEARDOWN=keep_capture
test_start
need_built mobiked mobctl
WORK=$(mktemp -d "/tmp/${LAB_PREFIX}frag.XXXXXX")

keep_capture() {   # FRAG_PCAP=FILE: a copy of the capture, before it goes
	[ -z "${FRAG_PCAP:-}" ] || cp "$WORK/ike.pcap" "$FRAG_PCAP"
	lab_teardown
}

# ---------------------------------------------------------------- helpers
write_conf() {   # FRAGMENT_SIZE (empty: the default)
	mobiked_conf "$GW_OUT4" aes256gcm16-prfsha384-x25519 aes256gcm16-x25519 \
		"request_dns = true;" ${1:+"fragment_size = $1;"}
}
MLOG() { cat "$LAB_STATE/log/mobiked.log"; }
GLOG() { cat "$LAB_STATE/gw/charon.log"; }
count() { grep -c "$1" || true; }   # PATTERN < input

# The capture so far (tcpdump writes each packet as it goes), from frame
# FIRST on: phase (b) looks at its own packets only.
FIRST=0
frames() { tshark -r "$WORK/ike.pcap" 2>/dev/null | wc -l; }
skf() {   # FROM EXCHANGE [RESPONSE 0|1]: SKF datagrams matching
	local f="frame.number > $FIRST && ip.src == $1 && isakmp.exchangetype == $2"
	f="$f && isakmp.typepayload == 53"
	[ -n "${3:-}" ] && f="$f && isakmp.flag_r == $3"
	tshark -r "$WORK/ike.pcap" -Y "$f" 2>/dev/null | wc -l
}
skf_at_least() { [ "$(skf "$1" "$2" "$3")" -ge "$4" ]; }   # FROM X R MIN
# The largest IP datagram of SRC's protected IKE messages (IKE_SA_INIT is
# never fragmented).
largest_from() {   # SRC
	tshark -r "$WORK/ike.pcap" -T fields -e ip.len -Y \
		"frame.number > $FIRST && ip.src == $1 && isakmp && isakmp.exchangetype != 34" \
		2>/dev/null | sort -n | tail -1
}
gw_fragmented_auth() {
	wait_for 5 skf_at_least "$GW_OUT4" 35 1 2
	echo "$(skf "$GW_OUT4" 35 1) SKF fragments of the gw's IKE_AUTH response"
	GLOG | grep "splitting IKE message" | head -3
	skf_at_least "$GW_OUT4" 35 1 2
}
mobiked_reassembled() {   # EXCHANGE-NAME
	MLOG | grep "$1 #[0-9]*: reassembled" | tail -2
	MLOG | grep -q "$1 #[0-9]*: reassembled .* from [0-9]* fragments"
}
no_skf_from_mn() { local n; n=$(skf "$MN_ADDR" 35); echo "$n"; [ "$n" = 0 ]; }
gw_rekeys() {   # gw-initiated CHILD_SA rekey, answered
	local s0 a0
	s0=$(spi_in) a0=$(field "r['ike_stats']['child_rekeys_answered']")
	lab swanctl gw --rekey --child intranet || return 1
	wait_for 10 stat_at_least child_rekeys_answered $((a0 + 1)) || return 1
	echo "spi_in $s0 -> $(spi_in)"
	[ "$(spi_in)" != "$s0" ]
}
gw_request_fragmented() {   # the gw's CREATE_CHILD_SA request as SKF
	wait_for 5 skf_at_least "$GW_OUT4" 36 0 2
	echo "$(skf "$GW_OUT4" 36 0) SKF fragments of gw CREATE_CHILD_SA requests"
	skf_at_least "$GW_OUT4" 36 0 2
}
mn_fragmented() {   # EXCHANGE RESPONSE: ours as SKF, within MN_FRAG
	local big
	wait_for 5 skf_at_least "$MN_ADDR" "$1" "$2" 2
	big=$(largest_from "$MN_ADDR")
	echo "$(skf "$MN_ADDR" "$1" "$2") SKF fragments from mobiked (exchange $1, response $2); largest protected IKE datagram $big"
	skf_at_least "$MN_ADDR" "$1" "$2" 2 && [ "$big" -le "$MN_FRAG" ]
}
gw_reassembled() {   # MIN: charon reassembled at least MIN messages of ours
	local n; n=$(GLOG | count "reassembled fragmented IKE message")
	GLOG | grep "reassembled fragmented IKE message" | tail -3
	[ "$n" -ge "$1" ]
}
mobiked_rekeys() {
	local s0 i0
	s0=$(spi_in) i0=$(field "r['ike_stats']['child_rekeys_initiated']")
	mobctl mobiked rekey || return 1
	wait_for 10 stat_at_least child_rekeys_initiated $((i0 + 1)) || return 1
	wait_for 5 spi_moved "$s0" || return 1
	echo "spi_in $s0 -> $(spi_in)"
}

# ---------------------------------------------------------------- (a) the gw fragments
say "# lab prefix $LAB_PREFIX, build $B, gw fragment_size $LAB_GW_FRAGMENT_SIZE, mobiked $MN_FRAG in (b)"
check "lab.sh up (gw charon.fragment_size = $LAB_GW_FRAGMENT_SIZE)" lab up
check "MN lease on ext1" lab dhcp -4
MN_ADDR=$(mn_addr -4)
capture_ike >/dev/null 2>&1
write_conf ""
check "mobiked -t accepts the config (default fragment_size)" mobiked_t
start_mobiked >/dev/null 2>&1
check "IKE SA established with a TIA through the gw's fragmented IKE_AUTH" wait_for 15 established
check "the gw sent its IKE_AUTH response as SKF fragments (tshark type 53)" gw_fragmented_auth
check "mobiked reassembled the IKE_AUTH response (its log)" mobiked_reassembled IKE_AUTH
check "mobiked's own IKE_AUTH went whole (1280 > its size)" no_skf_from_mn
check "ping srv from the TIA $(tia4)" ping_from_tia
check "gw-initiated CHILD_SA rekey answered" gw_rekeys
check "the gw's CREATE_CHILD_SA request came as SKF fragments" gw_request_fragmented
check "mobiked reassembled the gw's CREATE_CHILD_SA request" mobiked_reassembled CREATE_CHILD_SA
check "ping srv after the gw's rekey" ping_from_tia
check "mobctl mobiked down: the gw's SA is gone" down_and_gone
stop_mobiked >/dev/null 2>&1

# ---------------------------------------------------------------- (b) mobiked fragments
write_conf "$MN_FRAG"
check "mobiked -t accepts fragment_size = $MN_FRAG" mobiked_t
FIRST=$(frames)
R0=$(GLOG | count "reassembled fragmented IKE message")
start_mobiked >/dev/null 2>&1
check "IKE SA established with mobiked's IKE_AUTH in fragments" wait_for 15 established
check "mobiked sent its IKE_AUTH request as SKF fragments <= $MN_FRAG octets" mn_fragmented 35 0
check "charon reassembled mobiked's IKE_AUTH (its log)" gw_reassembled $((R0 + 1))
check "ping srv from the TIA $(tia4) (fragment_size $MN_FRAG)" ping_from_tia
R1=$(GLOG | count "reassembled fragmented IKE message")
check "mobctl mobiked rekey: new CHILD_SA" mobiked_rekeys
check "mobiked sent its CREATE_CHILD_SA request as SKF fragments" mn_fragmented 36 0
check "charon reassembled mobiked's CREATE_CHILD_SA and rekeyed" gw_reassembled $((R1 + 1))
check "ping srv after mobiked's rekey" ping_from_tia
check "gw-initiated rekey answered with fragments" gw_rekeys
check "mobiked's CREATE_CHILD_SA response went as SKF fragments" mn_fragmented 36 1
check "ping srv after the gw's rekey" ping_from_tia
# IKE SA rekeys (RFC 7296 2.18) with everything fragmented: the gw's
# CREATE_CHILD_SA and its DELETE on the replaced SA, or ours (slower: 10 s)
check "gw rekeys the IKE SA (fragmented), one SA with the new SPIs" ike_rekey gw 10
check "mobctl mobiked rekey sa=ike: one SA with the new SPIs" ike_rekey mobiked 10
check "ping srv after both IKE SA rekeys" ping_from_tia
check "mobctl mobiked down: the gw's SA is gone" down_and_gone
stop_mobiked >/dev/null 2>&1

# ---------------------------------------------------------------- (c) tshark
stop_capture >/dev/null 2>&1
check "tshark decodes every IKE packet without malformed/expert errors" tshark_clean

test_end
