# 48-crash-deliver: the queue manager is killed with SIGKILL at random
# moments while 500 messages are being delivered, and restarted, a few
# times. Every message ends up delivered at least once, none is lost, and
# the queue empties.
. "$(dirname "$0")/lib.sh"
need_root "delivery as other users"
instance
reset_mailbox pt-alice
reset_mailbox pt-bob
init_queue
for i in $(seq 500); do
	u=pt-alice; [ $((i % 2)) = 0 ] && u=pt-bob
	printf 'X-Test-Token: c%s\nSubject: crash\n\nbody\n' $i | inject -i $u@test.example ||
	    fail "inject $i"
done
for round in 1 2 3 4; do
	start_qmgr
	sleep 0.$(( $(od -An -N1 -tu1 /dev/urandom) % 9 + 1 ))
	kill -9 "$QPID"; wait "$QPID" 2>/dev/null; QPID=""
done
start_qmgr
wait_queue 0 || { sleep 30; wait_queue 0 || fail "queue not empty: $(queue_count)"; }
got=$(cat "$(home_of pt-alice)"/Maildir/new/* "$(home_of pt-bob)"/Maildir/new/* |
    grep '^X-Test-Token:' | sort -u | wc -l)
[ "$got" = 500 ] || fail "$got of 500 tokens delivered"
all=$(cat "$(home_of pt-alice)"/Maildir/new/* "$(home_of pt-bob)"/Maildir/new/* | grep -c '^X-Test-Token:')
say "500 messages, $all deliveries ($((all - 500)) repeated after a kill)"
stop_qmgr
echo ok
