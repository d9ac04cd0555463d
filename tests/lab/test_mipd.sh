#!/bin/bash
# test_mipd.sh - issue 4 "Must show" on the lab: mipd as home agent [ha],
# foreign agent [fa] and mobile node [mn]; two TCP sessions (srv -> the
# MN's home address, and MN -> srv from the home address) survive
#   home -> dhcp (mode c) -> fa (mode f) -> home
# At each step: the HA's binding (`mobctl --json mipd bindings`: care-of
# address, lifetime, flags, encapsulation), the FA's visitor list, the HA's
# proxy ARP entry, who answers ARP for the home address on the home link
# and the gratuitous ARPs captured there.  Then, away again (mode c): a
# replayed request inside the timestamp window (133, binding unchanged), an
# HA restart (re-registration at the MN's renewal) and an HA down across
# the renewal (re-registration by the MN's retransmission), gaps measured;
# spoofed reverse-tunnelled packets (dropped, counted); a flood from one
# source (rate-limited) while another mobile node registers; a stale
# replayed request; clock skew (133, then resync); a wrong MN-HA key (131).
# tshark decodes the captures on the HA's home link and the FA's link and
# mip_tshark.py checks the fields of every registration exchange, the
# FA-relayed one hop by hop.  Teardown leaves no namespace or process.
#
#   [srv] 10.40.0.2 --- [int] --- br-home: [ha] ha0 10.10.0.2 (+ proxy ARP)
#                         |   \-- br-dhcp 10.20.0.0/24 (dnsmasq)
#                         \-- [fa] br-fa 10.30.0.1 (FA, advertises)
#   [mn] mn0 (home address 10.10.0.100) is re-plugged by `lab.sh move`.
#   A second mobile node (10.10.0.101, SPI 257) exists only as HA config
#   and mip_pkt.py's hand-made requests.
#
# Output: "ok - ..." / "not ok - ..." lines, measured figures as "# ...",
# and "N passed, M failed".  Everything is torn down on exit (lab.sh down).
# Env: B (build dir, default build), LAB_TEST_PREFIX, KEEP=1 keeps state.
set -uo pipefail

. "$(dirname "$0")/testlib.sh" # check, wait_for, lab, in_ns, teardown
. "$LAB_DIR/mip.sh"            # mipd configs, processes, queries, sessions
export LAB_PREFIX=${LAB_TEST_PREFIX:-m$$-}
export LAB_STATE=/tmp/${LAB_PREFIX}lab
PKT=$LAB_DIR/mip_pkt.py
LIFETIME=12 # short, so renewals (80 %) show an HA restart quickly
RENEW=0.8   # MN_REG_RENEW_PERCENT
RETX=1      # mip_mn_conf: retransmit.initial (s), doubling
WINDOW=7    # the HA's timestamp window (MIP4_TS_WINDOW_DEFAULT)
RATE=100 BURST=20 # the HA's per-source limit (HA_RATE_DEFAULT, HA_BURST_DEFAULT)
SKEW=-3600  # the skewed MN's clock
HOA2=10.10.0.101 SPI2=257 COA2=10.20.0.1 # MN 2: [int]'s br-dhcp address
mip_test_start # lab up, $S, the teardown checks at the end

# ---------------------------------------------------------------- configs
mip_key "$S/mn.key"
mip_key "$S/wrong.key"
mip_key "$S/mn2.key"
mip_ha_conf "$S/ha.conf" "" ", { home_address = \"$HOA2\"; spi = $SPI2;
                   algorithm = \"hmac-md5\"; key_file = \"$S/mn2.key\"; }"
mip_fa_conf "$S/fa.conf"
mip_mn_conf "$S/mn.conf" "$S/mn.key" "$LIFETIME"
mip_mn_conf "$S/mn-wrong.conf" "$S/wrong.key" "$LIFETIME"
for r in ha fa mn mn-wrong; do
	check "mipd -t accepts the generated $r config" mip_conf_ok "$S/$r.conf"
