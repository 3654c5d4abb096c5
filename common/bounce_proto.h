/*
 * bounce_proto - the protocol between the queue manager and the bounce
 * worker (postern-bounce). Version 1.
 *
 * postern-bounce composes delivery status notifications (RFC 3464, RFC
 * 6522, status codes of RFC 3463) and nothing else: it never touches the
 * queue, never sends mail, and reads no file after start-up but its
 * configuration. It is long-lived, runs as bounce_user, and handles one
 * job at a time on descriptor 0 (ipc.h frames). The queue manager stores
 * the notice it gets back as a new message from the null sender.
 *
 * JOB (queue manager -> worker), one frame carrying the ORIGINAL message
 * as a sealed memfd (LF line ends, as stored; memfd.h). Unknown names are
 * refused.
 *   v          required, once  "1"
 *   id         required, once  the original's queue id (11 characters)
 *   kind       required, once  "failure" (recipients failed for good),
 *                              "delay" (still being retried: a warning)
 *                              or "success" (NOTIFY=SUCCESS reports)
 *   to         required, once  the notice's recipient: the original
 *                              envelope sender, or postmaster_address for
 *                              a double bounce
 *   sender     required, once  the original envelope sender ("" = <>)
 *   double     optional, once  "1": the original came from <> or
 *                              MAILER-DAEMON (a notice): this one goes
 *                              to the postmaster; "0" (or absent): not
 *   arrival    required, once  the original's arrival, µs since the epoch
 *   size       required, once  the original's size in bytes
 *   flags      optional, once  comma list: 8bit (the original has 8-bit
 *                              content), smtputf8 (UTF-8 in its envelope)
 *   ret        optional, once  DSN RET: "full" or "hdrs"
 *   envid      optional, once  DSN ENVID, echoed as Original-Envelope-Id
 *   msgid      optional, once  the original's Message-ID (with <>), for
 *                              In-Reply-To and References
 *   subject    optional, once  the original's Subject (for the text)
 *   Repeated, one group per recipient, each starting with "rcpt":
 *   rcpt       required  the recipient's index in the original
 *   addr       required  the final recipient address
 *   orig       optional  the address as the sender gave it (when it
 *                        differs: an alias, a .forward), or the ORCPT
 *                        address; becomes Original-Recipient
 *   action     required  failed, delayed, delivered or relayed
 *   status     required  enhanced status code X.Y.Z
 *   diag       required  the diagnostic: for a remote server its reply as
 *                        postern-remote wrote it ("host H[A]:P said: 550
 *                        5.1.1 ... (in reply to RCPT TO command)"), else
 *                        postern's own words
 *   relay      required  "host[address]:port" (a remote server), "local"
 *                        (a local delivery) or "none"
 *   attempts   required  delivery attempts made
 *   first      optional  first attempt, µs
 *   last       optional  last attempt, µs
 *   until      optional  µs: when postern gives up (kind delay)
 *   transcript optional  the last attempt's transcript (remote), may hold
 *                        LF; at most BOUNCE_TRANSCRIPT_MAX bytes
 *   same_as    optional  instead of transcript: the rcpt index of an
 *                        earlier group of this job whose transcript this
 *                        recipient shares (one attempt, many recipients)
 *   At most BOUNCE_RCPT_MAX recipients per job.
 *
 * RESULT (worker -> queue manager), one frame per job:
 *   v          required, once  "1"
 *   ok         "1": the frame carries the notice as a sealed memfd: a
 *              whole message (header section and body, LF line ends,
 *              no line over 998 octets), to be stored as it is; at most
 *              bounce_size_limit + BOUNCE_NOTICE_EXTRA bytes (the
 *              explanations and transcripts besides the original part)
 *   error      instead of ok: one line saying why no notice was made
 *              (the queue manager logs it and tries again later)
 *
 * The notice (what the worker must produce):
 *   From: Mail Delivery System <MAILER-DAEMON@myhostname>
 *   To: <the job's "to">
 *   Subject: Undelivered Mail Returned to Sender (failure),
 *            Delayed Mail (still being retried) (delay),
 *            Successful Mail Delivery Report (success)
 *   Auto-Submitted: auto-replied (RFC 3834)
 *   Date, Message-ID (unique, @myhostname), In-Reply-To and References
 *   (the original's Message-ID, when known), MIME-Version: 1.0,
 *   Content-Type: multipart/report; report-type=delivery-status
 *   1. text/plain: per recipient, in plain words, what happened and what
 *      the sender can do, then each distinct transcript, labelled with
 *      the recipients it belongs to
 *   2. message/delivery-status (message/global-delivery-status when an
 *      address is UTF-8): Reporting-MTA: dns; myhostname,
 *      Original-Envelope-Id, Arrival-Date; per recipient
 *      Original-Recipient, Final-Recipient, Action, Status, Remote-MTA,
 *      Diagnostic-Code (smtp; for a server's reply, x-unix; for a local
 *      program, x-postern; otherwise), Last-Attempt-Date,
 *      Will-Retry-Until (delay)
 *   3. message/rfc822 (the whole original) for a failure when the
 *      original is at most bounce_size_limit and RET is not "hdrs",
 *      else text/rfc822-headers (its header section only)
 */
