#!/bin/bash
# test_mip_nat.sh - issue 4, NAT traversal (RFC 3519) on the lab: mipd as
# home agent [ha] and mobile node [mn] (nat_traversal on); two TCP sessions
# (srv -> the MN's home address, MN -> srv from the home address) survive
#   home -> inat (mode c, co-located CoA 192.168.50.x behind [inat]'s NAT)
#        -> home
# In inat the HA sees the request from the NAT (10.1.3.2), not from the CoA,
# answers the UDP Tunnel Request with a UDP Tunnel Reply (keepalive 2 s) and
# tunnels IP-in-UDP to the NAT's address and port; the MN sends keepalives
# (ICMP Echo Request to the HA through the UDP tunnel) only while nothing
# else goes to the HA - the test pauses both echo clients to see them, and
# checks the HA answered them.  The HA's binding (flags, encapsulation, NAT
# address and port), its proxy ARP entry and the gratuitous ARPs on the home
# link follow the moves.  tshark decodes the HA link's capture: the
# request with its UDP Tunnel Request, the reply with its UDP Tunnel Reply,
# tunnelled data and keepalives from 10.1.3.2, and the deregistration.
# Teardown leaves no namespace or process.
#
#   [srv] 10.40.0.2 --- [int] --- br-home: [ha] ha0 10.10.0.2
#                         \-- 10.1.3.0/24 -- [inat] 10.1.3.2 (masquerade)
#                                              \-- br-inat 192.168.50.0/24 (dnsmasq)
#   [mn] mn0 (home address 10.10.0.100) is re-plugged by `lab.sh move`.
#
# Output: "ok - ..." / "not ok - ..." lines, the handover gaps, and
# "N passed, M failed".  Everything is torn down on exit (lab.sh down).
# Env: B (build dir, default build), LAB_TEST_PREFIX, KEEP=1 keeps state.
set -uo pipefail

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$LAB_DIR/../.." && pwd)
B=${B:-build}
MIPD=$ROOT/$B/mipd
MOBCTL=$ROOT/$B/mobctl
export LAB_PREFIX=${LAB_TEST_PREFIX:-n$$-}
export LAB_STATE=/tmp/${LAB_PREFIX}lab
[ "${KEEP:-0}" = 1 ] && export LAB_KEEP_STATE=1
PY=$(python3 -c 'import sys; print(sys.executable)')
# shellcheck source=mip.sh
. "$LAB_DIR/mip.sh"
LIFETIME=20 # renewed at 16 s: the UDP tunnel must outlive a renewal
KA=2        # the HA's keepalive interval (RFC 3519 3.2), short for the test
NAT=10.1.3.2

pass=0 fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
nok() { echo "not ok - $*"; fail=$((fail + 1)); }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
note() { echo "# $*"; }
lab() { "$LAB_DIR/lab.sh" "$@"; }

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [ -d "$LAB_STATE" ]; then
		mip_teardown_snapshot
		lab down >/dev/null 2>&1
		mip_teardown_checks
	fi
	note "took $SECONDS s"
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ] && [ "$rc" -eq 0 ] && exit 0
	exit 1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS CMD...: poll every 0.2 s
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $end ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	"$@" >/dev/null 2>&1
}

[ -x "$MIPD" ] && [ -x "$MOBCTL" ] || { echo "build $MIPD and $MOBCTL first"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }

lab up >/dev/null 2>&1 || { nok "lab up"; exit 1; }
S=$LAB_STATE/mipd
mip_dir
mip_helpers

# ---------------------------------------------------------------- queries
# a field of the HA's binding for the HoA ("" when none)
ha_b() {
	ctl ha bindings | jget '"".join(str(b["'"$1"'"]) for b in d.get("bindings", []) if b["home_address"] == "'"$HOA"'")'
}
ha_acc() { ctl ha status | jget 'd["ha_counters"]["accepted"]'; }
ha_tun() { ctl ha status | jget "(d.get('tunnel') or {}).get('$1', '')"; }
mn_coa_private() { case "$(mn_st coa)" in 192.168.50.*) return 0 ;; esac; return 1; }
ha_nat_binding() { [ "$(ha_b encap)" = udp ] && [ "$(ha_b nat_address)" = "$NAT" ]; }
ge() { [ "${1:-0}" -ge "$2" ] 2>/dev/null; }
no_proxy_arp() { ! ha_proxy_arp; }
garps_ge() { [ "$(garps "$S/arp.pcap" "$1" "$2")" -ge "$3" ]; } # MAC T0 N
now() { mip_now; }
gap() { "$PY" "$S/gap.py" "$1" "$2" "$3" | cut -d' ' -f2; }