done

# ---------------------------------------------------------------- helpers
# ctl, jget, json_has, ha_binding, fa_visitor, mn_st, ha_st, ha_ctr, the
# ARP queries, mode_is, mn_lease, flowing, no_error and the TCP echo/gap
# scripts come from mip.sh
fcmp() { "$PY" -c "import sys; sys.exit(0 if ($1) else 1)"; } # fcmp 'PY-EXPR'
fa_count_is() { [ "$(ctl fa visitors | jget 'd["count"]')" = "$1" ]; }
int_neigh_is() { [ "$(int_neigh_mac)" = "$1" ]; }
mn_reg_is() { [ "$(mn_st registration)" = "$1" ]; }
dhcp_pid_set() { [ "$(mn_st dhcp_pid)" -gt 0 ] 2>/dev/null; }
jf() { "$PY" -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("" if v is None else v)' "$1" "$2"; }
hlog() { grep -c "$1" "$LAB_STATE/log/mipd-ha.log"; }
# the accepted request from SRC in the HA's capture (sent at or after T);
# waits up to 2 s for tcpdump to write it
acc_time() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		"$PY" "$PKT" lastreq "$S/ha.pcap" "$1" "$HA" --since "${2:-0}" | cut -d' ' -f1 | grep . && return 0
		sleep 0.2
	done
	return 1
}

# ---------------------------------------------------------------- start
mip_capture ha fa arp >/dev/null 2>&1
mip_spawn ha >/dev/null 2>&1
mip_spawn fa >/dev/null 2>&1
check "HA answers on its control socket" wait_for 5 ctl ha status
check "FA answers on its control socket" wait_for 5 ctl fa status
lab move home >/dev/null 2>&1
MN_MAC=$(mac_of mn mn0) HA_MAC=$(mac_of ha ha0)
note "MACs: MN mn0 $MN_MAC, HA ha0 $HA_MAC"
mip_spawn mn >/dev/null 2>&1
check "MN at home: mode home" wait_for 10 mode_is home
check "MN at home: no binding at the HA (count 0)" wait_for 5 ha_count_is 0
check "MN at home: FA visitor list empty (count 0)" fa_count_is 0
check "MN at home: no proxy ARP entry for $HOA at the HA" no_proxy_arp

mip_sessions >/dev/null 2>&1 # srv -> MN in $IN, MN -> srv in $OUT
check "TCP srv -> MN home address flowing" wait_for 5 flowing "$IN"
check "TCP MN home address -> srv flowing" wait_for 5 flowing "$OUT"
check "MN at home: [int] reaches $HOA at the MN's MAC $MN_MAC" int_neigh_is "$MN_MAC"

# move NET MODE: re-plug, wait for the mode and both sessions, print gaps;
# MOVE_T0 is when the move began
declare -A GAPS
move() {
	local net=$1 mode=$2 t1 gi go
	MOVE_T0=$(mip_now)
	lab move "$net" >/dev/null 2>&1
	check "move $net: MN mode $mode" wait_for 25 mode_is "$mode"
	check "move $net: srv -> MN session resumes" wait_for 30 flowing "$IN"
	check "move $net: MN -> srv session resumes" wait_for 30 flowing "$OUT"
	t1=$(mip_now)
	gi=$(mip_gap "$IN" "$MOVE_T0" "$t1")
	go=$(mip_gap "$OUT" "$MOVE_T0" "$t1")
	GAPS[$net]="in $gi s, out $go s"
	note "handover gap ->$net (mode $mode): srv->MN $gi s, MN->srv $go s"
}

# ---------------------------------------------------------------- mode c
move dhcp c
LEASE=$(mn_lease)
check "mode c: MN registered, co-located CoA $LEASE, path co-located" \
	wait_for 5 mn_fields_are "registered $LEASE co-located" registration coa reg_path
