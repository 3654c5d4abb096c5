/*
 * control_proto - the queue manager's control socket (posternctl speaks
 * it). Version 1.
 *
 * The socket is run_directory/control, SOCK_STREAM, mode 0666: anyone
 * may connect, and the queue manager knows who did from SO_PEERCRED.
 * Root, members of admin_group and the queue manager's own user are
 * administrators. Anyone else may ask for status, and may list and show
 * the messages whose envelope sender is their own login at myhostname or
 * a local domain (queue, mailq, show: the others are simply not listed,
 * and show of another's message is refused); every other verb is refused
 * with EX_NOPERM (77).
 * The listings (queue, mailq, show) stream: the queue manager renders
 * them in steps (qview.h), one short read transaction each, only when
 * the client has read what came before, so a slow client holds no
 * transaction and a huge queue is never buffered. stats walks the whole
 * queue in short read transactions.
 * One request per connection, then the answer, then the queue manager
 * closes it. Frames are ipc.h frames, without descriptors. An ordinary
 * user may have at most four connections open at once: a fifth gets the
 * last frame at once (status 75 and an error), maybe before its request
 * is read, and is closed, so the client reads an answer even when it
 * could not write its request.
 *
 * REQUEST (posternctl -> queue manager), at most CONTROL_REQUEST_MAX
 * bytes, within CONTROL_REQUEST_WAIT of connecting; unknown names are
 * refused. A frame that does not decode or is too long is answered with
 * status 64 and the reason; one cut short by the client's end of file
 * is not answered:
 *   v          required, once  "1"
 *   verb       required, once  status, reload, stats, route, queue,
 *                              mailq, show, hold, release, delete,
 *                              retry or bounce
 *   id         repeated        queue ids (11 characters each); show
 *                              takes exactly one
 *   all        optional, once  "1": every message
 *   sender     optional, once  the envelope sender is this address
 *                              (case-insensitive; "<>" for the null one)
 *   recipient  optional, once  a recipient is this address
 *   domain     optional, once  a recipient's domain is this one
 *   state      optional, once  a recipient is in this state: pending,
 *                              deferred, held, failed, delivered or
 *                              expanded; or "active": a job for the
 *                              message is in flight
 *   older_than optional, once  seconds: arrived at least this long ago
 *   error      optional, once  a recipient's last diagnostic contains
 *                              this text (case-insensitive)
 *   dry_run    optional, once  "1": say what would be touched, touch
 *                              nothing
 *   json       optional, once  "1": the answer as JSON (status, stats,
 *                              route, queue, show, and one object per
 *                              message for the changing verbs)
 *   count      optional, once  "1": queue: only how many match
 *   transcript optional, once  "1": show: each recipient's last
 *                              transcript too
 *   content    optional, once  "1": show: the stored message instead
 *   address    optional, once  route: the address to route
 *   The bulk verbs (hold, release, delete, retry, bounce) need ids, all,
 *   or at least one selector; selectors all apply (AND), and ids are
 *   filtered by them too. queue and mailq take the same selectors (and
 *   ids), and list everything the caller may see without them.
 *
 * ANSWER (queue manager -> posternctl): any number of frames with
 *   out        text for standard output
 *   data       bytes for standard output, as stored (show content)
 * then one last frame with
 *   status     required  a sysexits code: 0 done, 64 bad request, 67 no
 *                        such message, 75 try again, 77 not allowed
 *   error      optional  one line for standard error (with status 0:
 *                        a warning, e.g. damaged records were skipped)
 *   lookup     optional  route, for a remote address: the host whose
 *                        DNS records posternctl looks up itself (the
 *                        queue manager does no DNS)
 *   mx         optional  "1": look up lookup's MX records first
 *   port       optional  the SMTP port
 *
 * Each message a bulk verb changes is logged as
 *   ID: VERB by uid N (NAME)
 * (the audit line), and printed as "ID VERB" (or "ID would VERB" for
 * dry_run) in the answer.
 */
#ifndef POSTERN_CONTROL_PROTO_H
#define POSTERN_CONTROL_PROTO_H

#include "attr.h"

#define CONTROL_VERSION "1"
#define CONTROL_REQUEST_MAX (256 * 1024)	/* room for CONTROL_IDS_MAX ids */
#define CONTROL_REQUEST_WAIT 10		/* seconds */
#define CONTROL_IDS_MAX 10000		/* ids in one request */
#define CONTROL_ANSWER_FRAME (256 * 1024)

static const struct attr_spec control_request_spec[] __attribute__((unused))
    = {
	{ "v", ATTR_REQUIRED | ATTR_TEXT, 4 },
	{ "verb", ATTR_REQUIRED | ATTR_TEXT, 16 },
	{ "id", ATTR_REPEAT | ATTR_TEXT, 11 },
	{ "all", ATTR_NUMBER, 1 },
	{ "sender", ATTR_TEXT, 254 },
	{ "recipient", ATTR_TEXT, 254 },
	{ "domain", ATTR_TEXT, 253 },
	{ "state", ATTR_TEXT, 16 },
	{ "older_than", ATTR_NUMBER, 12 },
	{ "error", ATTR_TEXT, 256 },
	{ "dry_run", ATTR_NUMBER, 1 },
	{ "json", ATTR_NUMBER, 1 },
	{ "address", ATTR_TEXT, 254 },
	{ "count", ATTR_NUMBER, 1 },
	{ "transcript", ATTR_NUMBER, 1 },
	{ "content", ATTR_NUMBER, 1 },
};

static const struct attr_spec control_answer_spec[] __attribute__((unused))
    = {
	{ "out", ATTR_TEXT | ATTR_LINES, CONTROL_ANSWER_FRAME },
	{ "data", 0, CONTROL_ANSWER_FRAME },
	{ "status", ATTR_NUMBER, 3 },
	{ "error", ATTR_TEXT, 1024 },
	{ "lookup", ATTR_TEXT, 300 },
	{ "mx", ATTR_NUMBER, 1 },
	{ "port", ATTR_NUMBER, 5 },
};

#endif
