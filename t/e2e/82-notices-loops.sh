# 82-notices-loops: notices never loop and follow DSN options. A notice
# that cannot be delivered goes once to the postmaster (a double bounce);
# a message from <> that fails goes to the postmaster too, never to <>;
# a double bounce that fails is logged and dropped. NOTIFY=NEVER sends
# nothing, NOTIFY=SUCCESS reports a delivery, a recipient still deferred
# after delay_warning_after gets one delay warning (and later its failure
# notice), and a 20 MB original never makes a 20 MB notice.
. "$(dirname "$0")/lib.sh"
need_root "local delivery of notices"
instance "relayhost =" "retry_schedule = 1s 1s 1s 1s 1s" \
    "smtp_connect_timeout = 2s" "smtp_tls_security_level = none" \
    "delay_warning_after = 2s"
. "$top/t/e2e/remotenet.sh"
cat >"$T/zone.json" <<'JSON'
{"remote.test": {"MX": [[10, "mx.remote.test"]]},
 "mx.remote.test": {"A": ["127.0.0.120"]},
 "badsender.test": {"MX": [[10, "mx.badsender.test"]]},
 "mx.badsender.test": {"A": ["127.0.0.121"]}}
JSON
start_dns "$T/zone.json"
P=$(free_port)
start_sink mx=127.0.0.120:$P --rcpt-reply 'bad*@remote.test=550 5.1.1 no such user' \
    --rcpt-reply 'later*@remote.test=450 4.2.1 try later'
start_sink badsender=127.0.0.121:$P --rcpt-reply '*=550 5.1.1 nobody here'
printf 'smtp_port = %s\ndns_servers = 127.0.0.1:%s\n' "$P" "$DNS_PORT" \
    >>"$T/etc/postern.conf"
printf 'postmaster: pt-bob\n' >"$T/etc/aliases"
new_aliases
reset_mailbox pt-alice
reset_mailbox pt-bob
start_qmgr

notes() { grep -c 'notification: ' "$T/log"; }
# subject_of FILE - the Subject of a delivered message
subject_of() { "$PY" -c 'import email, email.policy, sys; print(email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)["Subject"])' "$1"; }
# field FILE NAME - a per-recipient field of the notice's report
field() {
	"$PY" - "$1" "$2" <<'PY'
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(),
                             policy=email.policy.default)
rep = list(m.iter_parts())[1]
for b in rep.get_payload()[1:]:
    v = b[sys.argv[2]]
    if v is not None:
        print(str(v))
PY
}

say "a notice that cannot be delivered goes once to the postmaster"
printf 'Subject: from a bad sender\n\nx\n' |
    inject -f victim@badsender.test bad1@remote.test || fail "inject"
wait_delivered pt-bob 1 || fail "no double bounce for pt-bob: $(cat "$T/log")"
f=$(find "$(home_of pt-bob)/Maildir/new" -type f)
[ "$(subject_of "$f")" = "Undelivered Mail Returned to Sender" ] ||
    fail "double bounce subject: $(subject_of "$f")"
field "$f" Final-Recipient | grep -q 'victim@badsender.test' ||
    fail "the double bounce does not report victim@: $(field "$f" Final-Recipient)"
grep -q '^Return-Path: <>' "$f" || grep -q 'MAILER-DAEMON' "$f" ||
    fail "the double bounce is not from the mail system"
[ "$(sink_connections badsender)" = 1 ] ||
    fail "badsender saw $(sink_connections badsender) connections, not 1"
sleep 2
[ "$(delivered pt-bob)" = 1 ] || fail "more than one double bounce"
[ "$(sink_connections badsender)" = 1 ] || fail "the notice was retried"

say "a message from <> that fails goes to the postmaster, never to <>"
reset_mailbox pt-bob
printf 'Subject: null sender\n\nx\n' | inject -f '' bad2@remote.test ||
    fail "inject"
wait_delivered pt-bob 1 || fail "no double bounce for the <> message"
f=$(find "$(home_of pt-bob)/Maildir/new" -type f)
field "$f" Final-Recipient | grep -q 'bad2@remote.test' ||
    fail "the double bounce does not report bad2@"

