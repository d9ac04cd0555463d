#!/bin/bash
# demo.sh - `make demo`: the seed-002 lab with mobiked as the MN's VPN client,
# against the real strongSwan gateway, narrated.
#   1. bring the Figure 1 topology up (tests/lab/topology.sh)
#   2. the MN on external network ext1: DHCP
#   3. mobiked (generated config) brings the IKEv2 tunnel up to the gateway in
#      the DMZ: `mobctl mobiked status`, the gateway's view (swanctl)
#   4. traffic from the tunnel inner address: ping srv (v4, v6), iperf3 2 s
#   5. the firewall in between only lets IKE/ESP through
#   6. `mobctl mobiked down`: DELETE, the gateway has no SA left
#   7. the MN moves to the internal DHCP-only subnet: lease, ping srv directly
#   then Mobile IP on the intranet (issue 4), with tests/lab/mip.sh:
#   8. mipd as home agent in [ha] and foreign agent in [fa] (generated configs)
#   9. the MN back on its home link, mipd as mobile node: mode home
#  10. two TCP sessions with the home address (srv -> MN, MN -> srv), echoing
#      a byte every 100 ms
#  11-13. moves home -> dhcp (mode c) -> fa (mode f) -> home, each with the
#      MN's mode (`mobctl mipd status`), the HA's binding (`mobctl mipd
#      bindings`), the FA's visitors (in f) and the handover gap: the
#      longest pause in the echoed byte stream around the move
#  14. the sessions survived: same connections, no reset; gap summary
#   teardown (also on failure or ^C)
# Env: DEMO=baseline  the previous demo: the strongSwan client charon on the MN
#      DEMO=mip       only the Mobile IP part (8-14)
#      LAB_PREFIX       (default demo<pid>-)
#      B                build dir with mobiked, mipd and mobctl (default build)
set -euo pipefail

# shellcheck source=lablib.sh
. "$(dirname "$0")/lablib.sh"   # lab, in_ns, wait_for, B; topology.sh
# shellcheck source=mobiked_lib.sh
. "$LAB_DIR/mobiked_lib.sh"     # mobiked_conf, start_mobiked, tia4, ...
# shellcheck source=mip.sh
. "$LAB_DIR/mip.sh"             # mip_*_conf, mip_spawn, mip_sessions, ...
export LAB_PREFIX=${LAB_PREFIX:-demo$$-}
export LAB_STATE=/tmp/${LAB_PREFIX}lab
DEMO=${DEMO:-mobiked}
WORK=/tmp/${LAB_PREFIX}demo   # mobiked's config and socket
S=$WORK/mipd                  # Mobile IP: configs, keys, echo logs
MOBIKED_LOG=info MIP_LOG_LEVEL=info
WAIT_POLL_MS=250

step() { printf '\n=== %s\n' "$*"; }
say() { printf '    %s\n' "$*"; }
indent() { sed 's/^/    | /'; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	# a signal may land while a function runs with its output redirected
	# (e.g. into a file or /dev/null): report on the original stdout/stderr
	exec 1>&8 2>&9
	if [ "$rc" -ne 0 ] && [ -f "$LAB_STATE/log/mobiked.log" ]; then
		say "mobiked log (tail):"
		tail -15 "$LAB_STATE/log/mobiked.log" | indent
	fi
	if [ "$rc" -ne 0 ]; then
		for f in mipd-ha mipd-fa mipd-mn; do
			[ -f "$LAB_STATE/log/$f.log" ] || continue
			say "$f log (tail):"
			tail -10 "$LAB_STATE/log/$f.log" | indent
		done
	fi
	step "teardown"
	lab down 2>&1 | indent || true
	rm -rf "$WORK"
	[ "$rc" -eq 0 ] && echo "demo finished" || echo "demo FAILED (rc $rc)"
	exit "$rc"
}

[ "$(id -u)" = 0 ] || { echo "demo.sh: run as root (network namespaces)" >&2; exit 1; }
case "$DEMO" in
mobiked | baseline | mip) ;;
*) echo "demo.sh: DEMO=mobiked (default), DEMO=baseline or DEMO=mip" >&2; exit 2 ;;
esac
for f in mipd mobctl $([ "$DEMO" = mobiked ] && echo mobiked); do
	[ -x "$B/$f" ] || { echo "demo.sh: build $B/$f first (make)" >&2; exit 1; }
