# 74-remote-faults: remote delivery against SMTP servers that misbehave
# (smtpfault.py), one destination per fault, all at once, each deferred
# or failed exactly as it should be, while the queue manager and its
# postern-remote workers keep running:
#  - a 554 greeting: deferred (not failed), with the server's words;
#  - a 421 greeting on the first MX: delivered through the second MX;
#  - the connection dropped in the middle of DATA: deferred, then the
#    retry (retry_schedule 2s) delivers the whole message when the server
#    behaves on its second connection;
#  - 421 in reply to RCPT: the next MX delivers; with no other MX,
#    deferred with the 421 text;
#  - a server that never greets: deferred after smtp_greeting_timeout
#    (2s) with "timed out";
#  - malformed replies (garbage code, multi-line codes that differ, no
#    CRLF, a line of 1 MB, 100,000 lines, an endless reply): deferred, no
#    hang, no worker lost (no 4.3.0), and a later message to a good
#    server is delivered;
#  - SIZE 1000 and a 5000-byte message: failed at once, dsn=5.3.4, no
#    MAIL and no DATA sent;
#  - a UTF-8 recipient: failed with dsn=5.6.7 by a server without
#    SMTPUTF8, delivered with MAIL ... SMTPUTF8 to one that has it;
#  - EHLO refused: HELO, delivered;
#  - a bare CR in the body never reaches the wire as a bare CR;
#  - replies of the wrong class: 250 to DATA (no 354, so no message
#    went over) and 354 to RCPT are not success: deferred, and no worker
#    is lost over them.
# Addresses 127.0.0.80 .. 127.0.0.97, all on one port, and two more
# servers on a second port, reached through routes_file.
. "$(dirname "$0")/lib.sh"
. "$top/t/e2e/remotenet.sh"

P=$(free_port)
P2=$(free_port)
[ "$P2" != "$P" ] || P2=$(free_port)
instance "relayhost =" "smtp_port = $P" \
    "retry_schedule = 2s 1h" \
    "smtp_connect_timeout = 2s" "smtp_greeting_timeout = 2s" \
    "smtp_command_timeout = 3s" "smtp_data_timeout = 3s" \
    "connection_cache_time = 1s"

# the zone: a domain per fault, each MX host on its own address
"$PY" - "$T/zone.json" <<'PY'
import json, sys
mx = {  # domain: [(pref, host, address)]
    "d554.test": [(10, "mx.d554.test", "127.0.0.80")],
    "d421.test": [(10, "mx1.d421.test", "127.0.0.81"),
                  (20, "mx2.d421.test", "127.0.0.82")],
    "ddrop.test": [(10, "mx.ddrop.test", "127.0.0.83")],
    "dr421.test": [(10, "mx1.dr421.test", "127.0.0.84"),
                   (20, "mx2.dr421.test", "127.0.0.85")],
    "dr421only.test": [(10, "mx.dr421only.test", "127.0.0.84")],
    "dstall.test": [(10, "mx.dstall.test", "127.0.0.86")],
    "dgarbage.test": [(10, "mx.dgarbage.test", "127.0.0.87")],
    "dmismatch.test": [(10, "mx.dmismatch.test", "127.0.0.88")],
    "dnocrlf.test": [(10, "mx.dnocrlf.test", "127.0.0.89")],
    "dhuge.test": [(10, "mx.dhuge.test", "127.0.0.90")],
    "dendless.test": [(10, "mx.dendless.test", "127.0.0.91")],
    "dlong.test": [(10, "mx.dlong.test", "127.0.0.92")],
    "dsize.test": [(10, "mx.dsize.test", "127.0.0.93")],
    "dnoutf8.test": [(10, "mx.dnoutf8.test", "127.0.0.94")],
    "dutf8.test": [(10, "mx.dutf8.test", "127.0.0.95")],
    "dhelo.test": [(10, "mx.dhelo.test", "127.0.0.96")],
    "dgood.test": [(10, "mx.dgood.test", "127.0.0.97")],
}
zone = {}
for dom, hosts in mx.items():
    zone[dom] = {"MX": [[p, h] for p, h, _ in hosts]}
    for _, h, a in hosts:
        zone[h] = {"A": [a]}
