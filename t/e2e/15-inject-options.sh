# 15-inject-options: the sendmail options callers use: a lone dot ends the
# message unless -i/-oi; -N, -R, -V reach the envelope; the classic -o and
# -B options cron and mutt pass are accepted; a leading "From " line is
# dropped; a non-header line ends the header section.
. "$(dirname "$0")/lib.sh"
instance
start_qmgr
n=0
last() { ctl queue --json | grep -v '"sender":""' | tail -n 1; }
content() { ctl show "$(last | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])')" --content; }
queued() { n=$((n + 1)); wait_queue $n || fail "message $n not queued"; }

say "without -i a line with a single dot ends the message"
printf 'Subject: dot\n\nbefore\n.\nafter\n' | inject dot@x.example || fail "inject $?"
queued
content | tail -n 1 | grep -qx before || fail "dot did not end the message"
say "with -oi it is data"
printf 'Subject: dot\n\nbefore\n.\nafter\n' | inject -oi dot@x.example || fail "inject $?"
queued
[ "$(content | tail -n 2 | tr '\n' ' ')" = ". after " ] || fail "-oi: $(content | tail -n 2)"

say "cron's and mutt's options"
printf 'Subject: cron\n\nout\n' | inject -FCronDaemon -i -B8BITMIME -oem root || fail "cron style $?"
queued
content | grep -q '^From: CronDaemon <' || fail "-F name not in From"
last | grep -q '"address":"root@test.example"' || fail "bare root not qualified"
printf 'Subject: mutt\n\nx\n' | inject -oem -oi -- m@x.example || fail "mutt style $?"
queued

say "DSN options"
printf 'Subject: dsn\n\nx\n' | inject -i -N success,delay -R hdrs -V env-42 d@x.example || fail "dsn $?"
queued
ctl show "$(last | $PY -c 'import json,sys; print(json.load(sys.stdin)["id"])')" | grep -q 'ENVID: *env-42' ||
    fail "ENVID not stored"

say "a leading From_ line is dropped, a non-header line ends the headers"
printf 'From someone Sat Nov 28 10:00:00 2026\nSubject: fromline\nnot a header\nbody\n' |
    inject -i f@x.example || fail "inject $?"
queued
content >"$T/c"
grep -q '^From someone' "$T/c" && fail "From_ line kept"
$PY - "$T/c" <<'PY' || fail "header/body split wrong: $(cat "$T/c")"
import sys
raw = open(sys.argv[1], "rb").read()
head, body = raw.split(b"\n\n", 1)
assert b"Subject: fromline" in head, head
assert body == b"not a header\nbody\n", body
PY
stop_qmgr
echo ok
