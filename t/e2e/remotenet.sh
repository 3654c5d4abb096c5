# t/e2e/remotenet.sh - a test network on loopback for the remote-delivery
# tests: a DNS server, SMTP servers that receive (smtpsink.py, Postfix's
# smtp-sink) and one that misbehaves (smtpfault.py). POSIX sh; sourced
# after lib.sh, once $T exists (`instance`, or T=$(mktemp -d ...)).
#
# CLEANUP. Every server started here is recorded and killed by
# `remotenet_stop`. Sourcing this file sets
#     trap 'remotenet_stop; cleanup' EXIT
#     trap 'exit 1' INT TERM HUP
# so a test that sets its own EXIT trap must call remotenet_stop from it
# too, before lib.sh's cleanup (which removes $T).
#
# HOSTS. 127.0.0.2 .. 127.0.0.254 all reach this machine over lo on Linux
# without any configuration: give each "host" its own address, e.g.
# mx1=127.0.0.11:25 and mx2=127.0.0.12:25. Port 0 picks a free port. As
# root, port 25 can be used as it is; nothing else listens there (Postfix
# is installed for smtp-sink, but no postfix daemon is started: see
# start_smtp_sink).
#
# FUNCTIONS
#   start_dns ZONE.json [ADDRESS]
#       dnsmasq serving ZONE (dnsfake.py's JSON form: "MX", "A", "AAAA"
#       only; see below) on ADDRESS (default 127.0.0.1) at a free high
#       port, UDP and TCP; no upstream servers, no /etc/hosts, no
#       /etc/resolv.conf, no /etc/dnsmasq.conf. Sets DNS_PORT, DNS_PID,
#       DNS_ADDR. Its configuration is $T/dnsmasq.conf, its log (a line per
#       query: "query[MX] example.test from 127.0.0.1") $T/dns.log (the
#       last started dnsmasq's).
#   start_fakedns ZONE.json [ADDRESS]
#       the same with dnsfake.py (any of its zone features: rcode modes,
#       garbage, timeouts, CNAME, odd names). Log: $T/fakedns.log.
#   dns_query NAME TYPE [tcp]
#       ask the DNS server at DNS_ADDR:DNS_PORT; prints the rcode name
#       (NOERROR, NXDOMAIN, ...; "TIMEOUT" when nothing answers in 2 s)
#       on the first line and then one line per answer record: "MX 10
#       mx1.example.test", "MX 0 .", "A 127.0.0.2", "AAAA ::1", "CNAME
#       x.test", or "TYPE# hex" for other types. Exit 0 once it got a reply.
#   start_sink NAME=HOST:PORT... [smtpsink.py options...]
#       smtpsink.py with these listeners, recording into a fresh
#       $T/sink-N/ (N counts start_sink calls; SINK_DIR is the last one);
#       SINK_PID. Options: --tls-cert F --tls-key F --require-tls
#       --smtputf8 --data-size-limit N --rcpt-reply 'PATTERN=CODE TEXT'
#       --hostname H --no-pipelining (see smtpsink.py).
#   start_fault SCRIPT.json NAME=HOST:PORT... [smtpfault.py options...]
#       smtpfault.py with that script (re-read when it changes),
#       recording into a fresh $T/fault-N/ (FAULT_DIR, FAULT_PID).
#       Options: --tls-cert F --tls-key F -v.
#   start_smtp_sink NAME=HOST:PORT [smtp-sink options...]
#       Postfix's /usr/sbin/smtp-sink (see its comment below), dumping
#       into $T/smtp-sink-NAME/. SMTP_SINK_PID.
#   free_port
#       a TCP port free now: servers on several addresses that stand for
#       the MX hosts of one test share it, since smtp_port is one number
#   port_of NAME, host_of NAME
#       the port / address of a listener of any of the servers above
#   sink_records [NAME]        the smtpsink .json records (paths, in the
#                              order of start_sink calls and then of
#                              arrival), of every listener or only NAME's
#   sink_count [NAME]          how many there are
#   sink_connections NAME      TCP connections listener NAME accepted
#   wait_sink N [NAME]         until sink_count [NAME] is N (20 s)
#   smtp_sink_count NAME       messages smtp-sink NAME accepted (at ".")
#   smtp_sink_sessions NAME    its finished sessions
#   smtp_sink_files NAME       its dump files (see start_smtp_sink)
#   wait_smtp_sink NAME N      until smtp_sink_count NAME is N (20 s)
#   remotenet_stop             stop everything started here
#
# WHAT DNSMASQ SERVES (Debian 12's dnsmasq-base 2.90, checked with dig and
# raw queries): MX (--mx-host, any number per name, any preference, the
# additional section filled with the targets' A/AAAA), A and AAAA
# (--host-record, several per name), and the null MX of RFC 7505: mx-host
# NAME,.,0 is answered as "MX 0 ." with RDATA 00 00 00, exactly the
# three octets RFC 7505 asks for, so no fallback to dnsfake.py is needed.
# With --local=/#/ and no server, every name it has no record for, in
# .test or anywhere, is NXDOMAIN, and a name that has
# records but not of the asked type gets NOERROR with no answer (NODATA).
# A zone entry with no records at all ({}) is served as an empty TXT
# record so the name exists (NODATA for MX/A/AAAA). TTLs are 0.
# It cannot: answer a chosen rcode (SERVFAIL, REFUSED), time out, send
# truncated or malformed replies, serve names other than labels of
# letters, digits, "-" and "_" (start_dns checks; dnsmasq's option
# parser would refuse them or turn UTF-8 into punycode), or a CNAME
# (--cname wants a target it holds itself; start_dns takes none). (--dns-rr can serve raw records, but
# the name then does not exist for other types: A gets NXDOMAIN.) For
# any of these use start_fakedns; start_dns refuses a zone with keys
# other than MX, A and AAAA and says so.

