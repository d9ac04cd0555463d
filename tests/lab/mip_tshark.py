#!/usr/bin/env python3
"""mip_tshark.py - what tshark decodes of the registration messages a Mobile
IP lab test captured, checked field by field.

  mip_tshark.py dump PCAP            one line per message (for the log)
  mip_tshark.py check KEY=VALUE...   prints "ok - ..." / "not ok - ..."

check keys (addresses dotted quads, times epoch seconds):
  ha_pcap fa_pcap   captures on the HA's home link and the FA's link
  hoa ha facoa lease srv   the MN's home address, the HA, the FA's care-of
                    address, the MN's DHCP lease (mode c), the correspondent
  lifetime spi      the MN's requested lifetime and MN-HA SPI
  window skew       the HA's timestamp window, the skewed MN's clock offset
  replay_from       "ADDR:PORT" the in-window replay was sent from
  flood_start flood_end rate burst   the flood and the HA's rate limit
  fa_from           only FA-relay messages after this time (the first move
                    to the FA subnet)
Every Identification is read twice: as tshark decodes it (mip.ident, an
NTP timestamp) and from the raw UDP payload; they must agree.
"""
import calendar
import subprocess
import sys
import time

FIELDS = ("frame.time_epoch ip.src udp.srcport ip.dst udp.dstport mip.type "
          "mip.code mip.flags mip.s mip.b mip.d mip.m mip.g mip.v mip.t "
          "mip.x mip.life mip.homeaddr mip.haaddr mip.coa mip.ident "
          "mip.ext.type mip.auth.spi mip.auth.auth mip.ext.utrq.encaptype "
          "udp.payload").split()
NTP_EPOCH = 2208988800


def ident_epoch(s):
    """tshark's mip.ident, e.g. 'Dec  6, 2026 20:53:33.259450086 UTC'."""
    s = " ".join(s.replace(" UTC", "").split())
    whole, _, frac = s.partition(".")
    t = calendar.timegm(time.strptime(whole, "%b %d, %Y %H:%M:%S"))
    return t + (float("0." + frac) if frac else 0.0)


def decode(pcap):
    out = subprocess.run(
        ["tshark", "-r", pcap, "-d", "udp.port==434,mip", "-Y",
         "mip.type == 1 || mip.type == 3", "-T", "fields", "-E",
         "separator=|", "-E", "occurrence=a", "-E", "aggregator=,"] +
        sum([["-e", f] for f in FIELDS], []),
        capture_output=True, text=True, check=False).stdout
    rows = []
    for line in out.splitlines():
        v = dict(zip(FIELDS, line.split("|")))
        if len(v) != len(FIELDS):
            continue
        p = bytes.fromhex(v["udp.payload"].replace(":", ""))
        r = {
            "t": float(v["frame.time_epoch"]), "src": v["ip.src"],
            "sport": int(v["udp.srcport"]), "dst": v["ip.dst"],
            "dport": int(v["udp.dstport"]), "type": int(v["mip.type"]),
            "code": int(v["mip.code"]) if v["mip.code"] else None,
            "flags": "".join(k.upper() if v["mip." + k] == "1" else "-"
                             for k in "sbdmgvtx") if v["mip.flags"] else "",
            "life": int(v["mip.life"]), "home": v["mip.homeaddr"],
            "ha": v["mip.haaddr"], "coa": v["mip.coa"],
            "ident": ident_epoch(v["mip.ident"]), "ext": v["mip.ext.type"],
            "spi": int(v["mip.auth.spi"], 16) if v["mip.auth.spi"] else None,
            "auth": v["mip.auth.auth"], "encap": v["mip.ext.utrq.encaptype"],
            "payload": p, "pcap": pcap,
        }
        off = 16 if r["type"] == 1 else 12
        r["id"] = int.from_bytes(p[off:off + 8], "big")
        r["raw_ident"] = (r["id"] >> 32) - NTP_EPOCH + \
            (r["id"] & 0xFFFFFFFF) / float(1 << 32)
        rows.append(r)
    return rows


def fmt(r):
    return "%.3f %s:%d>%s:%d type %d%s flags %s life %d home %s ha %s coa %s " \
        "id %016x ext %s spi %s" % (
            r["t"], r["src"], r["sport"], r["dst"], r["dport"], r["type"],
            "" if r["code"] is None else " code %d" % r["code"],
            r["flags"] or "-", r["life"], r["home"], r["ha"],
            r["coa"] or "-", r["id"], r["ext"], r["spi"])


class Checker:
    def __init__(self):
        self.failed = 0

    def __call__(self, desc, cond, detail=""):
        if cond:
            print("ok - tshark: %s" % desc)
        else:
            self.failed += 1
            print("not ok - tshark: %s%s" % (desc, " (%s)" % detail
                                             if detail else ""))
        return cond


def first(rows, **kw):
    for r in rows:
        if all(f(r[k]) if callable(f) else r[k] == f for k, f in kw.items()):
            return r
    return None


