# shellcheck shell=bash
# topology.sh - the lab network: seed 002 (draft-ietf-mip4-mobike-connectivity)
# Figure 1 as built in network namespaces.  Sourced by lab.sh; pure data plus
# the functions that turn the data into namespaces, links, addresses, routes
# and firewall rules.  Every namespace is really named ${LAB_PREFIX}<short>,
# e.g. l3f2a-gw, so two runs never share anything.
#
#  Figure 1 (seed 002)                 as built here
#  -------------------                 -------------
#  (MN) {mc} external, DHCP         -> ext1: br-ext1 in [inet], dnsmasq
#  (MN) {mc} external behind NAT    -> ext2: br-ext2 in [nat],  dnsmasq + masquerade
#  [R]--[FW]--[R], DMZ with [MVPN]  -> [inet] -- [fw] -- [int], DMZ [fw]--[gw]
#  (MN) {home} + [i-HA]             -> home: br-home in [int], [ha] on it
#  (MN) {c}  internal, DHCP         -> dhcp: br-dhcp in [int], dnsmasq
#  (MN) {f}  internal, [i-FA]       -> fa:   br-fa in [fa] (the FA is the router)
#  (not in Figure 1) {c} internal,  -> inat: br-inat in [inat], dnsmasq + masquerade
#       behind a NAT (RFC 3519)
#  correspondent node               -> [srv] behind [int]
#
#           EXTERNAL  172.16/12 + fd00:16::/32    .       DMZ       .  INTERNAL  10/8 + fd00:10::/32
#                  ("the internet")               .                 .
#                                                 . +-------------+ .
#  <A> ext2  br-ext2 192.168.2.1/24 (IPv4 only)  . | [gw] VPN gw | .  gw-in 10.1.0.2
#      |  DHCP + NAT (mode mc behind NAT)         . |  strongSwan |---------------------------+
#  [nat] NAT router (masquerade), dnsmasq         . |  MOBIKE     |     10.1.0.0/24           |
#      |  nat-out 172.16.2.2                      . +------+------+ .             int-gw .1   |
#      |  172.16.2.0/24                           .  gw-out| 172.16.4.2                       |
#      |  inet-nat .1                             .        | 172.16.4.0/24                    |
#      |                                          .  fw-dmz| .1     .                         |
#  [inet] router ------- 172.16.3.0/24 ------------------ [fw] -------- 10.1.1.0/24 ------- [int] router
#      |          inet-fw .1           fw-out .2     firewall    fw-in .2          int-fw .1  |
#      |                                        policy drop; from outside                     |
#  <A> ext1  br-ext1 172.16.1.1/24              only UDP 500/4500 to gw-out                   |
#         DHCP (dnsmasq in inet), mode mc                                                      |
#                                                                                              |
#    <A> home  br-home 10.10.0.1/24, [ha] i-HA 10.10.0.2 (MN home address .100) --------------+
#    <A> dhcp  br-dhcp 10.20.0.1/24, DHCP only (mode c) ---------------------------------------+
#    [fa] foreign agent  fa-up 10.1.2.2 ---- 10.1.2.0/24 ---- int-fa 10.1.2.1 -----------------+
#      <A> fa  br-fa 10.30.0.1/24, no DHCP (mode f)                                            |
#    [inat] NAT router  inat-up 10.1.3.2 ---- 10.1.3.0/24 ---- int-inat 10.1.3.1 --------------+
#      <A> inat  br-inat 192.168.50.1/24, DHCP + masquerade, IPv4 only (mode c, IP-in-UDP)     |
#    [srv] correspondent node  srv0 10.40.0.2 ---- 10.40.0.0/24 ---- int-srv 10.40.0.1 --------+
#
#   <A> = access bridge the MN can be plugged into:  lab.sh move ext1|ext2|home|dhcp|fa|inat
#   [mn] mobile node: mn0 ===veth=== mnp0, and mnp0 is enslaved to exactly one <A>
#   VPN pools (the gw hands them out; [int] routes them to gw-in 10.1.0.2):
#     10.99.0.0/24, fd00:10:99::/120
#   Every IPv4 subnet above except ext2 and inat (with its uplink 10.1.3.0/24)
#   has an IPv6 twin: 172.16.N.0/24 -> fd00:16:N::/64, 10.A.B.0/24 ->
#   fd00:10:A:B::/64 (10.A.0.0/24 -> fd00:10:A::/64).
#   ext2 is an IPv4-only NATed hotspot: with IPv6 there, MOBIKE would often
#   pick the (un-NATed) IPv6 path and the NAT case would go untested.  inat
#   is the same inside the intranet: a NAT between a co-located CoA and the
#   home agent, which Mobile IP crosses with RFC 3519 IP-in-UDP.
#
# Why bridges: an access network must accept the MN later, so each one is a
# bridge in its router's namespace holding the router address (and dnsmasq).
# "Moving" the MN = moving the veth end mnp0 into the target router namespace
# and enslaving it to that bridge; mn0 goes down/up like a re-plugged cable
# and loses its addresses.  No extra "switch" namespace is needed.

