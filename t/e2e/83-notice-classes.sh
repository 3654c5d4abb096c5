# 83-notice-classes: one failure notice per kind of failure, end to end
# through a real instance, each checked for the explanation the sender
# reads (bounce/bounce_text.c) and the machine-readable report. Every
# message comes from pt-alice@test.example, so every notice lands in her
# Maildir; each is told apart by its In-Reply-To. Each notice must be a
# multipart/report (report-type=delivery-status) with three parts (the
# third the whole original), whose delivery-status block for the
# recipient says Action: failed, the expected Status and the right kind
# of Diagnostic-Code (smtp; for a server's reply, x-unix; for a local
# program, x-postern; otherwise), and whose text names the recipient,
# gives the right explanation and quotes the server's (or the program's)
# answer where there is one:
#   sender   the server refuses the sender: 553 5.7.1 to MAIL FROM; the
#            text also says it answered MAIL FROM ("(in reply to MAIL
#            FROM command)")
#   nxdomain the domain does not exist (NXDOMAIN): 5.1.2
#   nullmx   the domain publishes a null MX (MX 0 "."): 5.1.10
#   big      the server announces SIZE 1000, the message is 5000 bytes:
#            5.3.4, postern's own check (x-postern), no data sent
#   full     the server answers the end of data "552 5.2.2 mailbox full"
#   diskfull pt-bob's Maildir on a full file system (a 64k tmpfs: the
#            whole test runs in a private mount namespace, as
#            45-full-disk does): deferred at each attempt (4.3.1) until
#            the retries run out; the notice must explain a local failure
#            (or a full mailbox), never "No mail server of test.example
#            could be reached" (the explanation for remote expiries)
#   loop     the domain's MX host is this host (myhostname): 5.4.6
#   tls      tls_policy_file says "encrypt", the server has no STARTTLS:
#            deferred 4.7.4 at each attempt, failed after 6 attempts
#            with the TLS explanation (not the expiry one)
#   prog     an alias to a command (run as default_privs, as in
#            42-aliases) that prints a line and exits 77 (EX_NOPERM):
#            5.7.0, x-unix, Final-Recipient the alias's address (never the
#            command), the program's line quoted
# (An unknown local user and an expiry with every connection refused are
# in 81-notices.) All messages are injected at once and the notices
# awaited together: about 10 s on a quiet machine. Servers on
# 127.0.0.130-133.
. "$(dirname "$0")/lib.sh"
need_root "local delivery of notices; mounting a small file system"
command -v unshare >/dev/null || skip "unshare (util-linux) is missing"
if [ "${IN_NS:-}" != 1 ]; then
	IN_NS=1 unshare -m --propagation private sh "$0"
	rc=$?
	trap - EXIT
	# the mount point under the tmpfs, if the test stopped early
	rmdir "$(home_of pt-bob)/Maildir" 2>/dev/null
	exit $rc
fi
instance "relayhost =" "retry_schedule = 1s 1s 1s 1s 1s" \
    "smtp_connect_timeout = 2s" "bounce_size_limit = 50k" \
    "default_privs = pt-bob"
. "$top/t/e2e/remotenet.sh"
cat >"$T/zone.json" <<'JSON'
{"sender.test": {"MX": [[10, "mx.sender.test"]]},
 "mx.sender.test": {"A": ["127.0.0.130"]},
 "big.test": {"MX": [[10, "mx.big.test"]]},
 "mx.big.test": {"A": ["127.0.0.131"]},
 "full.test": {"MX": [[10, "mx.full.test"]]},
 "mx.full.test": {"A": ["127.0.0.132"]},
 "tlsreq.test": {"MX": [[10, "mx.tlsreq.test"]]},
 "mx.tlsreq.test": {"A": ["127.0.0.133"]},
 "nullmx.test": {"MX": [[0, "."]]},
 "loop.test": {"MX": [[10, "test.example"]]}}
JSON
start_dns "$T/zone.json"
# No certificate: STARTTLS is never offered.
cat >"$T/fault.json" <<'JSON'
{"ehlo": ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"],
 "listeners": {
   "sender": {"mail": {"*": "553 5.7.1 <pt-alice@test.example>: Sender address rejected: not trusted here"}},
   "big": {"ehlo": ["PIPELINING", "SIZE 1000", "8BITMIME",
                    "ENHANCEDSTATUSCODES"]},
   "full": {"dot": "552 5.2.2 mailbox full"}}}
JSON
P=$(free_port)
start_fault "$T/fault.json" sender=127.0.0.130:"$P" big=127.0.0.131:"$P" \
    full=127.0.0.132:"$P" tlsreq=127.0.0.133:"$P"
printf 'smtp_port = %s\ndns_servers = 127.0.0.1:%s\n' "$P" "$DNS_PORT" \
    >>"$T/etc/postern.conf"
printf 'tlsreq.test encrypt\n' >"$T/etc/tls_policy"
printf '%s\n' '# 83-notice-classes' \
    'prog: "|cat >/dev/null; echo go away: prog takes no mail; exit 77"' \
    >"$T/etc/aliases"