BC_C="care_of=$LEASE ha_address=$HA lifetime=$LIFETIME remaining=>0 flags=--D---T- reverse_tunnel=true encap=ipip nat_address=$LEASE"
# shellcheck disable=SC2086  # one KEY=VALUE per word
check "mode c: HA binding $HOA -> $LEASE, lifetime $LIFETIME, flags D and T, IP-in-IP" \
	wait_for 5 json_has ha bindings bindings $BC_C
note "mode c: HA binding $(json_has ha bindings bindings)"
check "mode c: HA holds exactly one binding" ha_count_is 1
check "mode c: FA visitor list empty (count 0)" fa_count_is 0

# Replay inside the window: the request the HA just accepted, resent at
# once from the MN's namespace and address (another port, so the reply
# comes to us and not to mipd).
ACC0=$(ha_ctr accepted) IDM0=$(ha_ctr id_mismatch) RPL0=$(hlog "identification replayed")
REM0=$(ha_binding remaining)
RP=$(in_ns mn "$PY" "$PKT" resend "$S/ha.pcap" "$LEASE" "$HA" --last)
note "in-window replay: $RP"
RP_AGE=$(jf "$RP" age) RP_FROM=$(jf "$RP" from)
check "replay: resent $(jf "$RP" resent_after | cut -c1-4) s after the original, Identification $(echo "$RP_AGE" | cut -c1-4) s old (< window $WINDOW s)" \
	fcmp "0 <= ${RP_AGE:-99} < $WINDOW"
check "replay: the HA answers 133 (got $(jf "$RP" code))" [ "$(jf "$RP" code)" = 133 ]
check "replay: HA log says 'identification replayed'" wait_for 2 fcmp "$(hlog 'identification replayed') > $RPL0"
check "replay: HA id_mismatch counter $IDM0 -> $(ha_ctr id_mismatch), accepted unchanged ($ACC0)" \
	sh -c "[ $(ha_ctr id_mismatch) = $((IDM0 + 1)) ] && [ $(ha_ctr accepted) = $ACC0 ]"
# shellcheck disable=SC2086
check "replay: binding unchanged (CoA $LEASE, not refreshed: remaining $REM0 -> $(ha_binding remaining) s)" \
	sh -c "[ \"$(ha_binding care_of)\" = $LEASE ] && [ $(ha_binding remaining) -le $REM0 ]"

check "mode c: HA proxy ARP entry for $HOA on ha0" wait_for 3 ha_proxy_arp
check "mode c: the HA sent gratuitous ARP for $HOA from its MAC when the MN left ($(garps "$S/arp.pcap" "$HA_MAC" "$MOVE_T0"))" \
	wait_for 3 garps_ge "$HA_MAC" "$MOVE_T0" 1
check "mode c: [int]'s neighbour entry for $HOA moved to the HA's MAC" wait_for 3 int_neigh_is "$HA_MAC"
WHO=$(arp_who)
check "mode c: ARP for $HOA on the home link answered by the HA only ($WHO)" [ "$WHO" = "$HA_MAC" ]
check "mode c: dhcpcd pid reported" dhcp_pid_set

# ---------------------------------------------------------------- mode f
move fa f
FA_T0=$MOVE_T0
check "mode f: MN registered via FA, CoA $FACOA" \
	wait_for 5 mn_fields_are "registered $FACOA via FA" registration coa reg_path
# shellcheck disable=SC2086
check "mode f: HA binding $HOA -> $FACOA, flags T without D, IP-in-IP, from the FA" \
	wait_for 5 json_has ha bindings bindings care_of=$FACOA ha_address=$HA lifetime=$LIFETIME \
	remaining=">0" flags=------T- reverse_tunnel=true encap=ipip nat_address=$FACOA
