#!/usr/bin/python3
"""dnsfake - a scripted DNS server for postern's tests (stdlib only).

Usage: dnsfake.py ZONE.json PORT [ADDRESS]

Listens on ADDRESS (default 127.0.0.1; "::1" for IPv6) at PORT over UDP
and TCP (PORT 0: pick a free one, the same for both), prints "ready PORT"
on stdout once listening, and answers from the zone file until killed.
Each query is logged on stderr as "udp|tcp NAME TYPE -> WHAT".

The zone is a JSON object of names (case-insensitive, trailing dot
optional) to entries:

  {"example.test": {"MX": [[10, "mx1.example.test"], [0, "."]],
                    "A": ["127.0.0.2"], "AAAA": ["::1"],
                    "CNAME": "other.test",
                    "rcode": "SERVFAIL"}}

"rcode" is one mode for every type, or an object of type -> mode
({"AAAA": "timeout"}). Modes:
  NXDOMAIN, SERVFAIL, REFUSED, FORMERR  that rcode, no records
  timeout        no reply at all
  truncate       over UDP: TC set, no records; over TCP: the real answer
  garbage        one MX/A record whose data length runs past the packet
  garbage-loop   one record whose name is a compression pointer to itself
  garbage-count  ANCOUNT 65535 with one real record after it
  garbage-rdata  each record's data one byte longer than its content
  garbage-random ANCOUNT 50 and random bytes
A name that is not in the zone is NXDOMAIN; a name without records of the
asked type (and no CNAME) is NOERROR with no answer (NODATA). A CNAME is
answered with the chain (at most 10 links, loops included) and then the
records of the last name. Names in records are written label by label as
UTF-8 without any check, so a zone can serve names no real server would
("a;b.test", "127.0.0.1", a 64-octet label); "." is the root. The owner of
records for the asked name is a compression pointer to the question.
UDP answers larger than 512 bytes (or the EDNS size, at most 4096) are
sent truncated (TC, no records), as a real server does.
"""
import json
import random
import socket
import struct
import sys
import threading

TYPES = {"A": 1, "CNAME": 5, "MX": 15, "AAAA": 28}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
RCODES = {"NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3,
          "NOTIMP": 4, "REFUSED": 5}


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def canon(name):
    name = name.lower()
    return name[:-1] if name.endswith(".") and name != "." else name


def encode_name(name):
    if name in (".", ""):
        return b"\x00"
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("utf-8")
        out += bytes([len(raw) & 0xFF]) + raw
    return out + b"\x00"


def parse_query(msg):
    """(id, flags, qname, qtype, qclass, question bytes, edns size)"""
    if len(msg) < 12:
        return None
    qid, flags, qd, an, ns, ar = struct.unpack("!6H", msg[:12])
    if qd != 1:
        return None
    pos, labels = 12, []
    while True:
        if pos >= len(msg):
            return None
        n = msg[pos]
        pos += 1
        if n == 0:
            break
        if n > 63 or pos + n > len(msg):
            return None
        labels.append(msg[pos:pos + n].decode("latin-1"))
        pos += n
    if pos + 4 > len(msg):
        return None
    qtype, qclass = struct.unpack("!2H", msg[pos:pos + 4])
    question = msg[12:pos + 4]
    edns = 512
    rest = msg[pos + 4:]
    # An OPT record: root name, type 41, class = the UDP payload size.
    if ar >= 1 and len(rest) >= 11 and rest[0] == 0 and \
            struct.unpack("!H", rest[1:3])[0] == 41:
        edns = max(512, min(4096, struct.unpack("!H", rest[3:5])[0]))
    return qid, flags, ".".join(labels), qtype, qclass, question, edns


def header(qid, qflags, rcode, an, tc=False):
    flags = 0x8000 | 0x0400 | (qflags & 0x0100) | 0x0080 | rcode
    if tc:
        flags |= 0x0200
    return struct.pack("!6H", qid, flags, 1, an, 0, 0)


def rr(owner, rtype, rdata, extra=b""):
    """one record; extra octets past the data are counted in its length"""
    rdata += extra
    return owner + struct.pack("!HHIH", rtype, 1, 300, len(rdata)) + rdata


def rdata_of(rtype, value):
    if rtype == 1:
        return socket.inet_pton(socket.AF_INET, value)
    if rtype == 28:
        return socket.inet_pton(socket.AF_INET6, value)
    if rtype == 15:
        return struct.pack("!H", value[0]) + encode_name(value[1])
    return encode_name(value)


