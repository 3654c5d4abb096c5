# 73-remote-tls: postern-remote's STARTTLS levels and SMTP AUTH, end to
# end, against servers on 127.0.0.60-71 with certificates from a test CA
# made at run time. Three runs of the queue manager on one queue:
#  1. global level may (the default): a server offering STARTTLS gets the
#     mail over TLS (the server saw TLS; the log line has tls=VERSION/
#     CIPHER, the same the server saw; the transcript has STARTTLS, the
#     second EHLO, "TLS established" with version and cipher, and the
#     peer certificate's subject); a server without STARTTLS gets it in
#     plaintext; a server whose TLS handshake is broken gets it in
#     plaintext on a second connection within the same attempt.
#     tls_policy_file (keys in any case) overrides the level per domain:
#     encrypt: a server without STARTTLS is not given the mail (deferred,
#     4.7.4, "does not offer STARTTLS") while the same server takes
#     another domain's mail at may; a server with a self-signed
#     certificate for another name gets it over TLS (encrypt does not
#     verify). none: no STARTTLS although it is offered.
#  2. global level verify: a certificate from the CA for the MX name
#     delivers over TLS ("valid (required: verify)"); one for another
#     name, and a self-signed one, are refused (deferred, 4.7.5, the
#     certificate problem named) and nothing reaches those servers; a
#     broken handshake is not followed by a plaintext retry.
#  3. AUTH (smtp_auth_file) to relayhost [127.0.0.68]:PORT over TLS:
#     delivered, the server saw AUTH PLAIN succeed after STARTTLS, no
#     SNI for the address literal; the transcript shows "AUTH PLAIN ***"
#     and neither the password nor its base64, and neither is in the log
#     or the queue files. AUTH LOGIN (no PLAIN offered) hides both lines.
#     A wrong password (AUTH offered only after STARTTLS): deferred,
#     4.7.8. A server that offers AUTH but not STARTTLS is never sent the
#     credentials (deferred, 4.7.0, no AUTH command seen). Last, a job
#     that makes no connection (its next hop does not exist) right after
#     a TLS session in the same worker is logged without tls=.
. "$(dirname "$0")/lib.sh"
. "$top/t/e2e/testca.sh"
. "$top/t/e2e/remotenet.sh"
need_root "smtp_auth_file owned by root; the remote worker's chroot"
command -v openssl >/dev/null 2>&1 || skip "openssl is missing"

P=$(free_port)
instance "relayhost =" "smtp_port = $P" \
    "smtp_tls_security_level = may" \
    "smtp_tls_ca_file = __CA__" \
    "smtp_connect_timeout = 2s" "smtp_greeting_timeout = 5s" \
    "smtp_command_timeout = 5s" "smtp_data_timeout = 5s" \
    "dns_servers = __DNS__"
export T B P

say "a test CA, certificates for the MX names, a wrong name, a self-signed one"
CA=$T/ca
make_ca "$CA" || fail "make_ca"
make_cert "$CA" may mx1.may.test || fail "make_cert may"
make_cert "$CA" verify mx.verify.test || fail "make_cert verify"
make_cert "$CA" other other.tls.test || fail "make_cert other"
make_cert "$CA" relay 127.0.0.68 relay.tls.test || fail "make_cert relay"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -sha256 -days 1 -subj /CN=wrong.example \
    -addext subjectAltName=DNS:wrong.example \
    -keyout "$CA/self.key" -out "$CA/self.pem" >/dev/null 2>&1 ||
    fail "self-signed certificate"
sed -i "s|__CA__|$CA/ca.pem|" "$T/etc/postern.conf"

