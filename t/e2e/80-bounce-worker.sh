# 80-bounce-worker: postern-bounce alone, without the queue manager,
# driven through t/e2e/bouncejob.py: for each kind of failure (a remote
# 550 5.1.1 with a shared transcript, a local user unknown, MAIL FROM
# refused, NXDOMAIN, null MX, retries run out, too large, mailbox full, a
# loop, TLS required, a local program) the notice parses with Python's
# email package as multipart/report; report-type=delivery-status with
# three parts, its delivery-status fields are right per recipient, and its
# text names the recipient, explains the failure and quotes the reply and
# the transcript. Also: delay and success reports, a double bounce,
# RET=HDRS, a 20 MB original, a UTF-8 address, several jobs on one
# connection, malformed jobs (exit 76, no answer), and the refusal to run
# as root. As root the worker runs as nobody (setpriv); otherwise as the
# calling user. Under SANITIZE=1 the worker is leak-checked too.
. "$(dirname "$0")/lib.sh"
instance
BJ=$top/t/e2e/bouncejob.py
touch "$T/log"
chmod 666 "$T/log"
SP=""
[ "$(id -u)" = 0 ] && SP="--setpriv nobody"
NOW=$(date +%s)000000
HOUR=3600000000
MX='mx.example.com[192.0.2.1]:25'

# The jobs and the checks are collected and run at the end, each kind in
# one Python process (Python's start-up would otherwise be most of the
# test's time).
JOBS="" CHECKS=""
# job NAME [options] ATTR... - a run of bouncejob.py: its JSON will be in
# $T/NAME.json, the notice in $T/NAME.eml
job() {
	name=$1; shift
	printf '%s\0' "$B/postern-bounce" "$T/etc" $SP --out "$T/$name.eml" \
	    "$@" >"$T/$name.args"
	JOBS="$JOBS $name"
}
# check NAME EXPECT... - what the run must show (see check.py below)
check() {
	n=$1; shift
	printf '%s\0' "$@" >"$T/$n.expect"
	CHECKS="$CHECKS $n"
}
# bad NAME - the worker refused the job: exit 76, no result
bad() { check "$1" --bad; }

cat >"$T/check.py" <<'PY'
"""check.py DIR NAME... - for each NAME, DIR/NAME.json and DIR/NAME.eml
against the expectations in DIR/NAME.expect. By default the worker
exited 0 after one notice, sealed, which is well formed; the expectations:
  --bad          instead: exit 76, no answer
  --root         instead: a non-zero exit, no answer, a refusal on stderr
  --results=N    N notices (each well formed), with distinct Message-IDs
  text~PHRASE    the text part holds PHRASE (blanks compared loosely)
  !text~PHRASE   it does not
  h:NAME=VALUE   a header field of the notice
  msg:NAME=VALUE a per-message delivery-status field
  rN:NAME=VALUE  a field of recipient block N (from 0); rN:NAME~PART
  !rN:NAME       recipient block N has no such field
  nrcpt=N        N recipient blocks
  ds=TYPE        the delivery-status part's type
  p3=TYPE        the third part's type; p3~TEXT, !p3~TEXT its raw content
  size<N         the notice is smaller than N bytes
  xs=N           N transcripts in the text
"""
import email, email.policy, json, os, re, sys


def norm(s):
    return re.sub(r"\s+", " ", s).strip()


