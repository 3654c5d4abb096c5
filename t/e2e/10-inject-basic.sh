# 10-inject-basic: one message through sendmail into the queue, checked
# field by field: envelope, added headers, byte-exact content, the log
# line, an empty maildrop.
. "$(dirname "$0")/lib.sh"
instance
start_qmgr

say "a message without Date, Message-ID or From"
printf 'Subject: hello\nTo: a@x.example\n\nline one\n.. two dots\nno final newline' |
    inject -i -F 'Test "User"' -f sender@test.example a@x.example 'B <b@y.example>' carol ||
    fail "sendmail exited $?"
wait_queue 1 || fail "message not picked up"
[ "$(maildrop_count)" = 0 ] || fail "maildrop not empty"
# (a notice for carol, from <>, may be queued by now too)
json=$(ctl queue --json | grep -v '"sender":""')
id=$(printf "%s\n" "$json" | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])')
printf "%s\n" "$json" | $PY -c '
import json, sys
m = json.load(sys.stdin)
assert m["sender"] == "sender@test.example", m
assert [r["address"] for r in m["recipients"]] == ["a@x.example", "b@y.example", "carol@test.example"], m
assert m["recipients"][0]["original"] is None, m
assert m["recipients"][2]["original"] == "carol", m
assert all(r["state"] in ("pending", "deferred", "failed") for r in m["recipients"]), m
assert m["held"] is False and m["subject"] == "hello", m
assert len(m["id"]) == 11 and m["arrival"].endswith("Z"), m
' || fail "envelope wrong: $json"
ctl show "$id" --content >"$T/content"
$PY - "$T/content" <<'PY' || fail "content wrong: $(cat "$T/content")"
import sys, email
raw = open(sys.argv[1], "rb").read()
lines = raw.split(b"\n")
assert lines[0].startswith(b"Received: by test.example (postern, from userid "), lines[0]
head, body = raw.split(b"\n\n", 1)
assert body == b"line one\n.. two dots\nno final newline\n", body
m = email.message_from_bytes(raw)
assert m["Subject"] == "hello" and m["To"] == "a@x.example"
assert m["Date"] and m["Message-ID"].endswith("@test.example>"), m["Message-ID"]
assert m["From"].startswith('"Test \\"User\\"" <') and m["From"].endswith("@test.example>"), m["From"]
PY
grep -q "$id: uid=$(id -u) from=<sender@test.example> size=[0-9]* nrcpt=3 (queued)" "$T/log" ||
    fail "no pickup log line for $id: $(cat "$T/log")"

say "a complete message is stored byte for byte after the Received line"
cat >"$T/msg" <<'MSG'
From: Some One <one@test.example>
To: two@x.example
Date: Sat, 28 Nov 2026 10:00:00 +0000
Message-ID: <exact@test.example>
Subject: exact

body line
	tab line
.
..
From the start
MSG
inject -i two@x.example <"$T/msg" || fail "sendmail exited $?"
wait_queue 2 || fail "second message not picked up"
id2=$(ctl queue --json | grep -v '"sender":""' | tail -n 1 | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])')
ctl show "$id2" --content >"$T/content2"
tail -c "$(wc -c <"$T/msg")" "$T/content2" | cmp - "$T/msg" || fail "content differs"
[ "$(head -c 9 "$T/content2")" = "Received:" ] || fail "no Received line"
[ "$(wc -c <"$T/content2")" -eq "$(( $(wc -c <"$T/msg") + $(head -n 2 "$T/content2" | wc -c) ))" ] ||
    fail "more than the Received line was added"

say "the text views"
ctl show "$id2" | grep -q '^Subject: *exact' || fail "show lacks the subject"
ctl queue | grep -q "^$id2 " || fail "queue listing lacks $id2"
# (the unknown recipient of the first message made a notice, which is
# queued too)
n=$(ctl queue --json | wc -l)
"$B/mailq" -C "$T/etc" | grep -q "^-- [0-9]* Kbytes in $n Requests.\$" ||
    fail "mailq trailer"
inject -bp -C "$T/etc" | grep -q "^$id " || fail "sendmail -bp lacks $id"

say "CRLF line ends become LF"
printf 'Subject: crlf\r\nX-Test-Token: crlf\r\n\r\na\r\nb\rc\r\n' | inject -i crlf@x.example || fail "sendmail $?"
wait_queue 3 || fail "third message not picked up"
id3=$(ctl queue --json | grep -v '"sender":""' | tail -n 1 | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])')
[ "$(ctl show "$id3" --content | tail -c 6 | od -An -c | tr -d ' \n')" = 'a\nb\rc\n' ] ||
    fail "line ends not normalised"
stop_qmgr
echo "ok"
