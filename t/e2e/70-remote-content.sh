# 70-remote-content: what postern-remote delivers over SMTP is the stored
# message, byte for byte, with CRLF line ends: lines that start with "."
# (and a line that is only ".") arrive as they were, dot-stuffed on the
# wire and unstuffed at the server; 8-bit content (Latin-1, UTF-8, every
# byte 0x80-0xff) arrives unchanged and is declared with BODY=8BITMIME to
# a server that announces 8BITMIME; a 20 MB message arrives with the right
# size and SHA-256; lines over 998 octets are wrapped as remote_data.h
# says (body: CRLF SPACE after 998 octets; header: folded before the last
# blank, else CRLF SPACE), no line on the wire exceeds 998 octets (plus a
# stuffing dot), and lines of exactly 998 octets are not touched; bare
# CRs become spaces (remote_data.h), so no lax line end or end-of-data
# marker reaches the wire and "X-CR: a<CR>Bcc: c" stays one field. The
# envelope sender and recipient at the server are right, the null sender
# (-f '<>' and -f '') goes out as MAIL FROM:<>, and Postfix's smtp-sink
# counts a message delivered to it.
#
# Each message also goes to hold@hold.test, whose MX refuses connections,
# so it stays in the queue (deferred, 2h retry) and `ctl show --content`
# still gives the stored message after the delivery: the server's copy
# must be exactly that with LF turned into CRLF.
. "$(dirname "$0")/lib.sh"
. "$top/t/e2e/remotenet.sh"

P=$(free_port)
instance "relayhost =" "smtp_port = $P" "smtp_connect_timeout = 2s" \
    "smtp_greeting_timeout = 5s" "smtp_command_timeout = 10s" \
    "smtp_data_timeout = 20s"
export T B

cat >"$T/zone.json" <<'JSON'
{"content.test": {"MX": [[10, "mx.content.test"]]},
 "mx.content.test": {"A": ["127.0.0.21"]},
 "ss.test": {"MX": [[10, "mx.ss.test"]]},
 "mx.ss.test": {"A": ["127.0.0.22"]},
 "wire.test": {"MX": [[10, "mx.wire.test"]]},
 "mx.wire.test": {"A": ["127.0.0.23"]},
 "hold.test": {"MX": [[10, "mx.hold.test"]]},
 "mx.hold.test": {"A": ["127.0.0.24"]}}
JSON
start_dns "$T/zone.json"
echo "dns_servers = 127.0.0.1:$DNS_PORT" >>"$T/etc/postern.conf"

# content.test: a well-behaved receiver (aiosmtpd: 8BITMIME, SIZE)
start_sink sink=127.0.0.21:$P
# ss.test: Postfix's smtp-sink
start_smtp_sink ss=127.0.0.22:$P
# wire.test: smtpfault, which records the raw DATA bytes and the raw
# commands; it announces 8BITMIME and PIPELINING, not SIZE
echo '{"hostname": "mx.wire.test"}' >"$T/fault.json"
start_fault "$T/fault.json" wire=127.0.0.23:$P
# 127.0.0.24 (hold.test): nothing listens

# py WHAT - run a Python check on stdin; helpers from $T/common.py
py() { PYTHONPATH=$T "$PY" - || fail "$1"; }

cat >"$T/common.py" <<'PYEOF'
import base64, glob, hashlib, json, os, subprocess, sys
T = os.environ["T"]
B = os.environ["B"]

def expect(cond, what):
    if not cond:
        sys.exit(f"not as expected: {what}")

def crlf(b):
    return b.replace(b"\n", b"\r\n")

def stored(qid):
    """the message as the queue holds it (LF line ends)"""
    return subprocess.run([f"{B}/posternctl", "-c", f"{T}/etc", "show", qid,
                           "--content"], check=True,
                          stdout=subprocess.PIPE).stdout

def sink_record(rcpt):
    """the one smtpsink record that has rcpt: (json, eml bytes)"""
    found = []
    for path in sorted(glob.glob(f"{T}/sink-*/[0-9]*.json")):
        r = json.load(open(path))
        if rcpt in r["rcpt_tos"]:
            found.append((r, open(path[:-5] + ".eml", "rb").read()))
    expect(len(found) == 1, f"{len(found)} sink records for {rcpt}")
    return found[0]