done
exec 8>&1 9>&2   # the original stdout/stderr, for cleanup
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- common start
lab_up_ext1() {
	step "1. bring up the lab (seed 002 Figure 1), prefix $LAB_PREFIX"
	sed -n '/^# *EXTERNAL /,/^# *10\.99\.0\.0/p' "$LAB_DIR/topology.sh" | sed 's/^#//'
	lab up 2>&1 | indent
	lab status 2>/dev/null | sed -n '/charon-gw\|dnsmasq/p' | indent

	step "2. the MN is plugged into ext1 (external, DHCP from the internet router)"
	lab move ext1 2>&1 | indent
	say "dhcpcd on mn0:"
	lab dhcp 2>&1 | indent
	in_ns mn ip -br addr show dev mn0 | indent
}

firewall_step() {   # N
	step "$1. the firewall: only IKE/ESP to the gateway get in from outside"
	if in_ns mn ping -c 2 -i 0.3 -W 1 "$GW_OUT4" >/dev/null 2>&1; then
		say "UNEXPECTED: ping to the gateway's outside address $GW_OUT4 got through"
		exit 1
	fi
	say "ping $GW_OUT4 from the MN: no answer (dropped by the firewall), yet IKE worked"
	in_ns fw nft list chain inet labfw forward | indent
}

internal_step() {   # N
	step "$1. the MN moves into the enterprise: internal DHCP-only subnet (access mode c)"
	lab move dhcp 2>&1 | indent
	lab dhcp 2>&1 | indent
	in_ns mn ip -br addr show dev mn0 | indent
	say "ping srv directly (no tunnel):"
	in_ns mn ping -c 3 -i 0.3 -W 2 "$SRV4" | tail -2 | indent
	in_ns mn ping -6 -c 3 -i 0.3 -W 2 "$SRV6" | tail -2 | indent
}

# ---------------------------------------------------------------- mobiked
demo_mobiked() {
	local tia tia6 out
	mkdir -p "$WORK"
	lab_up_ext1

	step "3. mobiked on the MN brings the IKEv2 tunnel up to the gateway $GW_OUT4"
	DPD_DELAY=10
	mobiked_conf "$GW_OUT4" aes256gcm16-prfsha384-x25519 aes256gcm16 "request_dns = true;"
	say "generated config ($WORK/mobiked.conf):"
	sed -n '/^connection/,$p' "$WORK/mobiked.conf" | indent
	say "mobiked -t:"
	mobiked_t 2>&1 | indent
	start_mobiked 2>&1 | indent
	wait_for 20 established || { say "mobiked: no IKE SA within 20 s"; exit 1; }
	say "mobiked log:"
	grep -E '\[ike\]|\[dp\]' "$LAB_STATE/log/mobiked.log" | sed 's/^[0-9:.]* //' | indent
	say "mobctl mobiked status:"
	mobctl mobiked status | indent
	tia=$(tia4) tia6=$(tia6)

	step "4. traffic from the tunnel inner address $tia${tia6:+ / $tia6} to srv on the intranet"
	in_ns mn ping -c 3 -i 0.3 -W 2 -I "$tia" "$SRV4" | tail -2 | indent
	# IPv6 is shown but not fatal: the brief is the IPv4 TIA (a failure is
	# printed with mobiked's warnings, e.g. a route it could not add)
	if [ -n "$tia6" ]; then
		if out=$(in_ns mn ping -6 -c 3 -i 0.3 -W 2 "$SRV6" 2>&1); then
			tail -2 <<<"$out" | indent
		else
			say "WARNING: IPv6 ping to $SRV6 through the tunnel failed:"
			{ tail -2 <<<"$out"; grep ' warn ' "$LAB_STATE/log/mobiked.log"; } | indent
		fi
	fi
	say "TCP: iperf3 -c $SRV4 -B $tia -t 2 (server on srv):"
	lab spawn srv iperf3-srv iperf3 -s -B "$SRV4" 2>&1 | indent
	wait_for 5 tcp_listening srv 5201 || { say "iperf3 server does not listen"; exit 1; }
	in_ns mn timeout 20 iperf3 -c "$SRV4" -B "$tia" -t 2 -f m --connect-timeout 3000 |
		grep -E 'sender|receiver' | indent
	lab stop iperf3-srv
	say "the gateway's view (swanctl --list-sas on gw):"
	lab swanctl gw --list-sas | indent
	say "mobiked's counters after the traffic:"
	mobctl mobiked status | sed -n '/counters:/,/in_replay/p' | indent

	firewall_step 5

	step "6. mobctl mobiked down: DELETE to the gateway"
	mobctl mobiked down | indent
	if wait_for 10 gw_no_sa; then
		say "swanctl --list-sas on gw (empty: the SA is gone):"
		lab swanctl gw --list-sas | indent
		say "(no SA)  gw charon.log:"
		grep -E 'received DELETE|deleting IKE_SA|IKE_SA deleted' "$LAB_STATE/gw/charon.log" |
			sed 's/^[0-9:.]* [0-9]*//' | indent
	else
		say "UNEXPECTED: the gateway still lists an SA"
		lab swanctl gw --list-sas | indent
		exit 1
	fi
	say "mobctl mobiked status:"
	mobctl mobiked status | indent
	say "stop mobiked (its tunnel is down; a direct intranet address needs none)"
	stop_mobiked 2>&1 | indent

	internal_step 7
}

