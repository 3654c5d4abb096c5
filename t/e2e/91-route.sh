# 91-route: posternctl route ADDRESS says how postern would deliver an
# address now, without sending anything: a local user and its mailbox,
# an alias and what it expands to, a virtual mailbox, an unknown user, a
# remote domain with its next hop, TLS level, MX hosts in order and their
# addresses (looked up by posternctl through dns_servers), a domain
# without MX records (its own address), a route from routes_file, a null
# MX; the same as JSON (parsed). Only administrators may ask (aliases are
# nobody else's business).
. "$(dirname "$0")/lib.sh"
need_root "the ordinary-user check"
instance "relayhost =" "smtp_tls_security_level = may" "virtual_user = pt-bob"
. "$top/t/e2e/remotenet.sh"
cat >"$T/zone.json" <<'JSON'
{"r.test": {"MX": [[20, "mx2.r.test"], [10, "mx1.r.test"]]},
 "mx1.r.test": {"A": ["127.0.0.151"]},
 "mx2.r.test": {"A": ["127.0.0.152"]},
 "nullmx.test": {"MX": [[0, "."]]},
 "nomx.test": {"A": ["127.0.0.154"]}}
JSON
start_dns "$T/zone.json"
printf 'dns_servers = 127.0.0.1:%s\n' "$DNS_PORT" >>"$T/etc/postern.conf"
printf 'team: pt-alice, pt-bob\n' >"$T/etc/aliases"
printf 'routed.test  [127.0.0.153]:2525\n' >"$T/etc/routes"
printf 'r.test  encrypt\n' >"$T/etc/tls_policy"
printf 'info@test.example  %s/vmail/info/\n' "$T" >"$T/etc/virtual"
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
say "a virtual mailbox"
route info@test.example
has "local delivery as user pt-bob (uid $(id -u pt-bob)): maildir $T/vmail/info/"
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
say "a domain without MX records"
route someone@nomx.test
has "no MX records; the address of nomx.test: 127.0.0.154"
say "a null MX"
route someone@nullmx.test
has "nullmx.test has a null MX: it accepts no mail"

say "the same as JSON"
for a in pt-bob@test.example team@test.example info@test.example \
    nobody-here@test.example someone@r.test someone@nomx.test \
    someone@nullmx.test someone@routed.test; do
	ctl route "$a" --json >>"$T/json" || fail "route $a --json"
done
"$PY" - "$T/json" "$(id -u pt-bob)" "$T" <<'PY' || fail "route --json: $(cat "$T/json")"
import json, sys
r = {x["address"]: x for x in map(json.loads, open(sys.argv[1]))}
bob, T = int(sys.argv[2]), sys.argv[3]
x = r["pt-bob@test.example"]
assert x["kind"] == "local" and x["user"] == "pt-bob" and x["uid"] == bob, x
assert x["action"] == "mailbox" and "dns" not in x, x
assert r["team@test.example"]["expands_to"] == ["pt-alice@test.example",
                                               "pt-bob@test.example"], r
x = r["info@test.example"]
assert x["action"] == "maildir" and x["target"] == T + "/vmail/info/", x
x = r["nobody-here@test.example"]
assert x["kind"] == "fail" and x["status"] == "5.1.1", x
x = r["someone@r.test"]
assert x["kind"] == "remote" and x["next_hop"] is None, x
assert x["tls_level"] == "encrypt" and x["dns"]["mx_records"] is True, x
assert [(h["preference"], h["host"], h["addresses"]) for h in x["dns"]["hosts"]] == \
    [(10, "mx1.r.test", ["127.0.0.151"]), (20, "mx2.r.test", ["127.0.0.152"])], x
x = r["someone@nomx.test"]["dns"]
assert x["mx_records"] is False and x["hosts"][0]["addresses"] == ["127.0.0.154"], x
x = r["someone@nullmx.test"]["dns"]
assert x["null_mx"] is True and x["hosts"] == [], x
x = r["someone@routed.test"]
assert x["next_hop"] == "[127.0.0.153]:2525", x
assert x["dns"]["hosts"][0]["addresses"] == ["127.0.0.153"], x
PY
say "an ordinary user may not ask"
su -s /bin/sh pt-alice -c "$B/posternctl -c $T/etc route team@test.example" \
    >/dev/null 2>&1
[ $? = 77 ] || fail "route for an ordinary user"
stop_qmgr
echo ok