def fault_record(rcpt):
    """the one complete smtpfault transaction that has rcpt"""
    found = []
    for path in sorted(glob.glob(f"{T}/fault-*/*.json")):
        r = json.load(open(path))
        if r.get("complete") and \
                any(x["address"] == rcpt for x in r.get("rcpts") or []):
            found.append(r)
    expect(len(found) == 1, f"{len(found)} smtpfault transactions for "
           f"{rcpt}")
    return found[0]

def body(b):
    """what follows the first empty line (CRLF or LF form)"""
    for sep in (b"\r\n\r\n", b"\n\n"):
        if sep in b:
            return b.split(sep, 1)[1]
    return b""

def show_diff(got, want):
    """where two byte strings first differ, for a failure message"""
    n = next((i for i in range(min(len(got), len(want)))
              if got[i] != want[i]), min(len(got), len(want)))
    return (f"{len(got)} bytes, want {len(want)}; first difference at "
            f"{n}: got {got[max(0, n - 40):n + 40]!r}, want "
            f"{want[max(0, n - 40):n + 40]!r}")
PYEOF

# The messages, written by Python so that the bytes are exactly known.
"$PY" - <<'PY' || fail "cannot write the test messages"
import os, random
T = os.environ["T"]

def hdr(frm, to, mid, subject):
    if isinstance(subject, str):
        subject = subject.encode()
    return (f"From: {frm}\nTo: {to}\nDate: Sat, 28 Nov 2026 10:00:00 +0000\n"
            f"Message-ID: <{mid}@test.example>\n").encode() + \
        b"Subject: " + subject + b"\n"

# dots: a line that is only ".", "..", "...", leading dots, the last
# line a single "."
open(f"{T}/m-dots", "wb").write(
    hdr("s1@test.example", "dots@content.test", "dots", "dots") + b"\n"
    b".\n..\n...\n.leading dot\n..two leading dots\n .space dot\n"
    b"middle\n.\nlast but one\n.\n")

# 8-bit: Latin-1 and UTF-8 in a header field and the body, every octet
# 0x80..0xff, a TAB, and other controls but CR, LF and NUL
open(f"{T}/m-8bit", "wb").write(
    hdr("s2@test.example", "8bit@content.test", "8bit",
        b"caf\xc3\xa9 / caf\xe9") +
    b"X-Latin1: d\xe9j\xe0 vu\n"
    b"X-Utf8: \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa8\n\n"
    b"Latin-1: Gr\xfc\xdfe aus K\xf6ln, \xe0 bient\xf4t\n"
    b"UTF-8: Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln \xe2\x82\xac\n"
    b"all high octets: " + bytes(range(0x80, 0x100)) + b"\n"
    b"tab\there, controls \x01\x07\x1b\x7f\n"
    b".\xe9 dot then 8-bit\n")

# big: about 20 MB of 76-octet lines, every 1000th starting with "."
rng = random.Random(70)
lines = []
alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
size = 0
i = 0
while size < 20 * 1024 * 1024:
    line = bytes(rng.choice(alphabet) for _ in range(76)) if i < 64 else \
        lines[i % 64][i % 7:] + lines[i % 64][:i % 7]
    if i % 1000 == 999:
        line = b"." + line[1:]
    lines.append(line)
    size += 77
    i += 1
open(f"{T}/m-big", "wb").write(
    hdr("s3@test.example", "big@content.test", "big", "20 MB") + b"\n" +
    b"\n".join(lines) + b"\n")

# long lines, to smtpfault (raw wire bytes)
def pattern(n, start=0):
    return bytes(0x30 + (start + k) % 75 for k in range(n))

words = b" ".join(b"word%04d" % k for k in range(170))     # 1529 octets
open(f"{T}/m-long", "wb").write(
    hdr("s4@test.example", "long@wire.test", "long", "long lines") +
    b"X-Long: " + words + b"\n" +
    b"X-Nospace: " + pattern(1200, 5).replace(b":", b"x") + b"\n\n" +
    b"A" + pattern(1999) + b"\n" +           # 2000 octets
    pattern(998, 1) + b"\n" +                # exactly 998: as is
    pattern(999, 2) + b"\n" +                # 999: wrapped once
    b"." + pattern(997, 3) + b"\n" +         # 998 with a leading dot
    b"." + pattern(2999, 4) + b"\n" +        # 3000, leading dot
    b"last\n")

