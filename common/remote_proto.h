/*
 * remote_proto - the protocol between the queue manager and the remote
 * delivery workers (postern-remote). Version 1. DRAFT: the worker and the
 * queue manager's side are the next steps of the remote delivery issue;
 * this header fixes the records they will speak, and changes with them.
 *
 * Workers are long-lived (a pool of at most remote_concurrency), run as
 * remote_user and chroot themselves into an empty directory after
 * reading what they need (resolver configuration, CA bundle). Descriptor
 * 0 is the socket (ipc.h frames). A worker handles one job at a time and
 * may keep the SMTP session of its last job open for
 * connection_cache_time; the queue manager prefers such a worker for the
 * next job to the same destination.
 *
 * JOB (queue manager -> worker), one frame carrying the content as a
 * sealed memfd (LF line ends, as stored). Unknown names are refused.
 *   v         required, once  "1"
 *   id        required, once  queue id
 *   sender    required, once  envelope sender ("" = null sender)
 *   size      required, once  content bytes (for SIZE=)
 *   flags     optional, once  comma list: 8bit, smtputf8
 *   ret       optional, once  "full" or "hdrs" (DSN RET)
 *   envid     optional, once  DSN ENVID (xtext-encoded by the worker)
 *   domain    required, once  the recipients' domain (lower case)
 *   nexthop   optional, once  from routes_file or relayhost:
 *                             "[host]:port" (no MX lookup), "host" or
 *                             "host:port" (MX lookup of host); absent:
 *                             the MX records of domain
 *   tls       required, once  none, may, encrypt or verify
 *   Repeated, one group per recipient, each starting with "rcpt":
 *   rcpt      required  the recipient's index in the queue
 *   addr      required  the address
 *   orcpt     optional  DSN ORCPT ("rfc822;addr")
 *   notify    optional  DSN NOTIFY list (never | success,failure,delay)
 *   At most 1000 recipients per job (the worker splits RCPTs into
 *   transactions of at most 100 when the server says 452).
 *
 * RESULT (worker -> queue manager), one frame per job:
 *   v         required, once  "1"
 *   transcript optional, once the attempt's transcript (capped at
 *                             QUEUE_TRANSCRIPT_MAX; no message body, no
 *                             AUTH secrets), stored with each recipient
 *   session   required, once  "open" (kept for connection_cache_time)
 *                             or "closed"
 *   dest      optional, once  the destination the open session talks to
 *   Repeated, one group per job recipient, each starting with "rcpt":
 *   rcpt      required  the index
 *   result    required  ok, defer or fail
 *   status    required  enhanced status code (the server's own when its
 *                       class matches the reply, else derived)
 *   text      required  the server's reply (one line per reply line,
 *                       joined with "; "), or what went wrong
 *   relay     required  "host[address]:port" of the last server tried,
 *                       or "none"
 *
 * CLOSED (worker -> queue manager, between jobs): "v=1", "session=closed"
 * when a cached session ends (idle timeout, server hang-up), so that the
 * queue manager stops preferring that worker for its destination.
 */
#ifndef POSTERN_REMOTE_PROTO_H
#define POSTERN_REMOTE_PROTO_H

#define REMOTE_VERSION "1"
#define REMOTE_FRAME_MAX (2u << 20)
#define REMOTE_RCPT_MAX 1000

#endif
