# 75-remote-retry: with retry_schedule = 1s 1s 1s 1s 1s a remote
# recipient whose destination cannot be reached is tried exactly 6 times
# (the first attempt and 5 retries), deferred after each of the first 5,
# then failed (status=bounced) with the last attempt's text. Three
# destinations at once:
#  - an MX that accepts the connection and closes it at once (smtpfault's
#    greeting "refuse"): it sees exactly 6 connections;
#  - an MX with nothing listening (connection refused);
#  - a domain whose DNS answers SERVFAIL (dnsfake.py): deferred with
#    4.4.3 and a text about DNS each time, then failed.
# While they are deferred, `posternctl queue --json` reports attempts
# 1, 2, 3, 4, 5 in that order, and the transcript of an early attempt
# (`posternctl show --transcript`) shows the DNS answers, "connecting
# to" and the refusal.
# Addresses 127.0.0.98 and 127.0.0.99.
. "$(dirname "$0")/lib.sh"
. "$top/t/e2e/remotenet.sh"

P=$(free_port)
instance "relayhost =" "smtp_port = $P" \
    "retry_schedule = 1s 1s 1s 1s 1s" \
    "smtp_connect_timeout = 2s" "smtp_greeting_timeout = 2s" \
    "smtp_command_timeout = 2s" "smtp_data_timeout = 2s"

cat >"$T/zone.json" <<'JSON'
{"refuse.test": {"MX": [[10, "mx.refuse.test"]]},
 "mx.refuse.test": {"A": ["127.0.0.98"]},
 "closed.test": {"MX": [[10, "mx.closed.test"]]},
 "mx.closed.test": {"A": ["127.0.0.99"]},
 "servfail.test": {"rcode": "SERVFAIL"}}
JSON
start_fakedns "$T/zone.json"
# (its port is known only now; the queue manager is not started yet)
echo "dns_servers = 127.0.0.1:$DNS_PORT" >>"$T/etc/postern.conf"

echo '{"greeting": "refuse"}' >"$T/script.json"
start_fault "$T/script.json" refuse=127.0.0.98:$P
FD=$FAULT_DIR
connections() { cat "$FD/connections.$1" 2>/dev/null || echo 0; }

# nothing may listen on 127.0.0.99:$P
"$PY" -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.99', $P)) == 0)" ||
    skip "something listens on 127.0.0.99:$P"

logline() { grep -F "to=<$1>," "$T/log"; }

start_qmgr
say "injecting a message to each destination"
for d in refuse closed servfail; do
	printf 'Subject: retry %s\n\nbody\n' "$d" |
	    inject -f sender@test.example "a@$d.test" || fail "inject $d"
done

say "watching the queue until the three have left it"
# One line of JSON per recipient: the (state, attempts) seen in the
# queue, in order, and the transcript of the first attempt seen.
"$PY" - "$B/posternctl" "$T/etc" "$T" a@refuse.test a@closed.test \
    a@servfail.test >"$T/watch.json" <<'PY' || fail "watching the queue"
