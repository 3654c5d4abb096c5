/*
 * queue - the queue store on LMDB: the one module that touches LMDB.
 *
 * Used by the queue manager (the only writer) and by posternctl (read
 * only, as the queue's owner, when it reads the queue directly). Every
 * record read from the database is decoded strictly (attr.h) and copied
 * out before the transaction ends; a record that does not decode is
 * QUEUE_CORRUPT, never a crash.
 *
 * LAYOUT. One environment in queue_directory/db (data.mdb, lock.mdb),
 * mode 0600, owned by mail_owner, opened without MDB_WRITEMAP, MDB_NOSYNC,
 * MDB_NOMETASYNC or MDB_MAPASYNC: every commit is durable when it returns.
 * Ids and indexes in keys are big-endian so that LMDB's byte order is
 * numeric order. Values are attribute lists (attr.h), except meta's
 * decimals, the raw bytes of body and xscript and dropped's id(8).
 *
 *   meta     "schema" -> "1"; "last_id" -> decimal, the last id given
 *   msg      id(8)                -> sender, arrival, size, flags, nrcpt,
 *                                    uid, envid, from, subject, msgid,
 *                                    drop (the maildrop name, if any)
 *   body     id(8) chunk(4)       -> up to QUEUE_CHUNK bytes of content
 *   rcpt     id(8) idx(4)         -> addr, orig, orcpt, state, flags,
 *                                    attempts, next, first, last, status,
 *                                    diag, relay, parent
 *   xscript  id(8) idx(4)         -> the last attempt's transcript (raw
 *                                    bytes, at most QUEUE_TRANSCRIPT_MAX:
 *                                    a longer one keeps its first and last
 *                                    (QUEUE_TRANSCRIPT_MAX - 64) / 2 bytes
 *                                    around a line "[... N bytes omitted
 *                                    ...]")
 *   due      when(8) id(8) idx(4) -> empty
 *   dropped  maildrop file name   -> id(8)
 *
 * Times are microseconds since the epoch (int64). Content is stored with
 * LF line ends, exactly as the injector wrote it.
 *
 * QUEUE IDS are 64-bit numbers, each max(last_id + 1, arrival time in
 * microseconds), so they are unique, grow with arrival, and never repeat
 * (last_id is committed with the message). As text they are 11 characters
 * of Crockford's base 32 (0-9 A-Z without I L O U), fixed width, so text
 * order is numeric order and they are safe in file names and log lines.
 * Eleven digits hold 55 bits: ids run from 1 to QUEUE_ID_MAX (arrival
 * times reach it in the year 3111); 0 is never an id. Arrival and due
 * times are never negative.
 *
 * STATES of a recipient, the one atomic step (a committed transaction)
 * that enters each, and what recovery does with it after a crash:
 *
 *   pending    never tried. Entered when pickup commits the message (or
 *              an expansion adds the recipient). Has a due entry at its
 *              arrival time. After a crash: due at once, as before.
 *   deferred   tried, failed temporarily, waiting. Entered when a defer
 *              result is committed; due entry at next_attempt. After a
 *              crash: due at its time.
 *   held       the message is held by an administrator; no due entry.
 *              Entered by queue_set_held (or when a recipient is added
 *              to a held message). After a crash: stays held.
 *   delivered  final. Entered when an ok result is committed.
 *   failed     final. Entered when a fail result, or the end of the retry
 *              schedule, is committed.
 *   expanded   final for this address: an alias or .forward replaced it
 *              by the recipients whose parent it is (added in the same
 *              transaction).
 *
 * "In flight" is not a stored state: the queue manager keeps it in
 * memory. A recipient dispatched to a worker keeps its pending/deferred
 * state and its due entry (due <= now), so after a crash it is due again
 * at once; a delivery whose result was not committed may be repeated
 * (at-least-once), never dropped. Invariant: a recipient has exactly one
 * due entry, keyed by its next attempt time, iff it is pending or
 * deferred, or it is delivered or failed with QUEUE_RCPT_REPORT set (a
 * notice to the sender is owed: the entry makes the queue manager write
 * it, after a crash too). A message leaves the queue (queue_delete, one
 * transaction) when all its recipients are final and none is owed a
 * notice.
 *
 * PICKUP IDEMPOTENCE. The maildrop file name is stored in "dropped" in the
 * transaction that adds the message. Pickup skips (and unlinks) a file
 * whose name is there, so a crash between commit and unlink imports
 * nothing twice. Pickup forgets names once their files are gone for
 * certain (unlinked and the maildrop directory fsynced).
 *
 * ERRORS. MDB_MAP_FULL, MDB_READERS_FULL, MDB_TXN_FULL, ENOSPC, EDQUOT,
 * EIO and ENOMEM are QUEUE_TEMP: the transaction is marked failed (every
 * later call on it returns the same status, and queue_commit aborts it
 * and returns it), nothing is half-written, the caller retries later
 * (pickup leaves its maildrop files in place). Any other LMDB error also
 * marks the transaction failed (LMDB itself refuses to commit it). A bad
 * argument (QUEUE_ERROR before anything is written) and a record that
 * does not decode (QUEUE_CORRUPT) leave the transaction usable. After EIO
 * from a commit the caller should close and reopen the environment.
 * MDB_MAP_RESIZED (another process grew the map) is handled inside
 * queue_begin by adopting the new size. One transaction at a time per
 * queue handle (LMDB allows one per thread): queue_begin refuses a second.
 * queue_error() says what the last failure was about, naming the queue id.
 */