note "mode f: HA binding $(json_has ha bindings bindings)"
check "mode f: HA holds exactly one binding" ha_count_is 1
check "mode f: FA visitor $HOA: home agent $HA, the MN's MAC, active, lifetime $LIFETIME, T" \
	wait_for 5 json_has fa visitors visitors home_agent="$HA" mac="$MN_MAC" state=active \
	pending=false lifetime=$LIFETIME remaining=">0" flags=------T- reverse_tunnel=true
note "mode f: FA visitor $(json_has fa visitors visitors)"
check "mode f: FA lists exactly one visitor" fa_count_is 1
check "mode f: HA keeps its proxy ARP entry for $HOA" ha_proxy_arp
WHO=$(arp_who)
check "mode f: ARP for $HOA on the home link answered by the HA only ($WHO)" [ "$WHO" = "$HA_MAC" ]

# ---------------------------------------------------------------- home
DR0=$(ha_ctr deregistered)
move home home
HOME_T0=$MOVE_T0
check "home: deregistered, HA binding cache empty (count 0)" wait_for 5 ha_count_is 0
check "home: HA counted the deregistration ($DR0 -> $(ha_ctr deregistered)) and logged it" \
	sh -c "[ $(ha_ctr deregistered) = $((DR0 + 1)) ] && grep -q 'binding $HOA deregistered' '$LAB_STATE/log/mipd-ha.log'"
check "home: MN registration idle, no lifetime left" mn_fields_are "idle 0" registration lifetime_granted
check "home: no proxy ARP entry for $HOA left at the HA" wait_for 3 no_proxy_arp
check "home: the MN sent gratuitous ARP for $HOA from its own MAC ($(garps "$S/arp.pcap" "$MN_MAC" "$HOME_T0"))" \
	wait_for 3 garps_ge "$MN_MAC" "$HOME_T0" 1
check "home: [int]'s neighbour entry for $HOA back to the MN's MAC" wait_for 3 int_neigh_is "$MN_MAC"
WHO=$(arp_who)
check "home: ARP for $HOA on the home link answered by the MN only ($WHO)" [ "$WHO" = "$MN_MAC" ]
# deregistration at home goes straight to the HA; the FA's entry lapses
# with its lifetime (RFC 5944 3.6.1.1): checked further down
FA_REM=$(fa_visitor remaining) FA_LEFT=$(mip_now) FAX0=$(ctl fa status | jget 'd["fa_counters"]["expired"]')
note "home: FA visitor entry for $HOA left to lapse (remaining ${FA_REM:-none} s)"
check "home: the FA's visitor entry is not refreshed (remaining ${FA_REM:-none} <= $LIFETIME s)" \
	fcmp "0 <= ${FA_REM:-99} <= $LIFETIME"

# fresh_acc: wait until the MN's last accepted request leaves >= 4 s to
# its renewal; prints that request's time
fresh_acc() {
	local t
	for _ in $(seq $((LIFETIME * 5))); do
		t=$(acc_time "$LEASE")
		[ -n "$t" ] && fcmp "$(mip_now) - $t < $RENEW * $LIFETIME - 4" && { echo "$t"; return 0; }
		sleep 0.2
	done
	return 1
}

# ---------------------------------------------------------------- HA restart
# Restart right after a registration: the binding is gone at the HA, and
# the MN, not told, re-registers at its renewal (80 % of the lifetime).
move dhcp c
check "away again: binding at the HA" wait_for 5 ha_coa_in "10.20.0.*"
LEASE=$(mn_lease)
T_ACC=$(fresh_acc)
lab stop mipd-ha >/dev/null 2>&1
T_STOP=$(mip_now)
mip_spawn ha >/dev/null 2>&1
check "HA restarted" wait_for 5 ctl ha status
T_START=$(mip_now)
check "HA restart: the new HA starts with an empty binding cache" ha_count_is 0
check "HA restart: MN re-registers (within lifetime $LIFETIME s)" wait_for $((LIFETIME + 5)) ha_coa_is "$LEASE"
T_NEW=$(acc_time "$LEASE" "$T_START")
DUE=$("$PY" -c "print('%.2f' % ($T_ACC + $RENEW * $LIFETIME - $T_STOP))")
GAP=$("$PY" -c "print('%.2f' % (${T_NEW:-0} - $T_STOP))")
note "HA restart: stopped $("$PY" -c "print('%.2f' % ($T_STOP - $T_ACC))") s into the binding, back after $("$PY" -c "print('%.2f' % ($T_START - $T_STOP))") s;" \
	"new binding $GAP s after the stop; the MN's renewal (${RENEW} x $LIFETIME s) was due at $DUE s"