# ---------------------------------------------------------------- baseline
demo_baseline() {
	local vip
	lab_up_ext1

	step "3. start the MN's strongSwan client and bring the VPN up to the gateway $GW_OUT4"
	lab charon mn start 2>&1 | indent
	lab swanctl mn --initiate --child intranet --timeout 20 |
		grep -E 'selected proposal|virtual IP|established|completed' | indent
	say "swanctl --list-sas on the MN:"
	lab swanctl mn --list-sas | indent
	vip=$(lab swanctl mn --list-sas --raw | sed -n 's/.*local-vips=\[\([0-9.]*\).*/\1/p' | head -1)

	step "4. ping srv ($SRV4, $SRV6) on the intranet through the tunnel, from the virtual IP $vip"
	in_ns mn ping -c 3 -i 0.3 -W 2 -I "$vip" "$SRV4" | tail -2 | indent
	in_ns mn ping -6 -c 3 -i 0.3 -W 2 "$SRV6" | tail -2 | indent

	firewall_step 5

	step "6. stop the VPN client (a direct intranet address needs no tunnel)"
	lab charon mn stop 2>&1 | indent

	internal_step 7
}

# ---------------------------------------------------------------- Mobile IP
mipctl() { timeout 5 "$MOBCTL" -s "$S/$1.sock" mipd "${@:2}"; }
# the lines of `mobctl mipd status` / `bindings` / `visitors` worth showing
mn_status() {
	mipctl mn status | grep -E '^(mode|trust|registration|reg_path|coa|lifetime_granted|fa|dhcp_pid|tunnel_encap): .' | indent
}
ha_bindings() { mipctl ha bindings | grep -E '^count|^bindings: \[|home_address|care_of|  lifetime|flags|encap' | indent; }
fa_visitors() { mipctl fa visitors | grep -E '^count|home_address|home_agent|mac|state|  lifetime|flags' | indent; }
# echo_conns: the two sessions' TCP 4-tuples, as srv and the MN see them
echo_conns() {
	in_ns srv ss -Htn state established "( dport = :5001 )" |
		awk '{print "srv -> MN: " $3 " -> " $4}'
	in_ns mn ss -Htn state established "( dport = :5002 )" |
		awk '{print "MN -> srv: " $3 " -> " $4}'
}
# mn_switch LINES MODE: seconds from the MN's "mode -> none (link down)" to
# "mode -> MODE" in its log after line LINES (mipd's own timestamps)
mn_switch() {
	tail -n +"$(($1 + 1))" "$MNLOG" | "$PY" -c '
import re, sys
mode, down = sys.argv[1], None
for l in sys.stdin:
    m = re.match(r"(\d+):(\d+):(\d+\.\d+) .*\[mn\] mode -> (\S+)", l)
    if not m: continue
    t = int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3])
    if m[4] == "none" and down is None: down = t
    elif m[4] == mode and down is not None:
        print("%.2f" % ((t - down) % 86400)); break
