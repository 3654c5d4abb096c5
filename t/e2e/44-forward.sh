# 44-forward: ~/.forward, read by postern-local as the user: an address
# (added as a recipient by the queue manager), |command (run as the user),
# /file, and \user (keep a copy, no further forwarding); an unsafe
# .forward defers.
. "$(dirname "$0")/lib.sh"
need_root "delivery as other users"
instance
for u in pt-alice pt-bob; do reset_mailbox $u; done
ha=$(home_of pt-alice)
rm -f "$ha/fwd.uid" "$ha/fwd.mbox"
{
	echo '\pt-alice, pt-bob@test.example'
	echo "\"|id -u >$ha/fwd.uid\""
	echo "$ha/fwd.mbox"
} >"$ha/.forward"
chown pt-alice "$ha/.forward"
chmod 644 "$ha/.forward"
start_qmgr
printf 'Subject: fwd\n\nforwarded\n' | inject -i pt-alice@test.example || fail "inject"
wait_delivered pt-alice 1 || fail "the \\pt-alice copy is missing: $(tail "$T/log")"
wait_delivered pt-bob 1 || fail "forward to pt-bob missing: $(tail "$T/log")"
wait_eval '[ -s "$ha/fwd.uid" ]' || fail "|command not run"
[ "$(cat "$ha/fwd.uid")" = "$(id -u pt-alice)" ] || fail "|command ran as $(cat "$ha/fwd.uid")"
grep -q '^From ' "$ha/fwd.mbox" || fail "/file not written"
say "an unsafe .forward defers"
chmod 666 "$ha/.forward"
printf 'Subject: unsafe\n\nx\n' | inject -i pt-alice@test.example || fail "inject"
wait_log 'to=<pt-alice@test.example>.*dsn=4\.7\.0, status=deferred' ||
    fail "unsafe .forward not deferred: $(tail -3 "$T/log")"
rm -f "$ha/.forward" "$ha/fwd.uid" "$ha/fwd.mbox"
stop_qmgr
echo ok