json.dump(zone, open(sys.argv[1], "w"), indent=1)
PY
start_dns "$T/zone.json"
# (dnsmasq's port is known only now; the queue manager is not started yet)
echo "dns_servers = 127.0.0.1:$DNS_PORT" >>"$T/etc/postern.conf"

cat >"$T/script.json" <<'JSON'
{"listeners": {
  "g554": {"greeting": "554 5.7.1 no service here, go away"},
  "g421": {"greeting": "421 4.3.2 too busy to greet"},
  "drop": {"per_connection": {"1": {"drop_in_data": 100}}},
  "r421a": {"rcpt": "421 4.3.2 shutting down, no recipients"},
  "stall": {"greeting": "stall"},
  "garbage": {"greeting": "garbage-code"},
  "mismatch": {"replies": {"EHLO": "mismatched-multiline"}},
  "nocrlf": {"greeting": "no-crlf"},
  "huge": {"greeting": "huge-multiline"},
  "endless": {"replies": {"EHLO": "endless"}},
  "longline": {"greeting": "long-line"},
  "small": {"ehlo": ["PIPELINING", "SIZE 1000", "8BITMIME",
                     "ENHANCEDSTATUSCODES"]},
  "noutf8": {"ehlo": ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"]},
  "noehlo": {"ehlo_refused": true},
  "data250": {"data": "250 2.0.0 no need for data"},
  "rcpt354": {"rcpt": "354 3.0.0 go ahead, whatever that means"}
}}
JSON
start_fault "$T/script.json" \
    g554=127.0.0.80:$P g421=127.0.0.81:$P good2=127.0.0.82:$P \
    drop=127.0.0.83:$P r421a=127.0.0.84:$P r421b=127.0.0.85:$P \
    stall=127.0.0.86:$P garbage=127.0.0.87:$P mismatch=127.0.0.88:$P \
    nocrlf=127.0.0.89:$P huge=127.0.0.90:$P endless=127.0.0.91:$P \
    longline=127.0.0.92:$P small=127.0.0.93:$P noutf8=127.0.0.94:$P \
    utf8=127.0.0.95:$P noehlo=127.0.0.96:$P good=127.0.0.97:$P \
    data250=127.0.0.97:$P2 rcpt354=127.0.0.96:$P2
FD=$FAULT_DIR
printf 'ddata250.test [127.0.0.97]:%s\ndrcpt354.test [127.0.0.96]:%s\n' \
    "$P2" "$P2" >"$T/etc/routes"

# connections NAME - connections listener NAME accepted
connections() { cat "$FD/connections.$1" 2>/dev/null || echo 0; }
# logline ADDR - the log lines about recipient ADDR
logline() { grep -F "to=<$1>," "$T/log"; }
# want_log ADDR REGEX WHAT - wait for a line about ADDR matching REGEX
want_log() {
	wait_eval "logline '$1' | grep -qE -- '$2'" ||
	    fail "$3: want /$2/ for $1, the log has: $(logline "$1")"
}
# first_status ADDR - status= of the first attempt for ADDR
first_status() {
	logline "$1" | head -n 1 | sed -n 's/.*, status=\([a-z]*\).*/\1/p'
}
# qid ADDR - the queue id of the message to ADDR, from the log
qid() { logline "$1" | head -n 1 | sed 's/.*: \([0-9A-Z]*\): to=<.*/\1/'; }
# transcript_has ADDR TEXT... - the recipient is deferred and the
# transcript of its last attempt has each TEXT
transcript_has() {
	_a=$1; shift
	ctl show "$(qid "$_a")" --json --transcript >"$T/show.json" ||
	    fail "ctl show for $_a"
	"$PY" - "$T/show.json" "$_a" "$@" <<'PY' || fail "transcript of $_a"
import json, sys
m = json.load(open(sys.argv[1]))
r = [x for x in m["recipients"] if x["address"] == sys.argv[2]]
if len(r) != 1 or r[0]["state"] != "deferred":
    sys.exit(f"want one deferred recipient {sys.argv[2]}: {m}")
xs = r[0].get("transcript") or ""
for want in sys.argv[3:]:
    if want not in xs:
        sys.exit(f"{want!r} is not in the transcript:\n{xs}")
PY
}
# pyrec WHAT - a Python check on stdin, with FD and helpers
pyrec() { FD=$FD PYTHONPATH=$T "$PY" - || fail "$1"; }
cat >"$T/rec.py" <<'PYEOF'
import base64, glob, json, os, re, sys, time
FD = os.environ["FD"]

def records(name):
    return [json.load(open(p)) for p in
            sorted(glob.glob(f"{FD}/{name}-[0-9]*.json"))]

def ended(name, conn):
    """the last record of connection conn, once its session ended"""
    for _ in range(200):
        recs = [r for r in records(name) if r["connection"] == conn]
        if recs and recs[-1]["session_end"]:
            return recs
        time.sleep(0.05)
    sys.exit(f"{name}: connection {conn}'s session never ended: {recs}")

def raw(r):
    return base64.b64decode(r["data_raw_b64"]) if r["data_raw_b64"] else None

def data(r):
    return base64.b64decode(r["data_b64"]) if r["data_b64"] else None

def expect(cond, what):
    if not cond:
        sys.exit(f"not as expected: {what}")
PYEOF

start_qmgr

say "injecting one message per fault"
msg() { printf 'Subject: %s\n\n%s\n' "$1" "${2:-body of $1}"; }
for d in d554 d421 dr421 dr421only dstall dgarbage dmismatch dnocrlf \
    dhuge dendless dlong dhelo ddata250 drcpt354; do
	msg "$d" | inject -f sender@test.example "a@$d.test" ||
	    fail "inject to $d"
done
# the dropped one: long enough to be cut after 100 bytes of DATA
"$PY" -c 'print("Subject: drop\n\n" + "".join(f"line {i} of the dropped message\n" for i in range(40)), end="")' \
    >"$T/drop.msg"
inject -f sender@test.example a@ddrop.test <"$T/drop.msg" || fail "inject drop"
# 5000 bytes for a server that takes 1000
"$PY" -c 'print("Subject: big\n\n" + ("x" * 99 + "\n") * 50, end="")' \
    >"$T/big.msg"
inject -f sender@test.example a@dsize.test <"$T/big.msg" || fail "inject big"
msg utf8 | inject -f sender@test.example 'josé@dnoutf8.test' ||
    fail "inject josé@dnoutf8.test (sendmail(1) allows UTF-8)"
msg utf8 | inject -f sender@test.example 'josé@dutf8.test' ||
    fail "inject josé@dutf8.test"
printf 'Subject: bare cr\n\nbefore\rafter\nend\r\rtwo\n\r\nlast\r' \
    >"$T/cr.msg"
inject -f sender@test.example a@dgood.test <"$T/cr.msg" || fail "inject cr"

say "554 greeting: deferred with the server's words"
want_log a@d554.test 'status=deferred' "554 greeting"
logline a@d554.test | head -n 1 | grep -qE 'relay=mx\.d554\.test\[127\.0\.0\.80\]:'"$P"', .*dsn=4\.7\.1, status=deferred \(host mx\.d554\.test\[127\.0\.0\.80\]:'"$P"' refused to talk to me: 554 5\.7\.1 no service here, go away\)' ||
    fail "554 greeting: $(logline a@d554.test)"
transcript_has a@d554.test "connecting to mx.d554.test[127.0.0.80]:$P" \
    "<<< 554 5.7.1 no service here, go away"

say "421 greeting on the first MX: delivered through the second"
want_log a@d421.test 'status=sent' "421 greeting"
[ "$(first_status a@d421.test)" = sent ] ||
    fail "421 greeting: not sent at once: $(logline a@d421.test)"
logline a@d421.test | grep -q "relay=mx2\.d421\.test\[127\.0\.0\.82\]:$P, .*dsn=2\.0\.0, status=sent" ||
    fail "421 greeting: $(logline a@d421.test)"
[ "$(connections g421)" = 1 ] || fail "g421: $(connections g421) connections"
pyrec "421 greeting records" <<'PY'
from rec import *
r = ended("good2", 1)
t = [x for x in r if x["mail_from"]]
expect(len(t) == 1 and t[0]["complete"] and
       t[0]["rcpts"][0]["address"] == "a@d421.test" and
       data(t[0]).endswith(b"\r\n\r\nbody of d421\r\n"), r)
PY

say "421 in reply to RCPT: the next MX, or deferred"
want_log a@dr421.test 'status=sent' "421 to RCPT"
[ "$(first_status a@dr421.test)" = sent ] ||
    fail "421 to RCPT: not sent at once: $(logline a@dr421.test)"
logline a@dr421.test | grep -q "relay=mx2\.dr421\.test\[127\.0\.0\.85\]:$P," ||
    fail "421 to RCPT: $(logline a@dr421.test)"
want_log a@dr421only.test 'status=deferred' "421 to RCPT, one MX"
logline a@dr421only.test | head -n 1 | grep -qE "relay=mx\.dr421only\.test\[127\.0\.0\.84\]:$P, .*dsn=4\.3\.2, status=deferred \(host mx\.dr421only\.test\[127\.0\.0\.84\]:$P said: 421 4\.3\.2 shutting down, no recipients" ||
    fail "421 to RCPT, one MX: $(logline a@dr421only.test)"
pyrec "421 to RCPT records" <<'PY'
from rec import *
r = [x for x in records("r421a") if x["mail_from"] is not None]
expect(r and all(not x["complete"] for x in r), r)
expect([x for x in r if x["rcpts"] and
        x["rcpts"][0]["address"] == "a@dr421.test"], r)
PY

say "dropped in DATA: deferred, then delivered on the retry"
want_log a@ddrop.test 'status=deferred' "drop in DATA"
logline a@ddrop.test | head -n 1 | grep -qE "relay=mx\.ddrop\.test\[127\.0\.0\.83\]:$P, .*dsn=4\.4\.2, status=deferred \(.*(lost connection|closed)" ||
    fail "drop in DATA, first attempt: $(logline a@ddrop.test)"
want_log a@ddrop.test 'status=sent' "drop in DATA, retry"
[ "$(logline a@ddrop.test | wc -l)" = 2 ] ||
    fail "drop in DATA: want 2 attempts: $(logline a@ddrop.test)"
pyrec "drop in DATA records" <<PY
from rec import *
first = ended("drop", 1)[-1]
expect(first["data_raw_length"] == 100 and not first["complete"], first)
second = [x for x in ended("drop", 2) if x["complete"]]
expect(len(second) == 1, second)
want = open("$T/drop.msg", "rb").read().replace(b"\n", b"\r\n")
got = data(second[0])
expect(b"\r\nSubject: drop\r\n" in got, got)
expect(got.split(b"\r\n\r\n", 1)[1] == want.split(b"\r\n\r\n", 1)[1], got)
PY

say "no greeting: deferred after smtp_greeting_timeout with 'timed out'"
want_log a@dstall.test 'status=deferred' "stall"
logline a@dstall.test | head -n 1 | grep -q "relay=mx\.dstall\.test\[127\.0\.0\.86\]:$P, .*status=deferred (.*timed out" ||
    fail "stall: $(logline a@dstall.test)"
transcript_has a@dstall.test "connecting to mx.dstall.test[127.0.0.86]:$P" \
    "timed out"
pyrec "stall records" <<'PY'
from rec import *
r = ended("stall", 1)[-1]
took = r["written"] - r["started"]
expect(1.5 < took < 5, f"the client waited {took:.1f}s for the greeting")
PY

say "malformed replies: deferred, no hang"
for d in dgarbage dmismatch dnocrlf dhuge dendless dlong; do
	want_log "a@$d.test" 'status=deferred' "malformed ($d)"
	logline "a@$d.test" | head -n 1 |
	    grep -qE "relay=mx\.$d\.test\[127\.0\.0\.[0-9]+\]:$P, .*dsn=4\.[0-9.]+, status=deferred \(" ||
	    fail "malformed ($d): $(logline "a@$d.test")"
	logline "a@$d.test" | grep -q 'dsn=4\.3\.0' &&
	    fail "malformed ($d): the worker failed: $(logline "a@$d.test")"
done
logline a@dgarbage.test | head -n 1 | grep -q 'malformed reply' ||
    fail "garbage code: $(logline a@dgarbage.test)"
logline a@dmismatch.test | head -n 1 | grep -q 'malformed reply.*code differs' ||
    fail "mismatched codes: $(logline a@dmismatch.test)"
logline a@dnocrlf.test | head -n 1 | grep -q 'timed out' ||
    fail "no CRLF: $(logline a@dnocrlf.test)"
logline a@dhuge.test | head -n 1 | grep -q 'malformed reply.*more than 256 lines' ||
    fail "huge multi-line: $(logline a@dhuge.test)"
logline a@dendless.test | head -n 1 | grep -q 'malformed reply.*more than 256 lines' ||
    fail "endless multi-line: $(logline a@dendless.test)"
logline a@dlong.test | head -n 1 | grep -qE 'malformed reply.*longer than|too long' ||
    fail "long line: $(logline a@dlong.test)"
pyrec "malformed: the client left" <<'PY'
from rec import *
for name in ("garbage", "mismatch", "nocrlf", "huge", "endless", "longline"):
    r = ended(name, 1)[-1]
    expect(r["written"] - r["started"] < 6, f"{name}: the client stayed {r}")
PY

say "SIZE 1000, 5000 bytes: failed at once with 5.3.4, no MAIL, no DATA"
want_log a@dsize.test 'status=(bounced|deferred|sent)' "SIZE"
logline a@dsize.test | head -n 1 | grep -q "relay=mx\.dsize\.test\[127\.0\.0\.93\]:$P, .*dsn=5\.3\.4, status=bounced (" ||
    fail "SIZE: $(logline a@dsize.test)"
pyrec "SIZE records" <<'PY'
from rec import *
r = ended("small", 1)
for x in records("small"):
    cmds = [c.split(" ")[0].split(":")[0].upper() for c in x["commands"]]
    expect(x["mail_from"] is None and x["data_raw_b64"] is None and
           "MAIL" not in cmds and "DATA" not in cmds,
           f"something was sent: {x['commands']}")
PY

say "SMTPUTF8: failed with 5.6.7 without it, delivered with it"
want_log 'josé@dnoutf8.test' 'status=(bounced|deferred|sent)' "no SMTPUTF8"
logline 'josé@dnoutf8.test' | head -n 1 | grep -q "relay=mx\.dnoutf8\.test\[127\.0\.0\.94\]:$P, .*dsn=5\.6\.7, status=bounced (" ||
    fail "no SMTPUTF8: $(logline 'josé@dnoutf8.test')"
want_log 'josé@dutf8.test' 'status=(bounced|deferred|sent)' "SMTPUTF8"
logline 'josé@dutf8.test' | head -n 1 | grep -q "relay=mx\.dutf8\.test\[127\.0\.0\.95\]:$P, .*dsn=2\.0\.0, status=sent (" ||
    fail "SMTPUTF8: $(logline 'josé@dutf8.test')"
pyrec "SMTPUTF8 records" <<'PY'
from rec import *
for x in records("noutf8"):
    expect(x["mail_from"] is None, f"MAIL sent without SMTPUTF8: {x}")
t = [x for x in ended("utf8", 1) if x["complete"]]
expect(len(t) == 1, t)
t = t[0]
expect("SMTPUTF8" in t["mail_params"].upper().split(), t["mail_params"])
expect(t["rcpts"][0]["address"] == "josé@dutf8.test", t["rcpts"])
expect(not t["violations"], t["violations"])
PY

say "EHLO refused: HELO, delivered"
want_log a@dhelo.test 'status=(bounced|deferred|sent)' "EHLO refused"
logline a@dhelo.test | head -n 1 | grep -q "relay=mx\.dhelo\.test\[127\.0\.0\.96\]:$P, .*status=sent (" ||
    fail "EHLO refused: $(logline a@dhelo.test)"
pyrec "EHLO refused records" <<'PY'
from rec import *
t = [x for x in ended("noehlo", 1) if x["complete"]]
expect(len(t) == 1 and t[0]["esmtp"] is False and
       t[0]["helo"] == "test.example", t)
cmds = [c.split(" ")[0].upper() for c in t[0]["commands"]]
expect(cmds[:2] == ["EHLO", "HELO"], t[0]["commands"])
expect(not t[0]["violations"], t[0]["violations"])
PY

say "a bare CR never reaches the wire"
want_log a@dgood.test 'status=(bounced|deferred|sent)' "bare CR"
logline a@dgood.test | head -n 1 | grep -q "status=sent (" ||
    fail "bare CR: $(logline a@dgood.test)"
pyrec "bare CR records" <<'PY'
from rec import *
t = [x for x in ended("good", 1) if x["complete"]]
expect(len(t) == 1, t)
w = raw(t[0])
expect(not re.search(rb"\r(?!\n)", w), f"bare CR on the wire: {w!r}")
expect(not re.search(rb"(?<!\r)\n", w), f"bare LF on the wire: {w!r}")
expect("bare CR in DATA" not in t[0]["violations"], t[0]["violations"])
body = data(t[0]).split(b"\r\n\r\n", 1)[1]
expect(b"before" in body and b"after" in body and b"last" in body, body)
PY

say "after all that, the next message to a good server is delivered"
kill -0 "$QPID" 2>/dev/null || fail "the queue manager died"
msg after "after the faults" | inject -f sender@test.example b@dgood.test ||
    fail "inject after"
want_log b@dgood.test 'status=(bounced|deferred|sent)' "after the faults"
logline b@dgood.test | head -n 1 | grep -q "relay=mx\.dgood\.test\[127\.0\.0\.97\]:$P, .*status=sent (" ||
    fail "after the faults: $(logline b@dgood.test)"
pyrec "protocol violations" <<'PY'
from rec import *
for p in sorted(glob.glob(f"{FD}/*-[0-9]*.json")):
    r = json.load(open(p))
    expect(not r["violations"], f"{os.path.basename(p)}: {r['violations']}")
PY

say "250 to DATA, 354 to RCPT: not success, deferred"
for d in ddata250 drcpt354; do
	want_log "a@$d.test" 'status=(bounced|deferred|sent)' "wrong class ($d)"
done
logline a@ddata250.test | head -n 1 | grep -q "relay=127\.0\.0\.97\[127\.0\.0\.97\]:$P2, .*status=deferred (.*250 2\.0\.0 no need for data" ||
    fail "250 to DATA: no message went over, yet: $(logline a@ddata250.test)"
logline a@drcpt354.test | head -n 1 | grep -q "relay=127\.0\.0\.96\[127\.0\.0\.96\]:$P2, .*status=deferred (.*354 3\.0\.0 go ahead" ||
    fail "354 to RCPT: $(logline a@drcpt354.test)"
pyrec "wrong class records" <<'PY'
from rec import *
r = ended("data250", 1)
expect(not any(x["complete"] or x["data_raw_b64"] for x in r),
       "the server got a message")
PY
grep -E 'postern-remote pid [0-9]+' "$T/log" &&
    fail "a remote worker was lost, or said something the queue manager refused"
kill -0 "$QPID" 2>/dev/null || fail "the queue manager died"
stop_qmgr
echo ok
