/*
 * local_proto - the protocol between the queue manager and postern-local.
 *
 * One postern-local process per job; it runs as the user whose mailbox
 * (or file, or program) receives the message, or as virtual_user, or as
 * the aliases file's owner or default_privs for |command and /file
 * targets of an alias. Descriptor 0 is its socket (ipc.h frames).
 *
 * JOB (queue manager -> postern-local), version 1, one frame carrying the
 * message content as a sealed memfd (memfd.h; the worker checks the
 * seals and reads it with pread/mmap). Unknown names are refused.
 *   v        required, once   "1"
 *   id       required, once   queue id (11 characters)
 *   sender   required, once   envelope sender, "" for the null sender
 *   arrival  required, once   microseconds since the epoch
 *   user     required, once   login name the job runs as (checked
 *                             against getpwuid(getuid()) by the worker)
 *   Then, repeated, one group per recipient, each starting with "rcpt";
 *   every other recipient attribute belongs to the last "rcpt":
 *   rcpt     required  the recipient's index in the queue (decimal)
 *   addr     required  the address (after alias expansion): it becomes
 *                      the Delivered-To header
 *   orig     optional  the address the sender used, when different
 *   action   required  "mailbox" (the user's home_mailbox or mail spool,
 *                      after the user's ~/.forward unless noforward),
 *                      "maildir" / "mbox" (the exact path in target:
 *                      virtual mailboxes and alias /file targets ending
 *                      in / are maildirs), "pipe" (target is a command
 *                      for /bin/sh -c)
 *   target   optional  path or command, for maildir, mbox and pipe
 *   ext      optional  address extension (after recipient_delimiter):
 *                      Maildir++ folder ".ext" when it exists
 *   noforward optional "1": do not read ~/.forward (a "\user" target)
 *   Limits: at most 1000 recipients per job; addr, orig <= 254; target
 *   <= 4096; ext <= 64.
 *
 * RESULT (postern-local -> queue manager), version 1, one frame per
 * job, sent when every recipient is done; then the worker exits.
 *   v        required, once   "1"
 *   Repeated, one group per job recipient, each starting with "rcpt":
 *   rcpt     required  the index from the job
 *   result   required  "ok", "defer", "fail" or "forward"
 *   status   required  enhanced status code (RFC 3463) "2.0.0", "4.2.2"
 *   text     required  one line, what happened, in words
 *   fwd      optional, repeated, with result "forward": an address that
 *                      ~/.forward sends the message to (the queue manager
 *                      adds it as a new recipient whose Delivered-To chain
 *                      includes addr)
 *   The queue manager refuses a result for an index not in the job, a
 *   missing index, or anything malformed: the whole job is then deferred
 *   and its socket closed (the queue manager cannot kill a worker that
 *   runs as another user).
 *
 * A worker that dies or says nothing within the job timeout: every
 * recipient of the job is deferred (4.3.0), never failed.
 */
#ifndef POSTERN_LOCAL_PROTO_H
#define POSTERN_LOCAL_PROTO_H

#include "attr.h"

#define LOCAL_VERSION "1"
#define LOCAL_FRAME_MAX (1u << 20)
#define LOCAL_RCPT_MAX 1000
#define LOCAL_TARGET_MAX 4096
#define LOCAL_EXT_MAX 64

static const struct attr_spec local_job_spec[] __attribute__((unused)) = {
	{ "v", ATTR_REQUIRED | ATTR_TEXT, 4 },
	{ "id", ATTR_REQUIRED | ATTR_TEXT, 11 },
	{ "sender", ATTR_REQUIRED | ATTR_TEXT, 254 },
	{ "arrival", ATTR_REQUIRED | ATTR_NUMBER, 20 },
	{ "user", ATTR_REQUIRED | ATTR_TEXT, 256 },
	{ "rcpt", ATTR_REQUIRED | ATTR_REPEAT | ATTR_NUMBER, 10 },
	{ "addr", ATTR_REQUIRED | ATTR_REPEAT | ATTR_TEXT, 254 },
	{ "orig", ATTR_REPEAT | ATTR_TEXT, 254 },
	{ "action", ATTR_REQUIRED | ATTR_REPEAT | ATTR_TEXT, 8 },
	{ "target", ATTR_REPEAT | ATTR_TEXT, LOCAL_TARGET_MAX },
	{ "ext", ATTR_REPEAT | ATTR_TEXT, LOCAL_EXT_MAX },
	{ "noforward", ATTR_REPEAT | ATTR_NUMBER, 1 },
};

static const struct attr_spec local_result_spec[] __attribute__((unused)) = {
	{ "v", ATTR_REQUIRED | ATTR_TEXT, 4 },
	{ "rcpt", ATTR_REQUIRED | ATTR_REPEAT | ATTR_NUMBER, 10 },
	{ "result", ATTR_REQUIRED | ATTR_REPEAT | ATTR_TEXT, 8 },
	{ "status", ATTR_REQUIRED | ATTR_REPEAT | ATTR_TEXT, 16 },
	{ "text", ATTR_REQUIRED | ATTR_REPEAT | ATTR_TEXT, 1024 },
	{ "fwd", ATTR_REPEAT | ATTR_TEXT, 254 },
};

#endif
