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

. "$(dirname "$0")/testlib.sh" # check, wait_for, lab, in_ns, teardown
. "$LAB_DIR/mip.sh"            # mipd configs, processes, queries, sessions
export LAB_PREFIX=${LAB_TEST_PREFIX:-n$$-}
export LAB_STATE=/tmp/${LAB_PREFIX}lab
LIFETIME=20 # renewed at 16 s: the UDP tunnel must outlive a renewal
KA=2        # the HA's keepalive interval (RFC 3519 3.2), short for the test
NAT=$INAT_UP4
mip_test_start # lab up, $S, the teardown checks at the end

# ---------------------------------------------------------------- queries
# ha_binding, ha_ctr, ha_tun, mn_st, the ARP queries, flowing, mip_gap:
# mip.sh
mn_coa_private() { case "$(mn_st coa)" in 192.168.50.*) return 0 ;; esac; return 1; }
ha_nat_binding() { [ "$(ha_binding encap)" = udp ] && [ "$(ha_binding nat_address)" = "$NAT" ]; }
ge() { [ "${1:-0}" -ge "$2" ] 2>/dev/null; }

# ---------------------------------------------------------------- start
mip_key "$S/mn.key"
mip_ha_conf "$S/ha.conf" "keepalive = $KA;"
mip_mn_conf "$S/mn.conf" "$S/mn.key" "$LIFETIME"
check "mipd -t accepts the HA config (keepalive $KA s)" mip_conf_ok "$S/ha.conf"
nat_traversal_on() { mip_conf_ok "$S/mn.conf" && grep -q 'nat_traversal = true' "$S/mn.conf"; }
check "mipd -t accepts the MN config (nat_traversal on)" nat_traversal_on

mip_capture ha arp >/dev/null 2>&1
mip_spawn ha >/dev/null 2>&1
check "HA answers on its control socket" wait_for 5 ctl ha status
lab move home >/dev/null 2>&1
mip_spawn mn >/dev/null 2>&1
check "MN at home: mode home" wait_for 10 mode_is home
check "MN at home: no binding at the HA" wait_for 5 ha_coa_is ""
check "MN at home: no proxy ARP entry for $HOA at the HA" no_proxy_arp
MN_MAC=$(mac_of mn mn0) HA_MAC=$(mac_of ha ha0)

mip_sessions >/dev/null 2>&1 # srv -> MN in $IN, MN -> srv in $OUT
check "TCP srv -> MN home address flowing" wait_for 5 flowing "$IN"
check "TCP MN home address -> srv flowing" wait_for 5 flowing "$OUT"

# ---------------------------------------------------------------- behind the NAT
t0=$(mip_now)
lab move inat >/dev/null 2>&1
check "move inat: MN mode c" wait_for 25 mode_is c
check "move inat: srv -> MN session resumes" wait_for 30 flowing "$IN"
check "move inat: MN -> srv session resumes" wait_for 30 flowing "$OUT"
t1=$(mip_now)
note "handover gap ->inat (mode c behind NAT): srv->MN $(mip_gap "$IN" "$t0" "$t1") s, MN->srv $(mip_gap "$OUT" "$t0" "$t1") s"
COA=$(mn_st coa)
check "mode c: co-located CoA from the NATed subnet ($COA)" mn_coa_private
check "MN: tunnel to the HA is IP-in-UDP" [ "$(mn_st tunnel_encap)" = ip-in-udp ]
check "MN: keepalive interval $KA s, from the HA's UDP Tunnel Reply" \
	[ "$(mn_st keepalive_interval)" = "$KA" ]
check "HA binding $HOA -> $COA (the CoA as registered)" wait_for 5 ha_coa_is "${COA:-none}"
check "HA binding: encap udp to the NAT's address $NAT" wait_for 5 ha_nat_binding
NATPORT=$(ha_binding nat_port)
ACC0=$(ha_ctr accepted)
check "HA binding: NAT port $NATPORT" ge "$NATPORT" 1
# shellcheck disable=SC2086  # one KEY=VALUE per word
check "HA binding: lifetime $LIFETIME, flags D and T, reverse tunnel" \
	wait_for 3 json_has ha bindings bindings care_of="$COA" ha_address=$HA lifetime=$LIFETIME remaining=">0" \
	flags=--D---T- reverse_tunnel=true encap=udp nat_address=$NAT nat_port="$NATPORT"
note "HA binding: $(json_has ha bindings bindings)"
check "HA holds exactly one binding" ha_count_is 1
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
renewed() { ge "$(ha_ctr accepted)" $((ACC0 + 1)); }
check "the MN renews its binding from behind the NAT (lifetime $LIFETIME s)" \
	wait_for "$LIFETIME" renewed
check "HA binding after the renewal: encap udp, NAT $NAT" ha_nat_binding
check "MN after the renewal: keepalives still every $KA s" [ "$(mn_st keepalive_interval)" = "$KA" ]

# ---------------------------------------------------------------- back home
ks=$(mn_st keepalives_sent)
t0=$(mip_now)
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
t1=$(mip_now)
note "handover gap ->home: srv->MN $(mip_gap "$IN" "$t0" "$t1") s, MN->srv $(mip_gap "$OUT" "$t0" "$t1") s"
check "back home: keepalives stopped (interval 0, tunnel ip-in-ip)" mn_fields_are 0 keepalive_interval
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

test_end
