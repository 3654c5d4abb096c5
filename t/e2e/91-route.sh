# 91-route: posternctl route ADDRESS says how postern would deliver an
# address now, without sending anything: a local user and its mailbox,
# an alias and what it expands to, an unknown user, a remote domain with
# its next hop, TLS level, MX hosts in order and their addresses (looked
# up by posternctl through dns_servers), a route from routes_file, a
# null MX. Only administrators may ask (aliases are nobody else's
# business).
. "$(dirname "$0")/lib.sh"
need_root "the ordinary-user check"
instance "relayhost =" "smtp_tls_security_level = may"
. "$top/t/e2e/remotenet.sh"
cat >"$T/zone.json" <<'JSON'
{"r.test": {"MX": [[20, "mx2.r.test"], [10, "mx1.r.test"]]},
 "mx1.r.test": {"A": ["127.0.0.151"]},
 "mx2.r.test": {"A": ["127.0.0.152"]},
 "nullmx.test": {"MX": [[0, "."]]}}
JSON
start_dns "$T/zone.json"
printf 'dns_servers = 127.0.0.1:%s\n' "$DNS_PORT" >>"$T/etc/postern.conf"
printf 'team: pt-alice, pt-bob\n' >"$T/etc/aliases"
printf 'routed.test  [127.0.0.153]:2525\n' >"$T/etc/routes"
printf 'r.test  encrypt\n' >"$T/etc/tls_policy"
new_aliases
start_qmgr

route() { ctl route "$1" >"$T/out" 2>&1 || fail "route $1 exited $?: $(cat "$T/out")"; }
has() { grep -qF -- "$1" "$T/out" || fail "route: no '$1' in: $(cat "$T/out")"; }

say "a local user"
route pt-bob@test.example
has "local delivery as user pt-bob (uid $(id -u pt-bob)): mailbox"
say "an alias"
route team@test.example
has "alias: expands to 2 addresses:"
has "pt-alice@test.example"
has "pt-bob@test.example"
say "an unknown user"
route nobody-here@test.example
has "fails now: 5.1.1"
say "a remote domain: next hop, TLS level, MX hosts in order"
route someone@r.test
has "remote delivery over SMTP to the domain r.test"
has "next hop: (the domain's MX records)"
has "TLS level: encrypt"
"$PY" - "$T/out" <<'PY' || fail "MX order: $(cat "$T/out")"
import sys
lines = open(sys.argv[1]).read().splitlines()
mx = [l.strip() for l in lines if l.startswith("  ")]
assert mx == ["10 mx1.r.test: 127.0.0.151", "20 mx2.r.test: 127.0.0.152"], mx
PY
say "a route from routes_file"
route someone@routed.test
has "next hop: [127.0.0.153]:2525"
has "address of 127.0.0.153: 127.0.0.153"
say "a null MX"
route someone@nullmx.test
has "nullmx.test has a null MX: it accepts no mail"
say "an ordinary user may not ask"
su -s /bin/sh pt-alice -c "$B/posternctl -c $T/etc route team@test.example" \
    >/dev/null 2>&1
[ $? = 77 ] || fail "route for an ordinary user"
stop_qmgr
echo ok
