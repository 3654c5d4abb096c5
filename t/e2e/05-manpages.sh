# 05-manpages: postern.conf(5) lists exactly the keys of
# common/config_keys.h, each once, as ".B key" in its KEYS section; every
# manual page (every doc/*.1, doc/*.5 and doc/*.8) renders without a
# warning. Needs no instance.
. "$(dirname "$0")/lib.sh"
doc=$top/doc
conf=$doc/postern.conf.5
pages=""
for f in "$doc"/*.[158]; do
	[ -f "$f" ] && pages="$pages ${f##*/}"
done
[ -n "$pages" ] || fail "no manual pages in doc/"
[ -f "$conf" ] || fail "doc/postern.conf.5 is missing"

say "postern.conf(5) and common/config_keys.h name the same keys"
keys=$(sed -n 's/^CONFIG_KEY(\([A-Za-z0-9_]*\),.*/\1/p' \
    "$top/common/config_keys.h")
[ -n "$keys" ] || fail "no CONFIG_KEY lines in common/config_keys.h"
# The ".B " lines of the KEYS section: a key name each, nothing else.
page_keys=$(awk '/^\.SH / { k = ($2 == "KEYS") } k && /^\.B / { print $2 }' \
    "$conf")
[ -n "$page_keys" ] || fail "no '.B key' lines in the KEYS section of $conf"
for k in $keys; do
	printf '%s\n' "$page_keys" | grep -qx "$k" ||
	    fail "key '$k' of config_keys.h is not in the KEYS section of postern.conf(5)"
done
for k in $page_keys; do
	printf '%s\n' "$keys" | grep -qx "$k" ||
	    fail "postern.conf(5) lists '$k', which config_keys.h does not have"
done
dup=$(printf '%s\n' "$page_keys" | sort | uniq -d)
[ -z "$dup" ] || fail "postern.conf(5) lists keys twice: $dup"

say "the pages render without warnings"
have_man=0; have_groff=0
command -v man >/dev/null 2>&1 && have_man=1
command -v groff >/dev/null 2>&1 && have_groff=1
[ $have_man = 1 ] || [ $have_groff = 1 ] ||
    skip "neither man nor groff is installed (Debian: apt-get install groff-base)"
err=$(mktemp /tmp/postern-man.XXXXXX) || fail "mktemp"
trap 'rm -f "$err"; cleanup' EXIT
for p in $pages; do
	if [ $have_man = 1 ]; then
		LC_ALL=C man --warnings -l -Tutf8 "$doc/$p" >/dev/null 2>"$err" ||
		    fail "man cannot render doc/$p: $(cat "$err")"
		[ -s "$err" ] && fail "man warns about doc/$p: $(cat "$err")"
	fi
	if [ $have_groff = 1 ]; then
		groff -man -ww -z "$doc/$p" 2>"$err" ||
		    fail "groff cannot render doc/$p: $(cat "$err")"
		[ -s "$err" ] && fail "groff warns about doc/$p: $(cat "$err")"
	fi
done
echo ok