# ---------------------------------------------------------------- start
mip_key "$S/mn.key"
mip_ha_conf "$S/ha.conf" "keepalive = $KA;"
mip_mn_conf "$S/mn.conf" "$S/mn.key" "$LIFETIME"
check "mipd -t accepts the HA config (keepalive $KA s)" \
	sh -c "'$MIPD' -t -c '$S/ha.conf' >/dev/null"
check "mipd -t accepts the MN config (nat_traversal on)" \
	sh -c "'$MIPD' -t -c '$S/mn.conf' >/dev/null && grep -q 'nat_traversal = true' '$S/mn.conf'"

lab spawn ha cap-ha tcpdump -Z root -U --immediate-mode -n -i ha0 -w "$S/ha.pcap" udp port 434 >/dev/null 2>&1
# the home link's bridge port sees every broadcast (gratuitous ARP) on it
lab spawn int cap-arp tcpdump -Z root -U --immediate-mode -n -i br-home -w "$S/arp.pcap" arp >/dev/null 2>&1
lab spawn ha mipd-ha "$MIPD" -c "$S/ha.conf" >/dev/null 2>&1
check "HA answers on its control socket" wait_for 5 ctl ha status
lab move home >/dev/null 2>&1
lab spawn mn mipd-mn "$MIPD" -c "$S/mn.conf" >/dev/null 2>&1
check "MN at home: mode home" wait_for 10 mode_is home
check "MN at home: no binding at the HA" wait_for 5 ha_coa_is ""
check "MN at home: no proxy ARP entry for $HOA at the HA" no_proxy_arp
MN_MAC=$(mac_of mn mn0) HA_MAC=$(mac_of ha ha0)

lab spawn mn echo-srv-mn "$PY" "$S/echo.py" server "$HOA" 5001 >/dev/null 2>&1
lab spawn srv echo-srv-srv "$PY" "$S/echo.py" server "$SRV" 5002 >/dev/null 2>&1
sleep 0.5
IN=$S/in.log OUT=$S/out.log # srv -> MN, MN -> srv
lab spawn srv echo-cl-srv "$PY" "$S/echo.py" client "$HOA" 5001 - "$IN" >/dev/null 2>&1
lab spawn mn echo-cl-mn "$PY" "$S/echo.py" client "$SRV" 5002 "$HOA" "$OUT" >/dev/null 2>&1
check "TCP srv -> MN home address flowing" wait_for 5 flowing "$IN"
check "TCP MN home address -> srv flowing" wait_for 5 flowing "$OUT"

# ---------------------------------------------------------------- behind the NAT
t0=$(now)
lab move inat >/dev/null 2>&1
check "move inat: MN mode c" wait_for 25 mode_is c
check "move inat: srv -> MN session resumes" wait_for 30 flowing "$IN"
check "move inat: MN -> srv session resumes" wait_for 30 flowing "$OUT"
t1=$(now)
note "handover gap ->inat (mode c behind NAT): srv->MN $(gap "$IN" "$t0" "$t1") s, MN->srv $(gap "$OUT" "$t0" "$t1") s"
COA=$(mn_st coa)
check "mode c: co-located CoA from the NATed subnet ($COA)" mn_coa_private
check "MN: tunnel to the HA is IP-in-UDP" [ "$(mn_st tunnel_encap)" = ip-in-udp ]
check "MN: keepalive interval $KA s, from the HA's UDP Tunnel Reply" \
	[ "$(mn_st keepalive_interval)" = "$KA" ]
check "HA binding $HOA -> $COA (the CoA as registered)" wait_for 5 ha_coa_is "${COA:-none}"
check "HA binding: encap udp to the NAT's address $NAT" wait_for 5 ha_nat_binding
NATPORT=$(ha_b nat_port)
ACC0=$(ha_acc)
check "HA binding: NAT port $NATPORT" ge "$NATPORT" 1
# shellcheck disable=SC2086  # one KEY=VALUE per word
check "HA binding: lifetime $LIFETIME, flags D and T, reverse tunnel" \
	wait_for 3 json_has ha bindings bindings care_of="$COA" ha_address=$HA lifetime=$LIFETIME remaining=">0" \
	flags=--D---T- reverse_tunnel=true encap=udp nat_address=$NAT nat_port="$NATPORT"
