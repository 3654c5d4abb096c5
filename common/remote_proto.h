/*
 * remote_proto - the protocol between the queue manager and the remote
 * delivery workers (postern-remote). Version 1.
 *
 * Workers are long-lived (a pool of at most remote_concurrency). Started
 * by root, a worker reads what it needs (configuration, resolver
 * configuration, CA bundle, credentials), chroots itself into an empty
 * directory and becomes remote_user before it reads its socket (the
 * spawner passes it -C DIR -U UID -G GID for that). Descriptor 0 is the
 * socket (ipc.h frames). A worker handles one job at a time and may keep
 * the SMTP session of its last job open for connection_cache_time; the
 * queue manager prefers such a worker for the next job to the same
 * destination.
 *
 * JOB (queue manager -> worker), one frame carrying the content as a
 * sealed memfd (LF line ends, as stored). Unknown names are refused.
 *   v         required, once  "1"
 *   id        required, once  queue id
 *   sender    required, once  envelope sender ("" = null sender)
 *   size      required, once  content bytes
 *   flags     optional, once  comma list: 8bit, smtputf8
 *   ret       optional, once  "full" or "hdrs" (DSN RET)
 *   envid     optional, once  DSN ENVID (xtext-encoded by the worker)
 *   domain    required, once  the recipients' domain (lower case)
 *   nexthop   optional, once  from routes_file or relayhost:
 *                             "[host]" or "[host]:port" (no MX lookup:
 *                             the host's addresses, or the IP address
 *                             literal), "host" or "host:port" (the MX
 *                             records of host); absent: the MX records
 *                             of domain
 *   tls       required, once  none, may, encrypt or verify
 *   dest      required, once  the destination key (domain or nexthop,
 *                             "/" tls level); a cached session is reused
 *                             only for a job with the same key
 *   Repeated, one group per recipient, each starting with "rcpt":
 *   rcpt      required  the recipient's index in the queue
 *   addr      required  the address
 *   orcpt     optional  DSN ORCPT ("rfc822;addr")
 *   notify    optional  DSN NOTIFY list (NEVER or SUCCESS,FAILURE,DELAY)
 *   At most REMOTE_RCPT_MAX recipients per job.
 *
 * RESULT (worker -> queue manager), one frame per job:
 *   v          required, once  "1"
 *   transcript optional, once  the attempt's transcript (capped at
 *                              QUEUE_TRANSCRIPT_MAX; no message body, no
 *                              AUTH secrets), stored with each recipient
 *   session    required, once  "open" (kept for connection_cache_time)
 *                              or "closed"
 *   tls        optional, once  "VERSION CIPHER" of the session that
 *                              carried the last transaction
 *   conn_use   optional, once  the connection's use count when this
 *                              job's first transaction began: 1 on a new
 *                              connection, N when N - 1 transactions of
 *                              earlier jobs went before
 *   Repeated, one group per job recipient, each starting with "rcpt":
 *   rcpt      required  the index
 *   result    required  ok, defer or fail
 *   status    required  enhanced status code (the server's own when its
 *                       class matches the reply, else derived)
 *   text      required  the server's reply (its lines joined with "; ")
 *                       and which command it answered, or what went wrong
 *   relay     required  "host[address]:port" of the last server tried,
 *                       or "none"
 *
 * CLOSED (worker -> queue manager, between jobs): "v=1", "session=closed"
 * when a cached session ends (idle timeout, server hang-up), so that the
 * queue manager stops preferring that worker for its destination.
 */
#ifndef POSTERN_REMOTE_PROTO_H
#define POSTERN_REMOTE_PROTO_H

#include "attr.h"
#include "queue.h"

#define REMOTE_VERSION "1"
#define REMOTE_FRAME_MAX (2u << 20)
#define REMOTE_RCPT_MAX 1000
#define REMOTE_TEXT_MAX 1024
#define REMOTE_DEST_MAX 600
#define REMOTE_RELAY_MAX QUEUE_RELAY_MAX

static const struct attr_spec remote_job_spec[] __attribute__((unused)) = {
	{ "v", ATTR_REQUIRED | ATTR_TEXT, 4 },
	{ "id", ATTR_REQUIRED | ATTR_TEXT, QUEUE_ID_TEXT },
	{ "sender", ATTR_REQUIRED | ATTR_TEXT, ADDRESS_MAX },
	{ "size", ATTR_REQUIRED | ATTR_NUMBER, 20 },
	{ "flags", ATTR_TEXT, 64 },
	{ "ret", ATTR_TEXT, 4 },
	{ "envid", ATTR_TEXT, QUEUE_ENVID_MAX },
	{ "domain", ATTR_REQUIRED | ATTR_TEXT, 255 },
	{ "nexthop", ATTR_TEXT, 300 },
	{ "tls", ATTR_REQUIRED | ATTR_TEXT, 8 },
	{ "dest", ATTR_REQUIRED | ATTR_TEXT, REMOTE_DEST_MAX },
	{ "rcpt", ATTR_REQUIRED | ATTR_REPEAT | ATTR_NUMBER, 10 },
	{ "addr", ATTR_REQUIRED | ATTR_REPEAT | ATTR_TEXT, ADDRESS_MAX },
	{ "orcpt", ATTR_REPEAT | ATTR_TEXT, QUEUE_ORCPT_MAX },
	{ "notify", ATTR_REPEAT | ATTR_TEXT, 32 },
};

static const struct attr_spec remote_result_spec[] __attribute__((unused)) = {
	{ "v", ATTR_REQUIRED | ATTR_TEXT, 4 },
	{ "transcript", ATTR_TEXT | ATTR_LINES, 64 * 1024 },
	{ "session", ATTR_REQUIRED | ATTR_TEXT, 8 },
	{ "tls", ATTR_TEXT, 128 },
	{ "conn_use", ATTR_NUMBER, 10 },
	{ "rcpt", ATTR_REPEAT | ATTR_NUMBER, 10 },
	{ "result", ATTR_REPEAT | ATTR_TEXT, 8 },
	{ "status", ATTR_REPEAT | ATTR_TEXT, 16 },
	{ "text", ATTR_REPEAT | ATTR_TEXT, REMOTE_TEXT_MAX },
	{ "relay", ATTR_REPEAT | ATTR_TEXT, REMOTE_RELAY_MAX },
};

#endif