# bare CRs (kept by sendmail), which must become spaces on the wire, also
# next to dots (no lax end-of-data marker may reach the wire)
open(f"{T}/m-cr", "wb").write(
    hdr("s5@test.example", "cr@wire.test", "cr", "bare CR") +
    b"X-CR: a\rBcc: c@x.test\n\n"
    b"bare\rCR\nline\r.\rafter\n.\r\nend\r\r\r\n")

# the null sender, to smtpsink (-f '') and to smtpfault (-f '<>')
open(f"{T}/m-null1", "wb").write(
    hdr("MAILER-DAEMON@test.example", "null1@content.test", "null1",
        "null sender 1") + b"\nbounce-like\n")
open(f"{T}/m-null2", "wb").write(
    hdr("MAILER-DAEMON@test.example", "null2@wire.test", "null2",
        "null sender 2") + b"\nbounce-like\n")
# to smtp-sink
open(f"{T}/m-ss", "wb").write(
    hdr("s6@test.example", "ss@ss.test", "ss", "to smtp-sink") +
    b"\n.dot line\nto smtp-sink\n")
PY

start_qmgr

# qid RCPT - the queue id of the message delivered to RCPT (from the log)
qid() {
	sed -n "s/.*: \([0-9A-Z]\{11\}\): to=<$1>, .*status=sent.*/\1/p" \
	    "$T/log" | head -n 1
}
# sent RCPT HOST - wait for RCPT's "status=sent" line via HOST
sent() {
	wait_log ": to=<$1>, relay=$2\[[0-9.]+\]:$P, (conn_use=[0-9]+, )?delay=[0-9.]+, delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+, dsn=2\.0\.0, status=sent \(250[ -]" ||
	    fail "$1 not sent via $2: $(grep "to=<$1>" "$T/log")"
}

say "dot lines, 8-bit content, a 20 MB message, the null sender (-f '')"
inject -i -f s1@test.example dots@content.test hold@hold.test \
    <"$T/m-dots" || fail "inject dots"
inject -i -f s2@test.example 8bit@content.test hold@hold.test \
    <"$T/m-8bit" || fail "inject 8bit"
inject -i -f s3@test.example big@content.test hold@hold.test \
    <"$T/m-big" || fail "inject big"
inject -i -f '' null1@content.test hold@hold.test <"$T/m-null1" ||
    fail "inject null1"
say "long lines and the null sender (-f '<>') to smtpfault"
inject -i -f s4@test.example long@wire.test hold@hold.test \
    <"$T/m-long" || fail "inject long"
inject -i -f s5@test.example cr@wire.test hold@hold.test <"$T/m-cr" ||
    fail "inject cr"
inject -i -f '<>' null2@wire.test hold@hold.test <"$T/m-null2" ||
    fail "inject null2"
say "a message to Postfix's smtp-sink"
inject -i -f s6@test.example ss@ss.test <"$T/m-ss" || fail "inject ss"

for r in dots 8bit big null1; do sent $r@content.test mx.content.test; done
for r in long cr null2; do sent $r@wire.test mx.wire.test; done
sent ss@ss.test mx.ss.test
wait_log ': to=<hold@hold.test>, .*status=deferred' ||
    fail "hold@hold.test not deferred: $(grep hold@ "$T/log")"
grep -q 'status=bounced' "$T/log" && fail "a bounce: $(grep bounced "$T/log")"

ID_DOTS=$(qid dots@content.test) ID_8BIT=$(qid 8bit@content.test)
ID_BIG=$(qid big@content.test) ID_NULL1=$(qid null1@content.test)
ID_LONG=$(qid long@wire.test) ID_NULL2=$(qid null2@wire.test)
ID_CR=$(qid cr@wire.test)
export ID_DOTS ID_8BIT ID_BIG ID_NULL1 ID_LONG ID_NULL2 ID_CR
for v in "$ID_DOTS" "$ID_8BIT" "$ID_BIG" "$ID_NULL1" "$ID_LONG" "$ID_NULL2" \
    "$ID_CR"; do
	[ -n "$v" ] || fail "a queue id is missing: $(cat "$T/log")"
done

say "the server got the stored messages with CRLF, envelopes right"
py "content at smtpsink" <<'PY'
from common import *
cases = [("dots", "ID_DOTS", "s1@test.example"),
         ("8bit", "ID_8BIT", "s2@test.example"),
         ("big", "ID_BIG", "s3@test.example"),
         ("null1", "ID_NULL1", "")]
