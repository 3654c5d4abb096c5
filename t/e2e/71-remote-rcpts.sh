# 71-remote-rcpts: how postern-remote handles many recipients and the
# per-recipient replies of a server:
#  - 50 recipients at one domain go in ONE transaction on ONE connection
#    (one smtpsink record with all 50, in order); 250 go in transactions
#    of at most 100 (RFC 5321's minimum a server must take) on one
#    connection, each recipient once, in order;
#  - a message whose RCPTs get 250, "450 4.2.1" and "550 5.1.1" (smtpfault,
#    with and without PIPELINING) gives each recipient its own outcome:
#    sent, deferred (dsn=4.2.1) or bounced (dsn=5.1.1), with the server's
#    words, exactly one log line each, the message sent once per domain;
#    `ctl queue --json` shows them delivered / deferred / failed with
#    status, diagnostic and relay, and the transcript of a 550 recipient
#    (`ctl show --json --transcript`) holds its RCPT TO and the 550 reply;
#  - MAIL FROM answered 553 fails every recipient at once with that reply
#    (dsn=5.7.1), no data is sent, and the message leaves the queue;
#  - RCPTs answered 452 after accepted ones are sent again in a second
#    transaction on the same connection. smtpfault answers by address
#    pattern only, so it says 452 to them in the second transaction too:
#    there the first RCPT gets 452, and they must end deferred with that
#    reply (dsn=4.5.3) after exactly two transactions on one connection.
#    (That they are delivered when the server takes them in the second
#    transaction cannot be scripted with smtpfault and is not checked.)
#  - the end of data answered 554 fails the accepted recipients with that
#    reply, while the RCPT-refused ones keep their own outcome;
#  - the log's conn_use=N appears only when the connection carried
#    earlier messages (design.md), not for more transactions of the same
#    message on a fresh connection.
. "$(dirname "$0")/lib.sh"
. "$top/t/e2e/remotenet.sh"

P=$(free_port)
instance "relayhost =" "smtp_port = $P" "smtp_connect_timeout = 2s" \
    "smtp_greeting_timeout = 5s" "smtp_command_timeout = 5s" \
    "smtp_data_timeout = 10s"
export T B P

cat >"$T/zone.json" <<'JSON'
{"many.test": {"MX": [[10, "mx.many.test"]]},
 "mx.many.test": {"A": ["127.0.0.30"]},
 "mixed.test": {"MX": [[10, "mx.mixed.test"]]},
 "mx.mixed.test": {"A": ["127.0.0.31"]},
 "mixed2.test": {"MX": [[10, "mx.mixed2.test"]]},
 "mx.mixed2.test": {"A": ["127.0.0.32"]},
 "rej.test": {"MX": [[10, "mx.rej.test"]]},
 "mx.rej.test": {"A": ["127.0.0.33"]},
 "rej2.test": {"MX": [[10, "mx.rej2.test"]]},
 "mx.rej2.test": {"A": ["127.0.0.34"]},
 "limit.test": {"MX": [[10, "mx.limit.test"]]},
 "mx.limit.test": {"A": ["127.0.0.35"]},
 "many2.test": {"MX": [[10, "mx.many2.test"]]},
 "mx.many2.test": {"A": ["127.0.0.36"]},
 "dotrej.test": {"MX": [[10, "mx.dotrej.test"]]},
 "mx.dotrej.test": {"A": ["127.0.0.37"]}}
JSON
start_dns "$T/zone.json"
echo "dns_servers = 127.0.0.1:$DNS_PORT" >>"$T/etc/postern.conf"

start_sink many=127.0.0.30:$P many2=127.0.0.36:$P
# mixed2 and rej2 do not announce PIPELINING: one command at a time
cat >"$T/fault.json" <<'JSON'
{"rcpt": {"later*@*": "450 4.2.1 try again later",
          "bad*@*": "550 5.1.1 no such user",
          "more*@*": "452 4.5.3 too many recipients"},
 "mail": {"rejected@*": "553 5.7.1 sender rejected"},
 "listeners": {
   "mixed2": {"ehlo": ["8BITMIME", "ENHANCEDSTATUSCODES"]},
   "rej2": {"ehlo": ["8BITMIME", "ENHANCEDSTATUSCODES"]},
   "dotrej": {"dot": "554 5.6.0 content rejected"}}}