def parse(path):
    """The notice, checked for what every notice must be."""
    raw = open(path, "rb").read()
    assert b"\r" not in raw, "CR in the notice"
    assert raw.endswith(b"\n")
    for line in raw.split(b"\n"):
        assert len(line) <= 998, "line of %d octets" % len(line)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg.get_content_type() == "multipart/report"
    assert msg.get_param("report-type") == "delivery-status"
    assert msg["From"] == "Mail Delivery System <MAILER-DAEMON@test.example>"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert re.fullmatch(r"<\d+\.[0-9a-f]{16}@test\.example>", msg["Message-ID"])
    assert msg["Date"].datetime is not None
    parts = msg.get_payload()
    assert len(parts) == 3, len(parts)
    assert parts[0].get_content_type() == "text/plain"
    bnd = msg.get_boundary().encode()
    raw_ds = raw.split(b"\n--" + bnd + b"\n")[2].split(b"\n\n", 1)[1]
    blocks = []
    for b in raw_ds.decode("utf-8").strip("\n").split("\n\n"):
        fields = {}
        for f in re.sub(r"\n[ \t]", " ", b).split("\n"):
            name, value = f.split(":", 1)
            fields[name.lower()] = norm(value)
        blocks.append(fields)
    if parts[1].get_content_type() == "message/delivery-status":
        # The email package reads the same blocks.
        got = [{k.lower(): norm(str(v)) for k, v in m.items()}
               for m in parts[1].get_payload()]
        assert got == blocks, (got, blocks)
    assert blocks[0]["reporting-mta"] == "dns; test.example", blocks[0]
    assert "arrival-date" in blocks[0]
    for b in blocks[1:]:
        for f in ("final-recipient", "action", "status"):
            assert f in b, (f, b)
    return {"raw": raw, "msg": msg, "parts": parts, "blocks": blocks,
            "text": norm(parts[0].get_content()),
            "p3raw": raw.split(b"\n--" + bnd)[3].decode("utf-8", "replace")}


def expect(n, e):
    neg = e.startswith("!")
    e = e[1:] if neg else e
    text, blocks = n["text"], n["blocks"]
    if e.startswith("text~"):
        ok = norm(e[5:]) in text
    elif e.startswith("h:"):
        k, v = e[2:].split("=", 1)
        ok = str(n["msg"][k]) == v
    elif e.startswith("msg:"):
        k, v = e[4:].split("=", 1)
        ok = blocks[0].get(k.lower()) == v
    elif re.match(r"r\d+:", e):
        i, rest = e[1:].split(":", 1)
        b = blocks[1 + int(i)]
        m = re.match(r"([A-Za-z-]+)([=~]?)(.*)", rest)
        k, op, v = m.group(1).lower(), m.group(2), m.group(3)
        ok = (k in b if not op else b.get(k) == norm(v) if op == "=" else
              norm(v) in b.get(k, ""))
    elif e.startswith("nrcpt="):
        ok = len(blocks) - 1 == int(e[6:])
    elif e.startswith("ds="):
        ok = n["parts"][1].get_content_type() == e[3:]
    elif e.startswith("p3="):
        ok = n["parts"][2].get_content_type() == e[3:]
    elif e.startswith("p3~"):
        ok = e[3:] in n["p3raw"]
    elif e.startswith("size<"):
        ok = len(n["raw"]) < int(e[5:])
    elif e.startswith("xs="):
        ok = text.count("Transcript of the last") == int(e[3:])
    else:
        raise SystemExit("bad expectation " + e)
    assert ok != neg, "%s%s\ntext: %s\nblocks: %r" % (
        "!" if neg else "", e, text, blocks)


def check(d, name):
    j = json.load(open(os.path.join(d, name + ".json")))
    with open(os.path.join(d, name + ".expect"), "rb") as f:
        exps = [os.fsdecode(x) for x in f.read().split(b"\0") if x]
    if "--bad" in exps:
        assert j["exit"] == 76 and j["results"] == [] and "raw" not in j, j
        return
    if "--root" in exps:
        assert j["exit"] != 0 and j["results"] == [], j
        assert "refusing to run as root" in j["stderr"], j
        return
    want = int(([e[10:] for e in exps if e.startswith("--results=")]
                or ["1"])[0])
    assert j["exit"] == 0 and len(j["results"]) == want, j
    ids = set()
    for r in j["results"]:
        assert r.get("ok") == "1" and r["sealed"], r
        n = parse(r["notice"])
        ids.add(n["msg"]["Message-ID"])
    assert len(ids) == want, ids
    for e in exps:
        if not e.startswith("--"):
            expect(n, e)


failed = 0
for name in sys.argv[2:]:
    try:
        check(sys.argv[1], name)
    except AssertionError as e:
        print("FAILED: %s: %s" % (name, e))
        failed = 1
sys.exit(failed)
PY