#ifndef POSTERN_QUEUE_H
#define POSTERN_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "address.h"

struct strbuf;

enum queue_status {
	QUEUE_OK = 0,
	QUEUE_NOTFOUND = 1,	/* no such record / nothing more */
	QUEUE_TEMP = -1,	/* try again later: full, I/O, readers */
	QUEUE_CORRUPT = -2,	/* a stored record did not decode */
	QUEUE_ERROR = -3,	/* anything else (bad argument, permission) */
};

#define QUEUE_SCHEMA 1
#define QUEUE_CHUNK (64 * 1024)
#define QUEUE_ID_TEXT 11
#define QUEUE_ID_MAX ((UINT64_C(1) << 55) - 1)	/* 11 base-32 digits */
#define QUEUE_SUMMARY_MAX 256	/* From, Subject, Message-ID in listings */
#define QUEUE_ENVID_MAX 100	/* RFC 3461 */
#define QUEUE_ORCPT_MAX 500	/* RFC 3461 */
#define QUEUE_DIAG_MAX 2048
#define QUEUE_RELAY_MAX 400	/* host[IPv6 address]:port fits */
#define QUEUE_STATUS_MAX 16
#define QUEUE_DROPNAME_MAX 128
#define QUEUE_TRANSCRIPT_MAX (64 * 1024)
#define QUEUE_NO_PARENT UINT32_MAX

/* Message flags */
#define QUEUE_MSG_HELD		0x01
#define QUEUE_MSG_NOTICE	0x02	/* a delivery status notice (from <>) */
#define QUEUE_MSG_8BIT		0x04	/* content has bytes >= 0x80: the
					   store sets it as content comes */
#define QUEUE_MSG_SMTPUTF8	0x08	/* UTF-8 in the envelope */
#define QUEUE_MSG_RET_HDRS	0x10	/* DSN RET=HDRS */
#define QUEUE_MSG_RET_FULL	0x20	/* DSN RET=FULL */
#define QUEUE_MSG_DOUBLE	0x40	/* a notice to the postmaster about a
					   message from <> or MAILER-DAEMON
					   (a notice) that failed: if it
					   fails too, it is logged and
					   dropped */

/* Recipient flags: DSN NOTIFY (RFC 3461; none set = the default) and
   bookkeeping. */
#define QUEUE_NOTIFY_NEVER	0x01
#define QUEUE_NOTIFY_SUCCESS	0x02
#define QUEUE_NOTIFY_FAILURE	0x04
#define QUEUE_NOTIFY_DELAY	0x08
#define QUEUE_RCPT_NOTIFIED	0x10	/* a notice reported its final state */
#define QUEUE_RCPT_WARNED	0x20	/* a delay warning was sent */
#define QUEUE_RCPT_REPORT	0x40	/* final, and a notice is owed: it
					   keeps a due entry until the notice
					   is stored (then NOTIFIED) */

enum queue_state {
	QS_PENDING, QS_DEFERRED, QS_HELD, QS_DELIVERED, QS_FAILED,
	QS_EXPANDED
};

struct queue;
struct queue_txn;

