# 60-smtpfault-self: the scripted SMTP fault server (smtpfault.py) does
# what its script says, checked with Python's smtplib and raw sockets:
# exact DATA bytes in the records, per-address RCPT replies, 421, a 554
# greeting, HELO after a refused EHLO, the advertised capabilities,
# STARTTLS and AUTH, a broken TLS handshake, malformed replies, a drop
# mid-DATA, stalls, per-connection behaviour, the connection counter,
# reloading the script, and a loud failure on a busy port.
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d /tmp/postern-test.XXXXXX)
export T
SF=$top/t/e2e/smtpfault.py
SPID=""
stop_server() {
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	SPID=""
	cleanup
}
trap stop_server EXIT
trap 'exit 1' INT TERM HUP

# py WHAT - run the Python client on stdin; helpers from $T/common.py
py() { PYTHONPATH=$T "$PY" - || fail "$1"; }

TLS=""
if command -v openssl >/dev/null 2>&1; then
	openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=mx.test \
	    -keyout "$T/k" -out "$T/c" -days 1 >/dev/null 2>&1 ||
	    fail "openssl req failed"
	TLS=1
else
	echo "SKIP: openssl is missing: no STARTTLS checks"
fi

cat >"$T/script.json" <<'JSON'
{"ehlo": ["PIPELINING", "SIZE 1000000", "8BITMIME", "SMTPUTF8", "DSN",
          "STARTTLS", "ENHANCEDSTATUSCODES", "AUTH PLAIN LOGIN"],
 "rcpt": {"bad*@*": "550 5.1.1 no such user",
          "later*@*": "450 4.2.1 try again later"},
 "mail": {"bad@*": "553 5.7.1 sender rejected",
          "gone@*": "421 4.3.0 going away"},
 "auth_users": {"u": "p"},
 "listeners": {
   "after2": {"421_after": 2},
   "greet554": {"greeting": "554"},
   "noehlo": {"ehlo_refused": true},
   "tlsbroken": {"ehlo": ["STARTTLS"], "starttls": "broken"},
   "garbage": {"greeting": "garbage-code"},
   "mismatch": {"replies": {"EHLO": "mismatched-multiline"}},
   "nocrlf": {"greeting": "no-crlf"},
   "huge": {"greeting": "huge-multiline"},
   "endless": {"greeting": "endless"},
   "raw": {"mail": {"*": {"raw": "25\r\n"}}},
   "drop": {"drop_in_data": 100},
   "refuse": {"greeting": "refuse"},
   "gstall": {"greeting": "stall"},
   "slow": {"stall": {"MAIL": 1}},
   "flaky": {"per_connection": {"1": {"greeting": "421 4.3.2 busy"}}}
 }}
JSON
names="normal after2 greet554 noehlo tlsbroken garbage mismatch nocrlf huge
endless raw drop refuse gstall slow flaky reload"
set --
for n in $names; do set -- "$@" --listen "$n=127.0.0.1:0"; done
"$PY" "$SF" "$@" --script "$T/script.json" --record "$T/rec" \
    ${TLS:+--tls-cert "$T/c" --tls-key "$T/k"} >"$T/ready" 2>"$T/err" &
SPID=$!
want=$(echo $names | wc -w)
wait_eval "[ \"\$(grep -c '^ready ' \"$T/ready\")\" = $want ]" ||
    fail "smtpfault not ready: $(cat "$T/err")"

cat >"$T/common.py" <<'PYEOF'
import base64, glob, json, os, re, smtplib, socket, ssl, sys, time
T = os.environ["T"]
R = os.path.join(T, "rec")
PORTS = {f[1]: int(f[3]) for f in
         (line.split() for line in open(os.path.join(T, "ready")))}

def smtp(name, timeout=10):
    return smtplib.SMTP("127.0.0.1", PORTS[name], timeout=timeout)

def record(name, conn, txn):
    """a transaction's record, once its session has ended (the session's
    last record is rewritten then, with session_end set)"""
    path = f"{R}/{name}-{conn:05d}-{txn:03d}.json"
    for _ in range(200):
        last = sorted(glob.glob(f"{R}/{name}-{conn:05d}-*.json"))
        if last and os.path.exists(path) and \
                json.load(open(last[-1]))["session_end"]:
            return json.load(open(path))
        time.sleep(0.05)
    sys.exit(f"no record {path}, or its session goes on: "
             f"{sorted(os.listdir(R))}")

