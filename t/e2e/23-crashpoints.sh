# 23-crashpoints: SIGKILL at named points (POSTERN_CRASH) in the injector
# and in pickup. Before the rename an injection is not done (exit by
# signal, nothing imported, the temporary file ignored); from the rename
# on it is imported exactly once; a queue manager killed before or after
# its commit imports every file exactly once after a restart.
. "$(dirname "$0")/lib.sh"
instance
init_queue
msg() { printf 'Subject: %s\nX-Test-Token: %s\n\nbody\n' "$1" "$1"; }

say "injector killed after fsync, before rename"
msg a | env POSTERN_CRASH=inject.after_fsync "$B/sendmail" -C "$T/etc" -i a@x.example
[ $? = 137 ] || fail "injector was not killed"
ls "$T/queue/maildrop" | grep -q '^t\.' || fail "no temporary file left"
say "injector killed after the rename"
msg b | env POSTERN_CRASH=inject.after_rename "$B/sendmail" -C "$T/etc" -i b@x.example
[ $? = 137 ] || fail "injector was not killed"
msg c | inject -i c@x.example || fail "inject c"

say "queue manager killed before its commit, then after it"
export POSTERN_CRASH=pickup.before_commit
start_qmgr
wait_exit "$QPID" || fail "qmgr did not crash"
QPID=""
[ "$(queue_count)" = 0 ] || fail "a killed transaction left messages"
export POSTERN_CRASH=pickup.after_commit
start_qmgr
wait_exit "$QPID" || fail "qmgr did not crash"
QPID=""
[ "$(queue_count)" = 2 ] || fail "$(queue_count) queued after the commit, want 2"
[ "$(find "$T/queue/maildrop" -type f -name '[0-9]*' | wc -l)" = 2 ] ||
    fail "files were removed before a restart"
unset POSTERN_CRASH
start_qmgr
wait_eval '[ "$(find "$T/queue/maildrop" -type f -name "[0-9]*" | wc -l)" = 0 ]'  ||
    fail "imported files not removed after restart"
[ "$(queue_count)" = 2 ] || fail "$(queue_count) queued after restart: imported twice?"
ctl queue --json | grep -q '"subject":"a"' && fail "the unfinished injection was imported"
ls "$T/queue/maildrop" | grep -q '^t\.' || fail "temporary file removed too early"
stop_qmgr
echo ok
