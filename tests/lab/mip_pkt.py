#!/usr/bin/env python3
"""mip_pkt.py - packets the Mobile IP lab tests make by hand.

Run inside a lab namespace (ip netns exec ...).  Subcommands:

  arp DEV TARGET [SECONDS]
      ARP request "who has TARGET" from DEV's address; prints the sender MACs
      of every reply within SECONDS (default 1.5: a proxy reply waits up to
      proxy_delay, 0.8 s), space separated, or "none".
  ipip OUTER_SRC OUTER_DST INNER_SRC INNER_DST PORT TEXT [COUNT]
      COUNT (default 1) IP-in-IP packets, inner UDP to INNER_DST:PORT with
      payload TEXT, through a raw socket (so the outer source is ours).
  sink HOST PORT LOG
      UDP server: every datagram's payload and source, one line each, to LOG.
  lastreq PCAP SRC HA [--first] [--since T]
      the last (--first: first) Registration Request from SRC:434 to HA:434
      in PCAP (sent at or after T) that got an accepted reply (code 0/1,
      same Identification): prints "EPOCH IDHEX PAYLOADHEX", or exits 1.
  reqs PCAP SRC HA SINCE
      every Registration Request from SRC:434 to HA:434 since SINCE, one
      line each: "EPOCH IDHEX CODE" (CODE of its reply, "-" for none).
  resend PCAP SRC HA (--last | --first) [--from ADDR] [--window S]
      finds that accepted request (--first: the first one) and sends its UDP
      payload again at once from ADDR (default SRC) with an ephemeral port,
      waits 3 s for the reply; prints JSON: code, id_low_match, age (seconds
      between the Identification's timestamp and now), sent, frame time.
  register HA HOA COA SPI KEYFILE LIFETIME [--from ADDR]
      a Registration Request of our own (D set, timestamp Identification,
      MN-HA HMAC-MD5 authenticator, RFC 5944 3.5.1) from ADDR (default COA);
      prints JSON with the reply's code, lifetime, whether its Identification
      matches and its authenticator verifies, and the reply's arrival time.
  flood HA PAYLOADHEX COUNT SECONDS [--from ADDR]
      COUNT copies of the payload to HA:434, evenly over SECONDS, counting
      the replies; prints JSON: sent, replies, codes, start, end.
"""
import hashlib
import hmac
import json
import socket
import struct
import sys
import time

MIP_PORT = 434
NTP_EPOCH = 2208988800  # 1900 -> 1970


# ---------------------------------------------------------------- helpers
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(src, dst, proto, payload, ident=0x4D49):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0,
                    64, proto, 0, socket.inet_aton(src),
                    socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def ntp_now():
    t = time.time()
    return ((int(t) + NTP_EPOCH) << 32) | int((t % 1) * (1 << 32))


def ntp_to_epoch(ident):
    return (ident >> 32) - NTP_EPOCH + (ident & 0xFFFFFFFF) / float(1 << 32)


def read_key(path):
    raw = open(path).read().strip()
    return bytes.fromhex(raw[2:]) if raw.startswith("0x") else raw.encode()