def connect(name):
    s = socket.create_connection(("127.0.0.1", PORTS[name]), timeout=10)
    return s

def read_until(s, end, limit=1 << 24):
    got = b""
    while not got.endswith(end) and len(got) < limit:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    return got

def expect(cond, what):
    if not cond:
        sys.exit(f"not as expected: {what}")
PYEOF

say "a normal transaction: exact DATA bytes, RCPT replies per address"
py "normal transaction" <<'PY'
from common import *
msg = (b"Subject: exact\r\nX-8bit: \xe9\xff\r\n\r\n.leading dot\r\n"
       b"..two dots\r\n.\r\nlast line\r\n")
s = smtp("normal")
s.ehlo("client.test")
refused = s.sendmail("from@x.test", ["good@y.test", "bad1@y.test",
                                     "later@y.test", "good2@y.test"],
                     msg, mail_options=["BODY=8BITMIME"])
expect(refused == {"bad1@y.test": (550, b"5.1.1 no such user"),
                   "later@y.test": (450, b"4.2.1 try again later")}, refused)
# a second transaction in the same session
s.sendmail("", ["x@y.test"], b"Subject: two\r\n\r\nbody\r\n")
s.quit()
r = record("normal", 1, 1)
expect(r["complete"] and r["mail_from"] == "from@x.test", r["mail_from"])
expect(r["mail_params"] == f"size={len(msg)} BODY=8BITMIME",
       r["mail_params"])
expect(base64.b64decode(r["data_b64"]) == msg, "unstuffed data differs")
wire = re.sub(rb"(?m)^\.", b"..", msg) + b".\r\n"
expect(base64.b64decode(r["data_raw_b64"]) == wire, "wire bytes differ")
expect(r["data_length"] == len(msg) and r["data_raw_length"] == len(wire),
       "lengths")
got = [(x["address"], x["reply"][:3]) for x in r["rcpts"]]
expect(got == [("good@y.test", "250"), ("bad1@y.test", "550"),
               ("later@y.test", "450"), ("good2@y.test", "250")], got)
expect(r["helo"] == "client.test" and r["esmtp"] and not r["tls"], "helo")
expect(r["dot_reply"].startswith("250 "), r["dot_reply"])
expect(r["violations"] == [], r["violations"])
expect(r["commands"][0] == "ehlo client.test\r\n", r["commands"][0])
expect(r["transcript"][0].startswith("S: 220 "), r["transcript"][0])
r2 = record("normal", 1, 2)
expect(r2["mail_from"] == "" and r2["session_end"] == "quit", r2)
expect(r2["commands"][-1] == "quit\r\n", r2["commands"][-1])
expect(base64.b64decode(r2["data_b64"]) == b"Subject: two\r\n\r\nbody\r\n",
       "second message")
PY

say "capabilities as scripted; SIZE enforced; MAIL FROM rejected; 421 to MAIL"
py "capabilities" <<'PY'
from common import *
s = smtp("normal")
code, _ = s.ehlo()
expect(code == 250, code)
f = s.esmtp_features
expect(f.get("size") == "1000000", f)
for k in ("pipelining", "8bitmime", "smtputf8", "dsn", "enhancedstatuscodes",
          "starttls"):
    expect(k in f, k)
expect(f.get("auth", "").split() == ["PLAIN", "LOGIN"], f.get("auth"))
expect(s.mail("a@x.test", ["SIZE=2000000"])[0] == 552, "SIZE over the limit")
s.rset()
expect(s.mail("bad@x.test")[0] == 553, "MAIL pattern")
s.rset()
expect(s.mail("gone@x.test")[0] == 421, "421 to MAIL")
try:
    s.noop()
    sys.exit("still open after 421")
except smtplib.SMTPServerDisconnected:
    pass
r = record("normal", 2, 3)
expect(r["mail_reply"].startswith("421"), r["mail_reply"])
expect("closed after" in r["session_end"], r["session_end"])
expect(record("normal", 2, 2)["mail_reply"].startswith("553"), "553 record")
PY

say "421 after 2 commands: the RCPT gets 421, then the connection closes"
py "421_after" <<'PY'
from common import *
s = smtp("after2")
s.ehlo()
expect(s.mail("a@x.test")[0] == 250, "MAIL")
expect(s.rcpt("b@y.test")[0] == 421, "RCPT")
try:
    s.noop()
    sys.exit("still open after 421")
except smtplib.SMTPServerDisconnected:
    pass
