# 72-remote-mx: postern-remote finds the servers to deliver to the way RFC
# 5321 section 5.1 says, against a real DNS server (dnsmasq) and real SMTP
# servers on loopback (127.0.0.40 .. 127.0.0.59, one shared port):
#  - MX hosts are tried in preference order: a refused connection, an
#    MX host without an address and a 421 greeting move on to the next
#    MX, which gets the mail (log relay=, transcript order, the 421 server
#    saw exactly one connection);
#  - a less preferred MX is not touched while a better one accepts;
#  - MX hosts of equal preference share the load (30 messages: both get
#    some; connection_cache_time = 0 so each message picks afresh);
#  - no MX records: the domain's own address record is used; neither MX
#    nor address records: bounced without a connection;
#  - a null MX (RFC 7505) bounces at once with 5.1.10, a domain that does
#    not exist with 5.1.2, neither with any connection attempt;
#  - an MX host that is this host (myhostname) is a loop: 5.4.6 when it is
#    the best MX, and the MX hosts at its preference or worse are dropped
#    (RFC 5321 section 5.1), while better ones are still used;
#  - routes_file: "domain  [addr]:port" goes there without any DNS lookup,
#    "*  host" routes every other domain through host's MX records, and a
#    domain's own route wins over "*" and over relayhost;
#    relayhost = [addr]:port sends all other remote mail there;
#  - a DNS SERVFAIL (dnsfake.py) defers with 4.4.3 and does not bounce;
#    a SERVFAIL for one MX host's address moves on to the next MX.
. "$(dirname "$0")/lib.sh"
. "$top/t/e2e/remotenet.sh"

P=$(free_port)
DNS_IP=127.0.0.59
instance "relayhost =" "smtp_port = $P" "smtp_connect_timeout = 2s" \
    "smtp_greeting_timeout = 5s" "smtp_command_timeout = 5s" \
    "smtp_data_timeout = 5s" "connection_cache_time = 0" \
    "smtp_tls_security_level = none"

# ------------------------------------------------------------ helpers

# lre STRING - STRING as a grep -E pattern matching itself only
lre() { printf '%s' "$1" | sed 's/[].[*^$()+?{}|\\]/\\&/g'; }

# send RCPT... - one message to these recipients
send() {
	printf 'Subject: mx test\n\nbody for %s\n' "$*" |
	    inject -f sender@test.example "$@" || fail "inject $*"
}

# logof ADDR - the log lines about recipient ADDR
logof() { grep -F "to=<$1>," "$T/log"; }

# wait_rcpt ADDR STATUS - until the log has a STATUS line for ADDR
wait_rcpt() {
	wait_log "to=<$(lre "$1")>, .*status=$2 " ||
	    fail "no status=$2 line for $1; its log lines: $(logof "$1")
last of the log: $(tail -n 5 "$T/log")"
}

# expect_line ADDR STATUS DSN RELAY - the last log line for ADDR has
# these; RELAY is a fixed string ("none", "mx.x.test[127.0.0.40]:PORT")
expect_line() {
	wait_rcpt "$1" "$2"
	l=$(logof "$1" | tail -n 1)
	case $l in
	*", relay=$4, "*", dsn=$3, status=$2 "*) ;;
	*) fail "$1: want relay=$4 dsn=$3 status=$2, got: $l" ;;
	esac
}

# qid ADDR - the queue id of the message with recipient ADDR
qid() {
	logof "$1" | head -n 1 |
	    sed -n 's/.*\]: \([^: ]*\): to=<.*/\1/p'
}

# rcpt_field ADDR FIELD - a field of recipient ADDR in posternctl show
# --json --transcript of its message (which must still be queued)
rcpt_field() {
	_id=$(qid "$1")
	[ -n "$_id" ] || fail "no queue id for $1 in the log"
	ctl show "$_id" --json --transcript | "$PY" -c '
import json, sys
m = json.loads(sys.stdin.read())
for r in m["recipients"]:
    if r["address"] == sys.argv[1]:
        v = r.get(sys.argv[2])
        print("" if v is None else v)
        break
else:
    sys.exit("no recipient %s in %s" % (sys.argv[1], m))
' "$1" "$2" || fail "posternctl show $_id for $1"
}