say "remote 550 5.1.1, two recipients sharing one transcript"
printf '%s\n' "10:00:00.000 connecting to $MX" \
    "10:00:00.010 <<< 220 mx.example.com ESMTP" \
    "10:00:00.020 >>> RCPT TO:<bob@example.com>" \
    "10:00:00.030 <<< 550 5.1.1 <bob@example.com>: no such user" \
    "10:00:00.040 >>> RCPT TO:<carol@example.com>" \
    "10:00:00.050 <<< 550 5.1.1 <carol@example.com>: no such user" >"$T/xs"
job r550 envid=ENV-7 msgid='<t1@test.example>' subject='a test message' \
    addr=bob@example.com action=failed status=5.1.1 relay="$MX" \
    diag="host $MX said: 550 5.1.1 <bob@example.com>: no such user (in reply to RCPT TO command)" \
    attempts=1 last=$NOW transcript=@"$T/xs" \
    rcpt=5 addr=carol@example.com orig=staff@example.com action=failed \
    status=5.1.1 relay="$MX" \
    diag="host $MX said: 550 5.1.1 <carol@example.com>: no such user (in reply to RCPT TO command)" \
    attempts=1 last=$NOW same_as=0
check r550 "h:Subject=Undelivered Mail Returned to Sender" \
    "h:To=sender@test.example" "h:In-Reply-To=<t1@test.example>" \
    msg:Original-Envelope-Id=ENV-7 ds=message/delivery-status nrcpt=2 \
    "r0:Final-Recipient=rfc822; bob@example.com" r0:Action=failed \
    r0:Status=5.1.1 "r0:Remote-MTA=dns; mx.example.com" \
    "r0:Diagnostic-Code=smtp; 550 5.1.1 <bob@example.com>: no such user" \
    r0:Last-Attempt-Date '!r0:Original-Recipient' \
    "r1:Original-Recipient=rfc822; staff@example.com" \
    "r1:Final-Recipient=rfc822; carol@example.com" \
    "text~Recipient <bob@example.com>:" \
    "text~Recipient <carol@example.com> (originally <staff@example.com>):" \
    "text~this mailbox does not exist there" \
    "text~Check the address for typing mistakes" \
    "text~550 5.1.1 <bob@example.com>: no such user" \
    "text~550 5.1.1 <carol@example.com>: no such user" \
    "text~Subject: a test message" \
    "text~Transcript of the last delivery attempt for <bob@example.com>, <carol@example.com>:" \
    "text~    10:00:00.020 >>> RCPT TO:<bob@example.com>" \
    "text~10:00:00.050 <<< 550 5.1.1 <carol@example.com>: no such user" \
    p3=message/rfc822 "p3~Subject: a test message" "p3~hello" xs=1

say "a local user unknown"
job nouser addr=zed@test.example action=failed status=5.1.1 relay=none \
    diag='user unknown: there is no account "zed" on this host (it may have been deleted)' \
    attempts=1
check nouser "r0:Final-Recipient=rfc822; zed@test.example" '!r0:Remote-MTA' \
    'r0:Diagnostic-Code~x-postern; user unknown: there is no account "zed"' \
    "text~<zed@test.example>" "text~no mailbox for this address on test.example" \
    "text~account does not exist"

say "MAIL FROM refused"
job mailfrom addr=bob@example.com action=failed status=5.7.1 relay="$MX" \
    diag="host $MX said: 550 5.7.1 <sender@test.example>: sender rejected (in reply to MAIL FROM command)" \
    attempts=1
check mailfrom r0:Status=5.7.1 \
    "r0:Diagnostic-Code=smtp; 550 5.7.1 <sender@test.example>: sender rejected" \
    "text~refused to take any mail from your address, <sender@test.example>" \
    "text~550 5.7.1 <sender@test.example>: sender rejected"

say "NXDOMAIN: two recipients in one paragraph"
NX='Host or domain name not found: the domain nx.example does not exist (DNS NXDOMAIN)'
job nx addr=a@nx.example action=failed status=5.1.2 relay=none diag="$NX" \
    attempts=1 addr=b@nx.example action=failed status=5.1.2 relay=none \
    diag="$NX" attempts=1
check nx nrcpt=2 r1:Status=5.1.2 "r1:Diagnostic-Code=x-postern; $NX" \
    "text~Recipients <a@nx.example>, <b@nx.example>:" \
    "text~The domain nx.example does not exist, so nothing can be delivered" \
    "text~$NX" '!text~Transcript of'

