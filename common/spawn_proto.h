/*
 * spawn_proto - the protocol between the queue manager and the spawner.
 *
 * The spawner is a child the queue manager forks at start, before it
 * gives up root and before it opens the queue; it is the only postern
 * code that keeps root, and its one job is to start workers. The two
 * talk over a SOCK_STREAM socketpair with ipc.h frames; requests are
 * strictly one at a time (request, then its reply).
 *
 * REQUEST (queue manager -> spawner), version 1; unknown names refused:
 *   v        required  "1"
 *   worker   required  "local", "remote" or "bounce": the program is
 *                      libexec_directory/postern-<worker>, nothing else
 *   uid      required  decimal; never 0 (refused), must exist in passwd
 *   gid      required  decimal; the process's group
 *   user     optional  login name for initgroups(3); without it the
 *                      process has no supplementary groups
 *   chroot   optional  absolute directory the worker chroots into; only
 *                      for worker "remote", which then starts as root
 *                      with "-C DIR -U UID -G GID" added to its argv and
 *                      confines itself before reading any input (ignored
 *                      without root); absent: none
 *   home     optional  absolute directory to chdir into (else "/")
 *
 * REPLY (spawner -> queue manager), version 1:
 *   ok       "1" on success; then the frame carries the queue manager's
 *            end of a new socketpair (SCM_RIGHTS), whose other end is the
 *            worker's descriptor 0 (and 1)
 *   pid      the worker's pid (for logs; results are matched by socket,
 *            never by pid)
 *   error    on failure instead of ok: one line saying why
 *
 * The worker starts with: descriptors 0 and 1 = its socket, 2 = /dev/null
 * (it logs to syslog and log_file), every other descriptor closed; the
 * environment exactly "PATH=/usr/bin:/bin" and "POSTERN_CONFIG=<dir>";
 * argv { "postern-<worker>", "-c", <config dir>, NULL }; RLIMIT_CORE 0;
 * umask 077; the signals at their defaults and unblocked. Exit statuses
 * are reaped by the spawner and logged there.
 *
 * Started by an ordinary user (privilege separation off), the spawner
 * still runs as a separate process, and refuses any uid but its own.
 */
#ifndef POSTERN_SPAWN_PROTO_H
#define POSTERN_SPAWN_PROTO_H

#include <sys/types.h>

#include "attr.h"

#define SPAWN_VERSION "1"
#define SPAWN_FRAME_MAX 8192

static const struct attr_spec spawn_request_spec[] __attribute__((unused)) = {
	{ "v", ATTR_REQUIRED | ATTR_TEXT, 4 },
	{ "worker", ATTR_REQUIRED | ATTR_TEXT, 16 },
	{ "uid", ATTR_REQUIRED | ATTR_NUMBER, 10 },
	{ "gid", ATTR_REQUIRED | ATTR_NUMBER, 10 },
	{ "user", ATTR_TEXT, 256 },
	{ "chroot", ATTR_TEXT, 4096 },
	{ "home", ATTR_TEXT, 4096 },
};

static const struct attr_spec spawn_reply_spec[] __attribute__((unused)) = {
	{ "ok", ATTR_TEXT, 1 },
	{ "pid", ATTR_NUMBER, 10 },
	{ "error", ATTR_TEXT, 1024 },
};

#endif
