# shellcheck shell=bash
# mip.sh - Mobile IP (mipd) in the lab: the pieces test_mipd.sh and demo.sh
# share.  Sourced; the caller sets
#   LAB_PREFIX, LAB_STATE  the running lab (lab.sh)
#   MIPD, MOBCTL           the binaries
#   PY                     python3
#   S                      a private directory for configs, keys, sockets,
#                          helper scripts and logs (mip_dir creates it)
# and gets:
#   HOA HA SRV FACOA       the MN's home address, the HA, srv, the FA's CoA
#   mip_dir                create S (mode 700)
#   mip_key FILE           a random 16-byte MN-HA key (0x...), mode 600
#   mip_ha_conf FILE [SETTINGS]  HA in [ha]: home link ha0, one MN ($HOA,
#                          SPI 256, key $S/mn.key); SETTINGS go into its
#                          `ha` group (e.g. "keepalive = 2;")
#   mip_fa_conf FILE       FA in [fa] on br-fa, advertising every second
#   mip_mn_conf FILE KEYFILE LIFETIME   MN in [mn] on mn0, reverse tunnel,
#                          mipd's own dhcpcd (mode c), no VPN
#   mip_helpers            $S/echo.py (TCP echo server / client logging
#                          every echoed byte's arrival) and $S/gap.py (the
#                          longest pause in such a log within [T0, T1])
#   ctl ROLE CMD           `mobctl --json mipd CMD` on ROLE's socket
#   jget EXPR              evaluate EXPR on the JSON "result" (as d)
#   mn_mode, mode_is MODE  the MN's mode (home, c, f, mc, none)
#   ha_coa, ha_coa_is COA, ha_coa_in GLOB   the HA's binding for $HOA
#   fa_has_mn              the FA lists $HOA as a visitor
#   mn_lease               the MN's DHCP address on the dhcp subnet
#   last_echo_age LOG, flowing LOG, no_error LOG   an echo client's log
#   mip_now                epoch seconds (float)
# Addresses: see topology.sh (MN_HOME4, HA4, SRV4, FA_R4).

# shellcheck disable=SC2034  # used by the callers
HOA=10.10.0.100 HA=10.10.0.2 SRV=10.40.0.2 FACOA=10.30.0.1
MIP_LOG_LEVEL=${MIP_LOG_LEVEL:-debug}

mip_dir() { mkdir -p "$S" && chmod 700 "$S"; }

mip_key() { (umask 077; printf '0x%s\n' "$(openssl rand -hex 16)" >"$1"); }

mip_ha_conf() {
	cat >"$1" <<EOF
role = "ha";
log = { level = "$MIP_LOG_LEVEL"; };
control = { socket = "$S/ha.sock"; };
ha = { address = "$HA"; home_prefix = "10.10.0.0/24"; interface = "ha0";
       tunnel = "mip0"; ${2:-}};
mobile_nodes = ( { home_address = "$HOA"; spi = 256;
                   algorithm = "hmac-md5"; key_file = "$S/mn.key"; } );
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

# ---------------------------------------------------------------- queries
ctl() { "$MOBCTL" -s "$S/$1.sock" --json mipd "$2" 2>/dev/null; }
jget() { "$PY" -c 'import json,sys; d=json.load(sys.stdin).get("result") or {}; print(eval(sys.argv[1]))' "$1"; }
mn_mode() { ctl mn status | jget 'd.get("mode","")'; }
mode_is() { [ "$(mn_mode)" = "$1" ]; }
# the HA's binding CoA for the HoA ("" when none)
ha_coa() {
	ctl ha bindings | jget '"".join(b["care_of"] for b in d.get("bindings", []) if b["home_address"] == "'$HOA'")'
}
ha_coa_is() { [ "$(ha_coa)" = "$1" ]; }
# shellcheck disable=SC2254  # $1 is a glob on purpose
ha_coa_in() { case "$(ha_coa)" in $1) return 0 ;; esac; return 1; }
fa_has_mn() { ctl fa visitors | grep -q "$HOA"; }
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

last_echo_age() { # LOG: seconds since the last echo
	"$PY" -c 'import sys,time; ts=[float(l) for l in open(sys.argv[1]) if l[0].isdigit()]; print("%.1f"%(time.time()-ts[-1]) if ts else 999)' "$1"
}
flowing() { local a; a=$(last_echo_age "$1"); "$PY" -c "import sys; sys.exit(0 if $a < 1.0 else 1)"; }
no_error() { ! grep -q ERROR "$1"; }