# where ADDR - the sink listeners that received a message for ADDR
where() {
	sink_records | "$PY" -c '
import json, sys
got = []
for path in sys.stdin.read().split():
    r = json.load(open(path))
    if sys.argv[1] in r["rcpt_tos"]:
        got.append(r["listener"])
print(" ".join(sorted(got)))
' "$1"
}

# conns NAME - TCP connections the sink or fault listener NAME accepted
conns() {
	_c=$(sink_connections "$1")
	[ -n "$_c" ] || _c=$(cat "$T"/fault-*/connections."$1" 2>/dev/null)
	echo "${_c:-?}"
}
expect_conns() {
	[ "$(conns "$1")" = "$2" ] ||
	    fail "$1 accepted $(conns "$1") connections, want $2 ($3)"
}

# dnslog_has PATTERN - dnsmasq logged a query matching PATTERN (grep -E)
dnslog_has() { grep -qE -- "$1" "$T/dns.log"; }

# ------------------------------------------------------------ the network

cat >"$T/zone.json" <<JSON
{"fallback.test": {"MX": [[10, "mxa.fallback.test"], [15, "nx.fallback.test"],
                          [20, "mxb.fallback.test"], [30, "mxc.fallback.test"]]},
 "mxa.fallback.test": {"A": ["127.0.0.40"]},
 "mxb.fallback.test": {"A": ["127.0.0.41"]},
 "mxc.fallback.test": {"A": ["127.0.0.42"]},
 "hold.test": {"MX": [[10, "mx.hold.test"]]},
 "mx.hold.test": {"A": ["127.0.0.43"]},
 "pref.test": {"MX": [[20, "mx2.pref.test"], [10, "mx1.pref.test"]]},
 "mx1.pref.test": {"A": ["127.0.0.44"]},
 "mx2.pref.test": {"A": ["127.0.0.45"]},
 "equal.test": {"MX": [[10, "mx1.equal.test"], [10, "mx2.equal.test"]]},
 "mx1.equal.test": {"A": ["127.0.0.46"]},
 "mx2.equal.test": {"A": ["127.0.0.47"]},
 "amx.test": {"A": ["127.0.0.48"]},
 "nullmx.test": {"MX": [[0, "."]], "A": ["127.0.0.49"]},
 "empty.test": {},
 "routed.test": {"MX": [[10, "mx.routed.test"]]},
 "mx.routed.test": {"A": ["127.0.0.51"]},
 "star.test": {"MX": [[10, "mx.star.test"]]},
 "mx.star.test": {"A": ["127.0.0.52"]},
 "loop.test": {"MX": [[10, "test.example"]]},
 "loopbetter.test": {"MX": [[5, "mx.loopbetter.test"], [10, "test.example"]]},
 "mx.loopbetter.test": {"A": ["127.0.0.54"]},
 "loopworse.test": {"MX": [[10, "test.example"], [20, "mx.loopworse.test"]]},
 "mx.loopworse.test": {"A": ["127.0.0.55"]},
 "loopequal.test": {"MX": [[10, "test.example"], [10, "mx.loopequal.test"]]},
 "mx.loopequal.test": {"A": ["127.0.0.56"]}}
JSON
start_dns "$T/zone.json" "$DNS_IP"
echo "dns_servers = $DNS_IP:$DNS_PORT" >>"$T/etc/postern.conf"
dnsmasq_port=$DNS_PORT

# mxa (127.0.0.40) and mx.hold.test (127.0.0.43): nothing listens there
echo '{"greeting": "421 4.3.2 mxb.fallback.test is busy"}' >"$T/fault.json"
start_fault "$T/fault.json" mxb=127.0.0.41:$P
start_sink mxc=127.0.0.42:$P p1=127.0.0.44:$P p2=127.0.0.45:$P \
    eq1=127.0.0.46:$P eq2=127.0.0.47:$P amx=127.0.0.48:$P \
    nullmx=127.0.0.49:$P route=127.0.0.50:$P decoy=127.0.0.51:$P \
    star=127.0.0.52:$P relay=127.0.0.53:$P lbetter=127.0.0.54:$P \
    lworse=127.0.0.55:$P lequal=127.0.0.56:$P
