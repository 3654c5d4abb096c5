# 30-local-worker: postern-local alone, without the queue manager, driven
# through t/e2e/localjob.py: Maildir (byte-exact, modes, owner, names),
# Maildir++ folders, mbox (From_ line, >From quoting, appends, locks),
# commands (user, environment, sysexits, output, time limit), ~/.forward,
# mail loops, unsafe mailboxes and .forward files, symlinks, bad jobs, a
# job for the wrong user, a full disk, injected I/O faults, a crash point.
# As root the worker runs as pt-alice (and pt-bob owns what she must not
# use); as another user it runs as that user and the cases that need
# other users or the home directory say SKIP.
. "$(dirname "$0")/lib.sh"
instance
LJ=$top/t/e2e/localjob.py
CONF=$T/etc
touch "$T/log"
chmod 666 "$T/log"

if [ "$(id -u)" = 0 ]; then
	ROOT=1 A=pt-alice BOB=pt-bob AS="--as pt-alice"
else
	ROOT=0 A=$(id -un) BOB="" AS=""
fi
AUID=$(id -u "$A")
H=$(getent passwd "$A" | cut -d: -f6)
# The home mailbox of these tests is a fresh directory in the home.
HM=.postern-t30-$(basename "$T")
echo "home_mailbox = $HM/Maildir/" >>"$T/etc/postern.conf"
W=$T/w
mkdir "$W"
chmod 700 "$W"

# mine PATH... - make paths the test user's (symlinks themselves too)
mine() { [ $ROOT = 1 ] && chown -hR "$A" "$@"; return 0; }
mine "$W"

# Restore pt-alice's home when the test ends.
SAVED=""
SP=""
local_cleanup() {
	[ -n "$SP" ] && chmod 755 "$SP"
	[ $ROOT = 1 ] || return 0
	rm -rf "${H:?}/$HM"
	rm -f "$H/.forward"
	[ -n "$SAVED" ] && mv "$SAVED" "$H/.forward"
	return 0
}
trap 'local_cleanup; cleanup' EXIT

# job NAME [options] ATTR... - one job; its JSON answer in $T/NAME.json
job() {
	name=$1; shift
	$PY "$LJ" "$B/postern-local" "$CONF" $AS --msg "$T/msg" "$@" \
	    >"$T/$name.json" || fail "localjob.py failed for $name"
}
# want NAME INDEX RESULT STATUS [TEXT] - the outcome of recipient INDEX;
# TEXT is a part of the text, or "=TEXT" the whole text
want() {
	$PY - "$T/$1.json" "$2" "$3" "$4" "${5:-}" <<'PY' ||
import json, sys
path, idx, result, status, text = sys.argv[1:]
j = json.load(open(path))
assert j["exit"] == 0, j
r = j["results"][int(idx)]
assert r["rcpt"] == idx and r["result"] == result, r
assert r["status"] == status, r
if text.startswith("="):
    assert r["text"] == text[1:], r
else:
    assert text in r["text"], r
assert len(r["text"]) <= 1024, r
assert not any(ord(c) < 32 or ord(c) == 127 for c in r["text"]), r
if result != "forward":
    assert r["fwd"] == [], r
PY
	    fail "$1: wanted #$2 $3 $4 '${5:-}'; got $(cat "$T/$1.json")"
}
# want_fwd NAME INDEX ADDR... - the forwarding addresses, in order
want_fwd() {
	n=$1 i=$2; shift 2
	$PY - "$T/$n.json" "$i" "$@" <<'PY' || fail "$n: fwd: $(cat "$T/$n.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["results"][int(sys.argv[2])]["fwd"] == sys.argv[3:]
PY
}
# want_bad NAME - the worker refused the job: exit 76, no result
want_bad() {
	$PY - "$T/$1.json" <<'PY' || fail "$1: $(cat "$T/$1.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["exit"] == 76 and j["results"] is None and "raw" not in j, j
PY
}
# copy_is FILE SENDER ADDR MSG - FILE is MSG as delivered to ADDR
copy_is() {
	{ printf 'Return-Path: <%s>\nDelivered-To: %s\n' "$2" "$3"; cat "$4"; } |
	    cmp -s - "$1" || fail "$1 is not the copy of $4 for $3"
}
count() { find "$1" -mindepth 1 -maxdepth 1 | wc -l; }
empty() { [ "$(count "$1")" = 0 ] || fail "$1 is not empty: $(ls -A "$1")"; }

