# 41-local-mbox: with home_mailbox empty, mail goes to the mbox
# mail_spool_directory/USER: a From_ line, >From quoting, a blank line
# after each message, the file owned by the user with mode 0600.
. "$(dirname "$0")/lib.sh"
need_root "delivery as other users"
instance "home_mailbox ="
reset_mailbox pt-alice
start_qmgr
for i in 1 2; do
	printf 'Subject: mbox %s\n\nFrom the top\n>From quoted\nend %s\n' $i $i |
	    inject -i -f sender@test.example pt-alice@test.example || fail "inject $i"
done
box=$T/spool/pt-alice
wait_eval "[ \"\$(grep -c '^From sender@test.example ' $box 2>/dev/null)\" = 2 ]" ||
    fail "two From_ lines expected: $(cat "$box" 2>/dev/null | head -20)"
[ "$(stat -c '%U %a' "$box")" = "pt-alice 600" ] || fail "mbox is $(stat -c '%U %a' "$box")"
[ "$(grep -c '^>From the top$' "$box")" = 2 ] || fail "From not quoted"
[ "$(grep -c '^>>From quoted$' "$box")" = 2 ] || fail ">From not quoted (mboxrd)"
$PY - "$box" <<'PY' || fail "mbox does not parse into 2 messages"
import mailbox, sys
msgs = list(mailbox.mbox(sys.argv[1]))
assert len(msgs) == 2, len(msgs)
assert [m["Subject"] for m in msgs] == ["mbox 1", "mbox 2"]
assert msgs[0]["Delivered-To"] == "pt-alice@test.example"
PY
[ "$(tail -c 1 "$box" | od -An -c | tr -d ' ')" = '\n' ] && [ -z "$(tail -n 1 "$box")" ] ||
    fail "no blank line at the end"
stop_qmgr
echo ok
