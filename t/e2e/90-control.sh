# 90-control: posternctl through the queue manager's control socket.
# status, stats (text and JSON) and reload; hold (which survives a restart) and release; retry
# of one domain only; delete (with --dry-run first) and an unknown id;
# bounce (a notice with 5.0.0); an audit line per change naming the
# caller. Authorization by SO_PEERCRED: an ordinary user may ask for the
# status but may not change anything (exit 77, a clear message); a
# member of admin_group may.
. "$(dirname "$0")/lib.sh"
need_root "changing users (authorization checks)"
instance "retry_schedule = 1h 1h 1h 1h 1h"
start_qmgr
usermod -aG postern-admin pt-bob || fail "usermod"

as() { u=$1; shift; su -s /bin/sh "$u" -c "$B/posternctl -c $T/etc $*"; }
id_of() { ctl queue --json | grep "\"subject\":\"$1\"" | sed 's/^{"id":"\([0-9A-Z]*\)".*/\1/'; }
attempts() { grep -c "to=<$1>.*status=" "$T/log"; }

say "status, text and JSON"
ctl status >"$T/st" || fail "status exited $?"
grep -q "^postern-qmgr is running, pid $QPID" "$T/st" || fail "status: $(cat "$T/st")"
grep -Eq '^workers: [0-9]+ local, [0-9]+ remote \([0-9]+ busy\), [01] bounce$' "$T/st" ||
    fail "status workers: $(cat "$T/st")"
ctl status --json | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
assert s["running"] is True and s["pid"] == int(sys.argv[1]), s
assert s["uptime"] >= 0 and s["config_directory"] == sys.argv[2], s
assert set(s["workers"]) == {"local", "remote", "remote_busy", "bounce"}, s
' "$QPID" "$T/etc" || fail "status --json"

say "three messages, deferred at a closed relay"
for s in one two three; do
	d=a.example
	[ $s = two ] && d=b.example
	printf 'Subject: %s\n\nx\n' $s | inject -f pt-alice@test.example "x@$d" ||
	    fail "inject $s"
done
wait_eval '[ "$(grep -c "status=deferred" "$T/log")" = 3 ]' ||
    fail "not deferred: $(cat "$T/log")"
one=$(id_of one); two=$(id_of two); three=$(id_of three)
[ -n "$one" ] && [ -n "$two" ] && [ -n "$three" ] || fail "ids: $one $two $three"

say "stats"
ctl stats --json >"$T/stats" || fail "stats exited $?"
"$PY" - "$T/stats" <<'PY2' || fail "stats: $(cat "$T/stats")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["messages"] == 3, s
assert s["recipients"]["deferred"] == 3, s
assert s["deferred_domains"][0] == {"domain": "a.example", "deferred": 2}, s
assert s["deferred_domains"][1] == {"domain": "b.example", "deferred": 1}, s
assert s["last_hour"]["deferred"] >= 3 and s["last_minute"]["sent"] == 0, s
assert s["oldest_age"] >= 0, s
PY2
ctl stats | grep -Eq '^ +2  a\.example$' || fail "stats text: $(ctl stats)"
as pt-alice stats >/dev/null 2>&1
[ $? = 77 ] || fail "stats for an ordinary user"

say "an ordinary user may not change anything"
as pt-alice status >/dev/null || fail "status refused to an ordinary user"
as pt-alice hold "$one" >"$T/out" 2>&1
rc=$?
[ $rc = 77 ] || fail "hold by pt-alice exited $rc: $(cat "$T/out")"
grep -q 'permission denied: only root and members of postern-admin' \
    "$T/out" || fail "refusal: $(cat "$T/out")"
ctl queue --json | grep -q '"held":true' && fail "something got held"

say "hold by a member of admin_group, across a restart"
as pt-bob hold "$one" >"$T/out" || fail "hold by pt-bob: $(cat "$T/out")"
grep -qx "$one held" "$T/out" || fail "hold said: $(cat "$T/out")"
grep -q "$one: held by uid $(id -u pt-bob) (pt-bob)" "$T/log" ||
    fail "no audit line"
stop_qmgr
start_qmgr
ctl queue --json | grep "\"id\":\"$one\"" | grep -q '"held":true' ||
    fail "the hold did not survive a restart"
r0=$(attempts x@a.example)
ctl release "$one" | grep -qx "$one released" || fail "release"
ctl queue --json | grep "\"id\":\"$one\"" | grep -q '"held":false' ||
    fail "still held"
# released recipients are due at once: the message is tried again now
wait_eval "[ \"\$(attempts x@a.example)\" -gt $r0 ]" ||
    fail "release did not dispatch the message"

