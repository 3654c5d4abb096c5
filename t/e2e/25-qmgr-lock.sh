# 25-qmgr-lock: one queue manager per queue; a second one says who runs.
. "$(dirname "$0")/lib.sh"
instance
start_qmgr
"$B/postern-qmgr" -c "$T/etc" -f 2>"$T/err"
[ $? = 75 ] || fail "a second queue manager started"
grep -q "already running" "$T/err" || fail "message: $(cat "$T/err")"
grep -q "(pid $QPID)" "$T/err" || fail "pid not named: $(cat "$T/err")"
stop_qmgr
say "after a stop it starts again"
start_qmgr
stop_qmgr
echo ok
