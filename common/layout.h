/*
 * layout - where postern's files live under queue_directory and
 * run_directory, with their owners and modes, and the code that creates
 * (and repairs) them at the queue manager's start.
 *
 *   queue_directory/          0755  mail_owner
 *     maildrop/               1730  mail_owner:drop_group  (injectors
 *                                   create files, cannot list or read)
 *     db/                     0700  mail_owner  (the LMDB queue)
 *     corrupt/                0700  mail_owner  (maildrop files refused)
 *   run_directory/            0755  mail_owner
 *     trigger                 FIFO 0620 mail_owner:drop_group
 *     qmgr.lock               0600  mail_owner  (one queue manager)
 *     control                 socket (the admin issue)
 *
 * Started by root, owners and modes are set as above on every start
 * (never following a symlink). Started by an ordinary user (tests, a
 * developer's machine), everything belongs to that user and its primary
 * group, with the same modes.
 */
#ifndef POSTERN_LAYOUT_H
#define POSTERN_LAYOUT_H

#include <limits.h>
#include <sys/types.h>

struct config;

struct layout {
	char queue[PATH_MAX];
	char maildrop[PATH_MAX];
	char db[PATH_MAX];
	char corrupt[PATH_MAX];
	char run[PATH_MAX];
	char trigger[PATH_MAX];
	char lock[PATH_MAX];
	char control[PATH_MAX];
};

/* layout_paths - fill l from the configuration; -1 if a path is too long */
int layout_paths(const struct config *cfg, struct layout *l);
/* layout_create - create what is missing and fix owners and modes.
   owner/group: mail_owner's uid and drop_group's gid when root, else the
   caller's own. 0, or -1 with a message in err. */
int layout_create(const struct layout *l, uid_t owner, gid_t owner_gid,
    gid_t drop_gid, char *err, size_t errlen);
/* layout_trigger - wake the queue manager (one byte into the FIFO, never
   blocking; nobody listening is fine) */
void layout_trigger(const struct layout *l, char what);

#endif
