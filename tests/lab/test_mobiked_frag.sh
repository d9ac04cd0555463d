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

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LAB=$HERE/lab.sh
. "$HERE/topology.sh"
B=${B:-build}
case "$B" in /*) ;; *) B=$ROOT/$B ;; esac

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
WORK=$(mktemp -d "/tmp/${LAB_PREFIX}frag.XXXXXX")
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
	[ -n "${FRAG_PCAP:-}" ] && cp "$WORK/ike.pcap" "$FRAG_PCAP"
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
write_conf() {   # FRAGMENT_SIZE (empty: the default)
	(umask 077; echo 'lab-only-psk-not-a-secret' >"$WORK/mobiked.psk")
	chmod 600 "$WORK/mobiked.psk"
	cat >"$WORK/mobiked.conf" <<-EOF
	log = { level = "debug"; };
	control = { socket = "$SOCK"; };
	connection = {
	  gateway = [ "$GW_OUT4" ];
	  local_id = "mn.lab";
	  remote_id = "gw.lab";
	  psk_file = "mobiked.psk";
	  ike_proposals = [ "aes256gcm16-prfsha384-x25519" ];
	  esp_proposals = [ "aes256gcm16-x25519" ];
	  remote_ts = [ "10.0.0.0/8", "fd00:10::/32" ];
	  vips = [ "0.0.0.0", "::" ];
	  request_dns = true;
	  retransmit = { timeout = 1.0; base = 1.5; tries = 3; };
	  dpd_delay = 30;
	  keepalive = 20;
	  start_action = "start";
	  ${1:+fragment_size = $1;}
	};
	EOF
}
mobctl() { timeout 5 "$B/mobctl" -s "$SOCK" "$@"; }
status_json() { mobctl --json mobiked status; }
field() { status_json | python3 -c "import json,sys; r=json.load(sys.stdin)['result']; print(eval(sys.argv[1]))" "$1"; }
tia4() { field "[a for a in r.get('tia', []) if '.' in a][0]" 2>/dev/null; }
established() { [ "$(field "r['ike_sa']")" = ESTABLISHED ] && [ -n "$(tia4)" ]; }
spi_in() { field "r['child_sa']['spi_in']" 2>/dev/null; }
stat_at_least() { [ "$(field "r['ike_stats']['$1']")" -ge "$2" ]; }
start_mobiked() { lab spawn mn mobiked "$B/mobiked" -c "$WORK/mobiked.conf"; }
stop_mobiked() { lab stop mobiked; }
mobiked_t() { "$B/mobiked" -t -c "$WORK/mobiked.conf"; }
gw_sas() { lab swanctl gw --list-sas 2>/dev/null; }
gw_no_sa() { ! gw_sas | grep -q ESTABLISHED; }
ping_from_tia() { in_ns mn ping -c 3 -W 2 -I "$(tia4)" "$SRV4"; }
down_and_gone() { mobctl mobiked down && wait_for 10 gw_no_sa; }
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
spi_moved() { local s; s=$(spi_in); [ -n "$s" ] && [ "$s" != "$1" ]; }
# IKE SA rekeys (RFC 7296 2.18) with everything fragmented: the gw's
# CREATE_CHILD_SA and its DELETE on the replaced SA, or ours.
mob_ike_spis() { field "r['spi_i'] + ' ' + r['spi_r']" 2>/dev/null; }
gw_ike_spis() {
	gw_sas | sed -n 's/.* \([0-9a-f]\{16\}\)_i\*\{0,1\} \([0-9a-f]\{16\}\)_r.*/\1 \2/p' | tr '\n' ';'
}
ike_changed() { local s; s=$(mob_ike_spis); [ -n "$s" ] && [ "$s" != "$1" ]; }
ike_same() { [ "$(gw_ike_spis)" = "$(mob_ike_spis);" ]; }
ike_rekey() {   # gw|mobiked
	local s0
	s0=$(mob_ike_spis)
	if [ "$1" = gw ]; then
		lab swanctl gw --rekey --ike rw || return 1
	else
		mobctl mobiked rekey sa=ike || return 1
	fi
	wait_for 10 ike_changed "$s0" || { echo "mobiked IKE SPIs still $s0"; return 1; }
	wait_for 10 ike_same || { echo "gw: $(gw_ike_spis) mobiked: $(mob_ike_spis)"; return 1; }
	echo "IKE SA $s0 -> $(mob_ike_spis)"
	[ "$(field "r['ike_sa']")" = ESTABLISHED ]
}
tshark_clean() {
	local n
	n=$(tshark -r "$WORK/ike.pcap" -Y isakmp 2>/dev/null | wc -l)
	echo "$n IKE packets, $(tshark -r "$WORK/ike.pcap" -Y 'isakmp.typepayload == 53' 2>/dev/null | wc -l) SKF"
	[ "$n" -gt 10 ] || return 1
	! tshark -r "$WORK/ike.pcap" -Y isakmp -V 2>/dev/null | grep -iE "malformed|Expert Info \((Error|Warning)"
}

# ---------------------------------------------------------------- (a) the gw fragments
say "# lab prefix $LAB_PREFIX, build $B, gw fragment_size $LAB_GW_FRAGMENT_SIZE, mobiked $MN_FRAG in (b)"
check "lab.sh up (gw charon.fragment_size = $LAB_GW_FRAGMENT_SIZE)" lab up
check "MN lease on ext1" lab dhcp -4
MN_ADDR=$(in_ns mn ip -4 -o addr show dev mn0 scope global | awk '{print $4}' | cut -d/ -f1 | head -1)
lab spawn mn tcpdump tcpdump -i mn0 --immediate-mode -U -w "$WORK/ike.pcap" udp port 500 or udp port 4500 >/dev/null 2>&1
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
check "gw rekeys the IKE SA (fragmented), one SA with the new SPIs" ike_rekey gw
check "mobctl mobiked rekey sa=ike: one SA with the new SPIs" ike_rekey mobiked
check "ping srv after both IKE SA rekeys" ping_from_tia
check "mobctl mobiked down: the gw's SA is gone" down_and_gone
stop_mobiked >/dev/null 2>&1

# ---------------------------------------------------------------- (c) tshark
lab stop tcpdump >/dev/null 2>&1
check "tshark decodes every IKE packet without malformed/expert errors" tshark_clean

say "$passed passed, $failed failed"
summary_done=1
[ "$failed" -eq 0 ]
