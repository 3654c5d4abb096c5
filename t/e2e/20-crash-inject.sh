# 20-crash-inject: 200 messages of 1 MB are injected while injectors and
# the queue manager are killed with SIGKILL at random moments. Afterwards
# every message whose injection exited 0 is in the queue whole and once,
# none is partial or doubled, the LMDB environment is clean (mdb_stat),
# and a following injection succeeds.
. "$(dirname "$0")/lib.sh"
command -v mdb_stat >/dev/null || skip "mdb_stat (lmdb-utils) is not installed"
instance
start_qmgr
mkdir "$T/ledger" "$T/all"
head -c 1000000 /dev/urandom | base64 -w 76 >"$T/blob"

rand() { echo $(( $(od -An -N2 -tu2 /dev/urandom) % $1 )); }

# one_message N - write message N, inject it, kill the injector at a
# random moment one time in four; a message is in the ledger only when
# its sendmail exited 0
one_message() {
	tok="k$1"
	{
		echo "From: crash@test.example"
		echo "Date: Sat, 28 Nov 2026 10:00:00 +0000"
		echo "Message-ID: <$tok@test.example>"
		echo "X-Test-Token: $tok"
		echo "Subject: crash $tok"
		echo
		head -c $((1000000 + $1 * 100)) "$T/blob"
		echo
	} >"$T/all/$tok.msg"
	echo "r-$tok@x.example" >"$T/all/$tok.rcpt"
	# The message arrives in two parts with a pause between, so that a
	# kill can land while the injector reads, writes or syncs.
	{ head -c 300000 "$T/all/$tok.msg"; sleep 0.0$(rand 6);
	  tail -c +300001 "$T/all/$tok.msg"; } |
	    "$B/sendmail" -C "$T/etc" -i "r-$tok@x.example" &
	pid=$!
	if [ $(rand 3) = 0 ]; then
		sleep 0.0$(rand 10)
		kill -9 $pid 2>/dev/null
	fi
	if wait $pid; then
		cp "$T/all/$tok.msg" "$T/all/$tok.rcpt" "$T/ledger/"
	fi
}

# wait_jobs - wait for the injections started (a plain `wait` would also
# wait for the queue manager)
wait_jobs() { for p in $jobs_pids; do wait "$p"; done; jobs_pids=""; }

kills=0
jobs_pids=""
for i in $(seq 200); do
	one_message "$i" &
	jobs_pids="$jobs_pids $!"
	[ $((i % 4)) = 0 ] && wait_jobs
	if [ $((i % 25)) = 0 ]; then
		kill -9 "$QPID" 2>/dev/null; wait "$QPID" 2>/dev/null
		kills=$((kills + 1))
		start_qmgr
	fi
done
wait_jobs
ok=$(ls "$T/ledger" | grep -c msg)
say "$ok of 200 injections exited 0; qmgr killed $kills times"
[ "$ok" -lt 200 ] || fail "no injector was killed: the test did not test"
temps=$(find "$T/queue/maildrop" -name 't.*' | wc -l)
[ "$temps" -le $((200 - ok)) ] || fail "$temps temporary files for $((200 - ok)) failed injections"
kill -9 "$QPID"; wait "$QPID" 2>/dev/null; QPID=""
start_qmgr
wait_maildrop 0 ||
    fail "maildrop not empty: $(ls "$T/queue/maildrop")"
$PY "$top/t/e2e/qcheck.py" ledger "$T/etc" "$B" "$T/ledger" "$T/all" || fail "ledger"
stop_qmgr
mdb_stat -e "$T/queue/db" >/dev/null || fail "mdb_stat failed"
mdb_stat -rr "$T/queue/db" | grep -q '0 stale readers cleared' || true
start_qmgr
printf 'Subject: after\n\nok\n' | inject -i -f after@test.example after@x.example || fail "injection after the crashes"
wait_log 'from=<after@test.example> size=[0-9]* nrcpt=1 \(queued\)$' || fail "not picked up"
stop_qmgr
echo "ok"
