# 81-notices: delivery failure notices end to end, through a real
# instance. A local sender's message with 3 recipients of which 2 fail at
# the remote server (RCPT 550) gets ONE notice in the sender's Maildir,
# listing both, as multipart/report with the three parts, the right
# delivery-status fields, the server's reply and the SMTP transcript of
# the attempt; a remote sender's notice goes out over SMTP from <>; an
# unknown local user; a destination that refuses connections until the
# retries run out (the transcript shows the connection attempts); the
# original's size limit and RET=HDRS; the original leaves the queue once
# the notice is stored.
. "$(dirname "$0")/lib.sh"
need_root "local delivery of notices"
instance "relayhost =" "retry_schedule = 1s 1s 1s 1s 1s" \
    "smtp_connect_timeout = 2s" "bounce_size_limit = 50k" \
    "smtp_tls_security_level = none"
. "$top/t/e2e/remotenet.sh"
cat >"$T/zone.json" <<'JSON'
{"remote.test": {"MX": [[10, "mx.remote.test"]]},
 "mx.remote.test": {"A": ["127.0.0.110"]},
 "refuse.test": {"MX": [[10, "mx.refuse.test"]]},
 "mx.refuse.test": {"A": ["127.0.0.111"]},
 "senders.test": {"MX": [[10, "mx.senders.test"]]},
 "mx.senders.test": {"A": ["127.0.0.112"]}}
JSON
start_dns "$T/zone.json"
P=$(free_port)
start_sink mx=127.0.0.110:$P senders=127.0.0.112:$P \
    --rcpt-reply 'bad*@remote.test=550 5.1.1 no such user here'
printf 'smtp_port = %s\ndns_servers = 127.0.0.1:%s\n' "$P" "$DNS_PORT" \
    >>"$T/etc/postern.conf"
printf 'postmaster: pt-bob\n' >"$T/etc/aliases"
new_aliases
reset_mailbox pt-alice
reset_mailbox pt-bob
start_qmgr

# notices N - the notices in pt-alice's Maildir (files in new/)
notices() { delivered pt-alice; }

# check FILE KIND PY - parse the notice in FILE with Python's email
# package and run the checks in PY (stdin) with: msg, parts, text,
# status (list of dicts: the per-message block first), original
check() {
	"$PY" - "$@" <<'PY' || fail "notice $1: checks failed"
import email, email.policy, sys
path, kind = sys.argv[1], sys.argv[2]
raw = open(path, "rb").read()
for line in raw.split(b"\n"):
    assert len(line) <= 998, "line over 998 octets"
msg = email.message_from_bytes(raw, policy=email.policy.default)
assert msg.get_content_type() == "multipart/report", msg.get_content_type()
assert msg.get_param("report-type") == "delivery-status"
assert msg["Auto-Submitted"] == "auto-replied", msg["Auto-Submitted"]
assert "MAILER-DAEMON@test.example" in msg["From"], msg["From"]
parts = list(msg.iter_parts())
assert len(parts) == 3, [p.get_content_type() for p in parts]
assert parts[0].get_content_type() == "text/plain"
assert parts[1].get_content_type() in ("message/delivery-status",
                                       "message/global-delivery-status")
text = parts[0].get_content()
blocks = []
for b in parts[1].get_payload():
    blocks.append({k.lower(): str(v) for k, v in b.items()})
original = parts[2]
want = {"failure": "Undelivered Mail Returned to Sender",
        "delay": "Delayed Mail (still being retried)"}[kind]
assert msg["Subject"] == want, msg["Subject"]
exec(open(sys.argv[3]).read())
PY
}

say "3 recipients, 2 rejected with 550 in one transaction: one notice"
printf 'From: Alice <pt-alice@test.example>\nSubject: three\nMessage-ID: <three@test.example>\n\nhello three\n' |
    inject -f pt-alice@test.example ok@remote.test bad1@remote.test \
    bad2@remote.test ||
    fail "inject"
wait_eval '[ "$(notices)" -ge 1 ]' || fail "no notice: $(cat "$T/log")"
sleep 1
[ "$(notices)" = 1 ] || fail "$(notices) notices, not one"
grep -q 'sender non-delivery notification: ' "$T/log" ||
    fail "no notification log line"
