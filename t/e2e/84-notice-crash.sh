# 84-notice-crash: a notice owed is never lost and never doubled. The
# queue manager is killed just before the transaction that stores a
# notice (the debt survives: the failed recipient stays in the queue,
# owed a notice, and none is stored), then just after it (the notice is
# stored once and the original is gone), then runs normally: exactly
# one notice arrives. A bounce worker killed while idle is replaced.
. "$(dirname "$0")/lib.sh"
need_root "local delivery of notices"
instance
reset_mailbox pt-alice
init_queue

say "killed before the notice's commit: the debt stays"
printf 'Subject: one\n\nx\n' | inject -f pt-alice@test.example nosuch1 ||
    fail "inject"
export POSTERN_CRASH=qmgr.before_notice_commit
start_qmgr
wait_exit "$QPID" || fail "qmgr did not crash"
QPID=""
ctl queue --json >"$T/q1"
"$PY" - "$T/q1" <<'PY' || fail "after the first crash: $(cat "$T/q1")"
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
assert len(msgs) == 1, msgs
m = msgs[0]
assert m["sender"] == "pt-alice@test.example", m
assert m["recipients"][0]["state"] == "failed", m
PY
grep -q 'notification: ' "$T/log" && fail "a notice was logged as stored"

say "killed after the notice's commit: stored once, the original gone"
export POSTERN_CRASH=qmgr.after_notice_commit
start_qmgr
wait_exit "$QPID" || fail "qmgr did not crash"
QPID=""
ctl queue --json >"$T/q2"
"$PY" - "$T/q2" <<'PY' || fail "after the second crash: $(cat "$T/q2")"
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1])]
assert len(msgs) == 1, msgs
assert msgs[0]["sender"] == "", msgs
assert [r["address"] for r in msgs[0]["recipients"]] == \
    ["pt-alice@test.example"], msgs
PY

say "running normally: exactly one notice arrives"
unset POSTERN_CRASH
start_qmgr
wait_delivered pt-alice 1 || fail "the notice did not arrive"
wait_eval '[ "$(ctl queue --json | wc -l)" = 0 ]' ||
    fail "the queue did not empty: $(ctl queue)"
sleep 1
[ "$(delivered pt-alice)" = 1 ] || fail "$(delivered pt-alice) notices"
grep -q '^Subject: Undelivered Mail Returned to Sender' \
    "$(home_of pt-alice)"/Maildir/new/* || fail "not a failure notice"

say "a killed bounce worker is replaced"
# (the notice above was written before the restart: this run has no
# bounce worker until it needs one)
printf 'Subject: two\n\nx\n' | inject -f pt-alice@test.example nosuch2 ||
    fail "inject"
wait_delivered pt-alice 2 || fail "no second notice"
pid=$(pgrep -f "^postern-bounce -c $T/etc")
[ -n "$pid" ] || fail "no bounce worker: $(ps -eo pid,args | grep bounce)"
kill -9 $pid
printf 'Subject: three\n\nx\n' | inject -f pt-alice@test.example nosuch3 ||
    fail "inject"
wait_delivered pt-alice 3 || fail "no notice after the worker was killed"
stop_qmgr
echo ok