# ---------------------------------------------------------------- addresses
# Outside.  172.16.0.0/12 stands in for public addresses.
EXT1_NET4=172.16.1.0/24    EXT1_R4=172.16.1.1    EXT1_R6=fd00:16:1::1
INET_NAT_4=172.16.2.1      NAT_OUT4=172.16.2.2   INET_NAT_6=fd00:16:2::1  NAT_OUT6=fd00:16:2::2
EXT2_NET4=192.168.2.0/24   EXT2_R4=192.168.2.1   # IPv4 only
INET_FW_4=172.16.3.1       FW_OUT4=172.16.3.2    INET_FW_6=fd00:16:3::1   FW_OUT6=fd00:16:3::2
FW_DMZ4=172.16.4.1         GW_OUT4=172.16.4.2    FW_DMZ6=fd00:16:4::1     GW_OUT6=fd00:16:4::2
# Inside (the intranet): 10.0.0.0/8 and fd00:10::/32.
INTRANET4=10.0.0.0/8       INTRANET6=fd00:10::/32
INT_GW4=10.1.0.1           GW_IN4=10.1.0.2       INT_GW6=fd00:10:1::1     GW_IN6=fd00:10:1::2
INT_FW4=10.1.1.1           FW_IN4=10.1.1.2       INT_FW6=fd00:10:1:1::1   FW_IN6=fd00:10:1:1::2
INT_FA4=10.1.2.1           FA_UP4=10.1.2.2       INT_FA6=fd00:10:1:2::1   FA_UP6=fd00:10:1:2::2
HOME_R4=10.10.0.1          HA4=10.10.0.2         HOME_R6=fd00:10:10::1    HA6=fd00:10:10::2
MN_HOME4=10.10.0.100       MN_HOME6=fd00:10:10::100     # the MN's home address
DHCP_R4=10.20.0.1          DHCP_R6=fd00:10:20::1
FA_R4=10.30.0.1            FA_R6=fd00:10:30::1          FA_NET4=10.30.0.0/24  FA_NET6=fd00:10:30::/64
INT_SRV4=10.40.0.1         SRV4=10.40.0.2        INT_SRV6=fd00:10:40::1   SRV6=fd00:10:40::2
INT_INAT4=10.1.3.1         INAT_UP4=10.1.3.2     # IPv4 only
INAT_R4=192.168.50.1       INAT_NET4=192.168.50.0/24    # behind [inat]'s NAT, IPv4 only
POOL4=10.99.0.0/24         POOL6=fd00:10:99::/120       # VPN tunnel inner addresses (TIA)

# ---------------------------------------------------------------- namespaces
TOPO_NS=(mn inet nat fw gw int ha fa srv inat)
TOPO_ROUTERS=(inet nat fw gw int fa inat)     # IPv4/IPv6 forwarding on

# veth links "nsA:ifA nsB:ifB".  Created with `ip -n nsA link add ... netns nsB`,
# so the devices are born inside the namespaces: nothing touches the root ns.
TOPO_LINKS=(
	"mn:mn0        inet:mnp0"     # MN uplink; mnp0 is what `move` re-plugs
	"inet:inet-nat nat:nat-out"
	"inet:inet-fw  fw:fw-out"
	"fw:fw-dmz     gw:gw-out"
	"fw:fw-in      int:int-fw"
	"gw:gw-in      int:int-gw"
	"int:int-fa    fa:fa-up"
	"int:int-srv   srv:srv0"
	"ha:ha0        int:hap0"      # the HA's port on the home bridge
	"int:int-inat  inat:inat-up"
)

# bridges "ns:bridge [port...]"
TOPO_BRIDGES=(
	"inet:br-ext1 mnp0"           # the MN starts plugged into ext1
	"nat:br-ext2"
	"int:br-home hap0"
	"int:br-dhcp"
	"fa:br-fa"
	"inat:br-inat"
)