cat >"$T/msg" <<'MSG'
Received: by test.example (postern); Sat, 28 Nov 2026 10:00:00 +0000
From: Some One <one@test.example>
To: alice@test.example
Subject: local worker test

From the start of a line
>From quoted once
>>From quoted twice
From
Fromage
 From indented
last line
MSG

say "Maildir: a byte-exact copy, mode 0600, the user's, a unique name"
job md addr=alice@test.example action=maildir target="$W/Maildir/"
want md 0 ok 2.0.0 "=delivered to maildir $W/Maildir"
set -- "$W"/Maildir/new/*
[ $# = 1 ] && [ -f "$1" ] || fail "expected one file in new/: $*"
copy_is "$1" sender@test.example alice@test.example "$T/msg"
[ "$(stat -c '%a %U' "$1")" = "600 $A" ] || fail "file: $(stat -c '%a %U' "$1")"
[ "$(stat -c '%a %U' "$W/Maildir" "$W/Maildir/tmp" "$W/Maildir/new" \
    "$W/Maildir/cur" | sort -u)" = "700 $A" ] || fail "directory modes"
basename "$1" | grep -Eq '^[0-9]+\.M[0-9]+P[0-9]+Q1\.test\.example$' ||
    fail "name $(basename "$1")"
empty "$W/Maildir/tmp"
job md2 addr=alice@test.example action=maildir target="$W/Maildir/" \
    addr=alice2@test.example action=maildir target="$W/Maildir/"
want md2 0 ok 2.0.0
want md2 1 ok 2.0.0
[ "$(count "$W/Maildir/new")" = 3 ] || fail "three messages expected"
grep -q "0000000000A: to=<alice2@test.example>, relay=local, dsn=2.0.0, status=sent (delivered to maildir $W/Maildir)" \
    "$T/log" || fail "no delivery log line"

say "Maildir++: the folder .ext when it exists, else the inbox"
mkdir "$W/Maildir/.work"
mine "$W/Maildir/.work"
chmod 700 "$W/Maildir/.work"
job ext addr=alice+work@test.example ext=work action=maildir \
    target="$W/Maildir/" addr=alice+play@test.example ext=play \
    action=maildir target="$W/Maildir/" addr=alice+x@test.example \
    ext=../x action=maildir target="$W/Maildir/" \
    addr=alice+w@test.example ext=.work action=maildir target="$W/Maildir/"
want ext 0 ok 2.0.0 "=delivered to maildir $W/Maildir/.work"
want ext 1 ok 2.0.0 "=delivered to maildir $W/Maildir"
want ext 2 ok 2.0.0 "=delivered to maildir $W/Maildir"
want ext 3 ok 2.0.0 "=delivered to maildir $W/Maildir"
[ "$(count "$W/Maildir/.work/new")" = 1 ] || fail "folder: one message"
[ "$(count "$W/Maildir/new")" = 6 ] || fail "inbox: six messages"

say "mbox: From_ line, >From quoting, an empty line at the end, appends"
printf 'Subject: two\n\nFrom here\nno final newline' >"$T/msg2"
job mb1 addr=alice@test.example action=mbox target="$W/mbox"
want mb1 0 ok 2.0.0 "=delivered to mailbox $W/mbox"
job mb2 --sender "" --msg "$T/msg2" addr=bob@test.example action=mbox \
    target="$W/mbox"
want mb2 0 ok 2.0.0
[ "$(stat -c '%a %U' "$W/mbox")" = "600 $A" ] || fail "mbox mode/owner"
$PY - "$W/mbox" "$T/msg" "$T/msg2" <<'PY' || fail "mbox content: $(cat -A "$W/mbox")"
import re, sys
data, m1, m2 = (open(p, "rb").read() for p in sys.argv[1:])
def quote(m):
    return b"".join(re.sub(rb"^(>*From )", rb">\1", l)
                    for l in m.splitlines(True))
e1 = (b"Return-Path: <sender@test.example>\nDelivered-To: alice@test.example\n"
      + quote(m1) + b"\n")
e2 = b"Return-Path: <>\nDelivered-To: bob@test.example\n" + quote(m2) + b"\n\n"
date = rb"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}"
parts = re.split(rb"^From (\S+) (" + date + rb")\n", data, flags=re.M)
assert len(parts) == 7 and parts[0] == b"", parts
assert parts[1] == b"sender@test.example" and parts[3] == e1, parts
assert parts[4] == b"MAILER-DAEMON" and parts[6] == e2, parts
assert b">From the start" in e1 and b">>>From quoted twice" in e1
assert b"\nFromage\n" in e1 and b"\n From indented\n" in e1
PY
# A message cut short by a crash must not swallow the next From_ line.
printf 'From x Sat Nov 28 10:00:00 2026\npartial' >>"$W/mbox"
job mb3 addr=alice@test.example action=mbox target="$W/mbox"
want mb3 0 ok 2.0.0
grep -c '^From sender@test.example ' "$W/mbox" | grep -qx 2 ||
    fail "two From_ lines of sender expected"
$PY -c 'import sys; d = open(sys.argv[1], "rb").read()
assert b"\npartial\n\nFrom sender@test.example " in d' "$W/mbox" ||
    fail "no empty line after the partial message"
[ ! -e "$W/mbox.lock" ] || fail "dot-lock left behind"

say "mbox locks: a stale dot-lock is removed, an fcntl lock is waited for"
touch "$W/mbox.lock"
mine "$W/mbox.lock"
touch -d '10 minutes ago' "$W/mbox.lock"
job lock1 addr=alice@test.example action=mbox target="$W/mbox"
want lock1 0 ok 2.0.0
[ ! -e "$W/mbox.lock" ] || fail "stale dot-lock not removed"
grep -q "removed the stale lock $W/mbox.lock" "$T/log" || fail "no stale-lock log"
$PY -c 'import fcntl, sys, time
f = open(sys.argv[1], "a"); fcntl.lockf(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close(); time.sleep(2)' "$W/mbox" "$T/locked" &
lockpid=$!
wait_for test -e "$T/locked" || fail "lock holder did not start"
job lock2 addr=alice@test.example action=mbox target="$W/mbox"
want lock2 0 ok 2.0.0
wait $lockpid
$PY -c 'import json, sys; assert json.load(open(sys.argv[1]))["seconds"] >= 1.2' \
    "$T/lock2.json" || fail "the delivery did not wait for the lock"

say "commands: run as the user, from the home, clean environment"
job pipe addr=alice+box@test.example ext=box orig=Alice+Box@test.example \
    action=pipe "target=id -u >$W/uid; pwd >$W/cwd; env >$W/env; cat >$W/piped"
want pipe 0 ok 2.0.0 "delivered to command: id -u"
[ "$(cat "$W/uid")" = "$AUID" ] || fail "command ran as uid $(cat "$W/uid")"
copy_is "$W/piped" sender@test.example alice+box@test.example "$T/msg"
if [ -d "$H" ]; then want_cwd=$H; else want_cwd=/; fi
[ "$(cat "$W/cwd")" = "$want_cwd" ] || fail "cwd $(cat "$W/cwd")"
for v in SENDER=sender@test.example RECIPIENT=alice+box@test.example \
    ORIGINAL_RECIPIENT=Alice+Box@test.example LOCAL=alice+box \
    DOMAIN=test.example EXTENSION=box USER="$A" LOGNAME="$A" HOME="$H" \
    PATH=/usr/bin:/bin; do
	grep -qx "$v" "$W/env" || fail "environment lacks $v: $(cat "$W/env")"
done
! grep -Eqv '^(SENDER|RECIPIENT|ORIGINAL_RECIPIENT|LOCAL|DOMAIN|EXTENSION|USER|LOGNAME|HOME|SHELL|PATH|PWD|SHLVL|_)=' \
    "$W/env" || fail "unexpected environment: $(cat "$W/env")"

say "commands: sysexits, signals and the first line of output"
job codes addr=a@test.example action=pipe "target=exit 75" \
    addr=b@test.example action=pipe "target=echo no such user here; exit 67" \
    addr=c@test.example action=pipe "target=exit 3" \
    addr=d@test.example action=pipe "target=printf 'bad\\033[31m colour\\n'; exit 64" \
    addr=e@test.example action=pipe 'target=kill -9 $$' \
    addr=f@test.example action=pipe "target=echo one; echo two >&2; exit 78" \
    addr=g@test.example action=pipe "target=yes yes | head -c 100000; exit 77" \
    addr=h@test.example action=pipe "target=exit 0"
want codes 0 defer 4.3.0 "=command exited with status 75 (temporary failure)"
want codes 1 fail 5.1.1 "=command exited with status 67 (user unknown): no such user here"
want codes 2 fail 5.3.0 "status 3"
want codes 3 fail 5.3.0 'bad\x1b[31m colour'
want codes 4 defer 4.3.0 "killed by signal 9"
want codes 5 fail 5.3.5 "(local configuration error): one"
want codes 6 fail 5.7.0 ": yes"
want codes 7 ok 2.0.0

say "commands: big input, big output, no deadlock; a time limit"
$PY -c 'import sys
with open(sys.argv[1], "w") as f:
    f.write("Subject: big\n\n")
    for i in range(40000):
        f.write("line %06d of a big message, From time to time\n" % i)' "$T/big"
job bigpipe --msg "$T/big" addr=a@test.example action=pipe \
    "target=yes output | head -c 3000000; wc -c >$W/bigcount" \
    addr=b@test.example action=pipe "target=exit 0"
want bigpipe 0 ok 2.0.0
want bigpipe 1 ok 2.0.0
pre=$(printf 'Return-Path: <sender@test.example>\nDelivered-To: a@test.example\n' | wc -c)
[ "$(cat "$W/bigcount")" = $(( $(wc -c <"$T/big") + pre )) ] ||
    fail "command read $(cat "$W/bigcount") bytes"
cp "$T/etc/postern.conf" "$T/etc/postern.conf.saved"
echo "command_time_limit = 2s" >>"$T/etc/postern.conf"
job slow addr=a@test.example action=pipe \
    "target=sleep 30 & echo \$! >$W/slowpid; wait" \
    addr=b@test.example action=pipe "target=(sleep 3 &); echo bye"
mv "$T/etc/postern.conf.saved" "$T/etc/postern.conf"
want slow 0 defer 4.3.0 "=command time limit of 2 seconds exceeded"
want slow 1 ok 2.0.0
$PY -c 'import json, sys; s = json.load(open(sys.argv[1]))["seconds"]
assert 1.5 < s < 4.5, s' "$T/slow.json" || fail "timing: $(cat "$T/slow.json")"
# Killed, it is gone or a zombie (this machine's init may not reap it).
state=$(cut -d' ' -f3 "/proc/$(cat "$W/slowpid")/stat" 2>/dev/null)
[ -z "$state" ] || [ "$state" = Z ] || fail "the command's group lives on"

say "mail loop: the message already carries Delivered-To: addr"
{ printf 'Delivered-To: other@test.example\nDelivered-To:  Alice@Test.Example \n'
  cat "$T/msg"; } >"$T/msg-loop"
{ printf 'X-A: 1\nDelivered-To:\n\tcarol@test.example\n'; cat "$T/msg"
  printf 'Delivered-To: dave@test.example\n'; } >"$T/msg-loop2"
job loop --msg "$T/msg-loop" addr=alice@test.example action=maildir \
    target="$W/Loop/" addr=bob@test.example action=maildir target="$W/Loop/"
want loop 0 fail 5.4.6 "=mail forwarding loop for alice@test.example"
want loop 1 ok 2.0.0
job loop2 --msg "$T/msg-loop2" addr=carol@test.example action=pipe \
    "target=cat >/dev/null" addr=dave@test.example action=maildir \
    target="$W/Loop/"
want loop2 0 fail 5.4.6 "=mail forwarding loop for carol@test.example"
want loop2 1 ok 2.0.0
[ "$(count "$W/Loop/new")" = 2 ] || fail "two messages expected in Loop"

say "symlinks, hard links, FIFOs and foreign mailboxes are refused"
mkdir -p "$W/Real/tmp" "$W/Real/new" "$W/Real/cur" "$W/Md3/tmp" "$W/Md3/cur"
ln -s "$W/Real" "$W/Link"
ln -s "$W/Real/new" "$W/Md3/new"
: >"$W/realmbox"
ln -s "$W/realmbox" "$W/mboxlink"
ln "$W/realmbox" "$W/hardmbox"
mkfifo "$W/fifo"
mine "$W"
job sym addr=a@test.example action=maildir target="$W/Link/" \
    addr=b@test.example action=maildir target="$W/Md3/" \
    addr=c@test.example action=mbox target="$W/mboxlink" \
    addr=d@test.example action=mbox target="$W/hardmbox" \
    addr=e@test.example action=mbox target="$W/fifo"
want sym 0 defer 4.2.0 "=mailbox $W/Link is a symbolic link"
want sym 1 defer 4.2.0 "=maildir $W/Md3/new is a symbolic link"
want sym 2 defer 4.2.0 "=mailbox $W/mboxlink is a symbolic link"
want sym 3 defer 4.2.0 "=mailbox $W/hardmbox has more than one hard link"
want sym 4 defer 4.2.0 "=mailbox $W/fifo is not a regular file"
empty "$W/Real/new"
empty "$W/Real/tmp"
empty "$W/Md3/tmp"
[ ! -s "$W/realmbox" ] || fail "written through a link"
grep -q "mailbox $W/Link is a symbolic link: refused" "$T/log" || fail "no log"

say "the mail spool: a missing file the user cannot create, then one"
SP=$T/spool30
mkdir "$SP" "$T/etc2"
chmod 555 "$SP"
grep -Ev '^(home_mailbox|mail_spool_directory) ' "$T/etc/postern.conf" \
    >"$T/etc2/postern.conf"
printf 'home_mailbox =\nmail_spool_directory = %s\n' "$SP" \
    >>"$T/etc2/postern.conf"
CONF=$T/etc2
job spool1 addr=alice@test.example action=mailbox noforward=1
want spool1 0 defer 4.2.0 "=mailbox $SP/$A does not exist and cannot be created: $SP is not writable by the user"
grep -q "mailbox $SP/$A does not exist and uid $AUID may not create files in $SP" \
    "$T/log" || fail "no log line for the administrator"
chmod 755 "$SP"
install -m 600 /dev/null "$SP/$A"
mine "$SP/$A"
chmod 555 "$SP"
job spool2 addr=alice@test.example action=mailbox noforward=1
want spool2 0 ok 2.0.0 "=delivered to mailbox $SP/$A"
grep -q '^From sender@test.example ' "$SP/$A" || fail "spool mbox"
chmod 755 "$SP"
CONF=$T/etc

say "bad jobs: exit 76 and no result"
for g in bytes attr nofd unsealed; do
	job bad-$g --garbage $g addr=a@test.example action=maildir \
	    target="$W/Bad/"
	want_bad bad-$g
done
job bad-rel addr=a@test.example action=maildir target=relative/
want_bad bad-rel
job bad-act addr=a@test.example action=deliver target=/x
want_bad bad-act
job bad-mbt addr=a@test.example action=mailbox target=/x
want_bad bad-mbt
job bad-dup rcpt=0 addr=a@test.example action=pipe target=true \
    rcpt=0 addr=b@test.example action=pipe target=true
want_bad bad-dup
job bad-twice addr=a@test.example action=pipe target=true target=false
want_bad bad-twice
job bad-addr addr=not-an-address action=pipe target=true
want_bad bad-addr
[ ! -e "$W/Bad" ] || fail "a bad job delivered"
grep -q 'malformed job' "$T/log" || fail "no log line for a bad job"

say "a job for another user: every recipient deferred"
job wrong --user postern-nosuchuser addr=a@test.example action=maildir \
    target="$W/Wrong/" addr=b@test.example action=pipe "target=touch $W/ran"
want wrong 0 defer 4.3.0 "=worker runs as the wrong user"
want wrong 1 defer 4.3.0 "=worker runs as the wrong user"
[ ! -e "$W/Wrong" ] && [ ! -e "$W/ran" ] || fail "delivered anyway"

say "injected faults: quota, fsync EIO, link collision, mbox ENOSPC"
fault() {	# fault SPEC NAME ATTR...
	(POSTERN_FAULT=$1; export POSTERN_FAULT; shift; job "$@")
}
fault write:2:EDQUOT fq addr=a@test.example action=maildir target="$W/F1/"
want fq 0 defer 4.2.2 "=cannot write to maildir $W/F1: mailbox is over quota"
empty "$W/F1/tmp"
empty "$W/F1/new"
fault fsync:1:EIO fe addr=a@test.example action=maildir target="$W/F2/"
want fe 0 defer 4.3.0 "Input/output error"
empty "$W/F2/tmp"
empty "$W/F2/new"
fault link:1:EEXIST fl addr=a@test.example action=maildir target="$W/F3/"
want fl 0 ok 2.0.0
[ "$(count "$W/F3/new")" = 1 ] || fail "collision: one message expected"
empty "$W/F3/tmp"
cp "$W/mbox" "$T/mbox.before"
fault write:2:ENOSPC fm addr=a@test.example action=mbox target="$W/mbox"
want fm 0 defer 4.3.1 "=cannot write to mailbox $W/mbox: insufficient disk space"
cmp -s "$W/mbox" "$T/mbox.before" || fail "mbox not truncated back"

say "crash point: killed after the link, the message is complete in new/"
(POSTERN_CRASH=local.after_link; export POSTERN_CRASH
 job crash addr=a@test.example action=maildir target="$W/Crash/")
$PY -c 'import json, sys; j = json.load(open(sys.argv[1]))
assert j["exit"] == -9 and j["results"] is None, j' "$T/crash.json" ||
    fail "crash: $(cat "$T/crash.json")"
set -- "$W"/Crash/new/*
[ $# = 1 ] && [ -f "$1" ] || fail "crash: new/ holds $*"
copy_is "$1" sender@test.example a@test.example "$T/msg"

if [ $ROOT = 0 ]; then
	echo "SKIP: as uid $(id -u): foreign owners, ~/.forward, the home mailbox, a full disk (need root)"
	echo "ok"
	exit 0
fi

say "run as root: refused"
$PY "$LJ" "$B/postern-local" "$CONF" --user root --msg "$T/msg" \
    addr=a@test.example action=maildir target="$W/Root/" >"$T/root.json"
want root 0 defer 4.3.0 "=worker runs as the wrong user"
[ ! -e "$W/Root" ] || fail "delivered as root"

say "a Maildir or mbox owned by another user is refused"
BUID=$(id -u "$BOB")
mkdir -p "$T/shared/Maildir"
chmod 755 "$T/shared" "$T/shared/Maildir"
chown "$BOB" "$T/shared/Maildir"
install -m 666 -o "$BOB" /dev/null "$T/shared/bobmbox"
job owner addr=a@test.example action=maildir target="$T/shared/Maildir/" \
    addr=b@test.example action=mbox target="$T/shared/bobmbox"
want owner 0 defer 4.2.0 "=mailbox $T/shared/Maildir is owned by uid $BUID, not by the user"
want owner 1 defer 4.2.0 "=mailbox $T/shared/bobmbox is owned by uid $BUID, not by the user"
grep -q "mailbox $T/shared/Maildir is owned by uid $BUID, not by the user" \
    "$T/log" || fail "no log line for the administrator"
[ ! -e "$T/shared/Maildir/tmp" ] && [ ! -s "$T/shared/bobmbox" ] ||
    fail "wrote into another user's mailbox"

say "~/.forward: addresses, commands, files, \\user"
[ -d "$H" ] || fail "no home directory $H"
if [ -e "$H/.forward" ] || [ -L "$H/.forward" ]; then
	SAVED=$H/.forward.t30-saved.$$
	mv "$H/.forward" "$SAVED"
fi
fwd() {	# fwd LINE... - pt-alice's .forward, mode 0644
	rm -f "$H/.forward"
	printf '%s\n' "$@" >"$H/.forward"
	chown "$A" "$H/.forward"
	chmod 644 "$H/.forward"
}
OWN=$H/$HM/Maildir
fwd "# two addresses" "bob@elsewhere.example, carol" ""
job f1 addr=alice@test.example action=mailbox
want f1 0 forward 2.1.5 "=forwarded to bob@elsewhere.example, carol@test.example"
want_fwd f1 0 bob@elsewhere.example carol@test.example
[ ! -e "$H/$HM" ] || fail "forwarding delivered locally"
fwd "|cat >$W/fwdpipe"
job f2 addr=alice@test.example action=mailbox
want f2 0 ok 2.0.0 "=delivered to command: cat >$W/fwdpipe"
copy_is "$W/fwdpipe" sender@test.example alice@test.example "$T/msg"
fwd '"|exit 75"'
job f3 addr=alice@test.example action=mailbox
want f3 0 defer 4.3.0 "status 75"
fwd "|echo no such user here; exit 67"
job f4 addr=alice@test.example action=mailbox
want f4 0 fail 5.1.1 "=command exited with status 67 (user unknown): no such user here"
fwd "$W/fwdmbox"
job f5 addr=alice@test.example action=mailbox
want f5 0 ok 2.0.0 "=delivered to mailbox $W/fwdmbox"
grep -q '^From sender@test.example ' "$W/fwdmbox" || fail "no From_ line"
fwd '\pt-alice, bob@x.example'
job f6 addr=alice@test.example action=mailbox
want f6 0 forward 2.1.5 "=forwarded to bob@x.example; delivered to maildir $OWN"
want_fwd f6 0 bob@x.example
set -- "$OWN"/new/*
[ $# = 1 ] || fail "\\user: one message expected in $OWN/new"
copy_is "$1" sender@test.example alice@test.example "$T/msg"
[ "$(stat -c '%a %U' "$H/$HM" "$OWN" | sort -u)" = "700 $A" ] ||
    fail "home mailbox directories"
fwd "alice@test.example" "pt-alice@test.example"
job f7 addr=pt-alice@test.example orig=alice@test.example action=mailbox
want f7 0 ok 2.0.0 "=delivered to maildir $OWN"
fwd "|exit 75" "$W/fwdmbox"
job f8 addr=alice@test.example action=mailbox
want f8 0 defer 4.3.0 "status 75"
fwd "bob@x.example"
job f9 addr=alice+work@test.example ext=work action=mailbox noforward=1
want f9 0 ok 2.0.0 "=delivered to maildir $OWN"
[ "$(count "$OWN/new")" = 3 ] || fail "own maildir: three messages expected"

say "~/.forward: unsafe or malformed files defer"
chmod 664 "$H/.forward"
job u1 addr=alice@test.example action=mailbox
want u1 0 defer 4.7.0 "=unsafe .forward file: group- or world-writable"
grep -q "unsafe .forward $H/.forward: group- or world-writable" "$T/log" ||
    fail "no unsafe .forward log line"
rm -f "$H/.forward"
ln -s "$W/fwdmbox" "$H/.forward"
job u2 addr=alice@test.example action=mailbox
want u2 0 defer 4.7.0 "=unsafe .forward file: a symbolic link"
fwd "bob@x.example" "carol@@x"
job u3 addr=alice@test.example action=mailbox
want u3 0 defer 4.7.0 "malformed .forward file, line 2"
fwd ":include:/etc/passwd"
job u4 addr=alice@test.example action=mailbox
want u4 0 defer 4.7.0 ":include: is not supported"
fwd ""
job u5 addr=alice@test.example action=mailbox
want u5 0 ok 2.0.0 "=delivered to maildir $OWN"

say "~/Maildir a symlink: refused, nothing written through it"
rm -f "$H/.forward"
rm -rf "$OWN"
ln -s "$W/Real" "$OWN"
job hs addr=alice@test.example action=mailbox
want hs 0 defer 4.2.0 "=mailbox $OWN is a symbolic link"
empty "$W/Real/new"
empty "$W/Real/tmp"

say "a full disk: deferred, nothing left behind; then a small message"
if unshare -m true 2>/dev/null; then
	mkdir "$T/full"
	cat >"$T/full.sh" <<'SH'
set -u
mount -t tmpfs -o size=64k,mode=0700 tmpfs "$T/full" || exit 99
chown "$A" "$T/full"
lj() { $PY "$LJ" "$B/postern-local" "$T/etc" --as "$A" "$@"; }
lj --msg "$T/big" addr=a@test.example action=maildir \
    target="$T/full/Maildir/" >"$T/full1.json"
find "$T/full/Maildir/tmp" "$T/full/Maildir/new" -type f | wc -l >"$T/full.ls"
lj --msg "$T/msg" addr=a@test.example action=maildir \
    target="$T/full/Maildir/" addr=b@test.example action=mbox \
    target="$T/full/mbox" >"$T/full2.json"
ls "$T/full/Maildir/new" | wc -l >"$T/full.count"
wc -c <"$T/full/mbox" >"$T/full.size"
lj --msg "$T/big" addr=c@test.example action=mbox \
    target="$T/full/mbox" >"$T/full3.json"
wc -c <"$T/full/mbox" >"$T/full.size2"
SH
	T=$T A=$A B=$B PY=$PY LJ=$LJ unshare -m --propagation private \
	    sh "$T/full.sh" || fail "full-disk namespace: exit $?"
	want full1 0 defer 4.3.1 "=cannot write to maildir $T/full/Maildir: insufficient disk space"
	[ "$(cat "$T/full.ls")" = 0 ] || fail "files left behind in the Maildir"
	want full2 0 ok 2.0.0
	want full2 1 ok 2.0.0
	[ "$(cat "$T/full.count")" = 1 ] || fail "full: $(cat "$T/full.count")"
	want full3 0 defer 4.3.1 "=cannot write to mailbox $T/full/mbox: insufficient disk space"
	[ "$(cat "$T/full.size")" = "$(cat "$T/full.size2")" ] ||
	    fail "mbox not truncated back: $(cat "$T/full.size") -> $(cat "$T/full.size2")"
else
	echo "SKIP: no mount namespace here: the full-disk case"
fi
echo "ok"
