# 42-aliases: the aliases file compiled by postern-newaliases: an alias to
# a user, to several addresses (local and remote), to |command and /file
# (run as default_privs, since root owns the file), :include:, an alias
# that includes its own name (a copy stays with the user), a loop, and a
# root alias. The original recipient is marked expanded; the others are
# added to the same message.
. "$(dirname "$0")/lib.sh"
need_root "delivery as other users"
instance "default_privs = pt-bob"
for u in pt-alice pt-bob; do reset_mailbox $u; done
mkdir -p "$T/out" && chown pt-bob "$T/out"
echo "pt-alice, pt-bob" >"$T/etc/team.list"
{
	echo "# test aliases"
	echo "postmaster: root"
	echo "root: pt-alice"
	echo "support: pt-bob,"
	echo "  pt-alice"
	echo "sales: \"|/bin/sh -c 'cat >$T/out/sales.txt; id -u >$T/out/sales.uid'\""
	echo "archive: $T/out/archive.mbox"
	echo "team: :include:$T/etc/team.list"
	echo "pt-alice: pt-alice, copy@remote.example"
	echo "loop1: loop2"
	echo "loop2: loop1"
} >"$T/etc/aliases"
new_aliases
start_qmgr
send() { printf 'Subject: %s\n\nbody %s\n' "$1" "$1" | inject -i "$2" || fail "inject $1"; }
send root root
wait_delivered pt-alice 1 || fail "root alias not delivered to pt-alice: $(tail "$T/log")"
send support support
wait_delivered pt-bob 1 || fail "support not delivered to pt-bob"
wait_delivered pt-alice 2 || fail "support not delivered to pt-alice"
send sales sales
wait_eval '[ -s "$T/out/sales.uid" ]' || fail "pipe not run: $(tail "$T/log")"
[ "$(cat "$T/out/sales.uid")" = "$(id -u pt-bob)" ] || fail "pipe ran as uid $(cat "$T/out/sales.uid")"
grep -q '^Delivered-To: sales@test.example$' "$T/out/sales.txt" || fail "pipe input lacks Delivered-To"
send archive archive
wait_eval 'grep -q "^From " "$T/out/archive.mbox" 2>/dev/null' || fail "/file not written"
send team team
wait_delivered pt-alice 3 || fail "include: pt-alice"
wait_delivered pt-bob 2 || fail "include: pt-bob"
say "an alias that names itself keeps a copy for the user"
wait_log 'to=<copy@remote.example>, orig_to=<root>' || fail "the remote copy was not made"
say "a loop ends"
send loop loop1
wait_log 'to=<loop1@test.example>, orig_to=<loop1>.*dsn=5\.4\.6, status=bounced \(mail forwarding loop' ||
    fail "loop not ended: $(grep loop "$T/log")"
stop_qmgr
echo ok