class Zone:
    def __init__(self, path):
        with open(path) as f:
            raw = json.load(f)
        self.names = {canon(k): v for k, v in raw.items()}

    def mode(self, name, qtype):
        entry = self.names.get(name)
        if entry is None:
            return "NXDOMAIN"
        m = entry.get("rcode")
        if isinstance(m, dict):
            m = m.get(TYPE_NAMES.get(qtype, ""), None)
        return m

    def records(self, qname, qtype, extra=b""):
        """the answer records: the CNAME chain, then the wanted ones"""
        out, name, owner = [], canon(qname), b"\xc0\x0c"
        for _ in range(10):
            entry = self.names.get(name, {})
            if qtype != 5 and "CNAME" in entry:
                out.append(rr(owner, 5, encode_name(entry["CNAME"]), extra))
                name = canon(entry["CNAME"])
                owner = encode_name(name)
                continue
            for value in entry.get(TYPE_NAMES.get(qtype, "?"), []):
                out.append(rr(owner, qtype, rdata_of(qtype, value), extra))
            break
        return out


def garbage(mode, q, qtype):
    qid, qflags, _, _, _, question, _ = q
    start = 12 + len(question)
    if mode == "garbage-loop":
        body = struct.pack("!H", 0xC000 | start) + \
            struct.pack("!HHIH", qtype, 1, 300, 4) + b"\x7f\x00\x00\x01"
        return header(qid, qflags, 0, 1) + question + body
    if mode == "garbage-random":
        body = bytes(random.getrandbits(8) for _ in range(200))
        return header(qid, qflags, 0, 50) + question + body
    if mode == "garbage-count":
        body = rr(b"\xc0\x0c", qtype, b"\x00\x0a\x00" if qtype == 15
                  else b"\x7f\x00\x00\x01")
        return header(qid, qflags, 0, 65535) + question + body
    # garbage: a record claiming 200 octets of data, 3 present
    body = b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 300, 200) + b"\x00\x0a\x00"
    return header(qid, qflags, 0, 1) + question + body


def answer(zone, msg, proto):
    """the reply bytes, or None for no reply"""
    q = parse_query(msg)
    if q is None:
        if len(msg) >= 12:
            qid, qflags = struct.unpack("!2H", msg[:4])
            return struct.pack("!6H", qid, 0x8000 | 1, 0, 0, 0, 0)
        return None
    qid, qflags, qname, qtype, _, question, edns = q
    name = canon(qname)
    mode = zone.mode(name, qtype)
    what = mode or "answer"
    log("%s %s %s -> %s" % (proto, name, TYPE_NAMES.get(qtype, qtype), what))
    if mode == "timeout":
        return None
    if mode in RCODES:
        return header(qid, qflags, RCODES[mode], 0) + question
    if mode and mode.startswith("garbage"):
        if mode == "garbage-rdata":
            recs = zone.records(name, qtype, b"\x00")
            return header(qid, qflags, 0, len(recs)) + question + b"".join(recs)
        return garbage(mode, q, qtype)
    recs = zone.records(name, qtype)
    reply = header(qid, qflags, 0, len(recs)) + question + b"".join(recs)
    if proto == "udp" and (mode == "truncate" or len(reply) > edns):
        log("udp %s truncated" % name)
        return header(qid, qflags, 0, 0, tc=True) + question
    return reply


def serve_udp(sock, zone):
    while True:
        msg, peer = sock.recvfrom(65535)
        reply = answer(zone, msg, "udp")
        if reply is not None:
            sock.sendto(reply, peer)


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def serve_tcp_conn(conn, zone):
    with conn:
        while True:
            head = recv_exact(conn, 2)
            if head is None:
                return
            msg = recv_exact(conn, struct.unpack("!H", head)[0])
            if msg is None:
                return
            reply = answer(zone, msg, "tcp")
            if reply is not None:
                conn.sendall(struct.pack("!H", len(reply)) + reply)


def serve_tcp(sock, zone):
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=serve_tcp_conn, args=(conn, zone),
                         daemon=True).start()


def bind_both(address, port):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    for _ in range(50):
        udp = socket.socket(family, socket.SOCK_DGRAM)
        udp.bind((address, port))
        chosen = udp.getsockname()[1]
        tcp = socket.socket(family, socket.SOCK_STREAM)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            tcp.bind((address, chosen))
        except OSError:
            udp.close()
            tcp.close()
            if port != 0:
                raise
            continue
        tcp.listen(16)
        return udp, tcp, chosen
    raise OSError("no port free for both UDP and TCP")


def main():
    if len(sys.argv) not in (3, 4):
        sys.stderr.write("usage: dnsfake.py ZONE.json PORT [ADDRESS]\n")
        return 2
    zone = Zone(sys.argv[1])
    address = sys.argv[3] if len(sys.argv) == 4 else "127.0.0.1"
    udp, tcp, port = bind_both(address, int(sys.argv[2]))
    threading.Thread(target=serve_tcp, args=(tcp, zone), daemon=True).start()
    sys.stdout.write("ready %d\n" % port)
    sys.stdout.flush()
    serve_udp(udp, zone)
    return 0


if __name__ == "__main__":
    sys.exit(main())