#ifndef POSTERN_BOUNCE_PROTO_H
#define POSTERN_BOUNCE_PROTO_H

#include "attr.h"

#define BOUNCE_VERSION "1"
#define BOUNCE_FRAME_MAX (8u << 20)
#define BOUNCE_RCPT_MAX 100
#define BOUNCE_TRANSCRIPT_MAX (64 * 1024)

static const struct attr_spec bounce_job_spec[] __attribute__((unused)) = {
	{ "v", ATTR_REQUIRED | ATTR_TEXT, 4 },
	{ "id", ATTR_REQUIRED | ATTR_TEXT, 11 },
	{ "kind", ATTR_REQUIRED | ATTR_TEXT, 8 },
	{ "to", ATTR_REQUIRED | ATTR_TEXT, 254 },
	{ "sender", ATTR_REQUIRED | ATTR_TEXT, 254 },
	{ "double", ATTR_NUMBER, 1 },
	{ "arrival", ATTR_REQUIRED | ATTR_NUMBER, 20 },
	{ "size", ATTR_REQUIRED | ATTR_NUMBER, 20 },
	{ "flags", ATTR_TEXT, 64 },
	{ "ret", ATTR_TEXT, 4 },
	{ "envid", ATTR_TEXT, 100 },
	{ "msgid", ATTR_TEXT, 998 },
	{ "subject", ATTR_TEXT, 998 },
	{ "rcpt", ATTR_REQUIRED | ATTR_REPEAT | ATTR_NUMBER, 10 },
	{ "addr", ATTR_REQUIRED | ATTR_REPEAT | ATTR_TEXT, 254 },
	{ "orig", ATTR_REPEAT | ATTR_TEXT, 500 },
	{ "action", ATTR_REQUIRED | ATTR_REPEAT | ATTR_TEXT, 10 },
	{ "status", ATTR_REQUIRED | ATTR_REPEAT | ATTR_TEXT, 16 },
	{ "diag", ATTR_REQUIRED | ATTR_REPEAT | ATTR_TEXT, 2048 },
	{ "relay", ATTR_REQUIRED | ATTR_REPEAT | ATTR_TEXT, 400 },
	{ "attempts", ATTR_REQUIRED | ATTR_REPEAT | ATTR_NUMBER, 10 },
	{ "first", ATTR_REPEAT | ATTR_NUMBER, 20 },
	{ "last", ATTR_REPEAT | ATTR_NUMBER, 20 },
	{ "until", ATTR_REPEAT | ATTR_NUMBER, 20 },
	{ "transcript", ATTR_REPEAT | ATTR_TEXT | ATTR_LINES,
	    BOUNCE_TRANSCRIPT_MAX },
	{ "same_as", ATTR_REPEAT | ATTR_NUMBER, 10 },
};

/* A notice's bound above the bounce_size_limit of its original part:
   both sides hold to it. */
#define BOUNCE_NOTICE_EXTRA (48u << 20)

static const struct attr_spec bounce_result_spec[] __attribute__((unused)) = {
	{ "v", ATTR_REQUIRED | ATTR_TEXT, 4 },
	{ "ok", ATTR_NUMBER, 1 },
	{ "error", ATTR_TEXT, 1024 },
};

#endif
