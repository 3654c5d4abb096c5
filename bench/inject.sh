#!/bin/bash
# bench/inject.sh - how fast messages enter postern's queue.
#
# A throwaway instance; P sendmail loops inject N messages of about
# 4 KiB (the same message shape as ../shared/bench's Postfix runs).
#   submit: queue manager stopped, time until every sendmail has exited
#   drain:  then the queue manager starts, time until all N are queued
#   concurrent: queue manager running, first injection to all N queued
# Prints RESULT lines (median over RUNS).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=$TOP/${BUILD:-build}
N=${N:-2000}
P=${P:-4}
RUNS=${RUNS:-3}
T=$(mktemp -d /tmp/postern-bench.XXXXXX)
chmod 755 "$T"
QPID=""
trap '[ -n "$QPID" ] && kill "$QPID" 2>/dev/null; rm -rf "$T"' EXIT

mkdir -p "$T/etc"
cat >"$T/etc/postern.conf" <<CONF
myhostname = bench.example
queue_directory = $T/queue
run_directory = $T/run
log_file = $T/log
CONF
if [ "$(id -u)" = 0 ]; then
	getent group postern-drop >/dev/null || groupadd --system postern-drop
	getent passwd postern >/dev/null || useradd --system --user-group \
	    --home-dir /nonexistent --shell /usr/sbin/nologin postern
fi

body=""
for n in $(seq 1 45); do
	body+=$(printf '%04d The quick brown fox jumps over the lazy dog; pack my box with five dozen jugs.' "$n")$'\n'
done
TMPL="From: Bench Sender <bench@bench.example>
Subject: Benchmark message for the mail delivery baseline
Date: Thu, 27 Nov 2025 10:00:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=UTF-8

$body"

now() { date +%s.%N; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.1f", n / t }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
queued() { grep -c '(queued)$' "$T/log" 2>/dev/null || true; }

worker() {	# first step n
	local i=$1
	while [ "$i" -lt "$3" ]; do
		"$B/sendmail" -C "$T/etc" -i -f bench@bench.example "u$i@dest.example" \
		    <<<"Message-ID: <$i@bench.example>
$TMPL" || echo "sendmail failed" >&2
		i=$((i + $2))
	done
}
inject_all() {
	local pids="" k
	for k in $(seq 0 $((P - 1))); do worker "$k" "$P" "$N" & pids="$pids $!"; done
	for k in $pids; do wait "$k"; done
}
start_qmgr() { "$B/postern-qmgr" -c "$T/etc" -f 2>/dev/null & QPID=$!; }
stop_qmgr() { kill "$QPID"; wait "$QPID" || true; QPID=""; }
wait_queued() { while [ "$(queued)" -lt "$1" ]; do sleep 0.02; done; }
fresh() { rm -rf "$T/queue" "$T/run" "$T/log"; start_qmgr; sleep 0.3; stop_qmgr; : >"$T/log"; }

S="" D="" C=""
for run in $(seq 1 "$RUNS"); do
	fresh
	t0=$(now); inject_all; t1=$(now)
	S="$S $(rate "$N" "$(echo "$t1 - $t0" | bc)")"
	t0=$(now); start_qmgr; wait_queued "$N"; t1=$(now); stop_qmgr
	D="$D $(rate "$N" "$(echo "$t1 - $t0" | bc)")"
	fresh; start_qmgr; sleep 0.3
	t0=$(now); inject_all; wait_queued "$N"; t1=$(now); stop_qmgr
	C="$C $(rate "$N" "$(echo "$t1 - $t0" | bc)")"
	echo "run $run: submit$(echo "$S" | awk '{print $NF}') drain$(echo "$D" | awk '{print $NF}') concurrent$(echo "$C" | awk '{print $NF}') msgs/s"
done
echo "RESULT postern_sendmail_submit_msgs_per_s=$(echo $S | tr ' ' '\n' | median) msgs/s (N=$N, P=$P loops, qmgr stopped, runs:$S)"
echo "RESULT postern_pickup_drain_msgs_per_s=$(echo $D | tr ' ' '\n' | median) msgs/s (N=$N from maildrop into the LMDB queue, runs:$D)"
echo "RESULT postern_inject_concurrent_msgs_per_s=$(echo $C | tr ' ' '\n' | median) msgs/s (N=$N, P=$P loops, qmgr running, runs:$C)"