check "HA restart: re-registered at the MN's scheduled renewal ($GAP s after the stop, due $DUE s, bound due + retransmit $RETX s)" \
	fcmp "${T_NEW:-0} > $T_START and ${T_NEW:-0} <= $T_ACC + $RENEW * $LIFETIME + $RETX"
check "HA restart: proxy ARP entry for $HOA back" wait_for 3 ha_proxy_arp
check "HA restart: the new HA sent gratuitous ARP for $HOA" wait_for 3 garps_ge "$HA_MAC" "$T_START" 1
check "HA restart: srv -> MN session survives" wait_for 30 flowing "$IN"
check "HA restart: MN -> srv session survives" wait_for 30 flowing "$OUT"
t1=$(mip_now)
note "HA restart: session gap srv->MN $(mip_gap "$IN" "$T_STOP" "$t1") s," \
	"MN->srv $(mip_gap "$OUT" "$T_STOP" "$t1") s (TCP backoff on top of the binding gap)"

# HA down across the renewal: the first renewal try is lost, the MN's
# retransmission (after retransmit.initial) registers.
T_ACC=$(fresh_acc)
lab stop mipd-ha >/dev/null 2>&1
T_STOP=$(mip_now)
check "HA down: its proxy ARP entry went with it" no_proxy_arp
check "HA down: the MN starts renewing (due $("$PY" -c "print('%.1f' % ($T_ACC + $RENEW * $LIFETIME - $T_STOP))") s after the stop)" \
	wait_for $((LIFETIME + 2)) mn_reg_is renewing
sleep 0.3
mip_spawn ha >/dev/null 2>&1
check "HA back" wait_for 5 ctl ha status
T_START=$(mip_now)
check "HA down: MN re-registers by retransmission" wait_for 10 ha_coa_is "$LEASE"
acc_time "$LEASE" "$T_STOP" >/dev/null
"$PY" "$PKT" reqs "$S/ha.pcap" "$LEASE" "$HA" "$T_STOP" >"$S/retx.txt"
T_FIRST=$(head -1 "$S/retx.txt" | cut -d' ' -f1)
T_NEW=$(awk '$3 == 0 {print $1; exit}' "$S/retx.txt")
NTRY=$(awk '$3 == 0 {print NR; exit}' "$S/retx.txt")
IV=$("$PY" -c "import sys; t=[float(l.split()[0]) for l in open(sys.argv[1])]; print(' '.join('%.2f' % (b - a) for a, b in zip(t, t[1:])))" "$S/retx.txt")
note "HA down: requests after the stop (epoch id code): $(tr '\n' ';' <"$S/retx.txt")"
note "HA down: first renewal try $("$PY" -c "print('%.2f' % (${T_FIRST:-0} - $T_STOP))") s after the stop, HA back $("$PY" -c "print('%.2f' % ($T_START - $T_STOP))") s," \
	"accepted try $NTRY at $("$PY" -c "print('%.2f' % (${T_NEW:-0} - ${T_FIRST:-0}))") s after the first (intervals: $IV s); outage $("$PY" -c "print('%.2f' % (${T_NEW:-0} - $T_STOP))") s"
check "HA down: the first try was due at renewal (${RENEW} x $LIFETIME s after the last registration)" \
	fcmp "abs(${T_FIRST:-0} - ($T_ACC + $RENEW * $LIFETIME)) < 0.5"