# addresses "ns:dev IPv4/len IPv6/len" (IPv6 "-": IPv6 disabled on dev)
TOPO_ADDRS=(
	"inet:br-ext1  $EXT1_R4/24   $EXT1_R6/64"
	"inet:inet-nat $INET_NAT_4/24 $INET_NAT_6/64"
	"inet:inet-fw  $INET_FW_4/24 $INET_FW_6/64"
	"nat:nat-out   $NAT_OUT4/24  $NAT_OUT6/64"
	"nat:br-ext2   $EXT2_R4/24   -"
	"fw:fw-out     $FW_OUT4/24   $FW_OUT6/64"
	"fw:fw-dmz     $FW_DMZ4/24   $FW_DMZ6/64"
	"fw:fw-in      $FW_IN4/24    $FW_IN6/64"
	"gw:gw-out     $GW_OUT4/24   $GW_OUT6/64"
	"gw:gw-in      $GW_IN4/24    $GW_IN6/64"
	"int:int-gw    $INT_GW4/24   $INT_GW6/64"
	"int:int-fw    $INT_FW4/24   $INT_FW6/64"
	"int:int-fa    $INT_FA4/24   $INT_FA6/64"
	"int:int-srv   $INT_SRV4/24  $INT_SRV6/64"
	"int:br-home   $HOME_R4/24   $HOME_R6/64"
	"int:br-dhcp   $DHCP_R4/24   $DHCP_R6/64"
	"ha:ha0        $HA4/24       $HA6/64"
	"fa:fa-up      $FA_UP4/24    $FA_UP6/64"
	"fa:br-fa      $FA_R4/24     $FA_R6/64"
	"srv:srv0      $SRV4/24      $SRV6/64"
	"int:int-inat  $INT_INAT4/24 -"
	"inat:inat-up  $INAT_UP4/24  -"
	"inat:br-inat  $INAT_R4/24   -"
)

# routes "ns destination gateway" (family from the address).  [inet] is the
# core: no default route, it knows only the public side.
# The intranet and the pools are invisible from outside: only the tunnel
# (or the firewall's masquerade for outbound traffic) connects them.
TOPO_ROUTES=(
	"inet 172.16.4.0/24        $FW_OUT4"
	"inet fd00:16:4::/64       $FW_OUT6"
	"nat  default              $INET_NAT_4"
	"nat  default              $INET_NAT_6"
	"fw   default              $INET_FW_4"
	"fw   default              $INET_FW_6"
	"fw   $INTRANET4           $INT_FW4"
	"fw   $INTRANET6           $INT_FW6"
	"gw   default              $FW_DMZ4"
	"gw   default              $FW_DMZ6"
	"gw   $INTRANET4           $INT_GW4"       # replies to the intranet leave by gw-in
	"gw   $INTRANET6           $INT_GW6"
	"int  default              $FW_IN4"
	"int  default              $FW_IN6"
	"int  $POOL4               $GW_IN4"        # tunnel inner addresses live behind the gw
	"int  $POOL6               $GW_IN6"
	"int  $FA_NET4             $FA_UP4"
	"int  $FA_NET6             $FA_UP6"
	"ha   default              $HOME_R4"
	"ha   default              $HOME_R6"
	"fa   default              $INT_FA4"
	"fa   default              $INT_FA6"
	"srv  default              $INT_SRV4"
	"srv  default              $INT_SRV6"
	"inat default              $INT_INAT4"     # nothing routes back to 192.168.50/24: NAT
)

# Access networks the MN can be moved to:  name -> "ns bridge addressing families"
#   dhcp   = a dnsmasq serves it; run `lab.sh dhcp` after the move
#   static = `move` configures the MN's home address and default route
#   none   = no addressing (FA subnet: the FA's agent advertisements, mode f)
topo_access() {
	case "$1" in
	ext1) echo "inet br-ext1 dhcp dual" ;;
	ext2) echo "nat br-ext2 dhcp v4" ;;
	home) echo "int br-home static dual" ;;
	dhcp) echo "int br-dhcp dhcp dual" ;;
	fa) echo "fa br-fa none dual" ;;
	inat) echo "inat br-inat dhcp v4" ;;
	*) return 1 ;;
	esac
}
TOPO_ACCESS_NETS="ext1 ext2 home dhcp fa inat"

# DHCP servers (dnsmasq): "name ns bridge v4-first,v4-last v6-first,v6-last"
# IPv6: router advertisements (M flag) + stateful DHCPv6; "-" = IPv4 only.
TOPO_DHCP=(
	"ext1 inet br-ext1 172.16.1.100,172.16.1.199   fd00:16:1::100,fd00:16:1::1ff"
	"ext2 nat  br-ext2 192.168.2.100,192.168.2.199 -"
	"dhcp int  br-dhcp 10.20.0.100,10.20.0.199     fd00:10:20::100,fd00:10:20::1ff"
	"inat inat br-inat 192.168.50.100,192.168.50.199 -"
)

