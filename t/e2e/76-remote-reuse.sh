# 76-remote-reuse: remote sessions are reused and the workers are
# confined. 200 messages to one destination travel over far fewer
# connections than messages (counted at the server), with conn_use= in
# the log; a cached session ends when connection_cache_time runs out
# (QUIT seen by the server). As root: each postern-remote worker runs as
# remote_user, in its chroot (the empty remote_chroot, per /proc), with
# no supplementary group but its own, and that user cannot open the queue.
. "$(dirname "$0")/lib.sh"
instance "relayhost =" "connection_cache_time = 3s" \
    "remote_concurrency = 4" "destination_concurrency = 4"
. "$top/t/e2e/remotenet.sh"

cat >"$T/zone.json" <<'JSON'
{"reuse.test": {"MX": [[10, "mx.reuse.test"]]},
 "mx.reuse.test": {"A": ["127.0.0.100"]}}
JSON
start_dns "$T/zone.json"
P=$(free_port)
start_sink mx=127.0.0.100:$P
printf 'smtp_port = %s\ndns_servers = 127.0.0.1:%s\n' "$P" "$DNS_PORT" \
    >>"$T/etc/postern.conf"
start_qmgr

say "200 messages to one destination"
i=0
while [ $i -lt 200 ]; do
	printf 'Subject: reuse %d\n\nmessage %d\n' $i $i |
	    inject -f sender@test.example "r$((i % 7))@reuse.test" ||
	    fail "inject $i"
	i=$((i + 1))
done
wait_for_sink() { wait_eval "[ \"\$(sink_count)\" -ge $1 ]"; }
wait_for_sink 200 || wait_for_sink 200 || fail "only $(sink_count) of 200 arrived"
wait_queue 0 || fail "the queue did not empty: $(ctl queue)"
n=$(grep -c 'status=sent' "$T/log")
[ "$n" = 200 ] || fail "$n sent log lines, not 200"
conns=$(sink_connections mx)
say "$conns connections for 200 messages"
[ "$conns" -ge 1 ] && [ "$conns" -le 40 ] ||
    fail "$conns connections for 200 messages: sessions are not reused"
grep -q 'conn_use=[0-9]' "$T/log" || fail "no conn_use= in the log"
maxuse=$(grep -o 'conn_use=[0-9]*' "$T/log" | cut -d= -f2 | sort -n |
    tail -1)
[ "$maxuse" -le 100 ] || fail "a connection carried $maxuse messages"

say "the cached sessions end after connection_cache_time"
"$PY" - "$SINK_DIR" <<'PY' || fail "the messages at the server are wrong"
import glob, json, sys
recs = [json.load(open(f)) for f in sorted(glob.glob(sys.argv[1] + "/*.json"))]
bodies = set()
for r in recs:
    assert r["mail_from"] == "sender@test.example", r
    assert len(r["rcpt_tos"]) == 1, r
for f in sorted(glob.glob(sys.argv[1] + "/*.eml")):
    data = open(f, "rb").read()
    bodies.add(data.split(b"\r\n\r\n", 1)[1])
assert len(bodies) == 200, len(bodies)
PY
# The server sees no open sessions once the workers sent QUIT; smtpsink
# logs each connection's end on stderr.
sleep 4
wait_eval "! ss -tn state established '( dport = :$P )' | grep -q 127.0.0.100" ||
    fail "sessions still open after connection_cache_time: $(ss -tn)"

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the confinement checks need root"
	stop_qmgr
	echo ok
	exit 0
fi

say "workers run as remote_user, chrooted, without groups"
sed -i 's/^connection_cache_time = 3s$/connection_cache_time = 30s/' \
    "$T/etc/postern.conf"
kill -HUP "$QPID"
wait_log 'configuration reloaded' || fail "no reload"
printf 'Subject: confined\n\nx\n' | inject -f sender@test.example \
    c@reuse.test || fail "inject"
wait_for_sink 201 || fail "the 201st message did not arrive"
pids=$(pgrep -f "^postern-remote -c $T/etc")
[ -n "$pids" ] || fail "no postern-remote process"
ruid=$(id -u postern-remote)
rgid=$(id -g postern-remote)
for p in $pids; do
	uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$p/status")
	[ "$uids" = "$ruid $ruid $ruid $ruid" ] ||
	    fail "worker $p runs with uids $uids, not $ruid"
	groups=$(awk '/^Groups:/ { $1 = ""; print }' "/proc/$p/status")
	[ -z "$(echo $groups | tr -d "$rgid ")" ] ||
	    fail "worker $p has groups $groups"
	root=$(readlink "/proc/$p/root")
	[ "$root" = "$T/queue/empty" ] ||
	    fail "worker $p has root $root, not $T/queue/empty"
	grep -q '^CapEff:\s*0*$' "/proc/$p/status" ||
	    fail "worker $p has capabilities: $(grep Cap "/proc/$p/status")"
done
[ -z "$(ls -A "$T/queue/empty")" ] || fail "the chroot is not empty"
[ "$(stat -c '%u %a' "$T/queue/empty")" = "0 555" ] ||
    fail "the chroot is $(stat -c '%u %a' "$T/queue/empty")"
say "remote_user cannot open the queue"
if setpriv --reuid=postern-remote --regid=postern-remote --clear-groups \
    cat "$T/queue/db/data.mdb" >/dev/null 2>&1; then
	fail "postern-remote can read the queue database"
fi
if setpriv --reuid=postern-remote --regid=postern-remote --clear-groups \
    ls "$T/queue/maildrop" >/dev/null 2>&1; then
	fail "postern-remote can list the maildrop"
fi
stop_qmgr
echo ok