note "HA binding: $(json_has ha bindings bindings)"
check "HA holds exactly one binding" [ "$(ha_st 'd["bindings"]')" = 1 ]
check "away: HA proxy ARP entry for $HOA on ha0" wait_for 3 ha_proxy_arp
check "away: the HA sent gratuitous ARP for $HOA from its MAC ($(garps "$S/arp.pcap" "$HA_MAC" "$t0"))" \
	wait_for 3 garps_ge "$HA_MAC" "$t0" 1
WHO=$(arp_who)
check "away: ARP for $HOA on the home link answered by the HA only ($WHO)" [ "$WHO" = "$HA_MAC" ]

# Data every 100 ms goes to the HA: no keepalive is due (RFC 3519 3.2).
k0=$(mn_st keepalives_sent)
rx0=$(ha_tun rx_udp)
sleep $((KA + 1))
k1=$(mn_st keepalives_sent)
check "no keepalive while the sessions send ($((KA + 1)) s: $k0 -> $k1 sent)" [ "$k0" = "$k1" ]
check "HA receives the sessions IP-in-UDP (rx_udp $rx0 -> $(ha_tun rx_udp))" ge "$(ha_tun rx_udp)" $((rx0 + 10))

# Both echo clients paused: the tunnel falls silent, keepalives go out.
lab signal echo-cl-mn STOP
lab signal echo-cl-srv STOP
hk0=$(ha_tun rx_keepalives)
r0=$(mn_st keepalive_replies)
kdone() { ge "$(mn_st keepalives_sent)" $((k1 + 2)) && ge "$(mn_st keepalive_replies)" $((r0 + 2)); }
check "idle tunnel: MN sends keepalives every $KA s and the HA answers them" \
	wait_for $((3 * KA + 3)) kdone
check "HA counts the keepalives from $NAT (rx_keepalives $hk0 -> $(ha_tun rx_keepalives))" \
	ge "$(ha_tun rx_keepalives)" $((hk0 + 2))
note "keepalives: MN sent $(mn_st keepalives_sent), answered $(mn_st keepalive_replies); HA rx_keepalives $(ha_tun rx_keepalives), source check drops $(ha_tun rx_source_check_drops)"
lab signal echo-cl-mn CONT
lab signal echo-cl-srv CONT
check "srv -> MN session flowing again" wait_for 10 flowing "$IN"
check "MN -> srv session flowing again" wait_for 10 flowing "$OUT"
renewed() { ge "$(ha_acc)" $((ACC0 + 1)); }
check "the MN renews its binding from behind the NAT (lifetime $LIFETIME s)" \
	wait_for "$LIFETIME" renewed
check "HA binding after the renewal: encap udp, NAT $NAT" ha_nat_binding
check "MN after the renewal: keepalives still every $KA s" [ "$(mn_st keepalive_interval)" = "$KA" ]

# ---------------------------------------------------------------- back home
ks=$(mn_st keepalives_sent)
t0=$(now)
lab move home >/dev/null 2>&1
check "back home: mode home" wait_for 25 mode_is home
check "back home: deregistered, HA binding cache empty" wait_for 5 ha_coa_is ""
check "back home: no proxy ARP entry for $HOA left at the HA" wait_for 3 no_proxy_arp
check "back home: the MN sent gratuitous ARP for $HOA from its own MAC ($(garps "$S/arp.pcap" "$MN_MAC" "$t0"))" \
	wait_for 3 garps_ge "$MN_MAC" "$t0" 1
WHO=$(arp_who)
check "back home: ARP for $HOA on the home link answered by the MN only ($WHO)" [ "$WHO" = "$MN_MAC" ]
check "back home: srv -> MN session resumes" wait_for 30 flowing "$IN"
check "back home: MN -> srv session resumes" wait_for 30 flowing "$OUT"
t1=$(now)
note "handover gap ->home: srv->MN $(gap "$IN" "$t0" "$t1") s, MN->srv $(gap "$OUT" "$t0" "$t1") s"
check "back home: keepalives stopped (interval 0, tunnel ip-in-ip)" \
	sh -c "[ \"\$('$MOBCTL' -s '$S/mn.sock' --json mipd status | grep -o '\"keepalive_interval\":[0-9]*')\" = '\"keepalive_interval\":0' ]"
sleep $((KA + 1))
check "back home: no keepalive sent after the move ($ks -> $(mn_st keepalives_sent))" \
	[ "$(mn_st keepalives_sent)" = "$ks" ]
check "no reset or error on srv -> MN session" no_error "$IN"
check "no reset or error on MN -> srv session" no_error "$OUT"