n=$(find "$(home_of pt-alice)/Maildir/new" -type f)
cat >"$T/c1.py" <<'PY'
assert msg["In-Reply-To"] == "<three@test.example>", msg["In-Reply-To"]
rcpts = [b for b in blocks if "final-recipient" in b]
assert len(rcpts) == 2, blocks
got = sorted(b["final-recipient"].split(";")[1].strip() for b in rcpts)
assert got == ["bad1@remote.test", "bad2@remote.test"], got
for b in rcpts:
    assert b["action"] == "failed", b
    assert b["status"] == "5.1.1", b
    assert b["remote-mta"].replace(" ", "") == "dns;mx.remote.test", b
    assert b["diagnostic-code"].startswith("smtp;"), b
    assert "550 5.1.1 no such user here" in b["diagnostic-code"], b
assert blocks[0]["reporting-mta"].replace(" ", "") == "dns;test.example"
assert "arrival-date" in blocks[0], blocks[0]
for a in ("bad1@remote.test", "bad2@remote.test"):
    assert a in text, a
assert "ok@remote.test" not in text.split("Transcript")[0], "ok listed"
assert "550 5.1.1 no such user here" in text
assert ">>> RCPT TO:<bad1@remote.test>" in text, text
assert "<<< 550 5.1.1 no such user here" in text, text
assert original.get_content_type() == "message/rfc822"
assert b"hello three" in original.as_bytes()
PY
check "$n" failure "$T/c1.py"
wait_log ': removed' || fail "the original stayed in the queue"

say "a remote sender's notice goes out over SMTP from <>"
printf 'Subject: remote sender\n\nfrom afar\n' |
    inject -f someone@senders.test bad3@remote.test || fail "inject"
wait_eval "grep -l '\"someone@senders.test\"' \"\$SINK_DIR\"/*.json >/dev/null 2>&1" ||
    fail "no notice at senders.test"
f=$(grep -l '"someone@senders.test"' "$SINK_DIR"/*.json | head -1)
"$PY" - "$f" <<'PY' || fail "the remote notice's envelope"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["mail_from"] == "", r
assert r["rcpt_tos"] == ["someone@senders.test"], r
PY
cat >"$T/c2.py" <<'PY'
assert "bad3@remote.test" in text
assert "550 5.1.1" in text
PY
check "${f%.json}.eml" failure "$T/c2.py"

say "an unknown local user"
reset_mailbox pt-alice
printf 'Subject: typo\n\nx\n' |
    inject -f pt-alice@test.example nosuchuser || fail "inject"
wait_eval '[ "$(notices)" = 1 ]' || fail "no notice for the unknown user"
n=$(find "$(home_of pt-alice)/Maildir/new" -type f)
cat >"$T/c3.py" <<'PY'
rcpts = [b for b in blocks if "final-recipient" in b]
assert len(rcpts) == 1 and rcpts[0]["status"] == "5.1.1", rcpts
assert "remote-mta" not in rcpts[0], rcpts
assert "nosuchuser@test.example" in text
assert "no mailbox" in text.lower() or "does not exist" in text.lower(), text
PY
check "$n" failure "$T/c3.py"

say "a destination that refuses connections, until the retries run out"
reset_mailbox pt-alice
head -c 200000 /dev/urandom | base64 >"$T/big.txt"
{ printf 'Subject: big and refused\n\n'; cat "$T/big.txt"; } |
    inject -f pt-alice@test.example x@refuse.test || fail "inject"
wait_for_notice() { wait_eval '[ "$(notices)" = 1 ]'; }
wait_for_notice || wait_for_notice || fail "no notice after the retries"
n=$(find "$(home_of pt-alice)/Maildir/new" -type f)
[ "$(stat -c %s "$n")" -lt 100000 ] ||
    fail "the notice is $(stat -c %s "$n") bytes: the original was not cut"
cat >"$T/c4.py" <<'PY'
rcpts = [b for b in blocks if "final-recipient" in b]
assert rcpts[0]["status"].startswith("4.4."), rcpts
assert "x@refuse.test" in text
assert "connecting to mx.refuse.test[127.0.0.111]" in text, text
assert "Connection refused" in text, text
assert "6 delivery attempts" in text, text
assert original.get_content_type() == "text/rfc822-headers", \
    original.get_content_type()
assert "big and refused" in original.get_content()
PY
check "$n" failure "$T/c4.py"

say "RET=HDRS returns the headers only"
reset_mailbox pt-alice
printf 'Subject: hdrs only\n\nsecret body\n' |
    inject -f pt-alice@test.example -R hdrs bad5@remote.test ||
    fail "inject"
wait_for_notice || fail "no notice for RET=HDRS"
n=$(find "$(home_of pt-alice)/Maildir/new" -type f)
cat >"$T/c5.py" <<'PY'
assert original.get_content_type() == "text/rfc822-headers"
assert "secret body" not in original.as_string()
PY
check "$n" failure "$T/c5.py"
stop_qmgr
echo ok