RN_PIDS=""
RN_SINKS=0
RN_FAULTS=0
DNS_PORT=""
DNS_PID=""
DNS_ADDR=127.0.0.1
SINK_DIR=""
SINK_PID=""
FAULT_DIR=""
FAULT_PID=""
SMTP_SINK_PID=""

trap 'remotenet_stop; cleanup' EXIT
trap 'exit 1' INT TERM HUP

_rn_need_t() {
	[ -n "$T" ] && [ -d "$T" ] || fail "remotenet: no \$T (call instance first)"
}

# _rn_started PID - remember a server for remotenet_stop
_rn_started() { RN_PIDS="$RN_PIDS $1"; }

remotenet_stop() {
	for _rn_p in $RN_PIDS; do kill -TERM "$_rn_p" 2>/dev/null; done
	for _rn_p in $RN_PIDS; do
		_rn_i=0
		while kill -0 "$_rn_p" 2>/dev/null && [ $_rn_i -lt 40 ]; do
			sleep 0.05
			_rn_i=$((_rn_i + 1))
		done
		kill -KILL "$_rn_p" 2>/dev/null
		wait "$_rn_p" 2>/dev/null
	done
	RN_PIDS=""
	return 0
}

# _rn_wait_ready PID FILE N WHAT ERRFILE - until FILE has N "ready" lines;
# fails the test if the server dies or takes more than 10 s
_rn_wait_ready() {
	_rn_i=0
	while :; do
		_rn_n=$(grep -c '^ready ' "$2" 2>/dev/null)
		[ "${_rn_n:-0}" -ge "$3" ] && return 0
		kill -0 "$1" 2>/dev/null ||
		    fail "$4 died: $(cat "$5" 2>/dev/null)"
		[ $_rn_i -lt 200 ] || fail "$4 not ready: $(cat "$5" 2>/dev/null)"
		_rn_i=$((_rn_i + 1))
		sleep 0.05
	done
}

