# 40-local-maildir: sendmail to local users ends in their Maildirs,
# written by a process running as each user: byte-exact after
# Return-Path and Delivered-To, files owned by the user with mode 0600,
# one log line per delivery, and the message leaves the queue.
. "$(dirname "$0")/lib.sh"
need_root "delivery as other users"
instance
for u in pt-alice pt-bob; do reset_mailbox $u; done
start_qmgr
cat >"$T/msg" <<'MSG'
From: sender@test.example
To: pt-alice@test.example, pt-bob@test.example
Date: Sat, 28 Nov 2026 10:00:00 +0000
Message-ID: <local1@test.example>
Subject: local delivery

first line
.leading dot
From the start of a line
MSG
inject -i -f sender@test.example pt-alice@test.example pt-bob@localhost <"$T/msg" || fail "inject"
wait_delivered pt-alice 1 || fail "nothing in pt-alice's Maildir: $(tail -5 "$T/log")"
wait_delivered pt-bob 1 || fail "nothing in pt-bob's Maildir"
for u in pt-alice pt-bob; do
	f=$(find "$(home_of $u)/Maildir/new" -type f)
	[ "$(stat -c '%U %a' "$f")" = "$u 600" ] || fail "$u's file is $(stat -c '%U %a' "$f")"
	[ "$(stat -c '%U %a' "$(home_of $u)/Maildir")" = "$u 700" ] || fail "Maildir mode"
	head -n 1 "$f" | grep -qx 'Return-Path: <sender@test.example>' || fail "Return-Path: $(head -n 1 "$f")"
	sed -n 2p "$f" | grep -q '^Delivered-To: pt-' || fail "Delivered-To: $(sed -n 2p "$f")"
	tail -c "$(wc -c <"$T/msg")" "$f" | cmp - "$T/msg" || fail "$u: content differs"
	sed -n 3p "$f" | grep -q '^Received: by test.example (postern' || fail "Received line"
done
sed -n 2p "$(find "$(home_of pt-bob)/Maildir/new" -type f)" | grep -qx 'Delivered-To: pt-bob@localhost' ||
    fail "Delivered-To for bob"
wait_log 'to=<pt-alice@test.example>, relay=local, delay=[0-9.]+, delays=[0-9.]+/[0-9.]+/0/[0-9.]+, dsn=2\.0\.0, status=sent \(' ||
    fail "no delivery log line: $(cat "$T/log")"
wait_log ': removed$' || fail "message not removed"
[ "$(queue_count)" = 0 ] || fail "queue not empty"
stop_qmgr
echo ok