printf 'routed.test  [127.0.0.50]:%s\n' "$P" >"$T/etc/routes"
start_qmgr

# ------------------------------------------------------------ MX order

say "MX order: refused (MX 10), no address (MX 15), 421 greeting (MX 20),"
say "  then MX 30 delivers"
send a1@fallback.test h1@hold.test
expect_line a1@fallback.test sent 2.0.0 "mxc.fallback.test[127.0.0.42]:$P"
[ "$(where a1@fallback.test)" = mxc ] ||
    fail "a1@fallback.test arrived at '$(where a1@fallback.test)', want mxc"
expect_conns mxb 1 "the 421 MX 20 host is tried once"
# the held recipient keeps the message queued, so a1's transcript is there
expect_line h1@hold.test deferred 4.4.1 "mx.hold.test[127.0.0.43]:$P"
rcpt_field a1@fallback.test transcript >"$T/xs-a1"
"$PY" - "$T/xs-a1" "$P" <<'PY' || fail "a1's transcript: $(cat "$T/xs-a1")"
import sys
xs = open(sys.argv[1]).read()
p = sys.argv[2]
order = []
for want in (f"connecting to mxa.fallback.test[127.0.0.40]:{p}",
             "Connection refused",
             f"connecting to mxb.fallback.test[127.0.0.41]:{p}",
             "<<< 421 4.3.2 mxb.fallback.test is busy",
             f"connecting to mxc.fallback.test[127.0.0.42]:{p}",
             "<<< 250"):
    at = xs.find(want)
    if at < 0:
        sys.exit(f"{want!r} is not in the transcript")
    order.append((at, want))
if order != sorted(order):
    sys.exit(f"out of order: {[w for _, w in sorted(order)]}")
PY
[ "$(rcpt_field a1@fallback.test state)" = delivered ] ||
    fail "a1's state: $(rcpt_field a1@fallback.test state)"

say "a less preferred MX is not used while the best one accepts"
for i in 1 2 3; do send p$i@pref.test; done
for i in 1 2 3; do
	expect_line p$i@pref.test sent 2.0.0 "mx1.pref.test[127.0.0.44]:$P"
done
[ "$(sink_count p1)" = 3 ] || fail "mx1.pref.test got $(sink_count p1) of 3"
expect_conns p2 0 "MX 20 of pref.test, while MX 10 accepts"

say "MX hosts of equal preference share the mail (30 messages)"
i=1
while [ $i -le 30 ]; do send e$i@equal.test; i=$((i + 1)); done
wait_eval '[ "$(( $(sink_count eq1) + $(sink_count eq2) ))" = 30 ]' ||
    fail "equal.test: $(sink_count eq1) + $(sink_count eq2) of 30 arrived"
n1=$(sink_count eq1) n2=$(sink_count eq2)
[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] ||
    fail "equal preference not shared: mx1.equal.test got $n1, mx2 $n2"
say "  mx1.equal.test got $n1, mx2.equal.test $n2"
i=1
while [ $i -le 30 ]; do
	wait_rcpt e$i@equal.test sent
	logof e$i@equal.test | grep -qE "relay=mx[12]\.equal\.test\[127\.0\.0\.4[67]\]:$P, " ||
	    fail "e$i: $(logof e$i@equal.test)"
	i=$((i + 1))
done

say "no MX records: the domain's own address (RFC 5321 section 5.1)"
send a@amx.test
expect_line a@amx.test sent 2.0.0 "amx.test[127.0.0.48]:$P"
[ "$(where a@amx.test)" = amx ] || fail "a@amx.test arrived at '$(where a@amx.test)'"