# _rn_add_ports FILE - add its "ready NAME HOST PORT" lines to $T/ports
_rn_add_ports() {
	for _rn_n in $(awk '$1 == "ready" { print $2 }' "$1"); do
		[ -z "$(port_of "$_rn_n")" ] ||
		    fail "remotenet: listener name $_rn_n used twice"
	done
	awk '$1 == "ready" { print $2, $3, $4 }' "$1" >>"$T/ports"
}

# free_port - a TCP port free on 127.0.0.1 now, for servers on several
# loopback addresses that must share one port (smtp_port is one number)
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
port_of() { awk -v n="$1" '$1 == n { print $3; exit }' "$T/ports" 2>/dev/null; }
host_of() { awk -v n="$1" '$1 == n { print $2; exit }' "$T/ports" 2>/dev/null; }

# ---------------------------------------------------------------- DNS

# The zone to dnsmasq options; exit 3 with a message for what it cannot do.
_RN_ZONE2DNSMASQ='
import ipaddress, json, re, sys
zone = json.load(open(sys.argv[1]))
out, bad = [], []
name_ok = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
if not isinstance(zone, dict):
    sys.exit("start_dns: the zone is not a JSON object")
for raw, entry in zone.items():
    name = raw.lower()
    name = name[:-1] if name.endswith(".") else name
    if not name_ok.match(name):
        bad.append(f"{raw!r}: not a name dnsmasq can hold")
        continue
    if not isinstance(entry, dict):
        bad.append(f"{raw}: not an object")
        continue
    for key in entry:
        if key not in ("MX", "A", "AAAA"):
            bad.append(f"{raw}: {key!r} is beyond dnsmasq")
    for pref, target in entry.get("MX", []):
        target = target.lower()
        if target != "." and target.endswith("."):
            target = target[:-1]
        if target != "." and not name_ok.match(target):
            bad.append(f"{raw}: MX target {target!r}")
        elif not isinstance(pref, int) or not 0 <= pref <= 65535:
            bad.append(f"{raw}: MX preference {pref!r}")
        else:
            out.append(f"mx-host={name},{target},{pref}")
    for key, version in (("A", 4), ("AAAA", 6)):
        for addr in entry.get(key, []):
            try:
                if ipaddress.ip_address(addr).version != version:
                    raise ValueError
            except ValueError:
                bad.append(f"{raw}: {key} {addr!r}")
                continue
            out.append(f"host-record={name},{addr}")
    if not any(entry.get(k) for k in ("MX", "A", "AAAA")):
        out.append(f"txt-record={name}")
if bad:
    sys.stderr.write("start_dns: dnsmasq cannot serve this zone (use "
                     "start_fakedns):\n  " + "\n  ".join(bad) + "\n")
    sys.exit(3)
print("\n".join(out))
'

# A port free for both UDP and TCP on the address (dnsmasq has no port 0).
_RN_FREEPORT='
import socket, sys
addr = sys.argv[1]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
for _ in range(50):
    u = socket.socket(fam, socket.SOCK_DGRAM)
    u.bind((addr, 0))
    port = u.getsockname()[1]
    t = socket.socket(fam, socket.SOCK_STREAM)
    try:
        t.bind((addr, port))
    except OSError:
        continue
    finally:
        t.close()
        u.close()
    if port >= 1024:
        print(port)
        break
'

_RN_DNSQ='
import random, socket, struct, sys
name, qtype = sys.argv[1], sys.argv[2].upper()
addr, port, tcp = sys.argv[3], int(sys.argv[4]), sys.argv[5] == "tcp"
TYPES = {"A": 1, "CNAME": 5, "MX": 15, "TXT": 16, "AAAA": 28}
RCODES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"]
qid = random.getrandbits(16)
qname = b"".join(bytes([len(l)]) + l for l in
                 name.rstrip(".").encode().split(b".") if l) + b"\0"