struct queue_msg {
	uint64_t id;
	char sender[ADDRESS_BUF];	/* "" is the null sender */
	int64_t arrival;		/* microseconds */
	uint64_t size;			/* content bytes */
	unsigned flags;
	uint32_t nrcpt;			/* recipient records (idx 0..nrcpt-1) */
	uint32_t uid;			/* uid that injected it */
	char envid[QUEUE_ENVID_MAX + 1];
	char from[QUEUE_SUMMARY_MAX + 1];
	char subject[QUEUE_SUMMARY_MAX + 1];
	char msgid[QUEUE_SUMMARY_MAX + 1];
};

struct queue_rcpt {
	uint64_t id;
	uint32_t idx;
	char addr[ADDRESS_BUF];
	char orig[ADDRESS_BUF];		/* as first given; "" if same */
	char orcpt[QUEUE_ORCPT_MAX + 1];	/* DSN ORCPT, "" if none */
	enum queue_state state;
	unsigned flags;
	uint32_t attempts;
	int64_t next;			/* next attempt (pending/deferred) */
	int64_t first, last;		/* first and last attempt, 0 if none */
	uint32_t parent;		/* expanded from, or QUEUE_NO_PARENT */
	char status[QUEUE_STATUS_MAX];	/* enhanced status "4.4.1" or "" */
	char diag[QUEUE_DIAG_MAX + 1];	/* last diagnostic text */
	char relay[QUEUE_RELAY_MAX + 1];	/* last remote host or "local" */
};

struct queue_due {
	int64_t when;
	uint64_t id;
	uint32_t idx;
};

/* What a new message is made of. Strings are C strings, already validated
   by the caller; the store checks lengths again. */
struct queue_new_msg {
	const char *sender;
	int64_t arrival;
	unsigned flags;
	uint32_t uid;
	const char *envid, *from, *subject, *msgid;	/* NULL: none */
	const char *drop_name;	/* maildrop file name, or NULL */
};
struct queue_new_rcpt {
	const char *addr;
	const char *orig;	/* NULL or "" when the same as addr */
	const char *orcpt;	/* NULL when none */
	unsigned flags;		/* QUEUE_NOTIFY_* */
	uint32_t parent;	/* QUEUE_NO_PARENT for envelope recipients,
				   else an earlier recipient's index */
};

/* Queue ids as text */
void queue_id_format(uint64_t id, char buf[QUEUE_ID_TEXT + 1]);
int queue_id_parse(const char *s, uint64_t *id_r);	/* 0 or -1 */
const char *queue_state_name(enum queue_state s);
int queue_state_lookup(const char *name);	/* state, or -1 */

/* Opening. flags: QUEUE_RDONLY opens read-only (no lock.mdb is created
   that the queue's owner could not use: when lock.mdb is missing, only
   the directory's owner may open it); QUEUE_CREATE creates the databases
   in an empty environment (and is harmless on an existing queue). The
   directory must exist. A queue on a network file system, or of another
   schema, is refused. mapsize 0 keeps the size the environment has. */
#define QUEUE_RDONLY 0x01
#define QUEUE_CREATE 0x02
int queue_open(struct queue **q_r, const char *dbdir, uint64_t mapsize,
    unsigned flags, char *err, size_t errlen);
void queue_close(struct queue **q);
/* queue_error - what the last failing call on q was about */
const char *queue_error(const struct queue *q);
/* queue_reader_check - clear reader slots of dead processes; how many,
   or a (negative) queue status */
int queue_reader_check(struct queue *q);

/* Transactions. A write transaction is exclusive (one writer); a read
   transaction should be short: copy out, end it, then print. */
int queue_begin(struct queue *q, int write, struct queue_txn **t_r);
int queue_commit(struct queue_txn **t);	/* ends *t whatever happens */
void queue_abort(struct queue_txn **t);

/* Adding a message: begin, recipients, content (any number of pieces of
   any size), end. Nothing is visible until the transaction commits. The
   id is allocated at begin. Strings longer than their struct fields are
   refused (QUEUE_ERROR), never cut. queue_add_end ends *a whatever
   happens; on failure, and on queue_add_abandon, whatever the add had
   written is removed again, so the transaction stays usable for other
   messages unless it failed (then abort it). Every add must be ended or
   abandoned before queue_commit, which otherwise aborts (QUEUE_ERROR);
   an add still open when its transaction ends is detached: calls on it
   fail, and abandoning it frees it. A drop_name already in "dropped" is
   refused. The recipients of a message added with QUEUE_MSG_HELD start
   held, all others pending and due at arrival. */
struct queue_add;
int queue_add_begin(struct queue_txn *t, const struct queue_new_msg *m,
    struct queue_add **a_r);