say "a double bounce that fails is logged and dropped"
sed -i 's/^postmaster_address.*//' "$T/etc/postern.conf"
echo "postmaster_address = pm@badsender.test" >>"$T/etc/postern.conf"
kill -HUP "$QPID"
wait_log 'configuration reloaded' || fail "no reload"
before=$(notes)
printf 'Subject: null sender again\n\nx\n' | inject -f '' bad3@remote.test ||
    fail "inject"
wait_log 'could not be delivered to <pm@badsender.test>: dropped' ||
    fail "the failed double bounce was not logged: $(tail -5 "$T/log")"
sleep 2
[ "$(notes)" = $((before + 1)) ] ||
    fail "$(notes) notices, expected $((before + 1)): a notice about a double bounce?"
sed -i 's/^postmaster_address.*//' "$T/etc/postern.conf"
kill -HUP "$QPID"

say "NOTIFY=NEVER: no notice"
before=$(notes)
printf 'Subject: never\n\nx\n' |
    inject -f pt-alice@test.example -N never bad4@remote.test || fail "inject"
wait_log 'to=<bad4@remote.test>.*status=bounced' || fail "bad4 did not fail"
wait_queue 0 || fail "the message stayed: $(ctl queue)"
[ "$(notes)" = "$before" ] || fail "a notice despite NOTIFY=NEVER"
[ "$(delivered pt-alice)" = 0 ] || fail "pt-alice got mail"

say "NOTIFY=SUCCESS: a delivery report"
printf 'Subject: tell me\n\nx\n' |
    inject -f pt-alice@test.example -N success pt-bob@test.example ||
    fail "inject"
wait_delivered pt-alice 1 || fail "no success report"
f=$(find "$(home_of pt-alice)/Maildir/new" -type f)
[ "$(subject_of "$f")" = "Successful Mail Delivery Report" ] ||
    fail "success subject: $(subject_of "$f")"
[ "$(field "$f" Action)" = delivered ] || fail "action: $(field "$f" Action)"
grep -q 'sender delivery status notification' "$T/log" ||
    fail "no log line for the success report"

say "a delay warning, then the failure notice"
reset_mailbox pt-alice
printf 'Subject: slow\n\nx\n' |
    inject -f pt-alice@test.example later1@remote.test || fail "inject"
wait_delivered pt-alice 1 || fail "no delay warning"
f=$(find "$(home_of pt-alice)/Maildir/new" -type f)
[ "$(subject_of "$f")" = "Delayed Mail (still being retried)" ] ||
    fail "delay subject: $(subject_of "$f")"
[ "$(field "$f" Action)" = delayed ] || fail "action: $(field "$f" Action)"
[ -n "$(field "$f" Will-Retry-Until)" ] || fail "no Will-Retry-Until"
wait_delivered pt-alice 2 || fail "no failure notice after the warning"
sleep 2
[ "$(delivered pt-alice)" = 2 ] || fail "$(delivered pt-alice) notices, not 2"
[ "$(grep -c 'sender delay notification' "$T/log")" = 1 ] ||
    fail "not exactly one delay warning"

say "a 20 MB original makes a small notice"
reset_mailbox pt-alice
"$PY" -c 'import sys; sys.stdout.write("Subject: huge\n\n" + ("x" * 76 + "\n") * 270000)' |
    inject -f pt-alice@test.example bad5@remote.test || fail "inject"
wait_for_big() { wait_delivered pt-alice 1; }
wait_for_big || wait_for_big || fail "no notice for the 20 MB message"
f=$(find "$(home_of pt-alice)/Maildir/new" -type f)
[ "$(stat -c %s "$f")" -lt 200000 ] ||
    fail "the notice is $(stat -c %s "$f") bytes"
grep -q 'text/rfc822-headers' "$f" || fail "not headers only"
wait_queue 0 || fail "the queue did not empty: $(ctl queue)"
stop_qmgr
echo ok