for name, idvar, sender in cases:
    rcpt = f"{name}@content.test"
    r, eml = sink_record(rcpt)
    st = stored(os.environ[idvar])
    mine = open(f"{T}/m-{name}", "rb").read()
    # the stored message is the input after postern's Received: field
    expect(st.endswith(mine) and st.startswith(b"Received: by test.example"),
           f"{name}: the stored message is not Received: + the input")
    want = crlf(st)
    expect(eml == want, f"{name}: content at the server: "
           f"{show_diff(eml, want)}")
    expect(r["mail_from"] == sender, f"{name}: MAIL FROM {r['mail_from']!r}")
    expect(r["rcpt_tos"] == [rcpt], f"{name}: RCPT TO {r['rcpt_tos']}")
    expect(r["helo"] == "test.example" and r["esmtp"], f"{name}: {r}")
    expect(r["size"] == len(want), f"{name}: size {r['size']}")
    if name == "8bit":
        expect("BODY=8BITMIME" in r["mail_options"],
               f"8bit: no BODY=8BITMIME in {r['mail_options']}")
    # RFC 1870: the declared SIZE covers the message with CRLFs
    size = [o for o in r["mail_options"] if o.startswith("SIZE=")]
    expect(len(size) == 1 and int(size[0][5:]) >= len(eml),
           f"{name}: SIZE {size} for {len(eml)} octets")
    if name == "big":
        b = body(eml)
        wb = crlf(body(mine))
        expect(len(b) == len(wb) and hashlib.sha256(b).hexdigest() ==
               hashlib.sha256(wb).hexdigest(),
               f"big: body {len(b)} bytes, want {len(wb)}")
        expect(len(eml) > 20 * 1024 * 1024, f"big: only {len(eml)} bytes")
    expect(not r.get("smtputf8"), f"{name}: SMTPUTF8 set: {r}")
PY

say "long lines: wrapped at 998 octets with CRLF SPACE, raw wire checked"
py "long lines at smtpfault" <<'PY'
from common import *
r = fault_record("long@wire.test")
raw = base64.b64decode(r["data_raw_b64"])
data = base64.b64decode(r["data_b64"])
st = stored(os.environ["ID_LONG"])
mine = open(f"{T}/m-long", "rb").read()
expect(st.endswith(mine), "long: the stored message is not the input")

def wrap_body(line):
    """remote_data.h: CRLF SPACE after 998 octets"""
    out = [line[:998]]
    rest = line[998:]
    while rest:
        out.append(b" " + rest[:997])
        rest = rest[997:]
    return out

def fold_header(line):
    """remote_data.h: fold before the last blank that follows a
    non-blank within the first 999 octets, else CRLF SPACE after 998"""
    out = []
    while len(line) > 998:
        at = 0
        for i in range(998, 0, -1):
            if line[i:i + 1] in b" \t" and line[i - 1:i] not in b" \t":
                at = i
                break
        if at:
            out.append(line[:at])
            line = line[at:]
        else:
            out.append(line[:998])
            line = b" " + line[998:]
    return out + [line]

want_lines = []
header = True
for line in st.split(b"\n")[:-1]:
    if header and line == b"":
        header = False
    want_lines += (fold_header(line) if header else wrap_body(line))
want = b"".join(l + b"\r\n" for l in want_lines)
expect(data == want, f"long: unstuffed data: {show_diff(data, want)}")
# what the wrapping added is exactly CRLF SPACE in the body and CRLF
# before a blank (or CRLF SPACE) in the header section
head, _, bdy = data.partition(b"\r\n\r\n")
expect(bdy.replace(b"\r\n ", b"") == crlf(body(st)),
       "long: the body without the inserted CRLF SPACEs differs")
# the wire: CRLF only, each line at most 998 octets not counting a
# stuffing dot, stuffed lines exactly where the content has a leading dot
expect(raw.endswith(b"\r\n.\r\n"), f"long: raw end {raw[-20:]!r}")
wire = raw[:-3].split(b"\r\n")[:-1]
expect(b"\n" not in raw.replace(b"\r\n", b"") and
       b"\r" not in raw.replace(b"\r\n", b""), "long: bare CR or LF on the wire")
for n, line in enumerate(wire):
    limit = 999 if line.startswith(b"..") else 998
    expect(len(line) <= limit, f"long: wire line {n} has {len(line)} octets: "
           f"{line[:30]!r}...")
    expect(not line.startswith(b".") or line.startswith(b".."),
           f"long: wire line {n} starts with an unstuffed dot")