query = struct.pack("!6H", qid, 0x0100, 1, 0, 0, 0) + qname + \
    struct.pack("!2H", TYPES[qtype], 1)
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
try:
    if tcp:
        s = socket.create_connection((addr, port), timeout=2)
        s.sendall(struct.pack("!H", len(query)) + query)
        buf = b""
        while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
            chunk = s.recv(65535)
            if not chunk:
                break
            buf += chunk
        msg = buf[2:]
    else:
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(2)
        s.sendto(query, (addr, port))
        while True:
            msg = s.recv(65535)
            if msg[:2] == query[:2]:
                break
except (socket.timeout, ConnectionError):
    print("TIMEOUT")
    sys.exit(1)

def read_name(msg, pos):
    labels, jumps, end = [], 0, None
    while True:
        n = msg[pos]
        if n >= 0xC0:
            if end is None:
                end = pos + 2
            pos = ((n & 0x3F) << 8) | msg[pos + 1]
            jumps += 1
            if jumps > 20:
                raise ValueError("pointer loop")
            continue
        pos += 1
        if n == 0:
            break
        labels.append(msg[pos:pos + n].decode("utf-8", "replace"))
        pos += n
    return (".".join(labels) or "."), (end if end is not None else pos)

flags, qd, an = struct.unpack("!3H", msg[2:8])
print(RCODES[flags & 15] if (flags & 15) < len(RCODES) else flags & 15)
if flags & 0x0200:
    print("TRUNCATED")
pos = 12
for _ in range(qd):
    pos = read_name(msg, pos)[1] + 4
names = {v: k for k, v in TYPES.items()}
for _ in range(an):
    owner, pos = read_name(msg, pos)
    rtype, _, _, rdlen = struct.unpack("!HHIH", msg[pos:pos + 10])
    pos += 10
    rdata = msg[pos:pos + rdlen]
    if rtype == 1:
        print("A", socket.inet_ntop(socket.AF_INET, rdata))
    elif rtype == 28:
        print("AAAA", socket.inet_ntop(socket.AF_INET6, rdata))
    elif rtype == 15:
        print("MX", struct.unpack("!H", rdata[:2])[0], read_name(msg, pos + 2)[0])
    elif rtype == 5:
        print("CNAME", read_name(msg, pos)[0])
    else:
        print(f"{names.get(rtype, rtype)}# {rdata.hex()}")
    pos += rdlen
'

dns_query() {
	[ -n "$DNS_PORT" ] || fail "dns_query: no DNS server (start_dns)"
	"$PY" -c "$_RN_DNSQ" "$1" "$2" "$DNS_ADDR" "$DNS_PORT" "${3:-udp}"
}