JSON
start_fault "$T/fault.json" mixed=127.0.0.31:$P mixed2=127.0.0.32:$P \
    rej=127.0.0.33:$P rej2=127.0.0.34:$P limit=127.0.0.35:$P \
    dotrej=127.0.0.37:$P

# py WHAT - run a Python check on stdin; helpers from $T/common.py
py() { PYTHONPATH=$T "$PY" - || fail "$1"; }

cat >"$T/common.py" <<'PYEOF'
import glob, json, os, re, subprocess, sys
T = os.environ["T"]
B = os.environ["B"]
P = os.environ["P"]
LINE = re.compile(r"^.* postern/qmgr\[\d+\]: (?P<id>[0-9A-Z]{11}): "
                  r"to=<(?P<to>[^>]*)>, relay=(?P<relay>\S+), "
                  r"(conn_use=\d+, )?delay=[0-9.]+, "
                  r"delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, "
                  r"dsn=(?P<dsn>\d\.\d+\.\d+), "
                  r"status=(?P<status>sent|deferred|bounced) "
                  r"\((?P<text>.*)\)$")

def expect(cond, what):
    if not cond:
        sys.exit(f"not as expected: {what}")

def log():
    return open(f"{T}/log", encoding="utf-8", errors="replace").read()

def attempts(rcpt):
    """the parsed log lines of rcpt's delivery attempts"""
    out = []
    for line in log().splitlines():
        if f": to=<{rcpt}>," in line:
            m = LINE.match(line)
            expect(m, f"a log line not in the documented form: {line}")
            out.append(m.groupdict())
    return out

def one_attempt(rcpt):
    a = attempts(rcpt)
    expect(len(a) == 1, f"{len(a)} log lines for {rcpt}: {a}")
    return a[0]

def ctl(*args):
    return subprocess.run([f"{B}/posternctl", "-c", f"{T}/etc", *args],
                          check=True, stdout=subprocess.PIPE).stdout

def queue():
    return [json.loads(l) for l in ctl("queue", "--json").splitlines()]

def fault_records(listener):
    """smtpfault's transaction records of a listener, in order"""
    return [json.load(open(p)) for p in
            sorted(glob.glob(f"{T}/fault-*/{listener}-*.json"))]

def relay(host, addr):
    return f"{host}[{addr}]:{P}"

def log_line(rcpt):
    return [l for l in log().splitlines() if f": to=<{rcpt}>," in l][0]
PYEOF

start_qmgr

# nlog PATTERN - log lines matching PATTERN (grep -E)
nlog() { grep -cE -- "$1" "$T/log"; }

say "50 recipients at one domain: one transaction, one connection"
set --
i=1
while [ $i -le 50 ]; do set -- "$@" "r$i@many.test"; i=$((i + 1)); done
printf 'Subject: fifty\n\nto fifty recipients\n' |
    inject -f s1@test.example "$@" || fail "inject 50"
wait_eval '[ "$(nlog "to=<r[0-9]+@many.test>, .*status=sent")" = 50 ]' ||
    fail "not 50 sent: $(grep many.test "$T/log" | tail -3)"
wait_sink 1 many || fail "sink records: $(sink_count many)"
py "50 recipients" <<'PY'
from common import *
recs = sorted(glob.glob(f"{T}/sink-*/[0-9]*.json"))
expect(len(recs) == 1, f"{len(recs)} transactions at the sink")
r = json.load(open(recs[0]))
want = [f"r{i}@many.test" for i in range(1, 51)]
expect(r["rcpt_tos"] == want, f"rcpt_tos {r['rcpt_tos']}")
expect(r["mail_from"] == "s1@test.example", r["mail_from"])
ids = set()
for rcpt in want:
    a = one_attempt(rcpt)
    expect(a["status"] == "sent" and a["dsn"] == "2.0.0" and
           a["relay"] == relay("mx.many.test", "127.0.0.30") and
           a["text"].startswith("250 2.0.0 Ok: queued"), f"{rcpt}: {a}")
    ids.add(a["id"])
expect(len(ids) == 1, f"queue ids {ids}")
expect(f"{ids.pop()}: removed" in log(), "the message was not removed")
PY
[ "$(sink_connections many)" = 1 ] ||
    fail "connections to many: $(sink_connections many)"