def reply_to(rows, req, **kw):
    """The reply answering req, after it: RFC 5944 3.4, the low 32 bits of
    its Identification are the request's (a 133 carries the HA's time in
    the high 32)."""
    return first(rows, type=3, id=lambda i: low(i) == low(req["id"]),
                 dst=req["src"], dport=req["sport"],
                 t=lambda t: t >= req["t"], **kw)


def low(i):
    return i & 0xFFFFFFFF


def show(k, v):
    if k == "auth":
        return "authenticator %s.." % (v or "-")[:8]
    if k == "ident":
        return "Identification %016x (decoded and raw)" % v
    return "%s %s" % (k, v)


def check_request(ck, what, r, same_id=None, **want):
    """r decoded with the wanted fields; same_id: a message whose
    Identification r must carry (tshark's decoding and the raw bytes)."""
    if not ck("%s decoded" % what, r is not None, "not in the capture"):
        return
    bad = ["%s %r, want %r" % (k, r[k], v) for k, v in want.items()
           if r[k] != v]
    desc = [show(k, v) for k, v in want.items()]
    if same_id:
        desc.append(show("ident", same_id["id"]))
        if r["id"] != same_id["id"] or r["ident"] != same_id["ident"]:
            bad.append("Identification %016x, want %016x" %
                       (r["id"], same_id["id"]))
    ck("%s: %s" % (what, ", ".join(desc)), not bad, "; ".join(bad))


