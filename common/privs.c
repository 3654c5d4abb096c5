/*
 * privs - lookups and dropping root (see privs.h).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "privs.h"

/* privs_user - look up a user */
int privs_user(const char *name, uid_t *uid_r, gid_t *gid_r,
    const char **error_r)
{
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		*error_r = errno ? strerror(errno) : "no such user";
		return -1;
	}
	*uid_r = pw->pw_uid;
	if (gid_r)
		*gid_r = pw->pw_gid;
	return 0;
}

/* privs_group - look up a group */
int privs_group(const char *name, gid_t *gid_r, const char **error_r)
{
	struct group *gr;

	errno = 0;
	if ((gr = getgrnam(name)) == NULL) {
		*error_r = errno ? strerror(errno) : "no such group";
		return -1;
	}
	*gid_r = gr->gr_gid;
	return 0;
}

/* privs_drop - give up root for good */
int privs_drop(uid_t uid, gid_t gid, const char **error_r)
{
	if (uid == 0) {
		*error_r = "refusing to drop privileges to uid 0";
		return -1;
	}
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(uid, uid, uid) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	if (setuid(0) == 0 || geteuid() != uid || getegid() != gid) {
		*error_r = "privileges could be regained after dropping them";
		return -1;
	}
	return 0;
}

/* privs_in_group - uid belongs to gid */
int privs_in_group(uid_t uid, gid_t gid)
{
	struct passwd *pw = getpwuid(uid);
	struct group *gr;
	char **m;

	if (pw == NULL)
		return 0;
	if (pw->pw_gid == gid)
		return 1;
	if ((gr = getgrgid(gid)) == NULL)
		return 0;
	for (m = gr->gr_mem; *m != NULL; m++)
		if (strcmp(*m, pw->pw_name) == 0)
			return 1;
	return 0;
}