int queue_add_rcpt(struct queue_add *a, const struct queue_new_rcpt *r);
int queue_add_content(struct queue_add *a, const void *p, size_t n);
int queue_add_end(struct queue_add **a, uint64_t *id_r);
void queue_add_abandon(struct queue_add **a);
/* queue_append_rcpt - add a recipient to a stored message (alias
   expansion), pending and due at due (held if the message is); its
   index in *idx_r */
int queue_append_rcpt(struct queue_txn *t, uint64_t id,
    const struct queue_new_rcpt *r, int64_t due, uint32_t *idx_r);

/* Pickup idempotence */
int queue_dropped_lookup(struct queue_txn *t, const char *name,
    uint64_t *id_r);
int queue_dropped_forget(struct queue_txn *t, const char *name);
/* queue_dropped_list - call cb for each remembered name in byte order
   (stop, with QUEUE_OK, when it returns != 0); cb may forget names */
int queue_dropped_list(struct queue_txn *t,
    int (*cb)(void *ctx, const char *name), void *ctx);

/* Reading */
int queue_get_msg(struct queue_txn *t, uint64_t id, struct queue_msg *m);
/* queue_next_msg - the first message with an id > after (0: the first).
   Calling it again with the id it returned steps a cursor kept in the
   transaction. On QUEUE_CORRUPT m->id names the bad message, so that a
   listing can report it and go on after it. */
int queue_next_msg(struct queue_txn *t, uint64_t after, struct queue_msg *m);
int queue_get_rcpt(struct queue_txn *t, uint64_t id, uint32_t idx,
    struct queue_rcpt *r);
/* queue_count_msgs - how many messages the queue holds, without reading
   any (LMDB keeps the count) */
int queue_count_msgs(struct queue_txn *t, uint64_t *n_r);
/* queue_count_ids - how many messages have ids in (after, upto], counting
   at most max of them (a bounded step), from the keys alone; *last_r is
   the last id counted (after when none) */
int queue_count_ids(struct queue_txn *t, uint64_t after, uint64_t upto,
    uint64_t max, uint64_t *n_r, uint64_t *last_r);
/* queue_last_id - the highest message id (QUEUE_NOTFOUND when the queue
   is empty): a walk that stops there does not chase new arrivals */
int queue_last_id(struct queue_txn *t, uint64_t *id_r);
/* queue_content_chunk - chunk n of the content; *p_r points into the map
   and stays valid until the transaction ends or writes anything.
   QUEUE_NOTFOUND past the last chunk. */
int queue_content_chunk(struct queue_txn *t, uint64_t id, uint32_t n,
    const void **p_r, size_t *len_r);
/* queue_content_write - the whole content to fd (fsio_write); the chunks
   must add up to the message's size, else QUEUE_CORRUPT */
int queue_content_write(struct queue_txn *t, uint64_t id, int fd);
/* queue_get_transcript - the stored transcript into out (reset first);
   QUEUE_ERROR when it does not fit out's maximum */
int queue_get_transcript(struct queue_txn *t, uint64_t id, uint32_t idx,
    struct strbuf *out);

/* Changing */
/* queue_put_rcpt - store r (found by r->id, r->idx), moving its due entry
   to match its new state and next time; the recipient must exist (a
   corrupt stored one is replaced, its due entries found by a scan) */
int queue_put_rcpt(struct queue_txn *t, const struct queue_rcpt *r);
/* queue_put_transcript - store a recipient's last transcript (capped as
   the layout above says); the recipient must exist */
int queue_put_transcript(struct queue_txn *t, uint64_t id, uint32_t idx,
    const char *p, size_t n);
/* queue_set_held - hold (recipients pending/deferred -> held, due entries
   removed) or release (held -> pending, due now) a message */
int queue_set_held(struct queue_txn *t, uint64_t id, int held, int64_t now);
/* queue_delete - remove a message and everything that belongs to it
   (recipients, their due entries, content, transcripts, its dropped
   entry); works on a message whose records are corrupt, too */
int queue_delete(struct queue_txn *t, uint64_t id);

/* The due index */
/* queue_due_next - the first entry after *after (NULL: from the start)
   whose time is <= upto; QUEUE_NOTFOUND when there is none */
int queue_due_next(struct queue_txn *t, int64_t upto,
    const struct queue_due *after, struct queue_due *d_r);
/* queue_due_first - the earliest due time; QUEUE_NOTFOUND when none */
int queue_due_first(struct queue_txn *t, int64_t *when_r);

#endif
