# 22-corrupt: maildrop files that are not well-formed (garbage, truncated,
# a bad address inside, a symlink, a FIFO) are moved to corrupt/ (or, if
# they cannot be opened, left and reported) with a log line; the queue
# manager keeps running and imports the good files around them.
. "$(dirname "$0")/lib.sh"
instance
init_queue
md=$T/queue/maildrop
printf 'Subject: good1\n\nx\n' | inject -i g1@x.example || fail "inject"
f=$(ls "$md")
printf 'garbage\n' >"$md/0000000000000001.1.aaaaaaaa"
head -c 50 "$md/$f" >"$md/0000000000000002.1.bbbbbbbb"
sed 's/g1@x\.example/g1@@.example/' "$md/$f" >"$md/0000000000000003.1.cccccccc"
ln -s /etc/passwd "$md/0000000000000004.1.dddddddd"
mkfifo "$md/0000000000000005.1.eeeeeeee"
: >"$md/0000000000000006.1.ffffffff"
printf 'Subject: good2\n\nx\n' | inject -i g2@x.example || fail "inject"
start_qmgr
wait_queue 2 || fail "good messages not imported"
for x in 1 2 3 6; do
	[ -e "$T/queue/corrupt/000000000000000$x.1."* ] || fail "file $x not moved aside"
done
grep -q 'maildrop file 0000000000000001.1.aaaaaaaa: not a maildrop file' "$T/log" || fail "no log line for garbage"
grep -q '0000000000000003.1.cccccccc: bad recipient address; moved' "$T/log" || fail "no log line for bad address"
grep -q '0000000000000004.1.dddddddd: is a symbolic link' "$T/log" || fail "symlink not reported"
grep -q '0000000000000005.1.eeeeeeee: not a regular file' "$T/log" || fail "FIFO not reported"
kill -0 "$QPID" || fail "qmgr died"
stop_qmgr
echo ok