say "null MX"
job nullmx addr=a@nomail.example action=failed status=5.1.10 relay=none \
    diag='the domain nomail.example accepts no mail (its DNS publishes a null MX, RFC 7505)' \
    attempts=1
check nullmx r0:Status=5.1.10 "text~The domain nomail.example exists" \
    "text~accepts no mail at all"

say "retries run out: 4.4.1 after 6 attempts over 5 days"
ARR=$((NOW - 120 * HOUR))
job expired --arrival $ARR addr=a@down.example action=failed status=4.4.1 \
    relay='mx.down.example[192.0.2.9]:25' \
    diag='connect to mx.down.example[192.0.2.9]:25: Connection refused' \
    attempts=6 first=$ARR last=$NOW
check expired r0:Action=failed r0:Status=4.4.1 \
    "r0:Remote-MTA=dns; mx.down.example" \
    "r0:Diagnostic-Code=x-postern; connect to mx.down.example[192.0.2.9]:25: Connection refused" \
    "text~No mail server of down.example could be reached" \
    "text~it tried for 5 days, with 6 delivery attempts" \
    "text~Connection refused"

say "too large"
job big addr=bob@example.com action=failed status=5.3.4 relay="$MX" \
    diag="host $MX said: 552 5.3.4 Message size exceeds fixed limit (in reply to end of data command)" \
    attempts=1
check big "r0:Diagnostic-Code=smtp; 552 5.3.4 Message size exceeds fixed limit" \
    "text~larger than the receiving mail server accepts" \
    "text~file-sharing service" "text~552 5.3.4 Message size exceeds fixed limit"

say "mailbox full"
job full addr=bob@example.com action=failed status=5.2.2 relay="$MX" \
    diag="host $MX said: 552 5.2.2 Mailbox full (in reply to RCPT TO command)" \
    attempts=1
check full "text~recipient's mailbox is full" "text~552 5.2.2 Mailbox full"
job lfull --arrival $((NOW - 48 * HOUR)) addr=alice@test.example \
    action=failed status=4.2.2 relay=local \
    diag='cannot write to maildir /home/alice/Maildir: mailbox is over quota' \
    attempts=20 last=$NOW
check lfull r0:Status=4.2.2 '!r0:Remote-MTA' "text~mailbox is full" \
    "text~tried for 2 days, with 20 delivery attempts, before it gave up"

say "a mail loop"
job loop addr=alice@test.example action=failed status=5.4.6 relay=local \
    diag='mail forwarding loop for alice@test.example' attempts=1
check loop "r0:Diagnostic-Code=x-postern; mail forwarding loop for alice@test.example" \
    "text~caught in a loop" "text~forwarding setting"

say "TLS required but not offered"
job tls addr=bob@secure.example action=failed status=4.7.4 relay="$MX" \
    diag="TLS is required (level encrypt) but host $MX does not offer STARTTLS" \
    attempts=8 last=$NOW
check tls r0:Status=4.7.4 "text~Mail to secure.example must travel encrypted" \
    "text~does not offer STARTTLS"

say "a local program refused it"
job prog addr=list@test.example action=failed status=5.3.0 relay=local \
    diag='command exited with status 69 (service unavailable): list is closed' \
    attempts=1
check prog "r0:Diagnostic-Code=x-unix; command exited with status 69 (service unavailable): list is closed" \
    "text~handed to a program on test.example" "text~list is closed"

say "delay warning and success report"
UNTIL=$((NOW + 96 * HOUR))
job delay --kind delay addr=bob@slow.example action=delayed status=4.4.1 \
    relay='mx.slow.example[192.0.2.7]:25' \
    diag='connect to mx.slow.example[192.0.2.7]:25: Connection timed out' \
    attempts=3 last=$NOW until=$UNTIL
check delay "h:Subject=Delayed Mail (still being retried)" r0:Action=delayed \
    r0:Will-Retry-Until "text~has not been delivered to this address yet" \
    "text~need not send the message again" "text~keeps trying until" \
    p3=text/rfc822-headers "p3~Subject: a test message" '!p3~hello'