# ---------------------------------------------------------------- firewalls
# [fw]: forward policy drop.  From outside only IKE and ESP-in-UDP (UDP 500
# and 4500) to the gateway's outside address get in (no raw ESP: the lab's
# kernel-libipsec always encapsulates); replies (established/related) pass;
# the intranet may initiate anything and is masqueraded towards the outside
# ([inet] has no route to 10/8); the gw may initiate towards the outside only.
topo_nft_fw() {
	cat <<EOF
table inet labfw {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct state invalid drop
		iifname "fw-in" accept
		iifname "fw-dmz" oifname "fw-out" accept
		oifname "fw-dmz" ip daddr $GW_OUT4 udp dport { 500, 4500 } accept
		oifname "fw-dmz" ip6 daddr $GW_OUT6 udp dport { 500, 4500 } accept
		counter comment "dropped by policy"
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		iifname "fw-in" oifname "fw-out" masquerade
	}
}
EOF
}

# [nat]: a hotspot NAT router.  ext2 is masqueraded; inbound new connections
# are dropped.
topo_nft_nat() {
	cat <<EOF
table inet labnat {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "br-ext2" accept
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "nat-out" ip saddr $EXT2_NET4 masquerade
	}
}
EOF
}

# [inat]: the same for an intranet access network (IPv4 only): the MN's
# co-located CoA 192.168.50.x reaches the HA as 10.1.3.2 (masquerade keeps
# the source port when it is free, so usually 10.1.3.2:434).
topo_nft_inat() {
	cat <<EOF
table ip labinat {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "br-inat" oifname "inat-up" accept
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "inat-up" ip saddr $INAT_NET4 masquerade
	}
}
EOF
}

# ---------------------------------------------------------------- builders
# These need LAB_PREFIX and lab.sh's ns_create (which records every namespace
# it makes, so teardown deletes exactly those).
N() { echo "${LAB_PREFIX}$1"; }

topo_build() {
	local s a b l ns dev br port v4 v6 dst via
	for s in "${TOPO_NS[@]}"; do
		ns_create "$s"
		ip -n "$(N "$s")" link set lo up
		# no DAD (addresses usable at once), no reverse-path filtering
		# (the gw answers the intranet asymmetrically), no kernel SLAAC:
		# on the MN, dhcpcd handles router advertisements itself.
		ip netns exec "$(N "$s")" sysctl -qw \
			net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
			net.ipv6.conf.default.accept_ra=0
	done
	for s in "${TOPO_ROUTERS[@]}"; do
		ip netns exec "$(N "$s")" sysctl -qw net.ipv4.ip_forward=1 \
			net.ipv6.conf.all.forwarding=1
	done
	for l in "${TOPO_LINKS[@]}"; do
		read -r a b <<<"$l"
		ip -n "$(N "${a%%:*}")" link add "${a#*:}" type veth \
			peer name "${b#*:}" netns "$(N "${b%%:*}")"
		ip -n "$(N "${a%%:*}")" link set "${a#*:}" up
		ip -n "$(N "${b%%:*}")" link set "${b#*:}" up
	done
	for l in "${TOPO_BRIDGES[@]}"; do
		read -r a l <<<"$l"
		ns=$(N "${a%%:*}") br=${a#*:}
		# no STP, no forward delay, no multicast snooping: a re-plugged
		# port forwards (and passes RS/RA/DHCP) immediately
		ip -n "$ns" link add "$br" type bridge stp_state 0 forward_delay 0 mcast_snooping 0
		ip -n "$ns" link set "$br" up
		for port in $l; do ip -n "$ns" link set "$port" master "$br" up; done
	done
	for l in "${TOPO_ADDRS[@]}"; do
		read -r a v4 v6 <<<"$l"
		ns=$(N "${a%%:*}") dev=${a#*:}
		ip -n "$ns" addr add "$v4" dev "$dev"
		if [ "$v6" = - ]; then
			ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
		else
			ip -n "$ns" addr add "$v6" dev "$dev" nodad
		fi
	done
	for l in "${TOPO_ROUTES[@]}"; do
		read -r s dst via <<<"$l"
		case "$via" in
		*:*) ip -n "$(N "$s")" -6 route add "$dst" via "$via" ;;
		*) ip -n "$(N "$s")" -4 route add "$dst" via "$via" ;;
		esac
	done
	topo_nft_fw | ip netns exec "$(N fw)" nft -f -
	topo_nft_nat | ip netns exec "$(N nat)" nft -f -
	topo_nft_inat | ip netns exec "$(N inat)" nft -f -
}
