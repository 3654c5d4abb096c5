# t/e2e/lib.sh - what every end-to-end test shares: a throwaway instance
# (configuration, queue and run directories under one temporary
# directory), starting and stopping the queue manager, and checks.
#
# A test sources this file, calls `instance` (optionally with extra
# postern.conf lines), and uses $T (the instance), $B (the build), `inject`,
# `ctl`, `start_qmgr`, `stop_qmgr`, `fail`, `skip`. Everything the test
# started is stopped and $T removed when it exits (unless KEEP=1).

set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$top/${BUILD:-build}
PY=/usr/bin/python3
T=""
QPID=""

# Under the sanitizers (make SANITIZE=1), short-lived programs that exit
# holding memory are not leaks worth a failure; the queue manager, which
# runs for months, is leak-checked when it stops (stop_qmgr).
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
export ASAN_OPTIONS

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
say() { echo "-- $*"; }

need_root() { [ "$(id -u)" = 0 ] || skip "${1:-this test} needs root"; }

cleanup() {
	[ -n "$QPID" ] && kill -9 "$QPID" 2>/dev/null
	[ -n "$T" ] && [ "${KEEP:-0}" != 1 ] && rm -rf "$T"
}
trap cleanup EXIT

# ensure_users - the system users and groups postern and the tests need
ensure_users() {
	[ "$(id -u)" = 0 ] || return 0
	getent group postern-drop >/dev/null || groupadd --system postern-drop
	getent group postern-admin >/dev/null || groupadd --system postern-admin
	for u in postern postern-remote postern-bounce; do
		getent passwd $u >/dev/null || useradd --system --user-group \
		    --home-dir /nonexistent --shell /usr/sbin/nologin $u
	done
	for u in pt-alice pt-bob; do
		getent passwd $u >/dev/null || useradd --create-home \
		    --shell /bin/sh $u
	done
}

# instance [conf lines...] - a fresh instance in $T
instance() {
	T=$(mktemp -d /tmp/postern-test.XXXXXX)
	chmod 755 "$T"
	mkdir -p "$T/etc"
	cat >"$T/etc/postern.conf" <<CONF
myhostname = test.example
queue_directory = $T/queue
run_directory = $T/run
libexec_directory = $B
log_file = $T/log
alias_file = $T/etc/aliases
mail_spool_directory = $T/spool
CONF
	mkdir -p "$T/spool"
	chmod 1777 "$T/spool"
	relay="relayhost = [127.0.0.1]:9"
	for line in "$@"; do
		echo "$line" >>"$T/etc/postern.conf"
		case $line in relayhost*) relay="" ;; esac
	done
	# Mail for other domains never leaves the machine by accident: unless
	# a test names its own relayhost, it goes to a closed loopback port
	# and stays deferred. Remote tests set "relayhost =" to use DNS.
	[ -n "$relay" ] && echo "$relay" >>"$T/etc/postern.conf"
	ensure_users
}

inject() { "$B/sendmail" -C "$T/etc" "$@"; }
ctl() { "$B/posternctl" -c "$T/etc" "$@"; }

# start_qmgr - run postern-qmgr -f in the background, wait until ready
start_qmgr() {
	ASAN_OPTIONS=detect_leaks=1 "$B/postern-qmgr" -c "$T/etc" -f \
	    >>"$T/qmgr.out" 2>&1 &
	QPID=$!
	for _ in $(seq 400); do
		grep -q 'qmgr\['"$QPID"'\]: started' "$T/log" 2>/dev/null &&
		    return 0
		kill -0 "$QPID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$T/qmgr.out"
	fail "postern-qmgr did not start"
}

# stop_qmgr - SIGTERM and wait; it must exit 0 (under the sanitizers a
# leak or an error report makes it exit otherwise)
stop_qmgr() {
	[ -n "$QPID" ] || return 0
	kill -TERM "$QPID" 2>/dev/null
	wait "$QPID"
	rc=$?
	QPID=""
	[ $rc = 0 ] || { cat "$T/qmgr.out"; fail "postern-qmgr exited $rc"; }
	# A remote worker never has a reason to die badly (under the
	# sanitizers an error report ends it with a status): the spawner logs
	# such ends.
	if grep -E 'worker postern-remote pid [0-9]+ (killed|exited)' \
	    "$T/log" 2>/dev/null; then
		fail "a postern-remote worker ended badly"
	fi
}

# init_queue - create the queue's layout (start and stop the qmgr once)
init_queue() { start_qmgr; stop_qmgr; }

# maildrop_count - complete files waiting in the maildrop (t.* files are
# being written, or were left by a killed injector)
maildrop_count() { find "$T/queue/maildrop" -type f ! -name 't.*' | wc -l; }

# queue_count - the tests' own messages in the queue: delivery status
# notices (from the null sender, made when a test's recipient fails) are
# not counted; notice_count counts them
queue_count() { ctl queue --json | grep -vc '"sender":""'; }
notice_count() { ctl queue --json | grep -c '"sender":""'; }

# wait_for CMD... - retry a command until it succeeds, for up to 20
# seconds (the arguments are expanded once: to recompute a value on each
# try, use the helpers below or pass a string to wait_eval)
wait_for() {
	for _ in $(seq 400); do "$@" && return 0; sleep 0.05; done
	return 1
}
wait_eval() { wait_for eval "$1"; }
# wait_queue N, wait_maildrop N - until the queue / maildrop holds N
wait_queue() { wait_eval "[ \"\$(queue_count)\" = $1 ]"; }
wait_maildrop() { wait_eval "[ \"\$(maildrop_count)\" = $1 ]"; }
# wait_log PATTERN - until the log has a line matching PATTERN (grep -E)
wait_log() { wait_for grep -qE -- "$1" "$T/log"; }
# wait_exit PID - until the process is gone
wait_exit() { wait_eval "! kill -0 $1 2>/dev/null"; }

# expect_exit CODE CMD... - run CMD, check its exit code
expect_exit() {
	want=$1; shift
	"$@"; got=$?
	[ "$got" = "$want" ] || fail "expected exit $want, got $got: $*"
}

# home_of USER - the user's home directory
home_of() { getent passwd "$1" | cut -d: -f6; }

# reset_mailbox USER - an empty home: no Maildir, no .forward
reset_mailbox() {
	h=$(home_of "$1")
	[ -n "$h" ] || fail "no user $1"
	rm -rf "$h/Maildir" "$h/.forward" "$h/mbox"
}

# delivered USER - messages in the user's ~/Maildir/new
delivered() { find "$(home_of "$1")/Maildir/new" -type f 2>/dev/null | wc -l; }
# wait_delivered USER N - until USER's Maildir/new holds N messages
wait_delivered() { wait_eval "[ \"\$(delivered $1)\" = $2 ]"; }

# new_aliases - compile $T/etc/aliases
new_aliases() { "$B/postern-newaliases" -c "$T/etc" || fail "postern-newaliases failed"; }
