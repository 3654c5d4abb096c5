# 21-queue-full: with a tiny queue_map_size, pickup leaves the maildrop
# files in place with a clear log line (injection keeps working: the
# maildrop is separate), and imports them once the map is made larger
# and the queue manager reloads.
. "$(dirname "$0")/lib.sh"
instance queue_map_size=256k
start_qmgr
head -c 60000 /dev/urandom | base64 -w 76 >"$T/body"
for i in $(seq 20); do
	{ printf 'Subject: full %s\nX-Test-Token: full%s\n\n' $i $i; cat "$T/body"; } |
	    inject -i full$i@x.example || fail "injection $i failed ($?)"
done
wait_log 'the queue refused new messages: .*full'  ||
    fail "no clear log line: $(tail -n 5 "$T/log")"
n=$(maildrop_count)
q=$(queue_count)
[ "$n" -gt 0 ] || fail "nothing left in the maildrop"
[ $((n + q)) = 20 ] || fail "$n in the maildrop + $q queued != 20"
say "$q queued, $n waiting; growing the map"
sed -i 's/^queue_map_size *=.*/queue_map_size = 64M/' "$T/etc/postern.conf"
kill -HUP "$QPID"
wait_log "configuration reloaded" || fail "no reload logged"
wait_maildrop 0 || fail "maildrop not drained after reload"
[ "$(queue_count)" = 20 ] || fail "$(queue_count) queued, want 20"
stop_qmgr
echo ok