say "null MX: 5.1.10, no fallback to the address; NXDOMAIN: 5.1.2"
send n@nullmx.test x@nxdomain.test z@empty.test h2@hold.test
expect_line n@nullmx.test bounced 5.1.10 none
expect_line x@nxdomain.test bounced 5.1.2 none
# neither MX nor address records: nowhere to deliver, a permanent error
wait_rcpt z@empty.test bounced
logof z@empty.test | grep -q ', relay=none, ' || fail "empty.test: $(logof z@empty.test)"
expect_line h2@hold.test deferred 4.4.1 "mx.hold.test[127.0.0.43]:$P"
expect_conns nullmx 0 "the A record of a null MX domain"
for a in n@nullmx.test x@nxdomain.test z@empty.test; do
	xs=$(rcpt_field $a transcript)
	[ -n "$xs" ] || fail "$a has no transcript"
	case $xs in *connect*) fail "$a: a connection was tried: $xs" ;; esac
	[ "$(rcpt_field $a state)" = failed ] ||
	    fail "$a state: $(rcpt_field $a state)"
done
rcpt_field n@nullmx.test diagnostic | grep -q 'null MX' ||
    fail "nullmx diagnostic: $(rcpt_field n@nullmx.test diagnostic)"

say "the best MX is this host: a loop, 5.4.6"
send l@loop.test
expect_line l@loop.test bounced 5.4.6 none
logof l@loop.test | grep -q 'loops back to myself' ||
    fail "loop.test: $(logof l@loop.test)"

say "this host as MX 10: MX 5 is used, MX 20 is never tried"
send lb@loopbetter.test lw@loopworse.test
expect_line lb@loopbetter.test sent 2.0.0 "mx.loopbetter.test[127.0.0.54]:$P"
expect_line lw@loopworse.test bounced 5.4.6 none
expect_conns lworse 0 "MX 20 of loopworse.test, worse than this host"

# ------------------------------------------------------------ routes

say "routes_file: [address]:port, no DNS lookup"
send r1@routed.test
expect_line r1@routed.test sent 2.0.0 "127.0.0.50[127.0.0.50]:$P"
[ "$(where r1@routed.test)" = route ] ||
    fail "r1@routed.test arrived at '$(where r1@routed.test)'"
expect_conns decoy 0 "routed.test's own MX"
! dnslog_has 'query\[[A-Z]+\] ([^ ]*\.)?routed\.test ' ||
    fail "routed.test looked up: $(grep routed "$T/dns.log")"

say "routes_file: '*  star.test' routes every other domain by star.test's MX"
printf 'routed.test  [127.0.0.50]:%s\n*  star.test\n' "$P" >"$T/routes.new"
mv "$T/routes.new" "$T/etc/routes"
send s1@elsewhere.test r2@routed.test
expect_line s1@elsewhere.test sent 2.0.0 "mx.star.test[127.0.0.52]:$P"
expect_line r2@routed.test sent 2.0.0 "127.0.0.50[127.0.0.50]:$P"
[ "$(where s1@elsewhere.test)" = star ] ||
    fail "s1@elsewhere.test arrived at '$(where s1@elsewhere.test)'"
dnslog_has 'query\[MX\] star\.test ' ||
    fail "no MX query for star.test: $(cat "$T/dns.log")"
! dnslog_has 'query\[[A-Z]+\] elsewhere\.test ' ||
    fail "elsewhere.test was looked up despite the * route"
stop_qmgr

say "relayhost = [127.0.0.53]:port; a domain's route still wins"
printf 'routed.test  [127.0.0.50]:%s\n' "$P" >"$T/routes.new"
mv "$T/routes.new" "$T/etc/routes"
sed -i "s/^relayhost =.*/relayhost = [127.0.0.53]:$P/" "$T/etc/postern.conf"
start_qmgr
send y1@pref.test r3@routed.test
expect_line y1@pref.test sent 2.0.0 "127.0.0.53[127.0.0.53]:$P"
expect_line r3@routed.test sent 2.0.0 "127.0.0.50[127.0.0.50]:$P"
[ "$(where y1@pref.test)" = relay ] ||
    fail "y1@pref.test arrived at '$(where y1@pref.test)'"