say "retry --domain: only that domain's recipients are tried now"
a1=$(attempts x@a.example); b1=$(attempts x@b.example)
ctl retry --domain a.example >"$T/out" || fail "retry: $(cat "$T/out")"
grep -q "$one retried" "$T/out" && grep -q "$three retried" "$T/out" &&
    ! grep -q "$two" "$T/out" || fail "retry touched: $(cat "$T/out")"
wait_eval "[ \"\$(attempts x@a.example)\" -ge $((a1 + 2)) ]" ||
    fail "a.example was not retried"
sleep 1
[ "$(attempts x@b.example)" = "$b1" ] || fail "b.example was retried too"

say "delete: --dry-run touches nothing; an unknown id is 67"
ctl delete --dry-run --sender pt-alice@test.example >"$T/out" ||
    fail "dry run"
[ "$(grep -c 'would be deleted' "$T/out")" = 3 ] || fail "dry run: $(cat "$T/out")"
[ "$(queue_count)" = 3 ] || fail "the dry run deleted something"
ctl delete --dry-run --json --domain b.example | "$PY" -c '
import json, sys
v = [json.loads(l) for l in sys.stdin]
assert v == [{"id": sys.argv[1], "action": "deleted", "dry_run": True}], v
' "$two" || fail "delete --dry-run --json"
ctl delete "$two" | grep -qx "$two deleted" || fail "delete"
[ "$(queue_count)" = 2 ] || fail "not deleted"
ctl delete 0000000000A >/dev/null 2>&1
[ $? = 67 ] || fail "an unknown id did not exit 67"
ctl delete >/dev/null 2>&1
[ $? = 64 ] || fail "delete without a selection did not exit 64"

say "bounce: the sender gets a notice, status 5.0.0"
reset_mailbox pt-alice
ctl bounce "$three" | grep -qx "$three bounced" || fail "bounce"
wait_delivered pt-alice 1 || fail "no notice for the bounced message"
grep -q '^Status: 5.0.0' "$(home_of pt-alice)"/Maildir/new/* ||
    fail "the notice lacks 5.0.0"
grep -q 'removed by the administrator' "$(home_of pt-alice)"/Maildir/new/* ||
    fail "the notice does not say why"

say "config and config --check"
ctl config >"$T/cfg" || fail "config exited $?"
grep -Eq '^myhostname +\= test.example +# set on line 1$' "$T/cfg" ||
    fail "config: $(head -3 "$T/cfg")"
grep -Eq '^smtp_port +\= 25$' "$T/cfg" || fail "config default: $(grep smtp_port "$T/cfg")"
ctl config --json | "$PY" -c '
import json, sys
c = json.load(sys.stdin)
assert c["myhostname"] == {"value": "test.example", "default": False}, c["myhostname"]
assert c["smtp_port"] == {"value": "25", "default": True}, c["smtp_port"]
' || fail "config --json"
ctl config --check | grep -q 'are valid' || fail "config --check"
printf 'example.org\n' >"$T/etc/routes"
ctl config --check >/dev/null 2>"$T/err"
[ $? = 78 ] || fail "a broken routes file passed the check"
grep -q "routes:1:" "$T/err" || fail "the check did not name the line: $(cat "$T/err")"
rm "$T/etc/routes"
echo 'no_such_key = 1' >>"$T/etc/postern.conf"
ctl config --check >/dev/null 2>"$T/err"
[ $? = 78 ] || fail "an unknown key passed the check"
grep -q "postern.conf:[0-9]*:.*no_such_key" "$T/err" ||
    fail "the check did not name the key: $(cat "$T/err")"
sed -i '/^no_such_key/d' "$T/etc/postern.conf"

say "reload"
ctl reload || fail "reload"
wait_log 'configuration reloaded' || fail "no reload"
stop_qmgr
say "without the queue manager: a clear error, 75"
ctl status >/dev/null 2>"$T/err"
[ $? = 75 ] || fail "status without a queue manager: $(cat "$T/err")"
grep -q 'is postern-qmgr running' "$T/err" || fail "error: $(cat "$T/err")"
[ "$(ctl status --json 2>/dev/null)" = '{"running":false}' ] ||
    fail "status --json without a queue manager"
ctl hold --all >/dev/null 2>&1
[ $? = 75 ] || fail "hold without a queue manager"
say "stats read directly, without the recent outcomes"
ctl stats --json 2>"$T/err" | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
assert s["messages"] == 1 and s["last_minute"] is None and s["jobs"] is None, s
' || fail "direct stats"
grep -q 'reading the queue directly' "$T/err" || fail "no note: $(cat "$T/err")"
echo ok
