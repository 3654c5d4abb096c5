#!/bin/bash
# bench/queue.sh - how fast postern shows a large queue, and whether a
# large backlog slows fresh mail down.
#
# A throwaway instance in /tmp. bench/qfill writes N messages straight
# into the LMDB queue (queue manager stopped), each with one recipient
# deferred after a refused connection and due again in 1-2 hours, over 50
# domains; then the queue manager starts on that queue and these are
# timed (median over RUNS), each through the control socket:
#   posternctl queue --json              the whole listing, as JSON
#   posternctl queue --count             LMDB's own count
#   posternctl queue --count --domain D  a filter that reads every recipient
#   posternctl queue --count --older-than 1h  ids below the bound: keys only
#   posternctl mailq                     Postfix's layout
# and the queue manager's memory (VmRSS before and after the listings,
# VmHWM). As root, fresh-mail latency: sendmail to an alias that appends
# to a file under the instance, until the log says status=sent, on the
# empty queue and with the N deferred messages waiting. References from
# the same run: mdb_dump of the msg (and rcpt) records, when lmdb-utils is
# installed; Postfix's own queue scan when POSTFIX_QUEUESCAN=1 (slow).
# Then, as root, fresh-mail latency while a listing streams and while
# delete --all removes the N messages, and the rate of that delete.
# Nothing leaves the machine: relayhost is a closed loopback port and no
# deferred recipient is due while the benchmark runs.
#
# Env: N (messages, 1000000), RUNS (3), LAT (latency samples, 5),
#      POSTFIX_QUEUESCAN (0), KEEP=1 keeps the instance. Prints RESULT
#      lines.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=$TOP/${BUILD:-build}
SHARED=${SHARED:-$TOP/../shared/bench}
N=${N:-1000000}
RUNS=${RUNS:-3}
LAT=${LAT:-5}
DOMAIN=d7.example
T=$(mktemp -d /tmp/postern-bench.XXXXXX)
chmod 755 "$T"
QPID=""

stop_qmgr() {
	[ -n "$QPID" ] || return 0
	kill -TERM "$QPID" 2>/dev/null || true
	for _ in $(seq 200); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.05; done
	kill -KILL "$QPID" 2>/dev/null || true
	wait "$QPID" 2>/dev/null || true
	QPID=""
}
cleanup() { stop_qmgr; [ "${KEEP:-0}" = 1 ] && echo "kept $T" >&2 || rm -rf "$T"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$B/bench/qfill" ] || { echo "no $B/bench/qfill: make BUILD=${BUILD:-build} $B/bench/qfill" >&2; exit 1; }
ROOT=0
[ "$(id -u)" = 0 ] && ROOT=1
if [ $ROOT = 1 ]; then
	getent group postern-drop >/dev/null || groupadd --system postern-drop
	getent passwd postern >/dev/null || useradd --system --user-group \
	    --home-dir /nonexistent --shell /usr/sbin/nologin postern
fi

mkdir -p "$T/etc" "$T/out"
cat >"$T/etc/postern.conf" <<CONF
myhostname = bench.example
queue_directory = $T/queue
run_directory = $T/run
log_file = $T/log
libexec_directory = $B
alias_file = $T/etc/aliases
relayhost = [127.0.0.1]:9
queue_map_size = 16G
CONF
# Fresh mail goes to a file through an alias: postern-local appends to it
# as default_privs (nobody), since root owns the aliases file. No real
# mailbox is touched.
echo "benchfresh: $T/out/fresh.mbox" >"$T/etc/aliases"
[ $ROOT = 1 ] && chown nobody "$T/out"
"$B/postern-newaliases" -c "$T/etc"

DB=$T/queue/db				# common/layout.c
ctl() { "$B/posternctl" -c "$T/etc" "$@"; }
# as_owner - run as the queue's owner (mail_owner when root), so that
# nothing in the queue ends up owned by root
as_owner() {
	if [ $ROOT = 1 ]; then
		setpriv --reuid=postern --regid="$(id -g postern)" --clear-groups "$@"
	else
		"$@"
	fi
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }'; }
# timed CMD... - run it; its wall time in seconds in $LAST
timed() {
	local t0=$EPOCHREALTIME
	"$@"
	LAST=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.4f", b - a }')
}
vm() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$QPID/status"; }
sent() { grep -c 'status=sent' "$T/log" 2>/dev/null || true; }

start_qmgr() {
	"$B/postern-qmgr" -c "$T/etc" -f >>"$T/qmgr.out" 2>&1 &
	QPID=$!
	for _ in $(seq 6000); do
		grep -q "qmgr\[$QPID\]: started" "$T/log" 2>/dev/null && return 0
		kill -0 "$QPID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$T/qmgr.out" >&2
	echo "postern-qmgr did not start" >&2
	exit 1
}

# latency - LAT fresh messages one at a time, injection to status=sent;
# the samples in $LAT_S
latency() {
	local i c t0 ok
	LAT_S=""
	for i in $(seq 1 "$LAT"); do
		c=$(sent)
		t0=$EPOCHREALTIME
		printf 'Subject: fresh %s\n\nfresh mail %s\n' "$i" "$i" |
		    "$B/sendmail" -C "$T/etc" -i -f bench@bench.example benchfresh@bench.example
		ok=0
		for _ in $(seq 6000); do
			[ "$(sent)" -gt "$c" ] && { ok=1; break; }
			sleep 0.005
		done
		[ $ok = 1 ] || { echo "fresh message $i not delivered in 30 s: $(tail -n 3 "$T/log")" >&2; return 1; }
		LAT_S="$LAT_S $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.4f", b - a }')"
		sleep 0.2
	done
}