[ "$(where r3@routed.test)" = route ] ||
    fail "r3@routed.test arrived at '$(where r3@routed.test)'"
[ "$(sink_count p1)" = 3 ] && [ "$(conns p2)" = 0 ] ||
    fail "pref.test's MX hosts were used despite relayhost"
stop_qmgr

# ------------------------------------------------------------ SERVFAIL

say "DNS SERVFAIL: deferred with 4.4.3, not bounced"
sed -i "s/^relayhost =.*/relayhost =/" "$T/etc/postern.conf"
cat >"$T/fake.json" <<'JSON'
{"servfail.test": {"rcode": "SERVFAIL"},
 "sfmx.test": {"MX": [[10, "bad.sfmx.test"], [20, "good.sfmx.test"]]},
 "sfonly.test": {"MX": [[10, "bad.sfmx.test"]]},
 "bad.sfmx.test": {"rcode": "SERVFAIL"},
 "good.sfmx.test": {"A": ["127.0.0.57"]},
 "hold.test": {"MX": [[10, "mx.hold.test"]]},
 "mx.hold.test": {"A": ["127.0.0.43"]}}
JSON
start_fakedns "$T/fake.json" "$DNS_IP"
[ "$DNS_PORT" != "$dnsmasq_port" ] || fail "dnsfake took dnsmasq's port"
sed -i "s/^dns_servers =.*/dns_servers = $DNS_IP:$DNS_PORT/" \
    "$T/etc/postern.conf"
start_qmgr
send sf@servfail.test h3@hold.test
expect_line sf@servfail.test deferred 4.4.3 none
expect_line h3@hold.test deferred 4.4.1 "mx.hold.test[127.0.0.43]:$P"
[ "$(rcpt_field sf@servfail.test state)" = deferred ] ||
    fail "sf state: $(rcpt_field sf@servfail.test state)"
grep -q 'servfail.test MX -> SERVFAIL' "$T/fakedns.log" ||
    fail "dnsfake was not asked: $(cat "$T/fakedns.log")"
logof sf@servfail.test | grep -q 'status=bounced' &&
    fail "SERVFAIL bounced: $(logof sf@servfail.test)"

say "SERVFAIL for an MX host's address: the next MX; the only MX: 4.4.3"
start_sink sf=127.0.0.57:$P
send g@sfmx.test o@sfonly.test
expect_line g@sfmx.test sent 2.0.0 "good.sfmx.test[127.0.0.57]:$P"
expect_line o@sfonly.test deferred 4.4.3 none
stop_qmgr

# ------------------------------------------------------------ loops, again

# RFC 5321 section 5.1: "If a matching record is found, all records at
# that preference level and higher-numbered ones MUST be discarded": the
# other MX 10 host must never be used, whatever order the shuffle of
# equal preferences gives. (Back on dnsmasq.)
say "this host and another at the same preference: both dropped (5.4.6)"
sed -i "s/^dns_servers =.*/dns_servers = $DNS_IP:$dnsmasq_port/" \
    "$T/etc/postern.conf"
start_qmgr
i=1
while [ $i -le 10 ]; do send le$i@loopequal.test; i=$((i + 1)); done
bad=""
i=1
while [ $i -le 10 ]; do
	wait_eval "logof le$i@loopequal.test | grep -qE 'status=(sent|bounced|deferred) '" ||
	    fail "no result for le$i@loopequal.test"
	logof le$i@loopequal.test | grep -q 'dsn=5\.4\.6, status=bounced ' ||
	    bad="$bad
$(logof le$i@loopequal.test)"
	i=$((i + 1))
done
[ -z "$bad" ] || fail "MX 10 test.example + MX 10 mx.loopequal.test: \
$(printf '%s' "$bad" | grep -c .) of 10 messages did not bounce with \
5.4.6 (mx.loopequal.test accepted $(conns lequal) connections):$bad"
expect_conns lequal 0 "the MX at this host's preference"

stop_qmgr

for d in "$T"/sink-* "$T"/fault-*; do
	grep -q Traceback "$d/log" && fail "a test server failed: $(cat "$d/log")"
done
echo ok
