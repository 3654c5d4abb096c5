# 47-retry: with retry_schedule = 1s 1s 1s 1s 1s, a .forward pipe that
# exits 75 (try again) is tried exactly 6 times (the first try and 5
# retries), then the recipient fails with the pipe's last status.
. "$(dirname "$0")/lib.sh"
need_root "delivery as other users"
instance "retry_schedule = 1s 1s 1s 1s 1s"
reset_mailbox pt-alice
ha=$(home_of pt-alice)
rm -f "$ha/tries"
printf '"|echo x >>%s/tries; exit 75"\n' "$ha" >"$ha/.forward"
chown pt-alice "$ha/.forward"
start_qmgr
printf 'Subject: retry\n\nx\n' | inject -i pt-alice@test.example || fail "inject"
wait_log 'to=<pt-alice@test.example>.*status=bounced' || fail "never gave up: $(tail -4 "$T/log")"
sleep 3
n=$(wc -l <"$ha/tries")
[ "$n" = 6 ] || fail "tried $n times, want 6"
[ "$(grep -c 'to=<pt-alice@test.example>.*status=deferred' "$T/log")" = 5 ] || fail "want 5 deferred lines"
wait_log 'removed$' || fail "message not removed"
rm -f "$ha/.forward" "$ha/tries"
stop_qmgr
echo ok
