# 49-many-users: 1000 messages to 20 users are each delivered exactly
# once, and the queue empties.
. "$(dirname "$0")/lib.sh"
need_root "delivery as other users"
instance "local_concurrency = 20"
users=""
for i in $(seq -w 1 20); do
	u=pt-u$i
	getent passwd $u >/dev/null || useradd --create-home --shell /bin/sh $u
	reset_mailbox $u
	users="$users $u"
done
start_qmgr
pids=""
for k in 1 2 3 4; do
	(
		for i in $(seq 250); do
			n=$(( (i + k) % 20 + 1 ))
			u=pt-u$(printf '%02d' $n)
			printf 'X-Test-Token: m%s-%s\nSubject: many\n\nbody\n' $k $i |
			    inject -i $u@test.example || exit 1
		done
	) & pids="$pids $!"
done
for p in $pids; do wait $p || fail "an injection failed"; done
total() { for u in $users; do delivered $u; done | awk '{ s += $1 } END { print s }'; }
wait_eval '[ "$(total)" = 1000 ]' || { sleep 20; [ "$(total)" = 1000 ] || fail "$(total) of 1000 delivered"; }
dups=$(for u in $users; do grep -h '^X-Test-Token:' "$(home_of $u)"/Maildir/new/*; done | sort | uniq -d | wc -l)
[ "$dups" = 0 ] || fail "$dups messages delivered twice"
wait_queue 0 || fail "the queue did not empty"
stop_qmgr
echo ok
