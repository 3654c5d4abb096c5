/*
 * exitcodes - names of the sysexits codes postern uses (for logs and
 * error messages).
 */
#include <stddef.h>

#include "exitcodes.h"

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
