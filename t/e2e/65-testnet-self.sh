# 65-testnet-self: the test network the remote-delivery tests use
# (remotenet.sh, testca.sh, smtpsink.py) works, checked with raw DNS
# queries and Python's smtplib: dnsmasq answers MX, A, AAAA, the null MX
# and NXDOMAIN over UDP and TCP, and refuses a zone it cannot serve;
# dnsfake.py answers a scripted SERVFAIL; the test CA's certificates
# verify; smtpsink.py records messages byte for byte, plain and over
# STARTTLS, answers chosen RCPTs as told, counts connections; Postfix's
# smtp-sink accepts and counts a message; remotenet_stop stops them all.
# The build is not needed.
. "$(dirname "$0")/lib.sh"
. "$top/t/e2e/testca.sh"
. "$top/t/e2e/remotenet.sh"
T=$(mktemp -d /tmp/postern-test.XXXXXX)
export T

# py WHAT - run the Python client on stdin; helpers from $T/common.py
py() { PYTHONPATH=$T "$PY" - || fail "$1"; }

cat >"$T/common.py" <<'PYEOF'
import glob, json, os, smtplib, socket, ssl, sys, time
T = os.environ["T"]
PORTS = {f[0]: (f[1], int(f[2])) for f in
         (line.split() for line in open(os.path.join(T, "ports")))}

def smtp(name, timeout=10):
    return smtplib.SMTP(*PORTS[name], timeout=timeout)

def record(n, sink=1):
    """smtpsink's record n: (json, eml bytes)"""
    path = f"{T}/sink-{sink}/{n:06d}"
    for _ in range(200):
        if os.path.exists(path + ".json"):
            return json.load(open(path + ".json")), \
                open(path + ".eml", "rb").read()
        time.sleep(0.05)
    sys.exit(f"no record {path}.json")

def expect(cond, what):
    if not cond:
        sys.exit(f"not as expected: {what}")
PYEOF

# q NAME TYPE [tcp] - the answer of the DNS server on one line
q() { dns_query "$@" | tr '\n' ' ' | sed 's/ $//'; }
# expect_dns WANT NAME TYPE [tcp]
expect_dns() {
	want=$1; shift
	got=$(q "$@")
	[ "$got" = "$want" ] || fail "DNS $*: got '$got', want '$want'"
}

say "dnsmasq: MX, A, AAAA, null MX, NODATA and NXDOMAIN, over UDP and TCP"
cat >"$T/zone.json" <<'JSON'
{"example.test": {"MX": [[10, "mx1.example.test"], [20, "mx2.example.test"]]},
 "mx1.example.test": {"A": ["127.0.0.11"]},
 "mx2.example.test": {"A": ["127.0.0.12", "127.0.0.13"], "AAAA": ["::1"]},
 "NullMX.test.": {"MX": [[0, "."]]},
 "empty.test": {}}
JSON
start_dns "$T/zone.json"
[ -n "$DNS_PORT" ] && [ "$DNS_PORT" -ge 1024 ] || fail "DNS_PORT '$DNS_PORT'"
kill -0 "$DNS_PID" 2>/dev/null || fail "DNS_PID '$DNS_PID'"
for proto in udp tcp; do
	got=$(dns_query example.test MX $proto | sort | tr '\n' ' ')
	[ "$got" = "MX 10 mx1.example.test MX 20 mx2.example.test NOERROR " ] ||
	    fail "MX over $proto: $got"
	expect_dns "NOERROR A 127.0.0.11" mx1.example.test A $proto
	expect_dns "NOERROR MX 0 ." nullmx.test MX $proto
	expect_dns "NXDOMAIN" nope.example.test MX $proto
