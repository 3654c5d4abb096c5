# 11-inject-concurrent: 4 processes inject 250 messages each while the
# queue manager runs; all 1000 are in the queue once, with the right
# recipients and byte-exact contents, and the maildrop is empty.
. "$(dirname "$0")/lib.sh"
instance
start_qmgr
mkdir "$T/ledger"

# injector N - 250 messages, each with its own token, 1-3 recipients and
# a body of varying size
injector() {
	n=$1
	for i in $(seq 250); do
		tok="c$n-$i"
		f="$T/ledger/$tok"
		k=$(( (i % 3) + 1 ))
		: >"$f.rcpt"
		for r in $(seq $k); do echo "r$r-$tok@dest$r.example" >>"$f.rcpt"; done
		{
			echo "From: inj$n@test.example"
			echo "Date: Sat, 28 Nov 2026 10:00:00 +0000"
			echo "Message-ID: <$tok@test.example>"
			echo "X-Test-Token: $tok"
			echo "Subject: message $tok"
			echo
			j=0
			while [ $j -lt $(( i % 40 )) ]; do
				echo "line $j of $tok: the quick brown fox jumps over the lazy dog"
				j=$((j + 1))
			done
			echo ".leading dot"
		} >"$f.msg"
		inject -i $(cat "$f.rcpt") <"$f.msg" || { echo "inject $tok: $?"; return 1; }
	done
}
pids=""
for n in 1 2 3 4; do injector $n & pids="$pids $!"; done
rc=0
for p in $pids; do wait "$p" || rc=1; done
[ $rc = 0 ] || fail "an injection failed"
wait_queue 1000 || fail "only $(queue_count) of 1000 queued"
[ "$(maildrop_count)" = 0 ] || fail "maildrop not empty"
$PY "$top/t/e2e/qcheck.py" ledger "$T/etc" "$B" "$T/ledger" || fail "ledger"
n=$(grep -c '(queued)$' "$T/log")
[ "$n" = 1000 ] || fail "$n pickup log lines, want 1000"
stop_qmgr
echo "ok 1000 messages"