cat >"$T/zone.json" <<'JSON'
{"may.test": {"MX": [[10, "mx1.may.test"]]},
 "none.test": {"MX": [[10, "mx1.may.test"]]},
 "mx1.may.test": {"A": ["127.0.0.60"]},
 "plain.test": {"MX": [[10, "mx.plain.test"]]},
 "tls.test": {"MX": [[10, "mx.plain.test"]]},
 "mx.plain.test": {"A": ["127.0.0.61"]},
 "broken.test": {"MX": [[10, "mx.broken.test"]]},
 "brokenverify.test": {"MX": [[10, "mx.broken.test"]]},
 "mx.broken.test": {"A": ["127.0.0.62"]},
 "selfsigned.test": {"MX": [[10, "mx.selfsigned.test"]]},
 "untrusted.test": {"MX": [[10, "mx.selfsigned.test"]]},
 "mx.selfsigned.test": {"A": ["127.0.0.63"]},
 "verify.test": {"MX": [[10, "mx.verify.test"]]},
 "mx.verify.test": {"A": ["127.0.0.64"]},
 "wrongname.test": {"MX": [[10, "mx.wrongname.test"]]},
 "mx.wrongname.test": {"A": ["127.0.0.65"]},
 "refuse.test": {"MX": [[10, "mx.refuse.test"]]},
 "mx.refuse.test": {"A": ["127.0.0.67"]}}
JSON
start_dns "$T/zone.json"
sed -i "s|__DNS__|127.0.0.1:$DNS_PORT|" "$T/etc/postern.conf"

# Nothing listens on 127.0.0.67: refuse.test's recipients stay deferred
# (retry in 2h), keeping their messages, and so the transcripts of the
# other recipients, in the queue.
start_sink tlsmx=127.0.0.60:"$P" --tls-cert "$CA/may.pem" --tls-key "$CA/may.key"
start_sink plain=127.0.0.61:"$P"
start_sink selfsigned=127.0.0.63:"$P" \
    --tls-cert "$CA/self.pem" --tls-key "$CA/self.key"
start_sink verify=127.0.0.64:"$P" \
    --tls-cert "$CA/verify.pem" --tls-key "$CA/verify.key"
start_sink wrongname=127.0.0.65:"$P" \
    --tls-cert "$CA/other.pem" --tls-key "$CA/other.key"
cat >"$T/fault.json" <<'JSON'
{"ehlo": ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "STARTTLS",
          "AUTH PLAIN LOGIN"],
 "auth_users": {"u": "secret"},
 "listeners": {
   "broken": {"ehlo": ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES",
                       "STARTTLS"],
              "starttls": "broken"},
   "authbad": {"ehlo": ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES",
                        "STARTTLS"],
               "ehlo_after_tls": ["PIPELINING", "8BITMIME",
                                  "ENHANCEDSTATUSCODES", "AUTH PLAIN LOGIN"]},
   "authnotls": {"ehlo": ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES",
                          "AUTH PLAIN LOGIN"]},
   "authlogin": {"ehlo": ["PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES",
                          "STARTTLS", "AUTH LOGIN"]}}}
JSON
start_fault "$T/fault.json" broken=127.0.0.62:"$P" auth=127.0.0.68:"$P" \
    authbad=127.0.0.69:"$P" authnotls=127.0.0.70:"$P" authlogin=127.0.0.71:"$P" \
    --tls-cert "$CA/relay.pem" --tls-key "$CA/relay.key"
export FAULT_DIR

# per-domain levels; the global one is may (then verify)
printf '%s\n' "tls.test encrypt" "SelfSigned.Test encrypt" "none.test none" \
    >"$T/etc/tls_policy"

# py WHAT - run a Python check on stdin, helpers from $T/common.py
py() { PYTHONPATH=$T "$PY" - || fail "$1"; }
cat >"$T/common.py" <<'PYEOF'
import base64, glob, json, os, re, subprocess, sys, time
T, P = os.environ["T"], os.environ["P"]
CTL = [os.environ["B"] + "/posternctl", "-c", T + "/etc"]
FAULT_DIR = os.environ["FAULT_DIR"]

def expect(cond, what):
    if not cond:
        sys.exit(f"not as expected: {what}")

def ctl(*args):
    r = subprocess.run(CTL + list(args), capture_output=True, text=True)
    expect(r.returncode == 0, f"posternctl {args}: {r.returncode} {r.stderr}")
    return r.stdout