expect(b"".join(l[1:] if l.startswith(b".") else l for l in wire) ==
       b"".join(want_lines), "long: the wire unstuffed is not the data")
lens = sorted({len(l) for l in wire}, reverse=True)
expect(999 in lens and 998 in lens, f"long: no 998/999-octet wire lines: "
       f"{lens[:5]}")
# smtpfault counts the stuffing dot towards its 1000-octet limit; RFC
# 5321 section 4.5.3.1.6 does not, and the loop above checked the lines
# longer than 998 octets are exactly the stuffed ones
v = [x for x in r["violations"] if x != "DATA line longer than 1000 octets"]
expect(v == [], f"long: smtpfault saw {r['violations']}")
expect(r["mail_from"] == "s4@test.example", f"long: {r['mail_from']}")
expect([x["address"] for x in r["rcpts"]] == ["long@wire.test"], r["rcpts"])
PY

say "bare CRs become spaces"
py "bare CR at smtpfault" <<'PY'
from common import *
r = fault_record("cr@wire.test")
st = stored(os.environ["ID_CR"])
expect(b"\r" in st, f"sendmail did not keep the bare CRs: {st!r}")
want = crlf(st.replace(b"\r\n", b"\n").replace(b"\r", b" "))
data = base64.b64decode(r["data_b64"])
expect(data == want, f"cr: {show_diff(data, want)}")
expect(b"\nBcc:" not in data, "cr: a bare CR made a Bcc: field")
expect(r["violations"] == [], f"cr: smtpfault saw {r['violations']}")
PY

say "MAIL FROM:<> for the null sender on the wire"
py "null sender at smtpfault" <<'PY'
from common import *
r = fault_record("null2@wire.test")
mails = [c for c in r["commands"] if c.upper().startswith("MAIL")]
expect(len(mails) == 1 and (mails[0] == "MAIL FROM:<>\r\n" or
       mails[0].startswith("MAIL FROM:<> ")), f"null2: MAIL is {mails}")
expect(r["mail_from"] == "", f"null2: mail_from {r['mail_from']!r}")
want = crlf(stored(os.environ["ID_NULL2"]))
data = base64.b64decode(r["data_b64"])
expect(data == want, f"null2: {show_diff(data, want)}")
expect(r["violations"] == [], f"null2: smtpfault saw {r['violations']}")
PY

say "smtp-sink counted the message"
wait_smtp_sink ss 1 || fail "smtp-sink count: $(smtp_sink_count ss)"
f=$(smtp_sink_files ss)
[ "$(echo "$f" | wc -l)" = 1 ] && [ -f "$f" ] || fail "smtp-sink dumps: $f"
grep -q '^X-Mail-Args: <s6@test.example>' "$f" ||
    fail "smtp-sink sender: $(grep X-Mail-Args "$f")"
[ "$(grep '^X-Rcpt-Args: ' "$f")" = "X-Rcpt-Args: <ss@ss.test>" ] ||
    fail "smtp-sink recipients: $(grep X-Rcpt-Args "$f")"
grep -qx '\.dot line' "$f" && grep -qx 'to smtp-sink' "$f" &&
    grep -qx 'Message-ID: <ss@test.example>' "$f" ||
    fail "smtp-sink content: $(cat "$f")"
wait_log ': to=<ss@ss.test>, .*status=sent' || fail "no log line for ss"

say "the delivered recipients are final, hold@ stays deferred"
py "queue state" <<'PY'
from common import *
out = subprocess.run([f"{B}/posternctl", "-c", f"{T}/etc", "queue",
                      "--json"], check=True, stdout=subprocess.PIPE).stdout
msgs = [json.loads(l) for l in out.splitlines()]
expect(len(msgs) == 7, f"{len(msgs)} messages in the queue")
for m in msgs:
    st = {x["address"]: x["state"] for x in m["recipients"]}
    expect(st.pop("hold@hold.test") == "deferred", st)
    expect(list(st.values()) == ["delivered"], f"{m['id']}: {st}")
PY

grep -q Traceback "$T"/sink-*/log "$T"/fault-*/log &&
    fail "a test server failed: $(cat "$T"/sink-*/log "$T"/fault-*/log)"
stop_qmgr
echo ok
