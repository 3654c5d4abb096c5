# 45-full-disk: a full disk under a user's Maildir defers the delivery
# (4.3.1, nothing left in tmp/), and the message is delivered once space
# is freed. Runs itself in a private mount namespace with a small tmpfs.
. "$(dirname "$0")/lib.sh"
need_root "mounting a small file system"
command -v unshare >/dev/null || skip "unshare (util-linux) is missing"
if [ "${IN_NS:-}" != 1 ]; then
	IN_NS=1 unshare -m --propagation private sh "$0"
	rc=$?
	trap - EXIT
	exit $rc
fi
instance "retry_schedule = 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s"
reset_mailbox pt-alice
ha=$(home_of pt-alice)
mkdir -p "$ha/Maildir"
mount -t tmpfs -o size=128k,mode=0700,uid="$(id -u pt-alice)",gid="$(id -g pt-alice)" tmpfs "$ha/Maildir" ||
    fail "cannot mount a tmpfs"
start_qmgr
{ printf 'Subject: big\n\n'; head -c 300000 /dev/zero | tr '\0' 'x' | fold -w 70; } |
    inject -i pt-alice@test.example || fail "inject"
wait_log 'to=<pt-alice@test.example>.*dsn=4\.3\.1, status=deferred' ||
    fail "not deferred for a full disk: $(tail -3 "$T/log")"
[ -z "$(ls -A "$ha/Maildir/tmp")" ] || fail "a partial file was left in tmp/"
mount -o remount,size=4m "$ha/Maildir" || fail "cannot grow the tmpfs"
wait_delivered pt-alice 1 || fail "not delivered after space was freed"
stop_qmgr
umount "$ha/Maildir"
rm -rf "$ha/Maildir"
echo ok