# 1. The empty instance: its layout, and fresh-mail latency on it.
start_qmgr
if [ $ROOT = 1 ]; then
	latency
	echo "RESULT postern_fresh_latency_s_empty=$(echo $LAT_S | median) s (sendmail to an alias /file until status=sent, empty queue, samples:$LAT_S)"
else
	echo "(not root: fresh-mail latency is not measured; local delivery needs the spawner to switch users)"
fi
stop_qmgr
# A fresh queue, so that the filled messages get ids from their arrival
# times (the latency messages above moved last_id to now).
rm -rf "$T/queue" "$T/run"
start_qmgr
stop_qmgr

# 2. Fill.
timed as_owner "$B/bench/qfill" "$DB" "$N"
echo "RESULT postern_qfill_msgs_per_s=$(rate "$N" "$LAST") msgs/s (bench/qfill, N=$N deferred, 5000 per transaction, $LAST s)"
echo "queue on disk: $(du -sh "$DB" | cut -f1)"

# 3. The queue manager on N deferred messages.
timed start_qmgr
echo "RESULT postern_qmgr_start_s_with_N_deferred=$LAST s (N=$N, start until the 'started' log line)"
rss0=$(vm VmRSS); anon0=$(vm RssAnon)

got=$(ctl queue --count)
[ "$got" = "$N" ] || { echo "queue --count says $got, not $N" >&2; exit 1; }
# One untimed listing checks the line count (and warms the cache).
got=$(ctl queue --json | wc -l)
[ "$got" = "$N" ] || { echo "queue --json listed $got messages, not $N" >&2; exit 1; }

list_json() { ctl queue --json >/dev/null; }
count_all() { ctl queue --count >"$T/count.out"; }
count_dom() { ctl queue --count --domain "$DOMAIN" >"$T/count.out"; }
count_old() { ctl queue --count --older-than 1h >"$T/count-old.out"; }
list_mailq() { ctl mailq >/dev/null; }
series() {	# name cmd: RUNS timings into $S
	S=""
	for _ in $(seq 1 "$RUNS"); do timed "$2"; S="$S $LAST"; done
	echo "$1:$S s"
}
series "queue --json" list_json; LJ=$S
series "queue --count" count_all; CA=$S
series "queue --count --domain $DOMAIN" count_dom; CD=$S
series "queue --count --older-than 1h" count_old; CO=$S
want=$(awk -v n="$N" 'BEGIN { print int(n / 50) + (n % 50 > 7 ? 1 : 0) }')
[ "$(cat "$T/count.out")" = "$want" ] || echo "note: --domain $DOMAIN counted $(cat "$T/count.out"), expected $want" >&2
series "mailq" list_mailq; MQ=$S
rss1=$(vm VmRSS); anon1=$(vm RssAnon)
hwm=$(vm VmHWM)

m=$(echo $LJ | median)
echo "RESULT postern_list_json_msgs_per_s=$(rate "$N" "$m") msgs/s (posternctl queue --json > /dev/null via the qmgr, N=$N, median $m s, runs:$LJ)"
m=$(echo $CA | median)
echo "RESULT postern_count_all_s=$m s (posternctl queue --count, N=$N, runs:$CA)"
m=$(echo $CD | median)
echo "RESULT postern_count_filtered_msgs_per_s=$(rate "$N" "$m") msgs/s (posternctl queue --count --domain $DOMAIN, N=$N, median $m s, runs:$CD)"
m=$(echo $CO | median)
echo "RESULT postern_count_older_msgs_per_s=$(rate "$N" "$m") msgs/s (posternctl queue --count --older-than 1h, N=$N, $(cat "$T/count-old.out") matched: the ids below the bound counted from the keys alone, median $m s, runs:$CO)"
m=$(echo $MQ | median)
echo "RESULT postern_mailq_msgs_per_s=$(rate "$N" "$m") msgs/s (posternctl mailq > /dev/null, N=$N, median $m s, runs:$MQ)"
# VmRSS counts the pages of the LMDB map the listings touched (file
# pages, shared with the page cache); RssAnon is the queue manager's own
# memory, the part that must not grow with the queue.
echo "RESULT postern_qmgr_rss_growth_kib=$((rss1 - rss0)) KiB (VmRSS $rss0 -> $rss1 KiB over $((RUNS * 5 + 2)) listings, mostly mapped queue pages; VmHWM $hwm KiB)"
echo "RESULT postern_qmgr_anon_growth_kib=$((anon1 - anon0)) KiB (RssAnon $anon0 -> $anon1 KiB: heap and stacks, without the map)"
echo "RESULT postern_qmgr_vmhwm_kib=$hwm KiB (queue manager peak RSS, N=$N, mapped queue pages included)"

