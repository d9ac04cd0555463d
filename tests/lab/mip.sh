# shellcheck shell=bash
# mip.sh - Mobile IP (mipd) in the lab: what test_mipd.sh, test_mip_nat.sh
# and demo.sh share.  Sourced after lablib.sh (or testlib.sh); the caller
# exports LAB_PREFIX, LAB_STATE (the running lab) and sets
#   S                      a private directory for configs, keys, sockets,
#                          helper scripts, captures and logs (mip_dir
#                          creates it)
#   MIPD, MOBCTL           optional: default $B/mipd, $B/mobctl
# and gets:
#   HOA HA SRV FACOA       the MN's home address, the HA, srv, the FA's CoA
#                          (topology.sh's MN_HOME4, HA4, SRV4, FA_R4)
#   mip_dir                create S (mode 700); IN=$S/in.log (srv -> MN)
#                          and OUT=$S/out.log (MN -> srv), the echo logs
#   mip_key FILE           a random 16-byte MN-HA key (0x...), mode 600
#   mip_ha_conf FILE [SETTINGS] [ENTRIES]  HA in [ha]: home link ha0, one
#                          MN ($HOA, SPI 256, key $S/mn.key); SETTINGS go
#                          into its `ha` group (e.g. "keepalive = 2;"),
#                          ENTRIES (", { home_address = ...; }") after the
#                          MN's in mobile_nodes
#   mip_fa_conf FILE       FA in [fa] on br-fa, advertising every second
#   mip_mn_conf FILE KEYFILE LIFETIME   MN in [mn] on mn0, reverse tunnel,
#                          mipd's own dhcpcd (mode c), no VPN
#   mip_conf_ok FILE       `mipd -t` accepts FILE
#   mip_spawn ha|fa|mn     mipd with $S/ROLE.conf in [ROLE], as the lab
#                          process mipd-ROLE
#   mip_capture ha|fa|arp...   tcpdump into $S/NAME.pcap (lab process
#                          cap-NAME): UDP 434 on the HA's ha0 or on br-fa,
#                          ARP on br-home (from [int]: every broadcast there)
#   mip_helpers            $S/echo.py (TCP echo server / client logging
#                          every echoed byte's arrival) and $S/gap.py (the
#                          longest pause in such a log within [T0, T1])
#   mip_sessions           two TCP sessions with the home address, echoing a
#                          byte every 100 ms: srv -> MN:5001 logged in $IN,
#                          MN -> srv:5002 in $OUT (lab processes echo-*)
#   mip_gap LOG T0 T1      that longest pause in seconds ("none" if no data)
#   ctl ROLE CMD           `mobctl --json mipd CMD` on ROLE's socket
#   jget EXPR              evaluate EXPR on the JSON "result" (as d)
#   mn_mode, mode_is MODE  the MN's mode (home, c, f, mc, none)
#   ha_coa, ha_coa_is COA, ha_coa_in GLOB   the HA's binding for $HOA
#   fa_has_mn              the FA lists $HOA as a visitor
#   ha_binding FIELD, fa_visitor FIELD, mn_st FIELD   one field of the
#                          HA's binding / the FA's visitor entry for $HOA
#                          ("" when none) / the MN's status
#   mn_fields_are VALUE FIELD...   those fields of the MN's status, joined
#                          by spaces, are VALUE
#   ha_st EXPR             EXPR on the HA's status (as d), e.g.
#                          'd["ha_counters"]["accepted"]'
#   ha_ctr NAME, ha_tun NAME   one of the HA's ha_counters / tunnel counters
#   ha_count_is N          the HA holds N bindings
#   json_has ROLE CMD LIST KEY=VALUE...   ROLE's CMD result has an entry in
#                          LIST with home_address $HOA and these fields
#                          (VALUE ">0": a positive number); prints the entry
#   mac_of NS DEV          DEV's MAC address in NS
#   ha_proxy_arp, no_proxy_arp   the HA has (no) proxy neighbour entry for
#                          $HOA on ha0
#   arp_who                who answers ARP for $HOA on the home link (asked
#                          by [int], the home link's router): MACs or "none"
#   garps PCAP MAC T0      gratuitous ARPs for $HOA from MAC in PCAP since T0
#   garps_ge MAC T0 N      at least N of them in $S/arp.pcap
#   int_neigh_mac          [int]'s neighbour entry for $HOA on br-home
#   mn_lease               the MN's DHCP address on the dhcp subnet
#   last_echo_age LOG, flowing LOG, no_error LOG   an echo client's log
#   mip_now                epoch seconds (float)
#   mip_test_start         the start of a mipd test (testlib.sh): test_start,
#                          mipd and mobctl built, lab up, S=$LAB_STATE/mipd
#                          with the helpers, wait_for polling 5 times a
#                          second, the mipd logs as FAIL_LOGS, KEEP=1 keeps
#                          the state dir, and TEARDOWN=mip_teardown: `lab
#                          down`, then checks that nothing of the run is left

