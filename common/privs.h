/*
 * privs - user and group lookups and the one way programs give up root.
 *
 * privs_drop sets the supplementary groups to exactly the given gid, then
 * the gid, then the uid, and checks that root cannot be regained; any
 * failure is an error the caller must treat as fatal.
 */
#ifndef POSTERN_PRIVS_H
#define POSTERN_PRIVS_H

#include <sys/types.h>

/* privs_user - uid and primary gid of a user by name; 0 or -1 (*error_r) */
int privs_user(const char *name, uid_t *uid_r, gid_t *gid_r,
    const char **error_r);
/* privs_group - gid of a group by name */
int privs_group(const char *name, gid_t *gid_r, const char **error_r);
/* privs_drop - become uid/gid for good (only when running as root) */
int privs_drop(uid_t uid, gid_t gid, const char **error_r);
/* privs_in_group - the calling process's real uid is a member of gid (by
   primary group or supplementary list of its passwd entry) */
int privs_in_group(uid_t uid, gid_t gid);

#endif