# 4. Fresh mail while N deferred messages wait.
if [ $ROOT = 1 ]; then
	latency
	echo "RESULT postern_fresh_latency_s_with_N_deferred=$(echo $LAT_S | median) s (as the empty case, N=$N deferred waiting, samples:$LAT_S)"
fi
stop_qmgr

# 5. References: LMDB's own read speed over the same records.
if command -v mdb_dump >/dev/null; then
	dump_msg() { as_owner mdb_dump -s msg "$DB" >/dev/null; }
	dump_msg_rcpt() { as_owner mdb_dump -s msg "$DB" >/dev/null && as_owner mdb_dump -s rcpt "$DB" >/dev/null; }
	series "mdb_dump -s msg" dump_msg; DM=$S
	series "mdb_dump -s msg, -s rcpt" dump_msg_rcpt; DR=$S
	m=$(echo $DM | median)
	echo "RESULT lmdb_dump_msg_records_per_s=$(rate "$N" "$m") records/s (mdb_dump -s msg > /dev/null, hex dump of N=$N message records, median $m s, runs:$DM)"
	m=$(echo $DR | median)
	echo "RESULT lmdb_dump_msg_rcpt_msgs_per_s=$(rate "$N" "$m") msgs/s (mdb_dump of msg then rcpt: the records a listing reads, median $m s, runs:$DR)"
else
	echo "(mdb_dump not found: apt-get install lmdb-utils for the raw LMDB reference)"
fi
# 6. Fresh mail while a listing streams and while delete --all runs (the
# verbs that walk the queue go in steps between the event loop's turns),
# and the rate of that delete. Last: it empties the queue.
if [ $ROOT = 1 ]; then
	start_qmgr
	ctl queue --json >/dev/null &
	lp=$!
	latency
	wait "$lp"
	echo "RESULT postern_fresh_latency_s_during_listing=$(echo $LAT_S | median) s (while posternctl queue --json streams N=$N, samples:$LAT_S)"
	t0=$EPOCHREALTIME
	ctl delete --all >/dev/null &
	dp=$!
	latency
	wait "$dp"
	t1=$EPOCHREALTIME
	echo "RESULT postern_fresh_latency_s_during_delete_all=$(echo $LAT_S | median) s (while posternctl delete --all removes N=$N, samples:$LAT_S)"
	d=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
	echo "RESULT postern_delete_all_msgs_per_s=$(rate "$N" "$d") msgs/s (posternctl delete --all, N=$N, $d s, 500 per write transaction)"
	got=$(ctl queue --count)
	[ "$got" = 0 ] || echo "note: $got messages left after delete --all" >&2
	stop_qmgr
fi
if [ "${POSTFIX_QUEUESCAN:-0}" = 1 ] && [ $ROOT = 1 ] && [ -f "$SHARED/postfix-queuescan.sh" ]; then
	echo "== Postfix queue scan (reference, N=20000, several minutes)"
	pf=$(N=20000 bash "$SHARED/postfix-queuescan.sh" 2>&1 | grep '^RESULT' || true)
	echo "$pf"
	s=$(echo "$pf" | sed -n 's/^RESULT postfix_postqueue_j_s=\([0-9.]*\).*/\1/p')
	[ -n "$s" ] && echo "RESULT postfix_postqueue_j_msgs_per_s=$(rate 20000 "$s") msgs/s (postqueue -j | wc -l over 20000 deferred, $s s)"
	s=$(echo "$pf" | sed -n 's/^RESULT postfix_mailq_s=\([0-9.]*\).*/\1/p')
	[ -n "$s" ] && echo "RESULT postfix_mailq_msgs_per_s=$(rate 20000 "$s") msgs/s (mailq | tail -1 over 20000 deferred, $s s)"
else
	echo "(Postfix queue scan reference off: POSTFIX_QUEUESCAN=1, as root, runs ../shared/bench/postfix-queuescan.sh, ~4 minutes)"
fi
