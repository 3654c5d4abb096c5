# 31-newaliases: postern-newaliases, and its link newaliases, compile the
# aliases file (alias_file; lib.sh sets it to $T/etc/aliases) into
# FILE.lmdb, with FILE's mode and no lock file. Exit codes: 0 for a good
# file, silently (-v prints "FILE: N aliases"); 65 for a syntax error,
# the message naming FILE:LINE; 66 for a missing source (EX_NOINPUT,
# "cannot open input": nothing was read or written, so not 74); 74 when
# writing the map fails (faults armed with POSTERN_FAULT); 64 for a bad
# command line; 78 for a bad configuration, which is read only when no
# FILE is given. A failed run leaves the old map and no temporary file.
. "$(dirname "$0")/lib.sh"
instance
A=$T/etc/aliases
NA=$B/postern-newaliases
command -v mdb_dump >/dev/null 2>&1 ||
    skip "mdb_dump is not installed (Debian: apt-get install lmdb-utils)"

# dump - the map as "key=value" lines (mdb_dump reads a copy: it would
# leave a lock file beside the map)
dump() {
	cp "$A.lmdb" "$T/copy.lmdb" || fail "cannot copy the map"
	mdb_dump -n -p "$T/copy.lmdb" | awk '
	    /^HEADER=END$/ { on = 1; next }
	    /^DATA=END$/ { on = 0 }
	    on { sub(/^ /, "")
		if (k == "") k = $0; else { print k "=" $0; k = "" } }'
	rm -f "$T/copy.lmdb" "$T/copy.lmdb-lock"
}
# no_tmp - no temporary map is left in $T/etc
no_tmp() {
	ls "$T/etc" | grep -q '\.tmp\.' &&
	    fail "temporary file left: $(ls "$T/etc")"
	return 0
}

say "a good file: exit 0, nothing printed, the map beside it"
cat >"$A" <<'EOF'
# a comment
postmaster: root
Root: alice,
  bob@example.org
"List X": "|/usr/bin/true -x", /tmp/x, :include:/etc/inc
EOF
chmod 640 "$A"
"$NA" -c "$T/etc" >"$T/out" 2>&1 || fail "exit $?: $(cat "$T/out")"
[ -s "$T/out" ] && fail "output on success: $(cat "$T/out")"
[ -f "$A.lmdb" ] || fail "no map"
[ ! -e "$A.lmdb-lock" ] || fail "a lock file was made"
[ "$(stat -c %a "$A.lmdb")" = 640 ] || fail "map mode $(stat -c %a "$A.lmdb")"
no_tmp
dump >"$T/dump"
cat >"$T/want" <<'EOF'
list x="|/usr/bin/true -x", /tmp/x, :include:/etc/inc
postmaster=root
root=alice, bob@example.org
EOF
cmp -s "$T/dump" "$T/want" || fail "map differs: $(diff "$T/want" "$T/dump")"
ino=$(stat -c %i "$A.lmdb")

say "-v and an explicit FILE"
out=$("$NA" -v "$A") || fail "-v FILE: exit $?"
[ "$out" = "$A: 3 aliases" ] || fail "-v printed '$out'"
[ "$(stat -c %i "$A.lmdb")" != "$ino" ] || fail "map not replaced"

say "the newaliases link"
echo "extra: root" >>"$A"
"$B/newaliases" -c "$T/etc" || fail "newaliases: exit $?"
dump | grep -qx 'extra=root' || fail "newaliases did not compile"
ino=$(stat -c %i "$A.lmdb")
dump >"$T/before"

say "a bad line: 65, FILE:LINE named, the old map kept"
cp "$A" "$T/good"
printf 'ok: root\nno colon here\n' >>"$A"
"$NA" -c "$T/etc" 2>"$T/err"
[ $? = 65 ] || fail "bad line: expected 65"
grep -qx "postern-newaliases: $A:8: missing ':' after the name 'no'" "$T/err" ||
    fail "message: $(cat "$T/err")"
[ "$(stat -c %i "$A.lmdb")" = "$ino" ] || fail "map replaced after an error"
dump | cmp -s - "$T/before" || fail "map changed after an error"
no_tmp
"$B/newaliases" "$A" 2>"$T/err"
[ $? = 65 ] || fail "newaliases, bad line: expected 65"
grep -q "^newaliases: $A:8: " "$T/err" || fail "message: $(cat "$T/err")"

say "a repeated name: 65, both lines named"
cp "$T/good" "$A"
echo "ROOT: carol" >>"$A"
expect_exit 65 "$NA" "$A" 2>"$T/err"
grep -q "$A:7: alias 'root' repeated (first on line 3)" "$T/err" ||
    fail "message: $(cat "$T/err")"

say "a missing file: 66, no map made"
expect_exit 66 "$NA" "$T/etc/nothing" 2>"$T/err"
grep -q "^postern-newaliases: $T/etc/nothing: cannot open: No such file" \
    "$T/err" || fail "message: $(cat "$T/err")"
[ ! -e "$T/etc/nothing.lmdb" ] || fail "map made for a missing file"

say "a failed write: 74, the old map kept"
cp "$T/good" "$A"
for f in rename:1:EIO fsync:1:EIO; do
	POSTERN_FAULT=$f "$NA" "$A" 2>"$T/err"
	[ $? = 74 ] || fail "$f: expected 74"
	grep -q 'Input/output error' "$T/err" || fail "$f: $(cat "$T/err")"
	[ "$(stat -c %i "$A.lmdb")" = "$ino" ] || fail "$f: map replaced"
	no_tmp
done

say "usage: 64"
expect_exit 64 "$NA" -x 2>/dev/null
expect_exit 64 "$NA" "$A" "$A" 2>/dev/null

say "a bad configuration: 78 (not read when FILE is given)"
echo "no_such_key = 1" >>"$T/etc/postern.conf"
expect_exit 78 "$NA" -c "$T/etc" 2>"$T/err"
grep -q 'no_such_key' "$T/err" || fail "message: $(cat "$T/err")"
expect_exit 0 "$NA" -c "$T/etc" "$A"

say "an empty alias_file: nothing to do"
sed -i -e '/^no_such_key/d' -e 's/^alias_file = .*/alias_file =/' \
    "$T/etc/postern.conf"
expect_exit 0 "$NA" -v -c "$T/etc"
echo ok
