# 12-inject-qmgr-down: with the queue manager stopped, injection still
# succeeds (the maildrop is the hand-over); the messages are picked up
# when it starts. A queue that was never created gives exit 75.
. "$(dirname "$0")/lib.sh"
instance

say "never initialised: exit 75 with advice"
printf 'Subject: x\n\nx\n' | inject a@x.example 2>"$T/err"
[ $? = 75 ] || fail "expected 75"
grep -q 'start postern-qmgr' "$T/err" || fail "message lacks advice: $(cat "$T/err")"
[ ! -e "$T/queue" ] || fail "sendmail created the queue"

init_queue
say "queue manager down: injection works"
for i in 1 2 3 4 5; do
	printf 'Subject: down %s\n\nbody\n' $i | inject -i down$i@x.example || fail "inject $i: $?"
done
[ "$(maildrop_count)" = 5 ] || fail "want 5 files in the maildrop"
start_qmgr
wait_queue 5 || fail "not picked up at start"
[ "$(maildrop_count)" = 0 ] || fail "maildrop not empty"
stop_qmgr
echo ok
