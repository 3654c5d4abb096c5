# 13-inject-extract: sendmail -t takes recipients from To, Cc and Bcc (or
# the Resent- fields), adds command-line ones, and removes Bcc.
. "$(dirname "$0")/lib.sh"
instance
start_qmgr

rcpts_of() {	# id -> sorted addresses
	ctl show "$1" --json | $PY -c '
import json, sys
print(" ".join(sorted(r["address"] for r in json.load(sys.stdin)["recipients"])))'
}
last_id() { ctl queue --json | grep -v '"sender":""' | tail -n 1 | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }

say "To, Cc, Bcc with display names, a group and folding"
cat <<'MSG' | inject -t -i extra@x.example || fail "sendmail -t: $?"
From: me@test.example
To: "Doe, John" <john@a.example>, jane@b.example
Cc: team: c1@c.example,
  c2@c.example;, (comment) d@d.example
Bcc: secret@e.example
Subject: extract

hello
MSG
wait_queue 1 || fail "not queued"
id=$(last_id)
got=$(rcpts_of "$id")
[ "$got" = "c1@c.example c2@c.example d@d.example extra@x.example jane@b.example john@a.example secret@e.example" ] ||
    fail "recipients: $got"
ctl show "$id" --content >"$T/c"
grep -qi '^bcc:' "$T/c" && fail "Bcc not removed"
grep -q 'secret@e.example' "$T/c" && fail "Bcc address still in the content"
grep -q '^To: "Doe, John" <john@a.example>, jane@b.example$' "$T/c" || fail "To changed"

say "Resent- fields take over"
cat <<'MSG' | inject -t -i || fail "sendmail -t resent: $?"
From: me@test.example
To: original@a.example
Resent-To: new@b.example
Resent-Bcc: hidden@c.example
Subject: resent

x
MSG
wait_queue 2 || fail "not queued"
got=$(rcpts_of "$(last_id)")
[ "$got" = "hidden@c.example new@b.example" ] || fail "resent recipients: $got"

say "-t without any recipient"
printf 'From: me@test.example\nSubject: none\n\nx\n' | inject -t -i 2>"$T/err"
[ $? = 65 ] || fail "expected 65"
grep -q 'no recipient' "$T/err" || fail "message: $(cat "$T/err")"

say "-t with a bad address in To"
printf 'To: bad@@x\n\nx\n' | inject -t -i 2>"$T/err"
[ $? = 65 ] || fail "expected 65 for a bad To"
stop_qmgr
[ "$(maildrop_count)" = 0 ] || fail "a refused message left a file"
echo ok