start_dns() {
	_rn_need_t
	[ -f "${1:-}" ] || fail "start_dns: no zone file ${1:-}"
	[ -x /usr/sbin/dnsmasq ] ||
	    fail "start_dns: dnsmasq is missing (Debian package dnsmasq-base, in conf/debian-packages)"
	DNS_ADDR=${2:-127.0.0.1}
	"$PY" -c "$_RN_ZONE2DNSMASQ" "$1" >"$T/dnsmasq.zone" ||
	    fail "start_dns: cannot use the zone $1"
	for _rn_try in 1 2 3 4 5; do
		DNS_PORT=$("$PY" -c "$_RN_FREEPORT" "$DNS_ADDR")
		[ -n "$DNS_PORT" ] || fail "start_dns: no free port"
		# dnsmasq reads only this file (-C stops it reading
		# /etc/dnsmasq.conf and so /etc/dnsmasq.d).
		{
			echo "# written by remotenet.sh start_dns from $1"
			echo "port=$DNS_PORT"
			echo "listen-address=$DNS_ADDR"
			echo "bind-interfaces"
			echo "no-resolv"
			echo "no-hosts"
			echo "no-poll"
			echo "local=/#/"
			echo "keep-in-foreground"
			echo "pid-file="
			echo "log-facility=-"
			echo "log-queries"
			cat "$T/dnsmasq.zone"
		} >"$T/dnsmasq.conf"
		/usr/sbin/dnsmasq --conf-file="$T/dnsmasq.conf" </dev/null \
		    >"$T/dns.log" 2>&1 &
		DNS_PID=$!
		_rn_i=0
		while [ $_rn_i -lt 100 ]; do
			kill -0 "$DNS_PID" 2>/dev/null || break
			if "$PY" -c "$_RN_DNSQ" ready.remotenet.invalid A \
			    "$DNS_ADDR" "$DNS_PORT" udp >/dev/null 2>&1; then
				_rn_started "$DNS_PID"
				return 0
			fi
			_rn_i=$((_rn_i + 1))
			sleep 0.05
		done
		kill -KILL "$DNS_PID" 2>/dev/null
		wait "$DNS_PID" 2>/dev/null
		# another program took the port in between: try another
		grep -q 'in use' "$T/dns.log" || break
	done
	DNS_PID=""
	fail "start_dns: dnsmasq did not start: $(tail -5 "$T/dns.log")"
}

start_fakedns() {
	_rn_need_t
	[ -f "${1:-}" ] || fail "start_fakedns: no zone file ${1:-}"
	DNS_ADDR=${2:-127.0.0.1}
	"$PY" "$top/t/e2e/dnsfake.py" "$1" 0 "$DNS_ADDR" </dev/null \
	    >"$T/fakedns.ready" 2>>"$T/fakedns.log" &
	DNS_PID=$!
	_rn_i=0
	until grep -q '^ready ' "$T/fakedns.ready" 2>/dev/null; do
		kill -0 "$DNS_PID" 2>/dev/null ||
		    fail "dnsfake died: $(cat "$T/fakedns.log")"
		[ $_rn_i -lt 200 ] || fail "dnsfake not ready"
		_rn_i=$((_rn_i + 1))
		sleep 0.05
	done
	_rn_started "$DNS_PID"
	DNS_PORT=$(awk '{ print $2; exit }' "$T/fakedns.ready")
}

# ---------------------------------------------------------------- SMTP

# _rn_split_listen ARGS... - sets _rn_listen (--listen options) and
# _rn_nlisten for the leading NAME=HOST:PORT arguments, _rn_shift how
# many they were
_rn_split_listen() {
	_rn_listen="" _rn_nlisten=0 _rn_shift=0
	for _rn_a in "$@"; do
		case $_rn_a in
		-*) break ;;
		*=*:*) ;;
		*) fail "remotenet: want NAME=HOST:PORT, got '$_rn_a'" ;;
		esac
		_rn_listen="$_rn_listen --listen $_rn_a"
		_rn_nlisten=$((_rn_nlisten + 1))
		_rn_shift=$((_rn_shift + 1))
	done
	[ $_rn_nlisten -gt 0 ] || fail "remotenet: no NAME=HOST:PORT given"
}

start_sink() {
	_rn_need_t
	_rn_split_listen "$@"
	shift $_rn_shift
	RN_SINKS=$((RN_SINKS + 1))
	SINK_DIR=$T/sink-$RN_SINKS
	mkdir -p "$SINK_DIR"
	# shellcheck disable=SC2086 # _rn_listen: --listen N=H:P, no spaces
	"$PY" "$top/t/e2e/smtpsink.py" $_rn_listen --record "$SINK_DIR" "$@" \
	    </dev/null >"$SINK_DIR/ready" 2>"$SINK_DIR/log" &
	SINK_PID=$!
	_rn_started "$SINK_PID"
	_rn_wait_ready "$SINK_PID" "$SINK_DIR/ready" $_rn_nlisten smtpsink \
	    "$SINK_DIR/log"
	_rn_add_ports "$SINK_DIR/ready"
}

