# 50-qmgr-signals: SIGTERM stops dispatching and waits (up to
# shutdown_timeout) for jobs in flight, whose results are recorded; SIGHUP
# reloads the configuration; without -f the queue manager daemonizes and
# records its pid in the lock file.
. "$(dirname "$0")/lib.sh"
need_root "delivery as other users"
instance "shutdown_timeout = 20s"
reset_mailbox pt-alice
ha=$(home_of pt-alice)
printf '"|sleep 2; echo done >%s/slow.out"\n' "$ha" >"$ha/.forward"
chown pt-alice "$ha/.forward"
rm -f "$ha/slow.out"
start_qmgr
printf 'Subject: slow\n\nx\n' | inject -i pt-alice@test.example || fail "inject"
wait_log 'uid=0 from=<.*> size=[0-9]+ nrcpt=1 \(queued\)' || fail "not picked up"
sleep 0.5
say "SIGTERM while a delivery runs"
kill -TERM "$QPID"
wait "$QPID" || fail "qmgr exited $?"
QPID=""
[ -s "$ha/slow.out" ] || fail "the delivery in flight was cut short"
grep -q 'to=<pt-alice@test.example>.*status=sent' "$T/log" || fail "its result was not recorded"
[ "$(queue_count)" = 0 ] || fail "message still queued"
rm -f "$ha/.forward" "$ha/slow.out"

say "without -f it daemonizes"
"$B/postern-qmgr" -c "$T/etc" || fail "daemon start failed"
wait_eval '[ -s "$T/run/qmgr.lock" ] && kill -0 "$(cat "$T/run/qmgr.lock")" 2>/dev/null' ||
    fail "no daemon pid in the lock file"
pid=$(cat "$T/run/qmgr.lock")
printf 'Subject: daemon\n\nx\n' | inject -i pt-alice@test.example || fail "inject"
wait_delivered pt-alice 1 || fail "the daemon did not deliver"
say "SIGHUP reloads"
kill -HUP "$pid"
wait_log 'configuration reloaded' || fail "no reload"
kill -TERM "$pid"
wait_exit "$pid" || fail "the daemon did not stop"
echo ok