check "HA down: accepted the retransmission $RETX s after the first try (try ${NTRY:-none}, schedule $RETX s doubling)" \
	fcmp "'${NTRY:-0}' == '2' and abs(${T_NEW:-0} - ${T_FIRST:-0} - $RETX) < 0.3"
check "HA down: srv -> MN session survives" wait_for 30 flowing "$IN"
check "HA down: MN -> srv session survives" wait_for 30 flowing "$OUT"
t1=$(mip_now)
note "HA down: session gap srv->MN $(mip_gap "$IN" "$T_STOP" "$t1") s," \
	"MN->srv $(mip_gap "$OUT" "$T_STOP" "$t1") s"

# ---------------------------------------------------------------- source check
# Reverse-tunnelled packets the HA must not forward: an inner source that
# is no bound home address (from the CoA), and the home address from a
# source that is not its CoA.  One genuine packet shows the path works.
lab spawn srv udp-sink "$PY" "$PKT" sink "$SRV" 5999 "$S/sink.log" >/dev/null 2>&1
sleep 0.3
SD0=$(ha_tun rx_source_check_drops)
in_ns mn "$PY" "$PKT" ipip "$LEASE" "$HA" "$HOA" "$SRV" 5999 genuine 1
in_ns mn "$PY" "$PKT" ipip "$LEASE" "$HA" 10.10.0.99 "$SRV" 5999 spoof-unbound-inner 5
in_ns srv "$PY" "$PKT" ipip "$SRV" "$HA" "$HOA" "$SRV" 5999 spoof-wrong-outer 5
sleep 0.5
SD1=$(ha_tun rx_source_check_drops)
check "source check: the genuine reverse-tunnelled packet ($HOA inside, from $LEASE) reaches srv" \
	wait_for 2 grep -q "^genuine 0 $HOA:" "$S/sink.log"
check "source check: no spoofed packet reaches srv" sh -c "! grep -q spoof '$S/sink.log'"
check "source check: the HA counted 10 drops (rx_source_check_drops $SD0 -> $SD1)" [ "$((SD1 - SD0))" = 10 ]

# ---------------------------------------------------------------- stale replay
# The first accepted co-located request, resent from [srv] long after:
# outside the timestamp window.
OW0=$(hlog "outside the window")
ST=$(in_ns srv "$PY" "$PKT" resend "$S/ha.pcap" "$LEASE" "$HA" --first --from "$SRV")
note "stale replay: $ST"
ST_AGE=$(jf "$ST" age) ST_CODE=$(jf "$ST" code)
check "stale replay: Identification ${ST_AGE%%.*} s old (> window $WINDOW s), the HA answers 133 (got $ST_CODE)" \
	fcmp "'$ST_CODE' == '133' and ${ST_AGE:-0} > $WINDOW"
check "stale replay: HA log says 'outside the window'" wait_for 2 fcmp "$(hlog 'outside the window') > $OW0"

