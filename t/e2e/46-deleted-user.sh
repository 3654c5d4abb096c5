# 46-deleted-user: the specification's first failure case. A message
# accepted for an existing user whose account is deleted before delivery
# ends failed at once with 5.1.1 and a diagnostic saying the account no
# longer exists; no retrying. Mail for root without an alias stays
# deferred with advice for the admin.
. "$(dirname "$0")/lib.sh"
need_root "creating and deleting a user"
instance
getent passwd pt-gone >/dev/null || useradd --create-home --shell /bin/sh pt-gone
init_queue
printf 'Subject: to be lost\n\nhello\n' | inject -i pt-gone@test.example || fail "inject"
printf 'Subject: for root\n\ncron output\n' | inject -i root || fail "inject root"
userdel -r pt-gone 2>/dev/null || userdel pt-gone
start_qmgr
wait_log 'to=<pt-gone@test.example>, .*dsn=5\.1\.1, status=bounced \(user unknown: there is no account "pt-gone" on this host \(it may have been deleted\)\)' ||
    fail "no 5.1.1 bounce line: $(cat "$T/log")"
n=$(grep -c 'to=<pt-gone@test.example>' "$T/log")
[ "$n" = 1 ] || fail "tried $n times"
wait_log 'to=<root@test.example>, .*dsn=4\.3\.5, status=deferred \(mail for root needs an alias' ||
    fail "root not deferred with advice"
ctl queue --json | grep -q '"address":"root@test.example","original":"root","state":"deferred"' ||
    fail "root's recipient not deferred in the queue: $(ctl queue --json)"
stop_qmgr
echo ok