import json, subprocess, sys, time
ctl, etc, T, addrs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
seen = {a: [] for a in addrs}
xs = {a: None for a in addrs}
first = {a: None for a in addrs}
present = set()
deadline = time.time() + 30
while time.time() < deadline:
    out = subprocess.run([ctl, "-c", etc, "queue", "--json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"posternctl queue: {out.returncode} {out.stderr}")
    present = set()
    for line in out.stdout.splitlines():
        m = json.loads(line)
        for r in m["recipients"]:
            a = r["address"]
            if a not in seen:
                continue
            present.add(a)
            now = (r["state"], r["attempts"])
            if not seen[a] or seen[a][-1] != now:
                seen[a].append(now)
            if first[a] is None and r["state"] == "deferred":
                first[a] = r
            if xs[a] is None and r["state"] == "deferred" and \
                    r["attempts"] == 1:
                s = subprocess.run([ctl, "-c", etc, "show", m["id"],
                                    "--json", "--transcript"],
                                   capture_output=True, text=True)
                if s.returncode == 0:
                    for x in json.loads(s.stdout)["recipients"]:
                        if x["address"] == a and x["attempts"] == 1:
                            xs[a] = x.get("transcript") or ""
    if not present and all(seen.values()):
        break
    time.sleep(0.05)
for a in addrs:
    print(json.dumps({"address": a, "seen": seen[a], "transcript": xs[a],
                      "first": first[a], "still_queued": a in present}))
PY

# check ADDR WHAT - the recipient's history in the queue
check() {
	"$PY" - "$T/watch.json" "$1" <<'PY' || fail "$2: $(logline "$1")"
import json, sys
for line in open(sys.argv[1]):
    w = json.loads(line)
    if w["address"] == sys.argv[2]:
        break
if w["still_queued"]:
    sys.exit(f"still in the queue after 30s: {w['seen']}")
# pending before the first attempt, then deferred with 1..5 attempts;
# failed with 6 may show while its notice is being written
seen = [tuple(s) for s in w["seen"] if tuple(s) not in (("pending", 0),
        ("failed", 6))]
want = [("deferred", n) for n in range(1, 6)]
if seen != want:
    sys.exit(f"the queue showed {seen}, want {want}")
PY
}
# transcript ADDR TEXT... - the early attempt's transcript has each TEXT
transcript() {
	"$PY" - "$T/watch.json" "$@" <<'PY' || fail "transcript of $1"
import json, sys
for line in open(sys.argv[1]):
    w = json.loads(line)
    if w["address"] == sys.argv[2]:
        break
xs = w["transcript"]
if xs is None:
    sys.exit("no transcript seen after the first attempt")
for want in sys.argv[3:]:
    if want not in xs:
        sys.exit(f"{want!r} is not in the transcript:\n{xs}")
PY
}
# first ADDR STATUS RELAY DIAGNOSTIC - the fields `queue --json` showed
# after the first attempt (DIAGNOSTIC: a part of it)
first() {
	"$PY" - "$T/watch.json" "$@" <<'PY' || fail "queue --json for $1"
import json, sys
for line in open(sys.argv[1]):
    w = json.loads(line)
    if w["address"] == sys.argv[2]:
        break
r = w["first"]
if r is None or r["attempts"] != 1 or r["status"] != sys.argv[3] or \
        r["relay"] != sys.argv[4] or \
        sys.argv[5] not in (r["diagnostic"] or "") or \
        not r["next_attempt"] or not r["last_attempt"]:
    sys.exit(f"after the first attempt: {r}")
PY
}
# attempts ADDR - deferred lines, then the bounced one, nothing else
attempts() {
	logline "$1" | sed -n 's/.*, status=\([a-z]*\) .*/\1/p' | tr '\n' ' '
}
want_attempts="deferred deferred deferred deferred deferred bounced "

say "an MX that closes at once: 6 connections, then failed"
check a@refuse.test "refuse"
transcript a@refuse.test "dns: refuse.test MX 10 mx.refuse.test" \
    "connecting to mx.refuse.test[127.0.0.98]:$P" \
    "the server closed the connection"
first a@refuse.test 4.4.2 "mx.refuse.test[127.0.0.98]:$P" \
    "the server closed the connection"
[ "$(attempts a@refuse.test)" = "$want_attempts" ] ||
    fail "refuse: the log has $(logline a@refuse.test)"
logline a@refuse.test | tail -n 1 | grep -qE "relay=mx\.refuse\.test\[127\.0\.0\.98\]:$P, .*dsn=4\.4\.2, status=bounced \(lost connection with mx\.refuse\.test\[127\.0\.0\.98\]:$P: the server closed the connection\)$" ||
    fail "refuse, the last line: $(logline a@refuse.test | tail -n 1)"

say "nothing listening: 6 attempts, then failed"
check a@closed.test "closed"
transcript a@closed.test "dns: mx.closed.test A 127.0.0.99" \
    "connecting to mx.closed.test[127.0.0.99]:$P" "Connection refused"
first a@closed.test 4.4.1 "mx.closed.test[127.0.0.99]:$P" \
    "Connection refused"
[ "$(attempts a@closed.test)" = "$want_attempts" ] ||
    fail "closed: the log has $(logline a@closed.test)"
logline a@closed.test | tail -n 1 | grep -qE "relay=mx\.closed\.test\[127\.0\.0\.99\]:$P, .*dsn=4\.4\.1, status=bounced \(.*Connection refused" ||
    fail "closed, the last line: $(logline a@closed.test | tail -n 1)"

say "DNS SERVFAIL: deferred with 4.4.3 each time, then failed"
check a@servfail.test "SERVFAIL"
transcript a@servfail.test "servfail.test"
first a@servfail.test 4.4.3 none "temporary DNS failure"
[ "$(attempts a@servfail.test)" = "$want_attempts" ] ||
    fail "SERVFAIL: the log has $(logline a@servfail.test)"
n=$(logline a@servfail.test | grep -c 'relay=none, .*dsn=4\.4\.3, status=[a-z]* (temporary DNS failure .*servfail\.test')
[ "$n" = 6 ] ||
    fail "SERVFAIL: want 6 lines with 4.4.3 and DNS: $(logline a@servfail.test)"
n=$(grep -c 'servfail\.test MX -> SERVFAIL' "$T/fakedns.log")
[ "$n" -ge 6 ] ||
    fail "SERVFAIL: $n MX queries, want one or more per attempt: $(cat "$T/fakedns.log")"

say "no seventh attempt"
sleep 2
[ "$(connections refuse)" = 6 ] ||
    fail "refuse: $(connections refuse) connections, want 6"
for a in a@refuse.test a@closed.test a@servfail.test; do
	[ "$(logline $a | wc -l)" = 6 ] || fail "$a: $(logline $a)"
done
# The notices the failures made are removed once delivered too: count
# the originals only.
notices=$(grep 'from=<> .*(queued)' "$T/log" | awk '{ print $6 }' |
    tr -d : | sort)
originals=$(grep ': removed$' "$T/log" | awk '{ print $6 }' | tr -d : |
    sort | comm -23 - "$(printf '%s\n' $notices >"$T/notice-ids";
    echo "$T/notice-ids")" | wc -l)
[ "$originals" = 3 ] ||
    fail "want 3 messages removed: $(grep removed "$T/log")"
[ "$(queue_count)" = 0 ] || fail "the queue is not empty"
stop_qmgr
echo ok
