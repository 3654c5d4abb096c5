/*
 * exitcodes - names of the sysexits codes postern uses (for logs and
 * error messages).
 */
#include <stddef.h>

#include "exitcodes.h"

/* status_code_ok - an RFC 3463 enhanced status code */
int status_code_ok(const char *s, int *class_r)
{
	size_t i, part, digits = 0;

	if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	for (i = 2, part = 0; ; i++) {
		if (s[i] >= '0' && s[i] <= '9') {
			if (++digits > 3)
				return 0;
		} else if (digits == 0) {
			return 0;
		} else if (s[i] == '.' && part == 0) {
			part = 1;
			digits = 0;
		} else {
			break;
		}
	}
	if (s[i] != '\0' || part != 1)
		return 0;
	*class_r = s[0] - '0';
	return 1;
}

/* exitcodes_name - name of an exit code */
const char *exitcodes_name(int code)
{
	static const struct { int code; const char *name; } names[] = {
		{ EX_OK, "EX_OK" }, { EX_USAGE, "EX_USAGE" },
		{ EX_DATAERR, "EX_DATAERR" }, { EX_NOINPUT, "EX_NOINPUT" },
		{ EX_NOUSER, "EX_NOUSER" }, { EX_NOHOST, "EX_NOHOST" },
		{ EX_UNAVAILABLE, "EX_UNAVAILABLE" },
		{ EX_SOFTWARE, "EX_SOFTWARE" }, { EX_OSERR, "EX_OSERR" },
		{ EX_OSFILE, "EX_OSFILE" }, { EX_CANTCREAT, "EX_CANTCREAT" },
		{ EX_IOERR, "EX_IOERR" }, { EX_TEMPFAIL, "EX_TEMPFAIL" },
		{ EX_PROTOCOL, "EX_PROTOCOL" }, { EX_NOPERM, "EX_NOPERM" },
		{ EX_CONFIG, "EX_CONFIG" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].code == code)
			return names[i].name;
	return "?";
}