# shellcheck disable=SC2034  # used by the callers
HOA=$MN_HOME4 HA=$HA4 SRV=$SRV4 FACOA=$FA_R4
MIPD=${MIPD:-$B/mipd}
MOBCTL=${MOBCTL:-$B/mobctl}
MIP_LOG_LEVEL=${MIP_LOG_LEVEL:-debug}

mip_dir() {
	mkdir -p "$S" && chmod 700 "$S"
	IN=$S/in.log OUT=$S/out.log
}

mip_key() { (umask 077; printf '0x%s\n' "$(openssl rand -hex 16)" >"$1"); }

mip_ha_conf() {
	cat >"$1" <<EOF
role = "ha";
log = { level = "$MIP_LOG_LEVEL"; };
control = { socket = "$S/ha.sock"; };
ha = { address = "$HA"; home_prefix = "10.10.0.0/24"; interface = "ha0";
       tunnel = "mip0"; ${2:-}};
mobile_nodes = ( { home_address = "$HOA"; spi = 256;
                   algorithm = "hmac-md5"; key_file = "$S/mn.key"; }${3:-} );
EOF
}

mip_fa_conf() {
	cat >"$1" <<EOF
role = "fa";
log = { level = "$MIP_LOG_LEVEL"; };
control = { socket = "$S/fa.sock"; };
fa = { interface = "br-fa"; address = "$FACOA"; care_of_address = "$FACOA";
       tunnel = "mipfa0"; advertise_interval = 1; };
EOF
}

mip_mn_conf() { # FILE KEYFILE LIFETIME
	cat >"$1" <<EOF
role = "mn";
log = { level = "$MIP_LOG_LEVEL"; };
control = { socket = "$S/mn.sock"; };
mn = { home_address = "$HOA"; home_prefix_len = 24; home_agent = "$HA";
       home_gateway = "10.10.0.1"; interface = "mn0"; tunnel = "mip0";
       spi = 256; algorithm = "hmac-md5"; key_file = "$2";
       reverse_tunnel = true; nat_traversal = true; lifetime = $3;
       retransmit = { initial = 1.0; tries = 3; }; retry_interval = 3;
       dhcp = { command = "dhcpcd"; enabled = true; state_dir = "$S/dhcp"; };
       vpn = { mobiked_socket = "/run/mobiked.sock"; enabled = false; };
       keep_vpn_when_trusted = false; };
EOF
}
mip_conf_ok() { "$MIPD" -t -c "$1" >/dev/null; }

# ---------------------------------------------------------------- processes
mip_spawn() { lab spawn "$1" "mipd-$1" "$MIPD" -c "$S/$1.conf"; }
mip_capture() {
	local c
	for c; do
		case "$c" in
		ha) lab spawn ha cap-ha tcpdump -Z root -U --immediate-mode -n -i ha0 -w "$S/ha.pcap" udp port 434 ;;
		fa) lab spawn fa cap-fa tcpdump -Z root -U --immediate-mode -n -i br-fa -w "$S/fa.pcap" udp port 434 ;;
		arp) lab spawn int cap-arp tcpdump -Z root -U --immediate-mode -n -i br-home -w "$S/arp.pcap" arp ;;
		esac
	done
}
mip_sessions() {
	lab spawn mn echo-srv-mn "$PY" "$S/echo.py" server "$HOA" 5001
	lab spawn srv echo-srv-srv "$PY" "$S/echo.py" server "$SRV" 5002
	sleep 0.5
	lab spawn srv echo-cl-srv "$PY" "$S/echo.py" client "$HOA" 5001 - "$IN"
	lab spawn mn echo-cl-mn "$PY" "$S/echo.py" client "$SRV" 5002 "$HOA" "$OUT"
}

