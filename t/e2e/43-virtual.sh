# 43-virtual: addresses of the virtual mailbox file are delivered into
# their paths as virtual_user; an extension folder receives user+ext mail
# when it exists, the inbox otherwise.
. "$(dirname "$0")/lib.sh"
need_root "delivery as other users"
instance "virtual_user = pt-bob"
reset_mailbox pt-alice
mkdir -p "$T/vmail" && chown pt-bob "$T/vmail"
{
	echo "info@test.example  $T/vmail/info/"
	echo "Sales@Test.Example $T/vmail/sales.mbox"
} >"$T/etc/virtual"
start_qmgr
printf 'Subject: v1\n\nx\n' | inject -i info@test.example || fail "inject"
printf 'Subject: v2\n\nx\n' | inject -i sales@test.example || fail "inject"
wait_eval '[ "$(find "$T/vmail/info/new" -type f 2>/dev/null | wc -l)" = 1 ]' ||
    fail "virtual Maildir not delivered: $(tail -3 "$T/log")"
[ "$(stat -c %U "$(find "$T/vmail/info/new" -type f)")" = pt-bob ] || fail "not written as virtual_user"
wait_eval 'grep -q "^Subject: v2" "$T/vmail/sales.mbox" 2>/dev/null' || fail "virtual mbox not delivered"
say "extension folders"
ha=$(home_of pt-alice)
printf 'Subject: e0\n\nx\n' | inject -i pt-alice@test.example || fail "inject"
wait_delivered pt-alice 1 || fail "plain delivery"
mkdir -p "$ha/Maildir/.lists/new" "$ha/Maildir/.lists/cur" "$ha/Maildir/.lists/tmp"
chown -R pt-alice "$ha/Maildir"
printf 'Subject: e1\n\nx\n' | inject -i pt-alice+lists@test.example || fail "inject"
printf 'Subject: e2\n\nx\n' | inject -i pt-alice+other@test.example || fail "inject"
wait_eval '[ "$(find "$ha/Maildir/.lists/new" -type f | wc -l)" = 1 ]' || fail "+lists not in .lists"
wait_delivered pt-alice 2 || fail "+other not in the inbox"
grep -q '^Delivered-To: pt-alice+lists@test.example$' "$ha"/Maildir/.lists/new/* || fail "Delivered-To keeps the extension"
stop_qmgr
echo ok