# ---------------------------------------------------------------- flood
# 2000 requests in 1 s from [srv] (the stale one again); meanwhile the
# second mobile node registers from [int].
PAY=$("$PY" "$PKT" lastreq "$S/ha.pcap" "$LEASE" "$HA" --first | cut -d' ' -f3)
RL0=$(ha_ctr rate_limited) RQ0=$(ha_ctr requests)
# UDP datagrams the HA's kernel dropped for a full socket buffer
# shellcheck disable=SC2016  # awk's $2, $6
rcvbuf_errors() { in_ns ha awk '/^Udp:/ && $2 ~ /^[0-9]/ {print $6}' /proc/net/snmp; }
UE0=$(rcvbuf_errors)
in_ns srv "$PY" "$PKT" flood "$HA" "$PAY" 2000 1.0 >"$S/flood.json" &
FLOOD=$!
sleep 0.4
REG2=$(in_ns int "$PY" "$PKT" register "$HA" "$HOA2" "$COA2" "$SPI2" "$S/mn2.key" 30)
wait "$FLOOD"
FL=$(cat "$S/flood.json")
note "flood: $FL"
note "MN 2 registration during the flood: $REG2"
RL=$(($(ha_ctr rate_limited) - RL0)) RQ=$(($(ha_ctr requests) - RQ0))
UE=$(($(rcvbuf_errors) - UE0))
FS=$(jf "$FL" start) FE=$(jf "$FL" end) FR=$(jf "$FL" replies) FN=$(jf "$FL" sent)
R2_AT=$(jf "$REG2" reply_at)
CAP=$("$PY" -c "print(int($BURST + $RATE * ($FE - $FS)) + 2)")
note "flood: sent $FN in $("$PY" -c "print('%.2f' % ($FE - $FS))") s; HA: $RQ requests seen, $RL rate-limited, $UE lost to the socket buffer; $FR answered (codes $(jf "$FL" codes))"
check "flood: at most burst $BURST + $RATE/s answered ($FR <= $CAP), at least the burst" \
	fcmp "$BURST <= $FR <= $CAP"
check "flood: the HA's rate limiter dropped the rest ($RL of $RQ seen; sent $FN = $RL limited + $UE socket-buffer drops + $FR answered, +-5)" \
	fcmp "$RL >= $RQ - $CAP - 4 and abs(${FN:-0} - ($RL + $UE + ${FR:-0})) <= 5"
check "flood: another source registers during it (MN 2 $HOA2 from $COA2: code $(jf "$REG2" code), authenticated reply $("$PY" -c "print('%.2f' % (${R2_AT:-0} - ${FS:-0}))") s into the flood)" \
	fcmp "'$(jf "$REG2" code)' == '0' and '$(jf "$REG2" authenticated)' == 'True' and '$(jf "$REG2" id_match)' == 'True' and ${FS:-1} < ${R2_AT:-0} < ${FE:-0}"
mn2_bound() { local HOA=$HOA2; json_has ha bindings bindings "$@" >/dev/null; }
check "flood: HA binding $HOA2 -> $COA2 (D, IP-in-IP, lifetime 30)" mn2_bound care_of=$COA2 flags=--D----- encap=ipip lifetime=30
check "flood: the MN's own binding is intact ($HOA -> $LEASE)" ha_coa_is "$LEASE"
D2=$(in_ns int "$PY" "$PKT" register "$HA" "$HOA2" "$COA2" "$SPI2" "$S/mn2.key" 0)
mn2_gone() { [ "$(jf "$D2" code)" = 0 ] && ! ctl ha bindings | grep -q "$HOA2" && ha_count_is 1; }
check "MN 2 deregisters (code $(jf "$D2" code)): its binding is gone, the MN's stays" mn2_gone

# ---------------------------------------------------------------- FA lapse
fa_lapsed() { fa_count_is 0 && [ "$(ctl fa status | jget 'd["fa_counters"]["expired"]')" -gt "$FAX0" ]; }
WAIT=$("$PY" -c "print(max(1, int(${FA_REM:-0} - ($(mip_now) - $FA_LEFT)) + 3))")
check "FA visitor entry for $HOA lapsed by its lifetime (remaining ${FA_REM:-?} s when the MN went home; FA expired counter +1)" \
	wait_for "$WAIT" fa_lapsed