# ---------------------------------------------------------------- queries
ctl() { "$MOBCTL" -s "$S/$1.sock" --json mipd "$2" 2>/dev/null; }
jget() { "$PY" -c 'import json,sys; d=json.load(sys.stdin).get("result") or {}; print(eval(sys.argv[1]))' "$1"; }
mn_mode() { ctl mn status | jget 'd.get("mode","")'; }
mode_is() { [ "$(mn_mode)" = "$1" ]; }
# the HA's binding CoA for the HoA ("" when none)
ha_coa() {
	ctl ha bindings | jget '"".join(b["care_of"] for b in d.get("bindings", []) if b["home_address"] == "'"$HOA"'")'
}
ha_coa_is() { [ "$(ha_coa)" = "$1" ]; }
# shellcheck disable=SC2254  # $1 is a glob on purpose
ha_coa_in() { case "$(ha_coa)" in $1) return 0 ;; esac; return 1; }
fa_has_mn() { ctl fa visitors | grep -q "$HOA"; }
mip_field() { # LIST FIELD: FIELD of the LIST entry for $HOA
	jget '"".join(str(e.get("'"$2"'", "")) for e in d.get("'"$1"'", []) if e["home_address"] == "'"$HOA"'")'
}
ha_binding() { ctl ha bindings | mip_field bindings "$1"; }
fa_visitor() { ctl fa visitors | mip_field visitors "$1"; }
mn_st() { ctl mn status | jget "d.get('$1', '')"; }
mn_fields_are() { # VALUE FIELD...
	local want=$1
	shift
	[ "$(ctl mn status | "$PY" -c 'import json,sys; d=json.load(sys.stdin).get("result") or {}; print(*(d.get(k, "") for k in sys.argv[1:]))' "$@")" = "$want" ]
}
ha_st() { ctl ha status | jget "$1"; }
ha_ctr() { ha_st "d['ha_counters']['$1']"; }
ha_tun() { ha_st "(d.get('tunnel') or {}).get('$1', '')"; }
ha_count_is() { [ "$(ha_st 'd["bindings"]')" = "$1" ]; }
json_has() { # ROLE CMD LIST KEY=VALUE...
	local role=$1 cmd=$2 list=$3
	shift 3
	ctl "$role" "$cmd" | "$PY" -c '
import json, sys
d = json.load(sys.stdin).get("result") or {}
want = dict(a.split("=", 1) for a in sys.argv[3:])
for e in d.get(sys.argv[1], []):
    if e.get("home_address") != sys.argv[2]:
        continue
    print(json.dumps(e))
    bad = [k for k, v in want.items()
           if not (float(e.get(k, 0)) > 0 if v == ">0" else
                   str(e.get(k)).lower() == v.lower())]
    sys.exit(1 if bad else 0)
sys.exit(1)' "$list" "$HOA" "$@"
}
mac_of() { ip -n "${LAB_PREFIX}$1" -o link show dev "$2" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2; }
ha_proxy_arp() { ip -n "${LAB_PREFIX}ha" neigh show proxy | grep -q "^$HOA dev ha0 "; }
no_proxy_arp() { ! ha_proxy_arp; }
arp_who() { ip netns exec "${LAB_PREFIX}int" "$PY" "$LAB_DIR/mip_pkt.py" arp br-home "$HOA"; }
garps() { # PCAP MAC T0
	tshark -r "$1" -Y "arp.isgratuitous == 1 && arp.src.proto_ipv4 == $HOA && arp.src.hw_mac == $2 && frame.time_epoch >= $3" 2>/dev/null | grep -c .
}
garps_ge() { [ "$(garps "$S/arp.pcap" "$1" "$2")" -ge "$3" ]; }
int_neigh_mac() { ip -n "${LAB_PREFIX}int" neigh show "$HOA" dev br-home | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2; }
mn_lease() { ip netns exec "${LAB_PREFIX}mn" ip -4 -o addr show dev mn0 | awk '{print $4}' | cut -d/ -f1 | grep '^10\.20\.' | head -1; }
mip_now() { "$PY" -c 'import time; print(time.time())'; }