say "250 recipients: transactions of at most 100 on one connection"
set --
i=1
while [ $i -le 250 ]; do set -- "$@" "m$i@many2.test"; i=$((i + 1)); done
printf 'Subject: 250\n\nto 250 recipients\n' |
    inject -f s5@test.example "$@" || fail "inject 250"
wait_eval '[ "$(nlog "to=<m[0-9]+@many2.test>, .*status=sent")" = 250 ]' ||
    fail "not 250 sent: $(grep many2.test "$T/log" | tail -3)"
wait_sink 3 many2 || fail "sink records for many2: $(sink_count many2)"
py "250 recipients" <<'PY'
from common import *
recs = [json.load(open(p)) for p in
        sorted(glob.glob(f"{T}/sink-*/[0-9]*.json"))]
recs = [r for r in recs if r["listener"] == "many2"]
sizes = [len(r["rcpt_tos"]) for r in recs]
expect(sorted(sizes) == [50, 100, 100], f"transactions of {sizes}")
got = [a for r in recs for a in r["rcpt_tos"]]
want = [f"m{i}@many2.test" for i in range(1, 251)]
expect(got == want, f"recipients out of order or twice: {got[:5]}...")
expect({r["connection"] for r in recs} == {1}, "more than one connection")
expect(len({open(f"{T}/sink-1/{r['id']}.eml", "rb").read() for r in recs})
       == 1, "the transactions carried different content")
for rcpt in want:
    a = one_attempt(rcpt)
    expect(a["status"] == "sent" and a["dsn"] == "2.0.0", f"{rcpt}: {a}")
PY
[ "$(sink_connections many2)" = 1 ] ||
    fail "connections to many2: $(sink_connections many2)"

say "mixed RCPT replies: 250, 450, 550, with and without PIPELINING"
set --
for d in mixed.test mixed2.test; do
	set -- "$@" ok1@$d later1@$d bad1@$d ok2@$d later2@$d bad2@$d
done
printf 'Subject: mixed\n\nsome get it, some later, some never\n' |
    inject -f s2@test.example "$@" || fail "inject mixed"
wait_eval '[ "$(nlog "to=<[a-z]+[12]@mixed2?.test>, ")" = 12 ]' ||
    fail "not 12 results: $(grep mixed "$T/log")"
py "mixed outcomes" <<'PY'
from common import *
ids = set()
for dom, host, addr in (("mixed.test", "mx.mixed.test", "127.0.0.31"),
                        ("mixed2.test", "mx.mixed2.test", "127.0.0.32")):
    rl = relay(host, addr)
    for n in (1, 2):
        a = one_attempt(f"ok{n}@{dom}")
        expect(a["status"] == "sent" and a["dsn"] == "2.0.0" and
               a["relay"] == rl and a["text"].startswith("250 2.0.0 Ok"),
               f"ok{n}@{dom}: {a}")
        ids.add(a["id"])
        a = one_attempt(f"later{n}@{dom}")
        want = (f"host {rl} said: 450 4.2.1 try again later (in reply to "
                f"RCPT TO command)")
        expect(a["status"] == "deferred" and a["dsn"] == "4.2.1" and
               a["relay"] == rl and a["text"] == want,
               f"later{n}@{dom}: {a}, want text {want!r}")
        a = one_attempt(f"bad{n}@{dom}")
        want = (f"host {rl} said: 550 5.1.1 no such user (in reply to "
                f"RCPT TO command)")
        expect(a["status"] == "bounced" and a["dsn"] == "5.1.1" and
               a["relay"] == rl and a["text"] == want,
               f"bad{n}@{dom}: {a}, want text {want!r}")
    # the server: one transaction with all six RCPTs, the data once
    done = [r for r in fault_records(dom.split(".")[0]) if r["mail_from"]]
    expect(len(done) == 1 and done[0]["complete"], f"{dom}: transactions "
           f"{[(r['transaction'], r['complete']) for r in done]}")
    got = [(x["address"].split("@")[0], x["reply"][:3])
           for x in done[0]["rcpts"]]
    expect(got == [("ok1", "250"), ("later1", "450"), ("bad1", "550"),
                   ("ok2", "250"), ("later2", "450"), ("bad2", "550")],
           f"{dom}: RCPTs {got}")
    expect(done[0]["violations"] == [], f"{dom}: {done[0]['violations']}")