r = record("after2", 1, 1)
expect(r["rcpts"][0]["reply"].startswith("421 4.3.2"), r["rcpts"])
expect(not r["complete"], "complete")
PY

say "greeting 554; refuse; stall"
py "greetings" <<'PY'
from common import *
try:
    smtp("greet554")
    sys.exit("554 greeting accepted")
except smtplib.SMTPConnectError as e:
    expect(e.smtp_code == 554, e.smtp_code)
try:
    smtp("refuse")
    sys.exit("refuse: connected")
except smtplib.SMTPServerDisconnected:
    pass
t0 = time.time()
try:
    smtp("gstall", timeout=1)
    sys.exit("stall: greeted")
except smtplib.SMTPServerDisconnected as e:   # smtplib's word for a timeout
    expect("timed out" in str(e), e)
    expect(time.time() - t0 >= 0.9, "timed out too early")
expect(record("refuse", 1, 0)["session_end"].startswith("dropped"), "refuse")
PY

say "EHLO refused, HELO works"
py "HELO fallback" <<'PY'
from common import *
s = smtp("noehlo")
expect(s.ehlo()[0] == 502, "EHLO")
expect(s.helo("client.test")[0] == 250, "HELO")
expect(s.sendmail("a@x.test", ["b@y.test"], b"Subject: h\r\n\r\nx\r\n") == {},
       "send")
s.quit()
r = record("noehlo", 1, 1)
expect(r["complete"] and not r["esmtp"] and r["helo"] == "client.test", r)
PY

say "drop mid-DATA after 100 bytes"
py "drop_in_data" <<'PY'
from common import *
s = smtp("drop")
try:
    s.sendmail("a@x.test", ["b@y.test"], b"Subject: big\r\n\r\n" +
               b"0123456789" * 1000 + b"\r\n")
    sys.exit("message accepted")
except (smtplib.SMTPServerDisconnected, ConnectionError):
    pass
r = record("drop", 1, 1)
expect(not r["complete"] and r["data_raw_length"] == 100, r["data_raw_length"])
expect(r["data_b64"] is None and r["dot_reply"] is None, "data")
expect("after 100 bytes" in r["session_end"], r["session_end"])
PY

say "stall on MAIL for 1 second"
py "stall" <<'PY'
from common import *
s = smtp("slow")
s.ehlo()
t0 = time.time()
expect(s.mail("a@x.test")[0] == 250, "MAIL")
expect(time.time() - t0 >= 0.95, "no stall")
s.quit()
PY

say "per-connection behaviour, connection counter"
py "per_connection" <<'PY'
from common import *
try:
    smtp("flaky")
    sys.exit("first connection greeted with 220")
except smtplib.SMTPConnectError as e:
    expect(e.smtp_code == 421, e.smtp_code)
s = smtp("flaky")
s.quit()
expect(open(f"{R}/connections.flaky").read() == "2\n", "connections.flaky")
counts = json.load(open(f"{R}/connections"))
expect(counts["flaky"] == 2 and counts["huge"] == 0, counts)
PY

say "malformed replies, read raw"
py "malformed" <<'PY'
from common import *
s = connect("garbage")
expect(read_until(s, b"\r\n") == b"abc not a reply code\r\n", "garbage-code")
s.close()

s = connect("nocrlf")
s.settimeout(1)
got = b""
try:
    while True:
        chunk = s.recv(100)
        if not chunk:
            break
        got += chunk
except socket.timeout:
    pass
expect(got == b"220 no line end", got)
s.close()

s = connect("mismatch")
read_until(s, b"\r\n")
s.sendall(b"EHLO c\r\n")
got = read_until(s, b"code\r\n")
expect(got == b"250-first line\r\n550 last line with another code\r\n", got)
s.close()

s = connect("huge")
got = read_until(s, b"220 end of 100000 lines\r\n")
lines = got.split(b"\r\n")[:-1]
expect(len(lines) == 100001, len(lines))
expect(all(l.startswith(b"220-") for l in lines[:-1]), "continuations")
s.close()

s = connect("endless")
got = read_until(s, b"never", limit=2 << 20)
expect(len(got) >= 2 << 20, len(got))
lines = got.split(b"\r\n")[:-1]
expect(all(l.startswith(b"220-endless line ") for l in lines), "endless")
s.close()