# ---------------------------------------------------------------- TCP sessions
mip_helpers() {
	cat >"$S/echo.py" <<'EOF'
# echo.py server HOST PORT | client HOST PORT BIND LOG
# client: one byte every 100 ms; every echoed byte's arrival time (epoch
# seconds) goes to LOG, "ERROR ..." when the connection fails.
import socket, sys, threading, time
mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "server":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port)); s.listen(4)
    def serve(c):
        while True:
            b = c.recv(4096)
            if not b: return
            c.sendall(b)
    while True:
        c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
bind, log = sys.argv[4], open(sys.argv[5], "a", buffering=1)
c = socket.socket()
if bind != "-": c.bind((bind, 0))
c.settimeout(10); c.connect((host, port)); c.settimeout(None)
log.write("CONNECTED %f\n" % time.time())
def reader():
    try:
        while True:
            b = c.recv(4096)
            if not b: log.write("ERROR eof %f\n" % time.time()); return
            for _ in b: log.write("%f\n" % time.time())
    except Exception as e:
        log.write("ERROR %s %f\n" % (e, time.time()))
threading.Thread(target=reader, daemon=True).start()
try:
    while True:
        c.send(b"x"); time.sleep(0.1)
except Exception as e:
    log.write("ERROR %s %f\n" % (e, time.time()))
EOF
	cat >"$S/gap.py" <<'EOF'
# gap.py LOG T0 T1: the longest pause between echoes in [T0, T1] and
# whether data arrived after T1's window start; prints "GAP SECONDS".
import sys
t0, t1 = float(sys.argv[2]), float(sys.argv[3])
ts = [float(l) for l in open(sys.argv[1]) if l[0].isdigit()]
before = [t for t in ts if t <= t0]
after = [t for t in ts if t > t0]
if not before or not after:
    print("GAP none"); sys.exit(1)
prev, gap = before[-1], 0.0
for t in after:
    if t > t1: break
    gap = max(gap, t - prev); prev = t
print("GAP %.2f" % gap)
EOF
}
mip_gap() { "$PY" "$S/gap.py" "$@" | sed 's/^GAP //'; }

last_echo_age() { # LOG: seconds since the last echo
	"$PY" -c 'import sys,time; ts=[float(l) for l in open(sys.argv[1]) if l[0].isdigit()]; print("%.1f"%(time.time()-ts[-1]) if ts else 999)' "$1"
}
flowing() { local a; a=$(last_echo_age "$1"); "$PY" -c "import sys; sys.exit(0 if $a < 1.0 else 1)"; }
no_error() { ! grep -q ERROR "$1"; }

# ---------------------------------------------------------------- a mipd test
mip_test_start() {
	[ "${KEEP:-0}" = 1 ] && export LAB_KEEP_STATE=1
	WAIT_POLL_MS=200 # mipd's timers are short
	S=$LAB_STATE/mipd
	TEARDOWN=mip_teardown
	FAIL_LOGS=("$LAB_STATE"/log/mipd-ha.log "$LAB_STATE"/log/mipd-fa.log "$LAB_STATE"/log/mipd-mn.log)
	test_start
	need_built mipd mobctl
	lab up >"$CHECK_OUT" 2>&1 || stop_test "lab up"
	mip_dir
	mip_helpers
}
# The run's records go with the state dir: read them before `lab down`.
mip_teardown() {
	local started
	[ -d "$LAB_STATE" ] || return 0
	started=$(cat "$LAB_STATE/pids.history" 2>/dev/null)
	lab_teardown
	check "teardown: no namespace of this run left" no_ns_of "$LAB_PREFIX"
	check "teardown: none of the $(echo "$started" | grep -c .) processes the run started is alive" \
		none_alive <<<"$started"
	# anything else of the run (e.g. the dhcpcd mipd starts, with its state
	# in $S): a process whose command line names the state dir
	check "teardown: no process naming $LAB_STATE left" none_naming "$LAB_STATE/"
}