def rcpt(addr):
    """the queue's recipient addr, with its transcript as one string"""
    out = ctl("queue", "--json")
    ids = [m["id"] for m in map(json.loads, out.splitlines())
           if any(r["address"] == addr for r in m["recipients"])]
    expect(len(ids) == 1, f"one message for {addr} in the queue: {out}")
    m = json.loads(ctl("show", ids[0], "--json", "--transcript"))
    for r in m["recipients"]:
        if r["address"] == addr:
            t = r.get("transcript") or ""
            r["transcript"] = "\n".join(t) if isinstance(t, list) else t
            return r

def sink(addr):
    """smtpsink's records with addr among the recipients: [(json, eml)]"""
    out = []
    for p in sorted(glob.glob(f"{T}/sink-*/[0-9]*.json")):
        j = json.load(open(p))
        if addr in j["rcpt_tos"]:
            out.append((j, open(p[:-5] + ".eml", "rb").read()))
    return out

def body(eml):
    return eml.split(b"\r\n\r\n", 1)[1]

def logline(addr):
    lines = [l.rstrip("\n") for l in open(f"{T}/log") if f" to=<{addr}>," in l]
    expect(len(lines) == 1, f"one log line for {addr}: {lines}")
    return lines[0]

def log_tls(line):
    m = re.search(r", tls=([^/ ,]+)/([^ ,]+), ", line)
    return m and (m.group(1), m.group(2))

def fault(name, conn, txn):
    """smtpfault's record, once its session has ended"""
    path = f"{FAULT_DIR}/{name}-{conn:05d}-{txn:03d}.json"
    for _ in range(200):
        try:
            r = json.load(open(path))
            if r.get("session_end"):
                return r
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    sys.exit(f"no finished record {path}: {sorted(os.listdir(FAULT_DIR))}")

def fault_records(name):
    return sorted(glob.glob(f"{FAULT_DIR}/{name}-*.json"))

def fault_conns(name):
    try:
        return int(open(f"{FAULT_DIR}/connections.{name}").read())
    except OSError:
        return 0
PYEOF

# send SUBJECT RCPT... - a message "Subject: SUBJECT", body "body of SUBJECT"
send() {
	_s=$1; shift
	printf 'Subject: %s\n\nbody of %s\n' "$_s" "$_s" |
	    inject -f sender@test.example "$@" || fail "inject $*"
}
# final ADDR STATUS - wait for ADDR's log line with that status
final() {
	wait_log " to=<$1>, .*status=$2 " ||
	    fail "no status=$2 line for $1: $(grep -F "<$1>" "$T/log")
$(tail -5 "$T/log")"
}

say "phase 1: global level may; tls_policy_file: 2 domains encrypt, 1 none"
start_qmgr
send may a@may.test z1@refuse.test
send plain b@plain.test
send broken c@broken.test z2@refuse.test
send encnone d@tls.test
send encself e@selfsigned.test
send none nn@none.test
final a@may.test sent
final z1@refuse.test deferred
final b@plain.test sent
final c@broken.test sent
final z2@refuse.test deferred
final d@tls.test deferred
final e@selfsigned.test sent
final nn@none.test sent

say "may: over TLS to a server that offers STARTTLS"
py "may with STARTTLS" <<'PY'
from common import *
recs = sink("a@may.test")
expect(len(recs) == 1, f"one message for a@may.test: {recs}")
j, eml = recs[0]
expect(j["listener"] == "tlsmx", j)
expect(body(eml) == b"body of may\r\n", eml)
expect(j["tls"] and j["tls"]["version"] in ("TLSv1.2", "TLSv1.3"),
       f"the server did not see TLS: {j}")
line = logline("a@may.test")
expect(f"relay=mx1.may.test[127.0.0.60]:{P}, " in line and
       "dsn=2.0.0, status=sent (250 " in line, line)
expect(log_tls(line) == (j["tls"]["version"], j["tls"]["cipher"]),
       f"log tls= {log_tls(line)}, the server saw {j['tls']}: {line}")