new_aliases
reset_mailbox pt-alice
reset_mailbox pt-bob

# pt-bob's Maildir: a 64k tmpfs, filled up
hb=$(home_of pt-bob)
mkdir -p "$hb/Maildir"
mount -t tmpfs -o size=64k,mode=0700,uid="$(id -u pt-bob)",gid="$(id -g pt-bob)" \
    tmpfs "$hb/Maildir" || fail "cannot mount a tmpfs"
mkdir "$hb/Maildir/new" "$hb/Maildir/cur" "$hb/Maildir/tmp"
head -c 1000000 /dev/zero >"$hb/Maildir/filler" 2>/dev/null
chown -R pt-bob: "$hb/Maildir"
[ "$(df -P "$hb/Maildir" | awk 'NR == 2 { print $4 }')" = 0 ] ||
    fail "the tmpfs is not full: $(df -P "$hb/Maildir")"
start_qmgr

# send NAME RCPT [BODY-BYTES] - a message from pt-alice, Message-ID
# <NAME@test.example>
send() {
	{
		printf 'From: Alice <pt-alice@test.example>\nSubject: class %s\n' "$1"
		printf 'Message-ID: <%s@test.example>\n\n' "$1"
		if [ -n "${3:-}" ]; then
			head -c "$3" /dev/zero | tr '\0' x | fold -w 70
		else
			printf 'body of %s\n' "$1"
		fi
	} | inject -f pt-alice@test.example "$2" || fail "inject $1"
}

say "one message per class, all at once"
send sender someone@sender.test
send nxdomain someone@nx.test
send nullmx someone@nullmx.test
send big someone@big.test 5000
send full someone@full.test
send diskfull pt-bob@test.example
send loop someone@loop.test
send tls someone@tlsreq.test
send prog prog@test.example
N=9

notices() { delivered pt-alice; }
# settled - every message has its notice, or the queue manager gave up
# making one for now (it tries again in 5 minutes)
settled() {
	[ $(($(notices) + $(grep -c 'cannot make the failure notice' \
	    "$T/log"))) -ge $N ]
}
# about 6 s on a quiet machine; up to 2 minutes on a busy one
for _ in 1 2 3 4 5 6; do
	wait_for settled && break
done
sleep 1
say "each notice"
cat >"$T/expect.py" <<'PY'
# name: (recipient, status, Diagnostic-Code kind, phrases of the
#        explanation, what the text and the Diagnostic-Code must quote,
#        phrases the text must not hold)
P = PORT
EXPECT = {
    "sender": ("someone@sender.test", "5.7.1", "smtp",
        ["The mail server of sender.test refused to take any mail from "
         "your address, <pt-alice@test.example>, so it never looked at "
         "the recipient."],
        ["553 5.7.1 <pt-alice@test.example>: Sender address rejected: "
         "not trusted here"],
        ["answered the MAIL FROM command"], []),
    "nxdomain": ("someone@nx.test", "5.1.2", "x-postern",
        ["The domain nx.test does not exist, so nothing can be delivered "
         "to any address there."],
        [], ["nx.test does not exist (DNS NXDOMAIN)"], []),
    "nullmx": ("someone@nullmx.test", "5.1.10", "x-postern",
        ["The domain nullmx.test exists, but it has declared that it "
         "accepts no mail at all"],
        [], ["null MX"], []),
    "big": ("someone@big.test", "5.3.4", "x-postern",
        ["Your message is larger than the receiving mail server accepts."],
        [], ["the server accepts at most 1000 (SIZE)"], []),
    "full": ("someone@full.test", "5.2.2", "smtp",
        ["The recipient's mailbox is full and cannot take more mail."],
        ["552 5.2.2 mailbox full"], [], []),
    "diskfull": ("pt-bob@test.example", "4.3.1", "x-postern",
        [("The mail system at test.example could not deliver the message",
          "The recipient's mailbox is full"), "6 delivery attempts"],
        [], ["insufficient disk space"],
        ["No mail server of test.example could be reached"]),
    "loop": ("someone@loop.test", "5.4.6", "x-postern",
        ["The message was caught in a loop"],
        [], ["loops back to myself (MX host test.example is this host)"],
        []),
    "tls": ("someone@tlsreq.test", "4.7.4", "x-postern",
        ["Mail to tlsreq.test must travel encrypted, but its mail server "
         "could not set up a secure connection that this mail system "
         "accepts", "6 delivery attempts"],
        [], ["TLS is required (level encrypt) but host "
             "mx.tlsreq.test[127.0.0.133]:%s does not offer STARTTLS" % P],
        ["No mail server of tlsreq.test could be reached"]),
    "prog": ("prog@test.example", "5.7.0", "x-unix",
        ["is handed to a program on test.example, and that program "
         "refused your message or failed while handling it."],
        ["go away: prog takes no mail"],
        ["command exited with status 77"], []),
}
PY
sed -i "s/PORT/$P/" "$T/expect.py"
"$PY" - "$(home_of pt-alice)/Maildir/new" "$T/expect.py" <<'PY' ||
import email, email.policy, os, sys
new, expect = sys.argv[1], sys.argv[2]
exec(open(expect).read())