else: print("?")' "$2"
}

declare -A GAP_IN GAP_OUT MODE_AT REG_AFTER
MOVES=()

mip_move() {   # N NET MODE WHAT
	local n=$1 net=$2 mode=$3 t0 t1 coa lines
	step "$n. move the MN to $net: $4"
	lines=$(wc -l <"$MNLOG")
	t0=$(mip_now)
	lab move "$net" 2>&1 | indent
	wait_for 25 mode_is "$mode" ||
		{ say "the MN did not reach mode $mode within 25 s (mode: $(mn_mode))"; exit 1; }
	wait_for 30 flowing "$IN" && wait_for 30 flowing "$OUT" ||
		{ say "a session did not resume within 30 s"; exit 1; }
	t1=$(mip_now)
	case "$mode" in
	c) coa=$(mn_lease) ;;
	f) coa=$FACOA ;;
	*) coa="" ;;
	esac
	wait_for 5 ha_coa_is "$coa" || say "UNEXPECTED: the HA's binding is '$(ha_coa)', not '$coa'"
	[ "$mode" != f ] || wait_for 5 fa_has_mn || say "UNEXPECTED: $HOA is not in the FA's visitor list"
	GAP_IN[$net]=$(mip_gap "$IN" "$t0" "$t1")
	GAP_OUT[$net]=$(mip_gap "$OUT" "$t0" "$t1")
	MODE_AT[$net]=$mode
	MOVES+=("$net")
	say "MN: mobctl mipd status -> mode $(mn_mode)"
	mn_status
	say "HA: mobctl mipd bindings (in [ha])"
	ha_bindings
	if [ "$mode" = f ]; then
		say "FA: mobctl mipd visitors (in [fa])"
		fa_visitors
	fi
	REG_AFTER[$net]=$(mn_switch "$lines" "$mode")
	say "mipd on the MN: link down -> mode $mode in ${REG_AFTER[$net]} s (its log)"
	say "handover gap (longest pause between echoes, normally 0.1 s):" \
		"srv->MN ${GAP_IN[$net]} s, MN->srv ${GAP_OUT[$net]} s"
}