r = rcpt("a@may.test")
expect(r["state"] == "delivered", r)
x = r["transcript"]
expect(re.search(r">>> STARTTLS$", x, re.M), f"no STARTTLS in:\n{x}")
expect(re.search(r"<<< 220[ -]", x, re.M), f"no 220 to STARTTLS in:\n{x}")
want = (f"TLS established with mx1.may.test[127.0.0.60]:{P}: "
        f"{j['tls']['version']}, cipher {j['tls']['cipher']}")
expect(want in x, f"no '{want}' in:\n{x}")
expect(re.search(r"TLS peer certificate: subject [^\n]*CN ?= ?mx1\.may\.test",
                 x), f"no peer certificate subject in:\n{x}")
# EHLO again after the handshake (RFC 3207 4.2), before MAIL
cmds = re.findall(r">>> (\S+)", x)
expect(cmds.count("EHLO") == 2 and
       cmds.index("STARTTLS") < len(cmds) - 1 - cmds[::-1].index("EHLO") <
       cmds.index("MAIL"), f"commands: {cmds}")
z = rcpt("z1@refuse.test")
expect(z["state"] == "deferred", z)
PY

say "may: in plaintext to a server without STARTTLS"
py "may without STARTTLS" <<'PY'
from common import *
recs = sink("b@plain.test")
expect(len(recs) == 1, f"one message for b@plain.test: {recs}")
j, eml = recs[0]
expect(j["listener"] == "plain" and j["tls"] is None, j)
expect(body(eml) == b"body of plain\r\n", eml)
line = logline("b@plain.test")
expect(f"relay=mx.plain.test[127.0.0.61]:{P}, " in line and
       "status=sent" in line and ", tls=" not in line, line)
PY

say "may: a broken TLS handshake, then plaintext on a new connection"
py "may with a broken handshake" <<'PY'
from common import *
expect(fault_conns("broken") == 2,
       f"connections to broken: {fault_conns('broken')}")
first = fault("broken", 1, 0)
expect(any(c.startswith("STARTTLS") for c in first["commands"]),
       f"first connection: {first['commands']}")
expect(first["mail_from"] is None, first)
second = fault("broken", 2, 1)
expect(second["complete"] and not second["tls"], second)
expect(not any(c.startswith("STARTTLS") for c in second["commands"]),
       f"STARTTLS again on the plaintext connection: {second['commands']}")
expect(second["rcpts"] and second["rcpts"][0]["address"] == "c@broken.test",
       second["rcpts"])
data = base64.b64decode(second["data_b64"])
expect(body(data) == b"body of broken\r\n", data)
expect(fault_records("broken") ==
       [f"{FAULT_DIR}/broken-00001-000.json",
        f"{FAULT_DIR}/broken-00002-001.json"], fault_records("broken"))
line = logline("c@broken.test")
expect(f"relay=mx.broken.test[127.0.0.62]:{P}, " in line and
       "dsn=2.0.0, status=sent" in line and ", tls=" not in line, line)
x = rcpt("c@broken.test")["transcript"]
expect("TLS failed at level may: connecting again without TLS" in x,
       f"transcript:\n{x}")
expect(len(re.findall(r"connecting to mx\.broken\.test", x)) == 2,
       f"transcript:\n{x}")
PY

say "encrypt (tls_policy_file): no STARTTLS offered: deferred, nothing sent"
py "encrypt without STARTTLS" <<'PY'
from common import *
expect(sink("d@tls.test") == [], sink("d@tls.test"))
line = logline("d@tls.test")
expect(f"relay=mx.plain.test[127.0.0.61]:{P}, " in line and
       "dsn=4.7.4, status=deferred (TLS is required (level encrypt) but "
       f"host mx.plain.test[127.0.0.61]:{P} does not offer STARTTLS)" in line,
       line)
r = rcpt("d@tls.test")
expect(r["state"] == "deferred" and r["status"] == "4.7.4", r)
x = r["transcript"]
expect(not re.search(r">>> (MAIL|RCPT|DATA|STARTTLS)", x), f"sent:\n{x}")
PY

