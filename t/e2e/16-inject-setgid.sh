# 16-inject-setgid: the real installation shape. postern-inject installed
# setgid postern-drop, run by an ordinary user: the message is queued and
# owned by that user; the maildrop is mode 1730 and the user can neither
# list it nor read what another user dropped; the user cannot choose
# another configuration. An ordinary user's injector reads only
# /etc/postern, so the test runs itself again in a private mount
# namespace where the instance's configuration is mounted there.
. "$(dirname "$0")/lib.sh"
need_root "the setgid injector test"
command -v unshare >/dev/null || skip "unshare (util-linux) is missing"
if [ "${IN_NS:-}" != 1 ]; then
	made=""
	[ -d /etc/postern ] || { mkdir /etc/postern && made=1; }
	IN_NS=1 unshare -m --propagation private sh "$0"
	rc=$?
	[ -n "$made" ] && rmdir /etc/postern
	trap - EXIT
	exit $rc
fi
instance
mount --bind "$T/etc" /etc/postern || fail "cannot mount the configuration"
start_qmgr
stop_qmgr
[ "$(stat -c '%a %U %G' "$T/queue/maildrop")" = "1730 postern postern-drop" ] ||
    fail "maildrop is $(stat -c '%a %U %G' "$T/queue/maildrop")"
[ "$(stat -c '%a %U %G' "$T/run/trigger")" = "620 postern postern-drop" ] ||
    fail "trigger is $(stat -c '%a %U %G' "$T/run/trigger")"
[ "$(stat -c '%a %U' "$T/queue/db")" = "700 postern" ] || fail "db mode"
mkdir -p "$T/bin"
cp "$B/postern-inject" "$T/bin/postern-inject"
chgrp postern-drop "$T/bin/postern-inject"
chmod 2755 "$T/bin/postern-inject"
ln -s postern-inject "$T/bin/sendmail"
export ASAN_OPTIONS=detect_leaks=0

as_alice() { runuser -u pt-alice -- "$@"; }
say "an ordinary user injects through the setgid binary"
printf 'Subject: from alice\n\nhi\n' | as_alice "$T/bin/sendmail" -i bob@x.example ||
    fail "setgid injection failed"
f=$(find "$T/queue/maildrop" -type f)
[ -n "$f" ] || fail "no maildrop file"
[ "$(stat -c '%a %U %G' "$f")" = "604 pt-alice postern-drop" ] ||
    fail "maildrop file is $(stat -c '%a %U %G' "$f")"
say "the user cannot list the maildrop nor open the file"
as_alice ls "$T/queue/maildrop" >/dev/null 2>&1 && fail "alice can list the maildrop"
as_alice cat "$f" >/dev/null 2>&1 && fail "alice can read the file"
say "another user's injector cannot read it either"
runuser -u pt-bob -g postern-drop -- cat "$f" >/dev/null 2>&1 && fail "drop group can read it"
say "the user may not pick another configuration"
printf 'x\n' | as_alice "$T/bin/sendmail" -C /tmp a@x.example 2>"$T/err"
[ $? = 64 ] || fail "-C accepted from an ordinary user"
grep -q 'only for root' "$T/err" || fail "-C message: $(cat "$T/err")"
POSTERN_CONFIG=/nonexistent as_alice env POSTERN_CONFIG=/nonexistent "$T/bin/sendmail" -i a@x.example </dev/null 2>"$T/err"
grep -q 'nonexistent' "$T/err" && fail "POSTERN_CONFIG honoured for a user"
start_qmgr
wait_queue 2 || fail "not picked up (the empty message above is one too)"
uid=$(id -u pt-alice)
grep -q "uid=$uid from=<pt-alice@test.example>" "$T/log" || fail "owner not logged: $(cat "$T/log")"
say "the queue manager runs as postern"
[ "$(ps -o user= -p "$QPID")" = postern ] || fail "qmgr runs as $(ps -o user= -p "$QPID")"
stop_qmgr
echo ok