sink_records() {
	if [ $# = 0 ]; then
		ls "$T"/sink-*/[0-9]*.json 2>/dev/null
	else
		grep -l "\"listener\": \"$1\"" "$T"/sink-*/[0-9]*.json \
		    2>/dev/null
	fi
}
sink_count() { sink_records "$@" | wc -l; }
sink_connections() {
	cat "$T"/sink-*/connections-"$1" 2>/dev/null | head -n 1
}
wait_sink() { wait_eval "[ \"\$(sink_count ${2:-})\" = $1 ]"; }

start_fault() {
	_rn_need_t
	[ -f "${1:-}" ] || fail "start_fault: no script ${1:-}"
	_rn_script=$1
	shift
	_rn_split_listen "$@"
	shift $_rn_shift
	RN_FAULTS=$((RN_FAULTS + 1))
	FAULT_DIR=$T/fault-$RN_FAULTS
	mkdir -p "$FAULT_DIR"
	# shellcheck disable=SC2086
	"$PY" "$top/t/e2e/smtpfault.py" $_rn_listen --script "$_rn_script" \
	    --record "$FAULT_DIR" "$@" </dev/null >"$FAULT_DIR/ready" \
	    2>"$FAULT_DIR/log" &
	FAULT_PID=$!
	_rn_started "$FAULT_PID"
	_rn_wait_ready "$FAULT_PID" "$FAULT_DIR/ready" $_rn_nlisten smtpfault \
	    "$FAULT_DIR/log"
	_rn_add_ports "$FAULT_DIR/ready"
}

# start_smtp_sink NAME=HOST:PORT [options] - Postfix's smtp-sink(1), a
# fast, parallel SMTP server that accepts everything (any sender and
# recipient, 250 to all; advertises PIPELINING 8BITMIME AUTH XCLIENT
# XFORWARD ENHANCEDSTATUSCODES DSN, no STARTTLS, no SIZE, no SMTPUTF8).
# Extra options go to smtp-sink: e.g. -r RCPT (4xx to every RCPT), -f
# MAIL (5xx), -Q DATA (421 and close), -w 5 (wait before the DATA reply),
# -8 (no 8BITMIME), -h NAME (its hostname, default "smtp-sink").
# It runs with -c and -d:
#  - -c: after each end of data (".") and each finished session it
#    writes "sess=S quit=Q mesg=M" and a CR to its stdout ($T/smtp-sink-
#    NAME.out): M is the messages accepted, S the sessions ended, Q the
#    QUITs. smtp_sink_count / smtp_sink_sessions read the last one. This
#    is the count to trust.
#  - -d: each transaction is dumped to $T/smtp-sink-NAME/YYYYmmddHHMMSS.
#    HEX (one file per message): X-Client-Addr, X-Client-Proto,
#    X-Helo-Args, X-Mail-Args (the MAIL FROM arguments, "<a@b> BODY=..."),
#    one X-Rcpt-Args per RCPT, a 3-line Received: header, then the
#    message as received, dot-unstuffed, with LF line ends (CRLF turned
#    into LF: not byte-exact), 8-bit octets kept, and an empty line at
#    the end. The file is created at MAIL and removed if the transaction
#    is aborted (RSET, a dropped connection), so while a transaction is in
#    progress smtp_sink_files also lists its unfinished file.
# It needs root's -u USER to drop privileges (nobody here; its dump
# directory is made nobody's, and $T searchable by others). PORT 0: the
# kernel picks one, read back from /proc.
#
# The package: Debian 12's postfix (smtp-sink has no package of its own).
# Installing it with DEBIAN_FRONTEND=noninteractive and nothing preseeded
# (as .ci/run and conf/install-deps do) takes debconf's default "Internet
# Site": it writes /etc/postfix/main.cf, creates /etc/aliases if missing,
# adds the postfix user and the postdrop group, and owns /usr/sbin/
# sendmail, mailq and newaliases; it then asks invoke-rc.d to start
# postfix, which these machines' /usr/sbin/policy-rc.d (exit 101)
# refuses, and the install still succeeds. No postfix daemon runs, so
# nothing holds port 25. (On a machine without such a policy-rc.d and
# without systemd as PID 1 it would start a master listening on *:25;
# preseeding "postfix postfix/main_mailer_type select No configuration"
# with debconf-set-selections before apt-get avoids that, and also the
# main.cf.) It conflicts with any other MTA package (exim4, ...), which
# apt-get would remove.
_RN_LISTENPORT='
import os, sys
pid = sys.argv[1]
inodes = set()
for fd in os.listdir(f"/proc/{pid}/fd"):
    try:
        link = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        continue
    if link.startswith("socket:["):
        inodes.add(link[8:-1])
for table in ("tcp", "tcp6"):
    for line in open(f"/proc/net/{table}").readlines()[1:]:
        f = line.split()
        if f[3] == "0A" and f[9] in inodes:
            print(int(f[1].split(":")[1], 16))
            sys.exit(0)
sys.exit(1)
'

start_smtp_sink() {
	_rn_need_t
	[ -x /usr/sbin/smtp-sink ] ||
	    fail "start_smtp_sink: /usr/sbin/smtp-sink is missing (Debian package postfix, in conf/debian-packages)"
	case ${1:-} in
	*=*:*) ;;
	*) fail "start_smtp_sink: want NAME=HOST:PORT, got '${1:-}'" ;;
	esac
	_rn_name=${1%%=*}
	_rn_addr=${1#*=}
	_rn_host=${_rn_addr%:*}
	_rn_port=${_rn_addr##*:}
	shift
	[ -z "$(port_of "$_rn_name")" ] ||
	    fail "remotenet: listener name $_rn_name used twice"
	_rn_dir=$T/smtp-sink-$_rn_name
	mkdir -p "$_rn_dir"
	set -- -c -d "$_rn_dir/%Y%m%d%H%M%S." "$@"
	if [ "$(id -u)" = 0 ]; then
		chown nobody "$_rn_dir"
		chmod go+x "$T"
		set -- -u nobody "$@"
	fi
	/usr/sbin/smtp-sink "$@" "inet:$_rn_host:$_rn_port" 256 </dev/null \
	    >"$T/smtp-sink-$_rn_name.out" 2>"$T/smtp-sink-$_rn_name.log" &
	SMTP_SINK_PID=$!
	_rn_started "$SMTP_SINK_PID"
	_rn_i=0
	until _rn_got=$("$PY" -c "$_RN_LISTENPORT" "$SMTP_SINK_PID" \
	    2>/dev/null); do
		kill -0 "$SMTP_SINK_PID" 2>/dev/null || fail \
		    "smtp-sink died: $(cat "$T/smtp-sink-$_rn_name.log")"
		[ $_rn_i -lt 200 ] || fail "smtp-sink not listening"
		_rn_i=$((_rn_i + 1))
		sleep 0.05
	done
	echo "$_rn_name $_rn_host $_rn_got" >>"$T/ports"
}

# _rn_sink_counter NAME FIELD - the last value smtp-sink -c wrote
_rn_sink_counter() {
	tr '\r' '\n' <"$T/smtp-sink-$1.out" 2>/dev/null |
	    sed -n "s/.*$2=\([0-9]*\).*/\1/p" | tail -n 1 | grep . || echo 0
}
smtp_sink_count() { _rn_sink_counter "$1" mesg; }
smtp_sink_sessions() { _rn_sink_counter "$1" sess; }
smtp_sink_files() { ls "$T/smtp-sink-$1"/* 2>/dev/null; }
wait_smtp_sink() { wait_eval "[ \"\$(smtp_sink_count $1)\" = $2 ]"; }
