# 24-faults: I/O errors at the durability calls (POSTERN_FAULT). The
# injector never exits 0 without the file on disk, maps the error to 74
# or 75, and leaves nothing behind; a failed commit in pickup leaves the
# maildrop files for the next run.
. "$(dirname "$0")/lib.sh"
instance
init_queue
msg() { printf 'Subject: fault\n\nbody\n'; }
try() {	# code fault
	msg | env POSTERN_FAULT=$2 "$B/sendmail" -C "$T/etc" -i f@x.example 2>"$T/err"
	rc=$?
	[ "$rc" = "$1" ] || fail "$2: exit $rc, want $1 ($(cat "$T/err"))"
	[ -z "$(ls -A "$T/queue/maildrop")" ] || fail "$2 left a file"
}
try 74 fsync:1:EIO
try 75 write:1:ENOSPC
try 75 write:2:EDQUOT
try 74 rename:1:EIO
try 75 open:1:ENOSPC
try 74 fsync:2:EIO
grep -q 'try again later' "$T/err" || true
say "pickup: a failing commit keeps the files"
msg | inject -i ok@x.example || fail "inject"
export POSTERN_FAULT=commit:2:EIO
start_qmgr
unset POSTERN_FAULT
wait_log 'cannot commit to the queue'  || fail "commit failure not logged"
[ "$(maildrop_count)" = 1 ] || fail "file lost after a failed commit"
kill -HUP "$QPID"
wait_maildrop 0 || fail "not imported on the next run"
[ "$(queue_count)" = 1 ] || fail "want 1 message"
stop_qmgr
echo ok