def flat(s):
    return " ".join(s.split())

def check(msg, raw, name):
    rcpt, status, kind, phrases, quotes, notes, never = EXPECT[name]
    for line in raw.split(b"\n"):
        assert len(line) <= 998, "line over 998 octets"
    assert msg.get_content_type() == "multipart/report", \
        msg.get_content_type()
    assert msg.get_param("report-type") == "delivery-status", \
        msg.get_param("report-type")
    assert msg["Subject"] == "Undelivered Mail Returned to Sender", \
        msg["Subject"]
    assert msg["Auto-Submitted"] == "auto-replied", msg["Auto-Submitted"]
    assert "MAILER-DAEMON@test.example" in msg["From"], msg["From"]
    parts = list(msg.iter_parts())
    assert len(parts) == 3, [p.get_content_type() for p in parts]
    assert parts[0].get_content_type() == "text/plain"
    assert parts[1].get_content_type() == "message/delivery-status", \
        parts[1].get_content_type()
    assert parts[2].get_content_type() == "message/rfc822", \
        parts[2].get_content_type()
    assert ("class " + name) in parts[2].as_string(), "not the original"
    text = parts[0].get_content()
    blocks = [{k.lower(): str(v) for k, v in b.items()}
              for b in parts[1].get_payload()]
    assert blocks[0]["reporting-mta"].replace(" ", "") == "dns;test.example"
    rb = [b for b in blocks if "final-recipient" in b]
    assert len(rb) == 1, rb
    b = rb[0]
    fr = b["final-recipient"].split(";", 1)
    assert fr[0].strip().lower() == "rfc822" and fr[1].strip() == rcpt, b
    assert b["action"] == "failed", b
    assert b["status"] == status, b
    dc = b.get("diagnostic-code")
    assert dc is not None, b
    got_kind, dtext = [x.strip() for x in dc.split(";", 1)]
    assert got_kind.lower() == kind, f"Diagnostic-Code {dc!r}: not {kind}"
    assert "<" + rcpt + ">" in text, f"<{rcpt}> not in the text:\n{text}"
    ft = flat(text)
    for p in phrases:
        # a tuple: any one of these
        alts = p if isinstance(p, tuple) else (p,)
        assert any(flat(a) in ft for a in alts), \
            f"phrase {p!r} not in the text:\n{text}"
    for q in quotes:
        assert flat(q) in ft, f"reply {q!r} not quoted in the text:\n{text}"
        assert q in flat(dtext), f"reply {q!r} not in {dc!r}"
    for q in notes:
        assert flat(q) in ft, f"{q!r} not in the text:\n{text}"
    for q in never:
        assert flat(q) not in ft, f"{q!r} in the text:\n{text}"

found, bad = {}, []
for f in sorted(os.listdir(new)):
    raw = open(os.path.join(new, f), "rb").read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    irt = (msg["In-Reply-To"] or "").strip()
    name = irt[1:].split("@")[0] if irt.startswith("<") else irt
    if name not in EXPECT:
        bad.append(f"a notice with In-Reply-To {irt!r}")
        continue
    if name in found:
        bad.append(f"{name}: a second notice")
        continue
    found[name] = f
    try:
        check(msg, raw, name)
        print(f"-- ok {name}")
    except AssertionError as e:
        bad.append(f"{name} ({f}): {e}")
for name in EXPECT:
    if name not in found:
        bad.append(f"{name}: no notice")
for b in bad:
    print("FAIL", b)
sys.exit(1 if bad else 0)
PY
    fail "notices: checks failed; the log:
$(grep -E 'status=bounced|notification|warning|error' "$T/log")"
[ "$(grep -c 'sender non-delivery notification: ' "$T/log")" = $N ] ||
    fail "not $N notification log lines: $(grep notification "$T/log")"
wait_queue 0 || fail "originals left in the queue: $(ctl queue)"

say "what the servers saw"
"$PY" - "$FAULT_DIR" <<'PY' || fail "the servers' records"
import glob, json, os, sys
recs = {}
for f in glob.glob(os.path.join(sys.argv[1], "*-*.json")):
    r = json.load(open(f))
    recs.setdefault(r["listener"], []).append(r)
# the message data went only to full.test's server, never to the SIZE
# 1000 one, nor to tlsreq.test's without TLS (no MAIL at all); no
# recipient was accepted after sender.test's server refused MAIL FROM
def sent(name):
    return [r for r in recs.get(name, []) if r["complete"]]
assert sent("full"), "full: no data"
assert not sent("big"), "big got the data"
assert not sent("tlsreq"), "tlsreq got the data"
assert not any(r["mail_from"] is not None for r in recs.get("tlsreq", [])), \
    "tlsreq got MAIL FROM without TLS"
assert not any((x["reply"] or "").startswith("2")
               for r in recs.get("sender", []) for x in r["rcpts"]), \
    "sender.test accepted a recipient"
assert recs.get("sender"), "sender.test saw nothing"
PY
stop_qmgr
umount "$hb/Maildir"
rm -rf "$hb/Maildir"
echo ok