say "encrypt (tls_policy_file): a self-signed wrong-name certificate is fine"
py "encrypt with a self-signed certificate" <<'PY'
from common import *
recs = sink("e@selfsigned.test")
expect(len(recs) == 1, recs)
j, eml = recs[0]
expect(j["listener"] == "selfsigned" and j["tls"], j)
expect(body(eml) == b"body of encself\r\n", eml)
line = logline("e@selfsigned.test")
expect("dsn=2.0.0, status=sent" in line and
       log_tls(line) == (j["tls"]["version"], j["tls"]["cipher"]), line)
PY

say "none (tls_policy_file): plaintext although STARTTLS is offered"
py "none" <<'PY'
from common import *
recs = sink("nn@none.test")
expect(len(recs) == 1, recs)
j, eml = recs[0]
expect(j["listener"] == "tlsmx" and j["tls"] is None, j)
line = logline("nn@none.test")
expect("dsn=2.0.0, status=sent" in line and ", tls=" not in line, line)
PY
stop_qmgr

say "phase 2: global level verify"
sed -i 's/^smtp_tls_security_level = .*/smtp_tls_security_level = verify/' \
    "$T/etc/postern.conf"
start_qmgr
send verify f@verify.test z3@refuse.test
send wrongname g@wrongname.test
send untrusted h@untrusted.test
send brokenverify l@brokenverify.test
final f@verify.test sent
final z3@refuse.test deferred
final g@wrongname.test deferred
final h@untrusted.test deferred
final l@brokenverify.test deferred

say "verify: a certificate for the MX name from the CA: delivered over TLS"
py "verify, valid" <<'PY'
from common import *
recs = sink("f@verify.test")
expect(len(recs) == 1, recs)
j, eml = recs[0]
expect(j["listener"] == "verify" and j["tls"], j)
expect(body(eml) == b"body of verify\r\n", eml)
line = logline("f@verify.test")
expect(f"relay=mx.verify.test[127.0.0.64]:{P}, " in line and
       "dsn=2.0.0, status=sent" in line and
       log_tls(line) == (j["tls"]["version"], j["tls"]["cipher"]), line)
x = rcpt("f@verify.test")["transcript"]
expect("TLS certificate check: valid (required: verify)" in x,
       f"transcript:\n{x}")
PY

say "verify: a certificate for another name, or self-signed: refused"
py "verify, refused" <<'PY'
from common import *
for addr, host, addr_ip, why in (
        ("g@wrongname.test", "mx.wrongname.test", "127.0.0.65",
         r"hostname mismatch"),
        ("h@untrusted.test", "mx.selfsigned.test", "127.0.0.63",
         r"self[- ]signed certificate")):
    expect(sink(addr) == [], f"delivered to {addr}: {sink(addr)}")
    line = logline(addr)
    expect(f"relay={host}[{addr_ip}]:{P}, " in line and
           "dsn=4.7.5, status=deferred (" in line and
           ", tls=" not in line, line)
    expect(re.search(r"certificate.*" + why, line, re.I) and
           host in line.split("status=deferred", 1)[1],
           f"the certificate problem is not named: {line}")
    r = rcpt(addr)
    expect(r["state"] == "deferred" and r["status"] == "4.7.5", r)
    x = r["transcript"]
    expect(not re.search(r">>> (MAIL|RCPT|DATA)", x), f"sent:\n{x}")
# may, plain, selfsigned (encrypt), none and verify: nothing else
expect(len(glob.glob(f"{T}/sink-*/[0-9]*.json")) == 5,
       glob.glob(f"{T}/sink-*/[0-9]*.json"))
PY
[ "$(sink_count wrongname)" = 0 ] || fail "wrongname got $(sink_count wrongname)"
[ "$(sink_count selfsigned)" = 1 ] || fail "selfsigned got $(sink_count selfsigned)"

say "verify: a broken handshake is not retried in plaintext"
py "verify, broken handshake" <<'PY'
from common import *
r = fault("broken", 3, 0)
expect(fault_conns("broken") == 3,
       f"connections to broken: {fault_conns('broken')} (2 in phase 1)")
