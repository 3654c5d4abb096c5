# 14-inject-bad: bad inputs each give their sysexits code and one clear
# line on stderr, and change nothing: the queue and the maildrop stay as
# they were, and no temporary file is left behind.
. "$(dirname "$0")/lib.sh"
instance message_size_limit=10k
init_queue

# refuse CODE PATTERN CMD... - CMD exits CODE, says PATTERN, leaves nothing
refuse() {
	code=$1; pat=$2; shift 2
	"$@" 2>"$T/err" >/dev/null
	got=$?
	[ "$got" = "$code" ] || fail "$*: exit $got, want $code ($(cat "$T/err"))"
	grep -q -- "$pat" "$T/err" || fail "$*: stderr lacks '$pat': $(cat "$T/err")"
	[ "$(wc -l <"$T/err")" = 1 ] || fail "$*: more than one line: $(cat "$T/err")"
	[ -z "$(ls -A "$T/queue/maildrop")" ] || fail "$*: left $(ls -A "$T/queue/maildrop")"
}
msg() { printf 'Subject: t\n\nbody\n'; }
send() { msg | inject "$@"; }

refuse 65 "bad recipient address 'a@@b'" send a@@b
refuse 65 "bad recipient address" send 'a b@x.example'
refuse 65 "bad recipient" send "$(printf 'a\rb@x.example')"
refuse 65 "bad sender address" send -f 'x@@y' a@x.example
refuse 65 "bad sender address" send -f "$(printf 'a@b\nX-Injected: 1')" a@x.example
refuse 64 "unknown or unsupported option" send -X /tmp/log a@x.example
refuse 64 "unknown or unsupported option" send -Z a@x.example
refuse 64 "options must come before recipients" send -- -oQ/tmp/@x
refuse 64 "-bs is not supported" send -bs
refuse 64 "no recipients given" send
refuse 64 "-N takes never" send -N never,success a@x.example
refuse 64 "-R takes hdrs or full" send -R body a@x.example
refuse 64 "-F name contains a control character" send -F "$(printf 'Eve\nBcc: v@x')" a@x.example
nulhdr() { printf 'Subject: a\0b\n\nbody\n' | inject a@x.example; }
refuse 65 "NUL byte" nulhdr
nulbody() { printf 'Subject: a\n\nbo\0dy\n' | inject a@x.example; }
refuse 65 "NUL byte" nulbody
big() { { printf 'Subject: big\n\n'; head -c 20000 /dev/zero | tr '\0' x; echo; } | inject a@x.example; }
refuse 65 "larger than message_size_limit" big
longhdr() { { printf 'Subject: '; head -c 70000 /dev/zero | tr '\0' x; printf '\n\nx\n'; } | inject a@x.example; }
refuse 65 "header line longer than" longhdr

say "configuration problems: exit 78"
mkdir -p "$T/bad1" "$T/bad2" "$T/bad3/postern.conf"
echo 'no_such_key = 1' >"$T/bad1/postern.conf"
echo 'message_size_limit = 10Q' >"$T/bad2/postern.conf"
refuse 78 "postern.conf:1: unknown key 'no_such_key'" sh -c "printf 'x\n' | '$B/sendmail' -C '$T/bad1' a@x.example"
refuse 78 "message_size_limit" sh -c "printf 'x\n' | '$B/sendmail' -C '$T/bad2' a@x.example"
refuse 78 "postern.conf" sh -c "printf 'x\n' | '$B/sendmail' -C '$T/bad3' a@x.example"
refuse 78 "postern.conf" sh -c "printf 'x\n' | '$B/sendmail' -C '$T/missing' a@x.example"
if [ "$(id -u)" != 0 ]; then
	cp "$T/etc/postern.conf" "$T/bad1/postern.conf"; chmod 000 "$T/bad1/postern.conf"
	refuse 78 "Permission denied" sh -c "printf 'x\n' | '$B/sendmail' -C '$T/bad1' a@x.example"
fi

start_qmgr
stop_qmgr
[ "$(queue_count)" = 0 ] || fail "something reached the queue"
echo ok