demo_mip_part() {   # N: first step number
	local n=$1 r conns0 conns1 in_n out_n
	mkdir -p "$WORK"

	step "$n. Mobile IP on the intranet: mipd as home agent in [ha] ($HA, home link" \
		"10.10.0.0/24) and foreign agent in [fa] ($FACOA on br-fa)"
	mip_dir
	mip_key "$S/mn.key"
	mip_ha_conf "$S/ha.conf"
	mip_fa_conf "$S/fa.conf"
	mip_mn_conf "$S/mn.conf" "$S/mn.key" 30
	mip_helpers
	say "MN-HA key: 16 random bytes, HMAC-MD5, SPI 256 ($S/mn.key, mode 600)"
	for r in ha fa; do
		say "generated $r config:"
		grep -v '^log\|^control' "$S/$r.conf" | indent
		"$MIPD" -t -c "$S/$r.conf" 2>&1 | indent
	done
	mip_spawn ha 2>&1 | indent
	mip_spawn fa 2>&1 | indent
	wait_for 5 ctl ha status && wait_for 5 ctl fa status ||
		{ say "the HA or the FA does not answer on its control socket"; exit 1; }
	say "FA: mobctl mipd status (in [fa]): advertising on br-fa every second"
	mipctl fa status | grep -E '^(role|fa_interface|care_of_address|advertise_interval_ms|reverse_tunnel|visitors):' | indent
	say "HA: mobctl mipd status (in [ha])"
	mipctl ha status | grep -E '^(role|ha_address|home_link|mobile_nodes|bindings|replay):' | indent

	n=$((n + 1))
	step "$n. the MN back on its home link (static home address $HOA), mipd as mobile node"
	lab move home 2>&1 | indent
	say "generated mn config:"
	grep -v '^log\|^control' "$S/mn.conf" | indent
	"$MIPD" -t -c "$S/mn.conf" 2>&1 | indent
	mip_spawn mn 2>&1 | indent
	wait_for 10 mode_is home || { say "the MN did not reach mode home"; exit 1; }
	wait_for 5 ha_coa_is "" || { say "UNEXPECTED: a binding at the HA while home"; exit 1; }
	say "MN: mobctl mipd status -> mode $(mn_mode)"
	mn_status
	say "HA: mobctl mipd bindings (in [ha]): none while the MN is home"
	ha_bindings

	n=$((n + 1))
	step "$n. two TCP sessions with the home address, one byte echoed every 100 ms"
	MNLOG=$LAB_STATE/log/mipd-mn.log
	mip_sessions 2>&1 | indent   # srv -> MN logged in $IN, MN -> srv in $OUT
	wait_for 5 flowing "$IN" && wait_for 5 flowing "$OUT" ||
		{ say "the TCP sessions do not flow"; exit 1; }
	conns0=$(echo_conns)
	indent <<<"$conns0"
	sleep 1

	mip_move $((n + 1)) dhcp c \
		"the DHCP-only subnet, mode c (co-located CoA: mipd's dhcpcd, registration straight to the HA)"
	sleep 1
	mip_move $((n + 2)) fa f \
		"the FA's subnet (no DHCP), mode f (the FA's advertisement, registration relayed by the FA, CoA $FACOA)"
	sleep 1
	mip_move $((n + 3)) home home "back home, mode home (deregistration: the HA drops the binding)"
	sleep 1

	n=$((n + 4))
	step "$n. the TCP sessions survived all three moves"
	conns1=$(echo_conns)
	indent <<<"$conns1"
	in_n=$(grep -c '^[0-9]' "$IN") out_n=$(grep -c '^[0-9]' "$OUT")
	if [ "$conns0" = "$conns1" ] && [ -n "$conns1" ] && no_error "$IN" && no_error "$OUT" &&
		[ "$(grep -c CONNECTED "$IN")" = 1 ] && [ "$(grep -c CONNECTED "$OUT")" = 1 ]; then
		say "same connections (4-tuples unchanged), connected once, no reset or error;" \
			"$in_n and $out_n bytes echoed"
	else
		say "UNEXPECTED: a session was reset or reconnected:"
		{ echo "before:"; echo "$conns0"; grep -h ERROR "$IN" "$OUT"; } | indent
		exit 1
	fi
	say "HA: registration counters (mobctl mipd status in [ha])"
	mipctl ha status | grep -E '^  (requests|accepted|denied|deregistered|auth_failed|id_mismatch):' | indent
	say "handover (mipd: link down -> new mode in the MN's log; srv->MN, MN->srv:" \
		"longest pause in each echo stream, which adds TCP's retransmission back-off):"
	{
		printf '%-11s %-5s %8s %9s %9s\n' move mode "mipd" srv-\>MN MN-\>srv
		local prev=home
		for r in "${MOVES[@]}"; do
			printf '%-11s %-5s %6s s %7s s %7s s\n' "$prev->$r" "${MODE_AT[$r]}" \
				"${REG_AFTER[$r]}" "${GAP_IN[$r]}" "${GAP_OUT[$r]}"
			prev=$r
		done
	} | indent
	for r in echo-cl-srv echo-cl-mn echo-srv-mn echo-srv-srv mipd-mn mipd-fa mipd-ha; do
		lab stop "$r" 2>&1 | indent
	done
}

demo_mip() {   # only the Mobile IP part
	step "1. bring up the lab (seed 002 Figure 1), prefix $LAB_PREFIX"
	lab up 2>&1 | indent
	demo_mip_part 2
}

echo "make demo: DEMO=$DEMO (DEMO=baseline: the strongSwan client instead of mobiked; DEMO=mip: Mobile IP only)"
"demo_$DEMO"
[ "$DEMO" = mip ] || demo_mip_part 8