expect(len(ids) == 1, f"queue ids {ids}")
qid = ids.pop()
open(f"{T}/mixed.id", "w").write(qid)

# the queue: the message stays for the deferred ones
msgs = [m for m in queue() if m["id"] == qid]
expect(len(msgs) == 1, f"message {qid} not in the queue")
st = {x["address"]: x for x in msgs[0]["recipients"]}
expect(len(st) == 12, f"recipients {list(st)}")
for addr, x in st.items():
    local, dom = addr.split("@")
    rl = relay("mx." + dom, "127.0.0.31" if dom == "mixed.test"
               else "127.0.0.32")
    kind = local.rstrip("12")
    want = {"ok": ("delivered", "2.0.0", "250 2.0.0 Ok"),
            "later": ("deferred", "4.2.1", "450 4.2.1 try again later"),
            "bad": ("failed", "5.1.1", "550 5.1.1 no such user")}[kind]
    expect(x["state"] == want[0] and x["status"] == want[1] and
           want[2] in (x["diagnostic"] or "") and x["relay"] == rl and
           x["attempts"] == 1, f"{addr}: {x}, want {want} via {rl}")
    if kind == "later":
        expect(x["next_attempt"], f"{addr}: no next attempt: {x}")

# the transcript of a failed recipient
m = json.loads(ctl("show", qid, "--json", "--transcript"))
for x in m["recipients"]:
    if not x["address"].startswith("bad"):
        continue
    t = x.get("transcript")
    expect(t, f"{x['address']}: no transcript: {x}")
    t = t if isinstance(t, str) else "\n".join(t)
    rcpt = re.search(r"^\S+ >>> RCPT TO:<" + re.escape(x["address"]) +
                     r">$", t, re.M)
    reply = rcpt and re.compile(r"^\S+ <<< 550 5\.1\.1 no such user$",
                                re.M).search(t, rcpt.end())
    expect(rcpt and reply, f"{x['address']}: transcript without its RCPT "
           f"and a 550 after it:\n{t}")
PY

say "MAIL FROM refused with 553: every recipient fails at once"
printf 'Subject: refused sender\n\nnever sent\n' |
    inject -f rejected@test.example r1@rej.test r2@rej.test r1@rej2.test \
    r2@rej2.test || fail "inject rejected"
wait_eval '[ "$(nlog "to=<r[12]@rej2?.test>, ")" = 4 ]' ||
    fail "not 4 results: $(grep rej "$T/log")"
py "MAIL FROM 553" <<'PY'
from common import *
ids = set()
for dom, addr, lst in (("rej.test", "127.0.0.33", "rej"),
                       ("rej2.test", "127.0.0.34", "rej2")):
    rl = relay("mx." + dom, addr)
    want = (f"host {rl} said: 553 5.7.1 sender rejected (in reply to MAIL "
            f"FROM command)")
    for n in (1, 2):
        a = one_attempt(f"r{n}@{dom}")
        expect(a["status"] == "bounced" and a["dsn"] == "5.7.1" and
               a["relay"] == rl and a["text"] == want,
               f"r{n}@{dom}: {a}, want text {want!r}")
        ids.add(a["id"])
    recs = [r for r in fault_records(lst) if r["mail_from"]]
    expect(recs and not any(r["complete"] for r in recs),
           f"{dom}: data was sent: {recs}")
    expect(all(r["mail_reply"].startswith("553") for r in recs),
           f"{dom}: {[r['mail_reply'] for r in recs]}")
    if lst == "rej2":
        # without PIPELINING nothing follows a refused MAIL but RSET/QUIT
        cmds = [c.split()[0].upper() for r in fault_records(lst)
                for c in r["commands"]]
        expect("RCPT" not in cmds and "DATA" not in cmds,
               f"{dom}: commands after the 553: {cmds}")
expect(len(ids) == 1, f"queue ids {ids}")
qid = ids.pop()
expect(f"{qid}: removed" in log(), "the message was not removed")
expect(all(m["id"] != qid for m in queue()), "the message is still queued")
PY