# ---------------------------------------------------------------- tshark
# The HA's home link, UDP 434 both ways: registration messages (type 1/3
# with the RFC 3519 extensions 144 and 44) and MIP tunnel data (type 4).
sleep 1
REG=$S/decoded-reg.txt TUN=$S/decoded-tun.txt
tshark -r "$S/ha.pcap" -d udp.port==434,mip -Y 'mip && mip.type != 4' \
	-T fields -E separator='|' -e ip.src -e ip.dst -e udp.srcport \
	-e mip.type -e mip.coa -e mip.life -e mip.code -e mip.ext.type \
	-e mip.ext.utrq.f -e mip.ext.utrq.encaptype -e mip.ext.utrp.code \
	-e mip.ext.utrp.f -e mip.ext.utrp.keepalive >"$REG" 2>/dev/null
tshark -r "$S/ha.pcap" -d udp.port==434,mip -Y 'mip.type == 4' \
	-T fields -E separator='|' -e ip.src -e ip.dst -e udp.srcport \
	-e mip.nattt.nexthdr -e ip.proto -e icmp.type >"$TUN" 2>/dev/null
reg() { grep -Eq "$1" "$REG"; }
tun_n() { grep -Ec "$1" "$TUN"; }
C=${COA//./\\.} N=${NAT//./\\.} H=10\\.10\\.0\\.2 M=10\\.10\\.0\\.100
both_decoded() { [ -s "$REG" ] && [ -s "$TUN" ]; }
check "tshark decodes registration messages ($(wc -l <"$REG")) and tunnel data ($(wc -l <"$TUN"))" \
	both_decoded
check "tshark: RRQ from the NAT $NAT:$NATPORT, CoA $COA, lifetime $LIFETIME, UDP Tunnel Request (144) F=0 encapsulation 4" \
	reg "^$N\|$H\|$NATPORT\|1\|$C\|$LIFETIME\|\|144,32\|(0|False)\|4\|\|\|$"
check "tshark: reply code 0 to $NAT with UDP Tunnel Reply (44) code 0, F=0, keepalive $KA" \
	reg "^$H\|$N\|434\|3\|\|$LIFETIME\|0\|44,32\|\|\|0\|(0|False)\|$KA$"
# the last request and reply: the deregistration back home
last_is() { grep -E "^[^|]*\|[^|]*\|[^|]*\|$1\|" "$REG" | tail -1 | grep -Eq "$2"; }
dereg() { last_is 1 "^$M\|$H\|434\|1\|$M\|0\|\|32\|" && last_is 3 "^$H\|$M\|434\|3\|\|0\|0\|32\|"; }
check "tshark: deregistration at home (lifetime 0, CoA = HoA, no UDP Tunnel Request), accepted" dereg
n=$(tun_n "^$N,$M\|$H,10\.40\.0\.2\|$NATPORT\|4\|17,6\|$")
check "tshark: IP-in-UDP tunnel data from $NAT:$NATPORT (inner TCP $HOA -> $SRV): $n packets" ge "$n" 10
n=$(tun_n "^$H,10\.40\.0\.2\|$N,$M\|434\|4\|17,6\|$")
check "tshark: IP-in-UDP tunnel data from the HA to $NAT (inner TCP $SRV -> $HOA): $n packets" ge "$n" 10
n=$(tun_n "^$N,$M\|$H,$H\|$NATPORT\|4\|17,1\|8$")
check "tshark: keepalives from $NAT:$NATPORT (ICMP Echo Request $HOA -> $HA in the UDP tunnel): $n" ge "$n" 2
n=$(tun_n "^$H,$H\|$N,$M\|434\|4\|17,1\|0$")
check "tshark: the HA's Echo Replies back through the tunnel to $NAT: $n" ge "$n" 2
# the schedule: consecutive keepalives (the tunnel idle in between) KA apart
KAT=$(tshark -r "$S/ha.pcap" -d udp.port==434,mip -T fields -e frame.time_epoch \
	-Y "mip.type == 4 && icmp.type == 8 && ip.src == $NAT" 2>/dev/null |
	"$PY" -c 'import sys; t=[float(l) for l in sys.stdin if l.strip()]; print(" ".join("%.2f" % (b - a) for a, b in zip(t, t[1:])))')
# shellcheck disable=SC2086  # $KAT: one argument per interval
ka_spaced() { "$PY" -c 'import sys; d=[float(x) for x in sys.argv[2:]]; sys.exit(0 if d and all(abs(x - float(sys.argv[1])) < 0.3 for x in d) else 1)' "$KA" $KAT; }
check "tshark: keepalives $KA s apart while idle (intervals: ${KAT:-none} s)" ka_spaced