fa_log_t() { grep "visitor $HOA $1" "$LAB_STATE/log/mipd-fa.log" | tail -1 | cut -d' ' -f1; }
LAPSE=$("$PY" -c '
import sys
def s(t): h, m, x = t.split(":"); return int(h) * 3600 + int(m) * 60 + float(x)
print("%.2f" % ((s(sys.argv[2]) - s(sys.argv[1])) % 86400))' "$(fa_log_t active)" "$(fa_log_t expired)" 2>/dev/null)
check "FA log: the visitor expired ${LAPSE:-?} s after it became active (lifetime $LIFETIME s)" \
	fcmp "abs(${LAPSE:-0} - $LIFETIME) < 0.5"
check "srv -> MN session still flowing" wait_for 10 flowing "$IN"
check "MN -> srv session still flowing" wait_for 10 flowing "$OUT"
check "no reset or error on srv -> MN session" no_error "$IN"
check "no reset or error on MN -> srv session" no_error "$OUT"
for n in dhcp fa home; do note "gap summary ->$n: ${GAPS[$n]:-?}"; done

# ---------------------------------------------------------------- clock skew
lab stop echo-cl-mn >/dev/null 2>&1
lab stop echo-cl-srv >/dev/null 2>&1
lab stop mipd-mn >/dev/null 2>&1
OW0=$(hlog "outside the window")
lab spawn mn mipd-mn-skew env MIPD_TEST_CLOCK_SKEW=$SKEW "$MIPD" -c "$S/mn.conf" >/dev/null 2>&1
SKEWLOG=$LAB_STATE/log/mipd-mn-skew.log
check "clock skew: the HA answers 133 and the MN resynchronises" \
	wait_for 25 grep -q "code 133).*resynchronised" "$SKEWLOG"
check "clock skew: HA log says 'outside the window'" fcmp "$(hlog 'outside the window') > $OW0"
check "clock skew: then registers (mode c, binding at the HA)" wait_for 10 mode_is c
check "clock skew: binding at the HA" wait_for 5 ha_coa_in "10.20.0.*"
check "clock skew: the MN's identification clock offset corrected from $SKEW s to $(mn_st clock_offset_s) s (the HA's clock)" \
	[ "$(mn_st clock_offset_s)" = 0 ]
lab stop mipd-mn-skew >/dev/null 2>&1

# ---------------------------------------------------------------- wrong key
lab spawn mn mipd-mn-wrong "$MIPD" -c "$S/mn-wrong.conf" >/dev/null 2>&1
WLOG=$LAB_STATE/log/mipd-mn-wrong.log
check "wrong key: MN log says the MN-HA key is wrong" \
	wait_for 25 grep -q "MN-HA key (SPI 256) is wrong" "$WLOG"
# RFC 5944 3.6.2.1: an unverifiable 131 is dropped (counted, nothing
# latched); the MN keeps its normal retransmissions, as for a silent HA
mn_131_ignored() { [ "$(mn_st unverified_131)" -gt 0 ] 2>/dev/null && ! mn_reg_is registered; }
check "wrong key: MN ignores the unverifiable 131 (counted, no latch) and keeps retrying" wait_for 5 mn_131_ignored
check "wrong key: HA log says authentication failed" grep -q "authentication failed: wrong key" "$LAB_STATE/log/mipd-ha.log"
lab stop mipd-mn-wrong >/dev/null 2>&1

# ---------------------------------------------------------------- tshark
sleep 1
"$PY" "$LAB_DIR/mip_tshark.py" dump "$S/ha.pcap" "$S/fa.pcap" >"$S/decoded.txt"
while IFS= read -r line; do
	case "$line" in
	"ok - "*) ok "${line#ok - }" ;;
	"not ok - "*) not_ok "${line#not ok - }" ;;
	*) say "$line" ;;
	esac
done < <("$PY" "$LAB_DIR/mip_tshark.py" check ha_pcap="$S/ha.pcap" fa_pcap="$S/fa.pcap" \
	hoa="$HOA" ha="$HA" facoa="$FACOA" lease="$LEASE" srv="$SRV" lifetime="$LIFETIME" \
	spi=256 window="$WINDOW" skew="$SKEW" replay_from="$RP_FROM" fa_from="$FA_T0" \
	flood_start="$FS" flood_end="$FE" rate="$RATE" burst="$BURST")

test_end