say "452 after accepted RCPTs: a second transaction on the same connection"
printf 'Subject: limit\n\nsome now, some in a second transaction\n' |
    inject -f s4@test.example a1@limit.test a2@limit.test more1@limit.test \
    more2@limit.test || fail "inject limit"
wait_eval '[ "$(nlog "to=<[a-z]+[12]@limit.test>, ")" = 4 ]' ||
    fail "not 4 results: $(grep limit.test "$T/log")"
py "452" <<'PY'
from common import *
rl = relay("mx.limit.test", "127.0.0.35")
for n in (1, 2):
    a = one_attempt(f"a{n}@limit.test")
    expect(a["status"] == "sent" and a["dsn"] == "2.0.0", f"a{n}: {a}")
    a = one_attempt(f"more{n}@limit.test")
    want = (f"host {rl} said: 452 4.5.3 too many recipients (in reply to "
            f"RCPT TO command)")
    expect(a["status"] == "deferred" and a["dsn"] == "4.5.3" and
           a["relay"] == rl and a["text"] == want,
           f"more{n}: {a}, want text {want!r}")
tx = [r for r in fault_records("limit") if r["mail_from"]]
seen = [(r["connection"], r["transaction"], r["complete"],
         [(x["address"], x["reply"][:3]) for x in r["rcpts"]]) for r in tx]
expect(len(tx) == 2, f"transactions: {seen}")
one, two = tx
expect(one["connection"] == two["connection"] == 1, f"connections: {seen}")
expect(one["complete"] and [x["address"] for x in one["rcpts"]] ==
       ["a1@limit.test", "a2@limit.test", "more1@limit.test",
        "more2@limit.test"], f"first transaction: {seen}")
expect(not two["complete"] and [x["address"] for x in two["rcpts"]][:1] ==
       ["more1@limit.test"] and
       all(x["address"].startswith("more") for x in two["rcpts"]),
       f"second transaction: {seen}")
PY
[ "$(cat "$T"/fault-*/connections.limit)" = 1 ] ||
    fail "connections to limit: $(cat "$T"/fault-*/connections.limit)"

say "end of data answered 554: the accepted recipients fail with it"
printf 'Subject: refused content\n\nrefused at the dot\n' |
    inject -f s6@test.example ok1@dotrej.test bad1@dotrej.test \
    later1@dotrej.test || fail "inject dotrej"
wait_eval '[ "$(nlog "to=<[a-z]+1@dotrej.test>, ")" = 3 ]' ||
    fail "not 3 results: $(grep dotrej.test "$T/log")"
py "554 at the end of data" <<'PY'
from common import *
rl = relay("mx.dotrej.test", "127.0.0.37")
want = {"ok1": ("bounced", "5.6.0", f"host {rl} said: 554 5.6.0 content "
                "rejected (in reply to end of DATA command)"),
        "bad1": ("bounced", "5.1.1", f"host {rl} said: 550 5.1.1 no such "
                 "user (in reply to RCPT TO command)"),
        "later1": ("deferred", "4.2.1", f"host {rl} said: 450 4.2.1 try "
                   "again later (in reply to RCPT TO command)")}
for local, (status, dsn, text) in want.items():
    a = one_attempt(f"{local}@dotrej.test")
    expect((a["status"], a["dsn"], a["text"]) == (status, dsn, text),
           f"{local}@dotrej.test: {a}, want {status} {dsn} {text!r}")
PY

# last, so that a failure here does not hide the checks above
say "conn_use= only for a connection that carried earlier messages"
py "conn_use" <<'PY'
from common import *
# design.md and qmgr_result.c: conn_use=N only "when the connection
# carried earlier messages". many2: three transactions of one message on
# a new connection; limit: the 452 ones again in a second transaction of
# the same message on a new connection. Neither carried an earlier one.
bad = [log_line(r) for r in ("m1@many2.test", "a1@limit.test")
       if "conn_use=" in log_line(r)]
expect(not bad, "delivered on a fresh connection that carried no "
       "earlier message, yet the log says conn_use=:\n" + "\n".join(bad))
PY

grep -q Traceback "$T"/sink-*/log "$T"/fault-*/log &&
    fail "a test server failed: $(cat "$T"/sink-*/log "$T"/fault-*/log)"
stop_qmgr
echo ok