job success --kind success addr=alice@test.example action=delivered \
    status=2.0.0 relay=local diag='delivered to maildir /home/alice/Maildir' \
    attempts=1 addr=bob@example.com action=relayed status=2.0.0 relay="$MX" \
    diag='250 2.0.0 Ok: queued as ABC' attempts=1
check success "h:Subject=Successful Mail Delivery Report" r0:Action=delivered \
    r1:Action=relayed "r1:Diagnostic-Code=smtp; 250 2.0.0 Ok: queued as ABC" \
    "text~was delivered to the recipient's mailbox" \
    "text~was handed to the mail server of example.com" p3=text/rfc822-headers

say "a double bounce goes to the postmaster"
job double --sender "" --to postmaster double=1 addr=bob@example.com \
    action=failed status=5.1.1 relay="$MX" attempts=1 \
    diag="host $MX said: 550 5.1.1 no such user (in reply to RCPT TO command)"
check double h:To=postmaster@test.example "text~This notice is for the postmaster" \
    "text~From: <>" p3=message/rfc822

say "RET=HDRS, a 20 MB original, a UTF-8 address"
R="addr=bob@example.com action=failed status=5.1.1 relay=$MX attempts=1"
job hdrs ret=hdrs $R "diag=host $MX said: 550 5.1.1 no (in reply to RCPT TO command)"
check hdrs p3=text/rfc822-headers "p3~Subject: a test message" '!p3~hello' \
    "text~Only the header of your message is attached"
{
	printf 'From: a@test.example\nSubject: huge\n\n'
	yes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx |
	    head -n 272357
} >"$T/huge"
job huge --msg "$T/huge" $R "diag=host $MX said: 550 5.1.1 no (in reply to RCPT TO command)"
check huge size\<200000 p3=text/rfc822-headers "p3~Subject: huge" '!p3~xxxx' \
    "text~too large to be returned whole"
job utf8 --sender 'sender@test.example' flags=8bit,smtputf8 \
    addr='jörg@bücher.example' action=failed status=5.1.1 relay="$MX" \
    diag="host $MX said: 550 5.1.1 unknown user (in reply to RCPT TO command)" \
    attempts=1
check utf8 ds=message/global-delivery-status \
    'r0:Final-Recipient=utf-8; jörg@bücher.example' 'text~<jörg@bücher.example>'

say "several jobs on one connection"
job many --repeat 3 $R "diag=host $MX said: 550 5.1.1 no (in reply to RCPT TO command)"
check many --results=3

say "malformed jobs: exit 76, no answer"
job bad-attr --garbage attr $R "diag=x"
bad bad-attr
job bad-class addr=bob@example.com action=failed status=2.0.0 relay="$MX" \
    diag=x attempts=1
bad bad-class
job bad-delayed --kind delay addr=bob@example.com action=delayed \
    status=5.1.1 relay="$MX" diag=x attempts=1
bad bad-delayed
job bad-fwd $R diag=x same_as=1 rcpt=1 addr=c@example.com action=failed \
    status=5.1.1 relay="$MX" diag=x attempts=1 transcript=@"$T/xs"
bad bad-fwd
job bad-unsealed --garbage unsealed $R diag=x
bad bad-unsealed
job bad-nofd --garbage nofd $R diag=x
bad bad-nofd
job bad-size --size 5 $R diag=x
bad bad-size

if [ "$(id -u)" = 0 ]; then
	say "as root: refused"
	SP=""
	job root $R diag=x
	check root --root
fi

say "running the jobs, then checking the notices"
ASAN_OPTIONS=detect_leaks=1 $PY "$BJ" --batch "$T" $JOBS || fail "bouncejob.py failed"
$PY "$T/check.py" "$T" $CHECKS || fail "notice checks failed"
grep -q 'postern/bounce\[[0-9]*\]: error: malformed job' "$T/log" ||
    fail "no log line for a malformed job"
grep -q 'postern/bounce\[[0-9]*\]: 0000000000A: failure notice to <sender@test.example>: 2 recipients' \
    "$T/log" || fail "no log line for a notice"
[ "$(id -u)" = 0 ] || echo "SKIP: as uid $(id -u): the refusal to run as root"
echo "ok"