expect(r["mail_from"] is None and
       not any(c.upper().startswith("MAIL") for c in r["commands"]),
       r["commands"])
expect(len(fault_records("broken")) == 3, fault_records("broken"))
line = logline("l@brokenverify.test")
expect(f"relay=mx.broken.test[127.0.0.62]:{P}, " in line and
       "dsn=4.7.5, status=deferred (TLS handshake with mx.broken.test" in line,
       line)
x = rcpt("l@brokenverify.test")["transcript"]
expect("connecting again without TLS" not in x and
       len(re.findall(r"connecting to mx\.broken\.test", x)) == 1,
       f"transcript:\n{x}")
PY
stop_qmgr

say "phase 3: AUTH to relayhost [127.0.0.68]:$P over TLS (level may)"
sed -i -e 's/^smtp_tls_security_level = .*/smtp_tls_security_level = may/' \
    -e "s/^relayhost =.*/relayhost = [127.0.0.68]:$P/" "$T/etc/postern.conf"
# one worker, so that the last check below sees a job that follows a TLS
# session in the same worker
echo "remote_concurrency = 1" >>"$T/etc/postern.conf"
printf '%s\n' "refuse.test [127.0.0.67]:$P" \
    "authbad.test [127.0.0.69]:$P" "authnotls.test [127.0.0.70]:$P" \
    "authlogin.test [127.0.0.71]:$P" "nxroute.test nosuchhost.test" \
    >"$T/etc/routes"
printf '%s\n' "[127.0.0.68]:$P u:secret" "[127.0.0.69]:$P u:wrongpw" \
    "[127.0.0.70]:$P u:secret" "[127.0.0.71]:$P u:secret" \
    >"$T/etc/smtp_auth"
chmod 600 "$T/etc/smtp_auth"
start_qmgr
send relay i@relay.test z4@refuse.test
send authbad j@authbad.test
send authnotls k@authnotls.test
send authlogin m@authlogin.test z5@refuse.test
final i@relay.test sent
final z4@refuse.test deferred
final j@authbad.test deferred
final k@authnotls.test deferred
final m@authlogin.test sent
final z5@refuse.test deferred

say "AUTH: delivered, AUTH PLAIN after STARTTLS, the secret never shown"
py "AUTH" <<'PY'
from common import *
r = fault("auth", 1, 1)
expect(r["tls"] and r["complete"], r)
# a literal address is not a host name: no SNI (RFC 6066 section 3)
expect(r["tls_sni"] is None, f"SNI {r['tls_sni']!r}")
expect(r["auth"] and r["auth"]["mechanism"] == "PLAIN" and
       r["auth"]["user"] == "u" and r["auth"]["password"] == "secret" and
       r["auth"]["reply"].startswith("235"), r["auth"])
verbs = [c.split()[0].upper() for c in r["commands"] if c.strip()]
expect(verbs.index("STARTTLS") < verbs.index("AUTH") < verbs.index("MAIL"),
       f"commands: {verbs}")
expect(r["rcpts"][0]["address"] == "i@relay.test", r["rcpts"])
expect(body(base64.b64decode(r["data_b64"])) == b"body of relay\r\n", r)
line = logline("i@relay.test")
expect(f"[127.0.0.68]:{P}, " in line and "dsn=2.0.0, status=sent" in line
       and log_tls(line), line)
x = rcpt("i@relay.test")["transcript"]
expect(re.search(r">>> AUTH PLAIN \*\*\*$", x, re.M), f"transcript:\n{x}")
secret_b64 = base64.b64encode(b"\0u\0secret").decode()
# the transcripts are stored in the queue's files: look there too
expect(any(b"AUTH PLAIN ***" in open(f, "rb").read()
           for f in glob.glob(f"{T}/queue/**", recursive=True)
           if os.path.isfile(f)), "no transcript in the queue files")