s = connect("raw")
read_until(s, b"\r\n")
s.sendall(b"EHLO c\r\n")
read_until(s, b"250 AUTH PLAIN LOGIN\r\n")
s.sendall(b"MAIL FROM:<a@x.test>\r\n")
expect(read_until(s, b"\r\n") == b"25\r\n", "raw reply")
s.close()
PY

if [ -n "$TLS" ]; then
	say "STARTTLS with the test certificate; AUTH over TLS"
	py "STARTTLS" <<'PY'
from common import *
ctx = ssl.create_default_context(cafile=f"{T}/c")
s = smtp("normal")
s.ehlo()
s._host = "mx.test"     # smtplib takes SNI and the name to check from here
s.starttls(context=ctx)
s.ehlo()
expect("starttls" not in s.esmtp_features, "STARTTLS after TLS")
try:
    s.login("u", "wrong")
    sys.exit("wrong password accepted")
except smtplib.SMTPAuthenticationError as e:
    expect(e.smtp_code == 535, e.smtp_code)
s.login("u", "p")
s.sendmail("a@x.test", ["b@y.test"], b"Subject: tls\r\n\r\nsecret\r\n")
s.quit()
r = record("normal", 3, 1)
expect(r["tls"] and r["tls_version"].startswith("TLSv1."), r["tls_version"])
expect(r["tls_sni"] == "mx.test", r["tls_sni"])
expect(r["auth"] == {"mechanism": "PLAIN", "user": "u", "password": "p",
                     "reply": "235 2.7.0 authenticated"}, r["auth"])
expect(base64.b64decode(r["data_b64"]) == b"Subject: tls\r\n\r\nsecret\r\n",
       "data over TLS")
expect(any(l.startswith("-- TLS on: TLSv1.") for l in r["transcript"]),
       r["transcript"])
PY
	say "STARTTLS: plaintext pipelined after it is discarded and noted"
	py "STARTTLS injection" <<'PY'
from common import *
s = connect("normal")
read_until(s, b"\r\n")
s.sendall(b"EHLO c\r\n")
read_until(s, b"250 AUTH PLAIN LOGIN\r\n")
s.sendall(b"STARTTLS\r\nNOOP\r\n")
expect(read_until(s, b"\r\n").startswith(b"220 "), "220")
s.close()
r = record("normal", 4, 0)
expect(r["starttls_injected"] == "NOOP\r\n", r["starttls_injected"])
expect("plaintext sent after STARTTLS before the handshake"
       in r["violations"], r["violations"])
PY
	say "broken TLS handshake"
	py "broken TLS" <<'PY'
from common import *
s = smtp("tlsbroken")
s.ehlo()
expect(s.esmtp_features.keys() == {"starttls"}, s.esmtp_features)
try:
    s.starttls(context=ssl._create_unverified_context())
    sys.exit("handshake succeeded")
except ssl.SSLError:
    pass
r = record("tlsbroken", 1, 0)
expect(not r["tls"] and r["session_end"] == "TLS broken (scripted)",
       r["session_end"])
PY
fi

say "the script is re-read when it changes"
py "reload before" <<'PY'
from common import *
s = smtp("reload")
expect(s.ehlo()[0] == 250, "ehlo")
s.quit()
PY
sed 's/"flaky":/"reload": {"greeting": "554 5.3.2 reloaded"}, "flaky":/' \
    "$T/script.json" >"$T/script.new"
mv "$T/script.new" "$T/script.json"
py "reload after" <<'PY'
from common import *
try:
    smtp("reload")
    sys.exit("old script still in use")
except smtplib.SMTPConnectError as e:
    expect(e.smtp_code == 554 and e.smtp_error == b"5.3.2 reloaded", e)
PY

say "a listener on a busy port fails loudly"
port=$(awk '$2 == "normal" { print $4 }' "$T/ready")
timeout 10 "$PY" "$SF" --listen "127.0.0.1:$port" --record "$T/rec2" \
    >"$T/busy.out" 2>"$T/busy.err"
rc=$?
[ $rc = 2 ] || fail "busy port: exit $rc, want 2"
grep -q "cannot listen on 127.0.0.1:$port.*in use" "$T/busy.err" ||
    fail "busy port: message: $(cat "$T/busy.err")"
[ ! -s "$T/busy.out" ] || fail "busy port: said ready"

kill -0 "$SPID" 2>/dev/null || fail "smtpfault died: $(cat "$T/err")"
[ ! -s "$T/err" ] || fail "smtpfault complained: $(cat "$T/err")"
echo ok