done
got=$(dns_query mx2.example.test A | sort | tr '\n' ' ')
[ "$got" = "A 127.0.0.12 A 127.0.0.13 NOERROR " ] || fail "two A: $got"
expect_dns "NOERROR AAAA ::1" mx2.example.test AAAA
expect_dns "NOERROR" example.test A		# NODATA
expect_dns "NOERROR" mx1.example.test AAAA
expect_dns "NOERROR" mx1.example.test MX
expect_dns "NOERROR" nullmx.test A
expect_dns "NOERROR" empty.test MX
expect_dns "NXDOMAIN" nope.test A
expect_dns "NXDOMAIN" example.com MX		# outside .test: no upstream
expect_dns "NXDOMAIN" localhost A		# no /etc/hosts
grep -q 'query\[MX\] example.test from 127.0.0.1' "$T/dns.log" ||
    fail "dnsmasq did not log the query: $(cat "$T/dns.log")"
# the null MX on the wire: preference 0, the root name, 3 octets of data
py "null MX bytes" <<PY
import socket, struct
q = struct.pack("!6H", 7, 0x100, 1, 0, 0, 0) + b"\x06nullmx\x04test\x00" + \
    struct.pack("!2H", 15, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(q, ("127.0.0.1", $DNS_PORT))
r = s.recv(512)
ans = r[len(q):]
if struct.unpack("!H", r[6:8])[0] != 1 or \
        ans[2:10] != struct.pack("!HHI", 15, 1, 0) or \
        ans[10:] != b"\x00\x03\x00\x00\x00":
    raise SystemExit(f"null MX answer: {r.hex()}")
PY

say "start_dns refuses what dnsmasq cannot serve"
echo '{"x.test": {"rcode": "SERVFAIL"}}' >"$T/bad.json"
(start_dns "$T/bad.json") >"$T/bad.out" 2>&1 && fail "start_dns took rcode"
grep -q "use start_fakedns" "$T/bad.out" ||
    fail "start_dns refusal: $(cat "$T/bad.out")"

say "dnsfake through start_fakedns: a scripted SERVFAIL"
dnsmasq_port=$DNS_PORT
echo '{"x.test": {"rcode": "SERVFAIL"}, "y.test": {"A": ["127.0.0.9"]}}' \
    >"$T/fake.json"
start_fakedns "$T/fake.json"
[ "$DNS_PORT" != "$dnsmasq_port" ] || fail "start_fakedns: same port"
expect_dns "SERVFAIL" x.test MX
expect_dns "NOERROR A 127.0.0.9" y.test A tcp

say "the test CA"
make_ca "$T/ca" || fail "make_ca"
make_cert "$T/ca" mx1 mx1.example.test 127.0.0.11 || fail "make_cert"
openssl verify -CAfile "$T/ca/ca.pem" "$T/ca/mx1.pem" >/dev/null ||
    fail "the certificate does not verify"
openssl x509 -in "$T/ca/mx1.pem" -noout -subject | grep -q 'CN *= *mx1.example.test' ||
    fail "CN"
(make_cert "$T/nowhere" x x.test) 2>/dev/null && fail "make_cert without a CA"

say "smtpsink: plain, 8-bit, dot lines; RCPT replies; counters"
start_sink mx1=127.0.0.11:0 mx2=127.0.0.12:0 \
    --tls-cert "$T/ca/mx1.pem" --tls-key "$T/ca/mx1.key" \
    --rcpt-reply 'bad*@*=550 5.1.1 no such user' \
    --rcpt-reply 'full@*=452 4.2.2 mailbox full'
[ "$(host_of mx2)" = 127.0.0.12 ] || fail "host_of mx2: $(host_of mx2)"
[ -n "$(port_of mx1)" ] && [ "$(port_of mx1)" != 0 ] || fail "port_of mx1"
[ "$(sink_count)" = 0 ] && [ "$(sink_connections mx1)" = 0 ] ||
    fail "a fresh sink is not empty"
py "plain" <<'PY'
from common import *
msg = (b"Subject: exact\r\nX-8bit: \xe9\xff\r\n\r\n.leading dot\r\n"
       b"..two dots\r\n.\r\nlast line\r\n")
s = smtp("mx2")
s.ehlo("client.test")
f = s.esmtp_features
for k in ("8bitmime", "size", "starttls", "pipelining"):
    expect(k in f, f"{k} in {f}")
refused = s.sendmail("from@x.test", ["good@y.test", "bad1@y.test",
                                     "full@y.test"], msg,
                     mail_options=["BODY=8BITMIME"])
expect(refused == {"bad1@y.test": (550, b"5.1.1 no such user"),
                   "full@y.test": (452, b"4.2.2 mailbox full")}, refused)
s.sendmail("", ["x@y.test"], b"Subject: bounce\r\n\r\nbody\r\n")
s.quit()
r, eml = record(1)
expect(eml == msg, f"content differs: {eml!r}")
expect(r["listener"] == "mx2" and r["helo"] == "client.test", r)
expect(r["mail_from"] == "from@x.test" and r["rcpt_tos"] == ["good@y.test"],
       r)
expect("BODY=8BITMIME" in r["mail_options"] and r["tls"] is None, r)
r, eml = record(2)
expect(r["mail_from"] == "" and r["connection"] == 1, r)
PY
[ "$(sink_count)" = 2 ] || fail "sink_count $(sink_count)"
[ "$(sink_count mx2)" = 2 ] && [ "$(sink_count mx1)" = 0 ] ||
    fail "sink_count per listener"
[ "$(sink_connections mx2)" = 1 ] || fail "connections $(sink_connections mx2)"

say "smtpsink: STARTTLS verified against the test CA"
py "STARTTLS" <<'PY'
from common import *
ctx = ssl.create_default_context(cafile=f"{T}/ca/ca.pem")
msg = b"Subject: over TLS\r\n\r\n\xc3\xa9t\xc3\xa9\r\n.\r\n"
s = smtp("mx1")
s.ehlo("c.test")
s.starttls(context=ctx)           # checks the name 127.0.0.11 (an IP SAN)
s.ehlo("c2.test")
expect("starttls" not in s.esmtp_features, s.esmtp_features)
s.sendmail("a@x.test", ["b@y.test"], msg)
s.quit()
r, eml = record(3)
expect(eml == msg, eml)
expect(r["tls"] and r["tls"]["version"].startswith("TLSv1."), r["tls"])
expect(r["helo"] == "c2.test" and r["listener"] == "mx1", r)
# the certificate is not good for another name
s = smtp("mx1")
s.ehlo("c.test")
s._host = "other.test"
try:
    s.starttls(context=ctx)
    sys.exit("a certificate for mx1 verified for other.test")
except ssl.SSLCertVerificationError:
    pass
PY
wait_sink 3 || fail "wait_sink 3"
wait_eval '[ "$(sink_connections mx1)" = 2 ]' ||
    fail "mx1 connections: $(sink_connections mx1)"

say "smtp-sink accepts and counts"
start_smtp_sink ss=127.0.0.15:0
py "smtp-sink" <<'PY'
from common import *
s = smtp("ss")
s.ehlo("client.test")
s.sendmail("a@x.test", ["b@y.test", "c@y.test"],
           b"Subject: to smtp-sink\r\n\r\n.dot\r\nbody \xe9\r\n",
           mail_options=["BODY=8BITMIME"])
s.quit()
PY
wait_smtp_sink ss 1 || fail "smtp-sink count: $(smtp_sink_count ss)"
wait_eval '[ "$(smtp_sink_sessions ss)" = 1 ]' ||
    fail "smtp-sink sessions: $(smtp_sink_sessions ss)"
f=$(smtp_sink_files ss)
[ "$(echo "$f" | wc -l)" = 1 ] && [ -f "$f" ] || fail "dump files: $f"
grep -q '^X-Mail-Args: <a@x.test> BODY=8BITMIME$' "$f" &&
    [ "$(grep -c '^X-Rcpt-Args: ' "$f")" = 2 ] &&
    grep -q '^\.dot$' "$f" || fail "dump: $(cat "$f")"

say "remotenet_stop stops every server"
pids=$RN_PIDS
[ "$(echo $pids | wc -w)" -ge 4 ] || fail "servers recorded: $pids"
remotenet_stop
for p in $pids; do
	kill -0 "$p" 2>/dev/null && fail "server $p still running"
done
[ -z "$RN_PIDS" ] || fail "RN_PIDS: $RN_PIDS"
for d in "$T"/sink-*; do
	grep -q Traceback "$d/log" && fail "smtpsink: $(cat "$d/log")"
done
echo ok
