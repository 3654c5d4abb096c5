# 92-listings: queue, show and mailq through the control socket, and
# straight from the queue when the queue manager is down.
#  - queue, text and --json (parsed): every selector, --count with and
#    without one;
#  - show, text and --json: the give-up time and the planned retries
#    (the retry_schedule from the last attempt), --transcript,
#    --content; an unknown id exits 67;
#  - mailq (posternctl mailq, the mailq link, sendmail -bp) in Postfix's
#    layout, line by line, with a message in flight ('*'), deferred ones
#    with their reasons and a held one ('!');
#  - an ordinary user lists and shows only the messages they sent; show
#    of another's message, delete and retry are refused (77, a clear
#    message); a member of admin_group sees everything; an ordinary user
#    may hold only four connections at once (75, a clear message);
#  - delete of a message in flight: the server's 250 comes back to a
#    message that is gone, so nothing is recorded, nothing is sent again,
#    and the queue stays consistent;
#  - with the queue manager down, root's listings read the queue directly
#    and say so on standard error; an ordinary user gets 75.
. "$(dirname "$0")/lib.sh"
. "$top/t/e2e/remotenet.sh"
need_root "ordinary users (authorization checks)"

P=$(free_port)
instance "retry_schedule = 1h 2h 4h" "max_queue_lifetime = 10h" \
    "smtp_data_timeout = 60s"
cat >"$T/script.json" <<'JSON'
{"listeners": {"slow": {"dot": {"delay": 8, "reply": "250 2.0.0 ok"}}}}
JSON
start_fault "$T/script.json" slow=127.0.0.121:$P
FD=$FAULT_DIR
printf 'slow.test [127.0.0.121]:%s\n' "$P" >"$T/etc/routes"
start_qmgr
usermod -aG postern-admin pt-bob || fail "usermod"

as() { u=$1; shift; su -s /bin/sh "$u" -c "$B/posternctl -c $T/etc $*"; }
# send_as USER SUBJECT RCPT - a message whose envelope sender is USER's
# login here (ownership goes by the envelope sender)
send_as() {
	printf 'Subject: %s\n\nbody of %s\n' "$2" "$2" |
	    inject -f "$1@test.example" "$3" || fail "inject as $1"
}
id_of() { ctl queue --json | grep "\"subject\":\"$1\"" | sed 's/^{"id":"\([0-9A-Z]*\)".*/\1/'; }
# pyjson FILE - check FILE's JSON with the Python on stdin
pyjson() { "$PY" - "$@" || fail "the JSON check failed"; }

say "four messages: two of pt-alice's, one of pt-bob's, one of root's"
send_as pt-alice a1 x@a.example
send_as pt-alice a2 y@b.example
send_as pt-bob b1 z@a.example
printf 'Subject: r1\n\nbody of r1\n' | inject -f root@test.example \
    v@a.example w@c.example || fail "inject r1"
wait_eval '[ "$(grep -c "status=deferred" "$T/log")" = 5 ]' ||
    fail "not deferred: $(cat "$T/log")"
a1=$(id_of a1); a2=$(id_of a2); b1=$(id_of b1); r1=$(id_of r1)
[ -n "$a1" ] && [ -n "$a2" ] && [ -n "$b1" ] && [ -n "$r1" ] ||
    fail "ids: $a1 $a2 $b1 $r1"
ctl hold "$a2" >/dev/null || fail "hold"

say "queue: aligned text"
ctl queue >"$T/q" || fail "queue exited $?"
head -n 1 "$T/q" | grep -Eq '^ID +ARRIVAL +SIZE +NEXT ATTEMPT +RECIPIENTS +SENDER$' ||
    fail "heading: $(head -n 1 "$T/q")"
[ "$(wc -l <"$T/q")" = 5 ] || fail "queue lines: $(cat "$T/q")"
grep -Eq "^$a2! .* 1 held +<pt-alice@test\.example>$" "$T/q" ||
    fail "held line: $(cat "$T/q")"
grep -Eq "^$r1  .* 2 deferred +<root@test\.example>$" "$T/q" ||
    fail "deferred line: $(cat "$T/q")"
# the columns line up: every line has its sender at the same offset
[ "$(awk '{ print index($0, "<") }' "$T/q" | sed 1d | sort -u | wc -l)" = 1 ] ||
    fail "columns do not line up: $(cat "$T/q")"