def main_check(a):
    ha_rows = decode(a["ha_pcap"])
    fa_rows = decode(a["fa_pcap"])
    L, spi, ha, hoa = int(a["lifetime"]), int(a["spi"]), a["ha"], a["hoa"]
    fa, lease, srv = a["facoa"], a["lease"], a["srv"]
    window, skew = float(a["window"]), float(a["skew"])
    ck = Checker()
    rows = ha_rows + fa_rows
    ck("decodes %d messages on the HA's link, %d on the FA's" %
       (len(ha_rows), len(fa_rows)), ha_rows and fa_rows)
    bad = [fmt(r) for r in rows if abs(r["ident"] - r["raw_ident"]) > 2e-6]
    ck("every decoded Identification (mip.ident) equals the raw one", not bad,
       "; ".join(bad[:2]))

    # ---- mode f: MN -> FA -> HA -> FA -> MN, one Identification
    since = float(a.get("fa_from", 0))
    A = first(fa_rows, type=1, src=hoa, dst=fa, coa=fa,
              t=lambda t: t >= since)
    check_request(ck, "mode f: MN->FA request", A, sport=434, dport=434,
                  flags="------T-", life=L, home=hoa, ha=ha, ext="32",
                  spi=spi)
    if A:
        B = first(ha_rows, type=1, id=A["id"], src=fa, dst=ha)
        check_request(ck, "mode f: FA->HA relayed request (source FA, CoA = "
                      "FA, same Identification %016x)" % A["id"], B,
                      dport=434, coa=fa, flags="------T-", life=L, home=hoa,
                      ha=ha, ext="32", spi=spi, auth=A["auth"],
                      same_id=A)
        C = B and reply_to(ha_rows, B)
        check_request(ck, "mode f: HA->FA reply", C, src=ha, code=0, life=L,
                      home=hoa, ha=ha, ext="32", spi=spi, same_id=A)
        D = C and first(fa_rows, type=3, id=A["id"], src=fa, dst=hoa,
                        t=lambda t: t >= A["t"])
        check_request(ck, "mode f: FA->MN reply (MN-HA authenticator "
                      "relayed unchanged)", D, dport=434, code=0, life=L,
                      home=hoa, ha=ha, spi=spi, auth=C and C["auth"],
                      same_id=A)
        ck("mode f: the four messages in order MN->FA, FA->HA, HA->FA, "
           "FA->MN", A and B and C and D and
           A["t"] <= B["t"] <= C["t"] <= D["t"])

    # ---- mode c: co-located, direct to the HA
    acc = [r for r in ha_rows if r["type"] == 1 and r["src"] == lease and
           r["sport"] == 434 and abs(r["ident"] - r["t"]) < window and
           reply_to(ha_rows, r, code=0)]
    R = acc[0] if acc else None
    check_request(ck, "mode c: co-located request from the lease %s" % lease,
                  R, dst=ha, dport=434, flags="--D---T-", life=L, home=hoa,
                  ha=ha, coa=lease, ext="144,32", encap="4", spi=spi)
    if R:
        check_request(ck, "mode c: its reply", reply_to(ha_rows, R),
                      src=ha, sport=434, code=0, life=L, home=hoa, ha=ha,
                      spi=spi, same_id=R)

    # ---- back home: deregistration (after the FA subnet)
    dr = first(ha_rows, type=1, src=hoa, dst=ha, t=lambda t: t > since)
    check_request(ck, "home: deregistration", dr, life=0, coa=hoa,
                  flags="--------", home=hoa, ha=ha, ext="32", spi=spi)
    if dr:
        check_request(ck, "home: deregistration accepted",
                      reply_to(ha_rows, dr), code=0, life=0, home=hoa,
                      spi=spi, same_id=dr)

    # ---- wrong key: 131 to the request it answers
    w = first(ha_rows, type=3, code=131, dst=lease)
    wq = w and first(ha_rows, type=1, id=w["id"], src=lease)
    ck("wrong key: reply 131 answers a request from %s (same "
       "Identification, SPI %d, lifetime 0)" % (lease, spi),
       w and wq and wq["spi"] == spi and w["life"] == 0,
       w and fmt(w) or "no 131 reply")

    # ---- clock skew: request ~skew s behind, 133 with the HA's time and
    # our low 32 bits, then an in-window request accepted
    sk = None
    for r in ha_rows:
        if r["type"] == 1 and r["src"] == lease and r["sport"] == 434 and \
                abs((r["ident"] - r["t"]) - skew) < 5:
            sk = r
            break
    rep = sk and first(ha_rows, type=3, code=133, dst=lease, dport=434,
                       id=lambda i: low(i) == low(sk["id"]),
                       t=lambda t: t >= sk["t"])
    ck("clock skew: request with Identification %+.0f s off its send time" %
       (sk["ident"] - sk["t"] if sk else 0), sk is not None)
    ck("clock skew: reply 133 carries the HA's clock (high 32 bits within "
       "2 s of the capture) and the request's low 32 bits",
       rep and abs(rep["ident"] - rep["t"]) < 2, rep and fmt(rep))
    nx = rep and first(ha_rows, type=1, src=lease, sport=434,
                       t=lambda t: t > rep["t"])
    ck("clock skew: the next request (%.2f s later) is resynchronised "
       "(Identification within 2 s of its send time) and accepted" %
       (nx["t"] - rep["t"] if nx else -1),
       nx and abs(nx["ident"] - nx["t"]) < 2 and nx["t"] - rep["t"] < 2 and
       reply_to(ha_rows, nx, code=0), nx and fmt(nx))

    # ---- in-window replay: the same bytes again, answered 133
    if "replay_from" in a:
        addr, port = a["replay_from"].split(":")
        rp = first(ha_rows, type=1, src=addr, sport=int(port))
        orig = rp and first(ha_rows, type=1, src=lease, sport=434,
                            payload=rp["payload"])
        ck("replay: the resent request is byte for byte an accepted one "
           "from %s:434" % lease, rp and orig and
           reply_to(ha_rows, orig, code=0))
        ck("replay: resent %.2f s after the original, Identification %.2f s "
           "old: inside the %g s window" %
           ((rp["t"] - orig["t"]) if rp and orig else -1,
            (rp["t"] - rp["ident"]) if rp else -1, window),
           rp and orig and rp["t"] - rp["ident"] < window)
        rr = rp and first(ha_rows, type=3, dst=addr, dport=int(port),
                          id=lambda i: low(i) == low(rp["id"]))
        ck("replay: reply 133 to %s" % a["replay_from"],
           rr and rr["code"] == 133, rr and fmt(rr))
        ck("replay: the original's Identification accepted exactly once",
           orig and len([r for r in ha_rows if r["type"] == 3 and
                         r["id"] == orig["id"] and r["code"] == 0]) == 1)

    # ---- stale replay from srv, and the flood from srv
    fs, fe = float(a.get("flood_start", 0)), float(a.get("flood_end", 0))
    st = first(ha_rows, type=1, src=srv,
               t=lambda t: not fs or t < fs - 0.1)
    sr = st and reply_to(ha_rows, st)
    ck("stale replay from %s: Identification %.0f s old, reply 133" %
       (srv, (st["t"] - st["ident"]) if st else -1),
       st and st["t"] - st["ident"] > window and sr and sr["code"] == 133,
       sr and fmt(sr))
    if fs:
        n_req = len([r for r in ha_rows if r["type"] == 1 and
                     r["src"] == srv and fs <= r["t"] <= fe + 0.2])
        n_rep = len([r for r in ha_rows if r["type"] == 3 and
                     r["dst"] == srv and fs <= r["t"] <= fe + 0.5])
        cap = int(a["burst"]) + float(a["rate"]) * (fe - fs) + 2
        ck("flood: %d requests from %s on the wire, %d answered (<= burst "
           "%s + rate %s/s x %.2f s = %.0f)" % (n_req, srv, n_rep, a["burst"],
                                               a["rate"], fe - fs, cap),
           n_req >= 1000 and int(a["burst"]) <= n_rep <= cap)
    return ck.failed


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "dump":
        for p in sys.argv[2:]:
            for r in decode(p):
                print(fmt(r))
        return 0
    if len(sys.argv) >= 2 and sys.argv[1] == "check":
        return 1 if main_check(dict(x.split("=", 1)
                                    for x in sys.argv[2:])) else 0
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