for bad in ("secret", secret_b64, base64.b64encode(b"secret").decode()):
    expect(bad not in x, f"'{bad}' in the transcript:\n{x}")
    expect(bad not in open(f"{T}/log").read(), f"'{bad}' in the log")
    for f in glob.glob(f"{T}/queue/**", recursive=True):
        if os.path.isfile(f):
            expect(bad.encode() not in open(f, "rb").read(),
                   f"'{bad}' in {f}")
PY

say "AUTH with a wrong password: deferred 4.7.8"
py "AUTH refused" <<'PY'
from common import *
r = fault("authbad", 1, 0)
expect(r["tls"] is not None, r)
expect(r["auth"] and r["auth"]["password"] == "wrongpw" and
       r["auth"]["reply"].startswith("535"), r["auth"])
expect(not any(c.upper().startswith("MAIL") for c in r["commands"]),
       r["commands"])
expect(fault_records("authbad") == [f"{FAULT_DIR}/authbad-00001-000.json"],
       fault_records("authbad"))
line = logline("j@authbad.test")
expect("dsn=4.7.8, status=deferred (" in line and "535" in line, line)
x = rcpt("j@authbad.test")["transcript"]
expect(">>> AUTH PLAIN ***" in x and "wrongpw" not in x and
       base64.b64encode(b"\0u\0wrongpw").decode() not in x,
       f"transcript:\n{x}")
PY

say "AUTH offered without STARTTLS: the credentials are not sent"
py "AUTH without TLS" <<'PY'
from common import *
r = fault("authnotls", 1, 0)
expect(r["auth"] is None and
       not any(c.upper().startswith(("AUTH", "MAIL")) for c in r["commands"])
       and not any("secret" in c or "AHUAc2VjcmV0" in c
                   for c in r["commands"]), r["commands"])
line = logline("k@authnotls.test")
expect("dsn=4.7.0, status=deferred (" in line and
       "not sending the credentials" in line, line)
x = rcpt("k@authnotls.test")["transcript"]
expect(not re.search(r">>> AUTH", x), f"transcript:\n{x}")
PY

say "AUTH LOGIN when PLAIN is not offered: user and password hidden"
py "AUTH LOGIN" <<'PY'
from common import *
r = fault("authlogin", 1, 1)
expect(r["tls"] and r["complete"], r)
expect(r["auth"] and r["auth"]["mechanism"] == "LOGIN" and
       r["auth"]["user"] == "u" and r["auth"]["password"] == "secret" and
       r["auth"]["reply"].startswith("235"), r["auth"])
expect("dsn=2.0.0, status=sent" in logline("m@authlogin.test"),
       logline("m@authlogin.test"))
x = rcpt("m@authlogin.test")["transcript"]
expect(re.search(r">>> AUTH LOGIN\n.*<<< 334 VXNlcm5hbWU6\n.*>>> \*\*\*\n"
                 r".*<<< 334 UGFzc3dvcmQ6\n.*>>> \*\*\*\n.*<<< 235 ", x),
       f"transcript:\n{x}")
for bad in ("secret", base64.b64encode(b"secret").decode(),
            base64.b64encode(b"u").decode()):
    expect(bad not in x, f"'{bad}' in the transcript:\n{x}")
PY

say "no tls= on the log line of an attempt that made no connection"
# The worker that just talked TLS to 127.0.0.68 gets a job whose next hop
# does not exist (NXDOMAIN): no connection, relay=none, and no TLS.
send stale n@relay.test
final n@relay.test sent
send stale2 o@nxroute.test
wait_log ' to=<o@nxroute\.test>, ' || fail "no log line for o@nxroute.test"
py "stale tls=" <<'PY'
from common import *
expect(log_tls(logline("n@relay.test")), logline("n@relay.test"))
line = logline("o@nxroute.test")
expect("relay=none, " in line, line)
expect(", tls=" not in line,
       f"a TLS session is logged for an attempt without a connection: {line}")
PY
stop_qmgr
for f in "$T"/sink-*/log "$T"/fault-*/log; do
	grep -q Traceback "$f" && fail "$f: $(cat "$f")"
done
echo ok