say "queue --json, and each selector"
ctl queue --json >"$T/qj" || fail "queue --json"
pyjson "$T/qj" "$a1" "$a2" "$b1" "$r1" <<'PY'
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
a1, a2, b1, r1 = sys.argv[2:]
by = {m["id"]: m for m in msgs}
assert sorted(by) == sorted([a1, a2, b1, r1]), by.keys()
assert [m["id"] for m in msgs] == sorted(by), "not in id order"
m = by[r1]
assert m["sender"] == "root@test.example" and m["subject"] == "r1", m
assert m["held"] is False and m["active"] is False, m
assert m["size"] > 0 and m["arrival"].endswith("Z"), m
assert [r["address"] for r in m["recipients"]] == ["v@a.example", "w@c.example"]
for r in m["recipients"]:
    assert r["state"] == "deferred" and r["attempts"] == 1, r
    assert r["next_attempt"] and r["last_attempt"] and r["first_attempt"], r
    assert r["diagnostic"] and r["status"].startswith("4."), r
assert by[a2]["held"] is True and by[a2]["recipients"][0]["state"] == "held"
PY
sel() {	# expected-ids... -- selector args
	want=""
	while [ "$1" != -- ]; do want="$want $1"; shift; done
	shift
	got=$(ctl queue --json "$@" | sed 's/^{"id":"\([0-9A-Z]*\)".*/\1/' | tr '\n' ' ')
	[ "$(echo $got)" = "$(echo $want)" ] ||
	    fail "queue $*: got '$got', want '$want'"
	[ "$(ctl queue --count "$@")" = "$(echo $want | wc -w)" ] ||
	    fail "queue --count $*: $(ctl queue --count "$@")"
}
sel "$a1" "$a2" -- --sender pt-alice@test.example
sel "$b1" -- --recipient Z@A.example
sel "$a1" "$b1" "$r1" -- --domain a.example
sel "$a2" -- --state held
sel "$a1" "$b1" "$r1" -- --state deferred
sel -- --state active
sel -- --older-than 1h
sel "$a1" "$a2" "$b1" "$r1" -- --older-than 0s
sel "$r1" -- --domain c.example --state deferred
sel -- --domain c.example --state held
sel "$r1" "$b1" -- "$r1" "$b1" 0000000000A
err=$(ctl queue --json --error "$(ctl show "$r1" --json | "$PY" -c '
import json, sys; print(json.load(sys.stdin)["recipients"][0]["diagnostic"][:12].upper())')")
[ "$(echo "$err" | wc -l)" = 4 ] || fail "queue --error: $err"
[ -z "$(ctl queue --error 'no such words anywhere' --json)" ] ||
    fail "queue --error matched nothing but listed something"
[ "$(ctl queue --count)" = 4 ] || fail "count: $(ctl queue --count)"
ctl queue --count --json | grep -qx '{"messages":4}' || fail "count --json"
ctl queue --state bogus >/dev/null 2>&1
[ $? = 64 ] || fail "an unknown state is not a usage error"

say "show: text, --json with the give-up time and the planned retries"
ctl show "$r1" >"$T/show" || fail "show"
for want in "^Queue ID: +$r1\$" "^Sender: +<root@test.example>\$" \
    '^Subject: +r1$' '^Held: +no$' '^  <v@a.example>$' \
    '^    state deferred, 1 attempt \(first 20..-..-.. ..:..:.., last ' \
    '^    next attempt 20..-..-.. ..:..:..$' '^    then about 20.*, 20' \
    '^    gives up if the attempt at 20..-..-.. ..:..:.. fails$' \
    '^    last status 4\.[0-9.]* from '; do
	grep -Eq -- "$want" "$T/show" || fail "show lacks /$want/: $(cat "$T/show")"
done
ctl show "$r1" --json --transcript >"$T/sj" || fail "show --json"
pyjson "$T/sj" <<'PY'
import json, sys
from datetime import datetime
m = json.load(open(sys.argv[1]))
t = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").timestamp()
for r in m["recipients"]:
    # one attempt made, a schedule of three: attempts 2, 3 and 4 ahead,
    # 2h and 4h apart; postern gives up if the fourth fails
    ts = [t(x) for x in r["retries"]]
    assert len(ts) == 3, r
    assert ts[0] == t(r["next_attempt"]), r
    assert ts[1] - ts[0] == 7200 and ts[2] - ts[1] == 14400, ts
    assert r["give_up"] == r["retries"][-1], r
    assert ts[2] - t(m["arrival"]) < 10 * 3600, r
    assert "127.0.0.1" in r["transcript"], r["transcript"]
PY
ctl show "$r1" --content | grep -qx 'body of r1' || fail "show --content"
ctl show 0000000000A >/dev/null 2>"$T/err"
[ $? = 67 ] || fail "show of an unknown id"
grep -q 'no message 0000000000A in the queue' "$T/err" || fail "$(cat "$T/err")"

say "an ordinary user sees only the messages they sent"
as pt-alice queue --json >"$T/aq" || fail "queue as pt-alice"
[ "$(sed 's/^{"id":"\([0-9A-Z]*\)".*/\1/' "$T/aq" | tr '\n' ' ')" = "$a1 $a2 " ] ||
    fail "pt-alice sees: $(cat "$T/aq")"
[ "$(as pt-alice queue --count)" = 2 ] || fail "pt-alice's count"
as pt-alice mailq | grep -q "$b1" && fail "pt-alice's mailq shows pt-bob's"
as pt-alice show "$a1" | grep -q "^Queue ID: *$a1" || fail "pt-alice's own"
as pt-alice show "$b1" --content >"$T/out" 2>&1
rc=$?
[ $rc = 77 ] || fail "show of another's message exited $rc: $(cat "$T/out")"
grep -q "permission denied: message $b1 was not sent by pt-alice" "$T/out" ||
    fail "refusal: $(cat "$T/out")"
grep -q 'body of b1' "$T/out" && fail "the content leaked"
for verb in delete retry; do
	as pt-alice $verb "$a1" >"$T/out" 2>&1
	rc=$?
	[ $rc = 77 ] || fail "$verb by pt-alice exited $rc"
	grep -q "permission denied: only root and members of postern-admin may $verb" \
	    "$T/out" || fail "$verb refusal: $(cat "$T/out")"
done
[ "$(as pt-bob queue --count)" = 4 ] || fail "an admin_group member's count"

say "an ordinary user cannot take every connection"
# pt-alice holds four connections without a request; her fifth is
# refused with a clear message, while root still gets in
su -s /bin/sh pt-alice -c "$PY -c '
import socket, sys, time
v = []
for _ in range(4):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    v.append(s)
print(\"held\", flush=True)
time.sleep(6)
' $T/run/control" >"$T/held" &
hp=$!
wait_eval 'grep -q held "$T/held"' || fail "could not hold connections"
sleep 0.5
as pt-alice status >"$T/out" 2>&1
rc=$?
[ $rc = 75 ] || fail "a fifth connection of pt-alice's exited $rc: $(cat "$T/out")"
grep -q 'too many connections of yours are open' "$T/out" ||
    fail "the refusal: $(cat "$T/out")"
ctl status >/dev/null || fail "root was locked out"
wait "$hp"
sleep 0.5
as pt-alice status >/dev/null || fail "pt-alice still refused after closing"

say "a message in flight: '*' in mailq, --state active"
reset_mailbox pt-alice
printf 'Subject: s1\n\nslow\n' | inject -f pt-alice@test.example s@slow.test ||
    fail "inject s1"
wait_eval '[ "$(ctl queue --count --state active)" = 1 ]' ||
    fail "nothing in flight: $(ctl queue)"
s1=$(id_of s1)
ctl queue --json >"$T/qj"
ctl mailq >"$T/mailq" || fail "mailq exited $?"
"$B/mailq" -C "$T/etc" >"$T/mailq2" || fail "the mailq link"
inject -bp >"$T/mailq3" || fail "sendmail -bp"

say "mailq in Postfix's layout, line by line"
pyjson "$T/qj" "$T/mailq" "$s1" "$a2" <<'PY'
import json, sys, time
from datetime import datetime, timezone
msgs = [json.loads(l) for l in open(sys.argv[1])]
got = open(sys.argv[2]).read().split("\n")
s1, a2 = sys.argv[3:]
assert {m["id"]: m["active"] for m in msgs}[s1] is True, msgs
# Postfix's showq_compat with long queue ids
want = ["%-17s %8s %-19s %s" % ("----Queue ID-----", "--Size--",
        "---Arrival Time----", "--Sender/Recipient------")]
kb = 0
for i, m in enumerate(msgs):
    if i:
        want.append("")
    mark = "*" if m["active"] else "!" if m["held"] else ""
    t = datetime.strptime(m["arrival"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=timezone.utc).timestamp()
    want.append("%-17s %8d %19.19s %s" % (m["id"] + mark, m["size"],
                time.asctime(time.localtime(t)), m["sender"] or "MAILER-DAEMON"))
    last = ""
    for r in m["recipients"]:
        if r["state"] not in ("pending", "deferred", "held"):
            continue
        why = r["diagnostic"] if r["state"] == "deferred" else ""
        if why != last:
            last = why
            why = why or "reason unavailable"
            want.append("%*s(%s)" % (max(0, 76 - len(why)), "", why))
        want.append("%-17s %8s %-19s %s" % ("", "", "", r["address"]))
    kb += m["size"]
want += ["", "-- %d Kbytes in %d Requests." % (kb // 1024, len(msgs)), ""]
for n, (g, w) in enumerate(zip(got, want)):
    assert g == w, f"line {n + 1}:\n got  {g!r}\n want {w!r}"
assert len(got) == len(want), (got, want)
assert any(l.startswith(s1 + "*") for l in got) and \
    any(l.startswith(a2 + "!") for l in got) and \
    any(l.strip().startswith("(") for l in got), got
PY
cmp -s "$T/mailq" "$T/mailq2" || fail "mailq link differs: $(diff "$T/mailq" "$T/mailq2")"
cmp -s "$T/mailq" "$T/mailq3" || fail "sendmail -bp differs: $(diff "$T/mailq" "$T/mailq3")"

say "delete of the message in flight"
ctl delete "$s1" | grep -qx "$s1 deleted" || fail "delete in flight"
[ "$(ctl queue --count)" = 4 ] || fail "not deleted: $(ctl queue)"
# the server answers 250 after its delay; the result finds nothing
wait_eval '"$PY" -c "
import glob, json, sys
r = [json.load(open(p)) for p in glob.glob(\"$FD/slow-*.json\")]
sys.exit(0 if any(x[\"session_end\"] for x in r) else 1)"' ||
    fail "the slow session did not end"
sleep 2
"$PY" - "$FD" <<'PY' || fail "delivered more than once"
import glob, json, sys
r = [json.load(open(p)) for p in glob.glob(sys.argv[1] + "/slow-*.json")]
done = [x for x in r if x.get("data_reply")]
assert len(done) == 1, r
PY
[ "$(cat "$FD/connections.slow" 2>/dev/null || echo 0)" = 1 ] ||
    fail "connections to the slow server: $(cat "$FD/connections.slow")"
grep -q "to=<s@slow.test>" "$T/log" && fail "a result was recorded for it"
ctl show "$s1" >/dev/null 2>&1
[ $? = 67 ] || fail "the deleted message is still there"
ctl queue --json | "$PY" -c 'import json, sys; [json.loads(l) for l in sys.stdin]' ||
    fail "the listing broke after the delete"
ctl stats --json | grep -q '"messages":4,' || fail "stats after the delete"

say "the queue manager down: root reads the queue directly, and says so"
ctl queue --json >"$T/before"
stop_qmgr
ctl queue --json >"$T/after" 2>"$T/err" || fail "direct queue --json"
grep -q 'the queue manager is not running; reading the queue directly' "$T/err" ||
    fail "no note: $(cat "$T/err")"
cmp -s "$T/before" "$T/after" || fail "the direct listing differs: $(diff "$T/before" "$T/after")"
ctl mailq 2>/dev/null | tail -n 1 | grep -Eq '^-- [0-9]+ Kbytes in 4 Requests\.$' ||
    fail "direct mailq"
ctl show "$r1" --json 2>/dev/null | "$PY" -c '
import json, sys; assert json.load(sys.stdin)["recipients"][0]["give_up"]' ||
    fail "direct show"
[ "$(ctl queue --count --sender pt-alice@test.example 2>/dev/null)" = 2 ] ||
    fail "direct count with a selector"
as pt-alice queue >"$T/out" 2>&1
rc=$?
[ $rc = 75 ] || fail "pt-alice without a queue manager exited $rc: $(cat "$T/out")"
grep -q 'only root and the queue.s owner may read the queue' "$T/out" ||
    fail "pt-alice's error: $(cat "$T/out")"
echo ok