def pcap_udp(path):
    """(epoch, src, sport, dst, dport, payload) of each IPv4 UDP frame
    (Ethernet or Linux cooked capture); a partly written last record is
    ignored."""
    d = open(path, "rb").read()
    if len(d) < 24:
        return
    magic = struct.unpack("<I", d[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    link = struct.unpack(end + "I", d[20:24])[0]
    off = 24
    while off + 16 <= len(d):
        sec, frac, incl, _ = struct.unpack(end + "IIII", d[off:off + 16])
        pkt = d[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(pkt) < incl:
            return
        if link == 1 and pkt[12:14] == b"\x08\x00":
            ip = pkt[14:]
        elif link == 113 and pkt[14:16] == b"\x08\x00":
            ip = pkt[16:]
        else:
            continue
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        udp = ip[ihl:]
        if len(udp) < 8:
            continue
        sport, dport = struct.unpack("!HH", udp[:4])
        yield (sec + frac / (1e9 if nano else 1e6),
               socket.inet_ntoa(ip[12:16]), sport,
               socket.inet_ntoa(ip[16:20]), dport, bytes(udp[8:]))


def rrq_id(p):
    return struct.unpack("!Q", p[16:24])[0]


def rrp_id(p):
    return struct.unpack("!Q", p[12:20])[0]


def accepted_requests(path, src, ha):
    """Registration Requests from src:434 to ha:434 with a code 0/1 reply
    carrying the same Identification, in capture order."""
    reqs, out = [], []
    for t, s, sp, d, dp, p in pcap_udp(path):
        if s == src and sp == MIP_PORT and d == ha and dp == MIP_PORT \
                and len(p) >= 24 and p[0] == 1:
            reqs.append((t, p))
        elif s == ha and d == src and dp == MIP_PORT and len(p) >= 20 \
                and p[0] == 3 and p[1] in (0, 1):
            for r in reqs:
                if rrq_id(r[1]) == rrp_id(p) and r not in out:
                    out.append(r)
    return out


def src_sock(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 0))
    return s


# ---------------------------------------------------------------- commands
def cmd_arp(dev, target, secs="1.5"):
    import fcntl
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
    s.bind((dev, 0x0806))
    mac = s.getsockname()[4]
    ifr = fcntl.ioctl(s.fileno(), 0x8915,  # SIOCGIFADDR
                      struct.pack("256s", dev.encode()[:15]))
    sip, tip = ifr[20:24], socket.inet_aton(target)
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + sip + \
        b"\0" * 6 + tip
    s.send(b"\xff" * 6 + mac + b"\x08\x06" + arp)
    s.settimeout(0.1)
    seen, end = [], time.time() + float(secs)
    while time.time() < end:
        try:
            f = s.recv(1500)
        except socket.timeout:
            continue
        a = f[14:42]
        if len(a) == 28 and a[6:8] == b"\x00\x02" and a[14:18] == tip \
                and a[24:28] == sip:
            m = a[8:14].hex(":")
            if m not in seen:
                seen.append(m)
    print(" ".join(seen) or "none")


def cmd_ipip(osrc, odst, isrc, idst, port, text, count="1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for i in range(int(count)):
        msg = ("%s %d" % (text, i)).encode()
        udp = struct.pack("!HHHH", 40000, int(port), 8 + len(msg), 0) + msg
        s.sendto(ip4(osrc, odst, 4, ip4(isrc, idst, 17, udp, 0x100 + i)),
                 (odst, 0))


def cmd_sink(host, port, log):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, int(port)))
    with open(log, "a", buffering=1) as f:
        while True:
            p, a = s.recvfrom(2048)
            f.write("%s %s:%d %f\n" % (p.decode(errors="replace"), a[0],
                                       a[1], time.time()))


def cmd_lastreq(*args):
    args = list(args)
    since = float(opt(args, "--since", 0))
    which = 0 if "--first" in args else -1
    pcap, src, ha = [a for a in args if a != "--first"]
    acc = [r for r in accepted_requests(pcap, src, ha) if r[0] >= since]
    if not acc:
        sys.exit(1)
    t, p = acc[which]
    print("%.6f %016x %s" % (t, rrq_id(p), p.hex()))


def cmd_reqs(pcap, src, ha, since):
    reqs, codes = [], {}
    for t, s, sp, d, dp, p in pcap_udp(pcap):
        if t < float(since):
            continue
        if s == src and sp == MIP_PORT and d == ha and dp == MIP_PORT \
                and len(p) >= 24 and p[0] == 1:
            reqs.append((t, rrq_id(p)))
        elif s == ha and d == src and len(p) >= 20 and p[0] == 3:
            codes.setdefault(rrp_id(p) & 0xFFFFFFFF, p[1])
    for t, i in reqs:
        print("%.6f %016x %s" % (t, i, codes.get(i & 0xFFFFFFFF, "-")))


def opt(args, name, default=None):
    if name in args:
        i = args.index(name)
        v = args[i + 1]
        del args[i:i + 2]
        return v
    return default


def await_reply(s, want_low, secs=3.0):
    s.settimeout(secs)
    try:
        while True:
            r, _ = s.recvfrom(2048)
            if len(r) >= 20 and r[0] == 3 and \
                    rrp_id(r) & 0xFFFFFFFF == want_low:
                return r, time.time()
    except socket.timeout:
        return None, time.time()


def cmd_resend(*args):
    args = list(args)
    frm = opt(args, "--from")
    which = "--first" if "--first" in args else "--last"
    args = [a for a in args if a not in ("--first", "--last")]
    pcap, src, ha = args
    acc = accepted_requests(pcap, src, ha)
    if not acc:
        print(json.dumps({"error": "no accepted request from %s" % src}))
        sys.exit(1)
    t, p = acc[0] if which == "--first" else acc[-1]
    ident = rrq_id(p)
    s = src_sock(frm or src)
    s.sendto(p, (ha, MIP_PORT))
    sent = time.time()
    r, _ = await_reply(s, ident & 0xFFFFFFFF)
    out = {"frame_time": t, "sent": sent, "resent_after": sent - t,
           "age": sent - ntp_to_epoch(ident), "id": "%016x" % ident,
           "from": "%s:%d" % s.getsockname(), "code": None}
    if r:
        out.update(code=r[1], id_low_match=True,
                   reply_id="%016x" % rrp_id(r))
    print(json.dumps(out))


def build_rrq(ha, hoa, coa, spi, key, lifetime):
    ident = ntp_now()
    head = struct.pack("!BBH4s4s4sQ", 1, 0x20, lifetime,
                       socket.inet_aton(hoa), socket.inet_aton(ha),
                       socket.inet_aton(coa), ident)
    covered = head + struct.pack("!BBI", 32, 20, spi)
    return covered + hmac.new(key, covered, hashlib.md5).digest(), ident


def reply_verifies(r, key):
    # the MN-HA extension is the last one: type 32, length 20, SPI, 16 bytes
    a = r[-22:]
    if len(r) < 42 or a[0] != 32 or a[1] != 20:
        return False
    return hmac.compare_digest(
        hmac.new(key, r[:-16], hashlib.md5).digest(), r[-16:])


def cmd_register(*args):
    args = list(args)
    frm = opt(args, "--from")
    ha, hoa, coa, spi, keyfile, lifetime = args
    key = read_key(keyfile)
    p, ident = build_rrq(ha, hoa, coa, int(spi), key, int(lifetime))
    s = src_sock(frm or coa)
    t0 = time.time()
    s.sendto(p, (ha, MIP_PORT))
    r, t1 = await_reply(s, ident & 0xFFFFFFFF)
    out = {"sent": t0, "reply_at": t1, "code": None}
    if r:
        out.update(code=r[1], lifetime=struct.unpack("!H", r[2:4])[0],
                   id_match=rrp_id(r) == ident,
                   authenticated=reply_verifies(r, key))
    print(json.dumps(out))


def cmd_flood(*args):
    args = list(args)
    frm = opt(args, "--from")
    ha, payload, count, secs = args
    p, n, secs = bytes.fromhex(payload), int(count), float(secs)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if frm:
        s.bind((frm, 0))
    s.setblocking(False)
    codes, replies = {}, 0

    def drain():
        nonlocal replies
        while True:
            try:
                r = s.recv(2048)
            except BlockingIOError:
                return
            replies += 1
            if len(r) > 1:
                codes[r[1]] = codes.get(r[1], 0) + 1

    start = time.time()
    sent = 0
    for i in range(n):
        due = start + secs * i / n
        while time.time() < due:
            drain()
        try:
            s.sendto(p, (ha, MIP_PORT))
            sent += 1
        except BlockingIOError:
            pass
    end = time.time()
    while time.time() < end + 0.5:
        drain()
        time.sleep(0.01)
    print(json.dumps({"sent": sent, "replies": replies,
                      "codes": {str(k): v for k, v in codes.items()},
                      "start": start, "end": end}))


def main():
    cmds = {"arp": cmd_arp, "ipip": cmd_ipip, "sink": cmd_sink,
            "lastreq": cmd_lastreq, "reqs": cmd_reqs, "resend": cmd_resend,
            "register": cmd_register, "flood": cmd_flood}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](*sys.argv[2:])


if __name__ == "__main__":
    main()
