/*
 * qmgr.h - the parts of postern-qmgr, the queue manager.
 *
 * postern-qmgr owns the queue. Started by root it creates the queue and
 * run directories, takes the one-instance lock, and drops to mail_owner
 * before it opens the queue; started by another user it runs as that
 * user (privilege separation off, for tests and development).
 *
 * This queue manager picks up the maildrop (qmgr_pickup.c) from
 * one event loop (qmgr_loop.c); delivery scheduling joins it later.
 */
#ifndef POSTERN_QMGR_H
#define POSTERN_QMGR_H

#include <stdint.h>
#include <sys/types.h>

#include "address.h"
#include "layout.h"

struct config;
struct queue;
struct queue_txn;

struct qmgr {
	const char *config_dir;
	struct config *cfg;
	struct layout layout;
	struct queue *queue;
	uint64_t map_size;		/* the map size the queue was opened with */
	int foreground;
	int lock_fd;
	int trigger_fd;
	int signal_fd;
	struct pickup *pickup;
};

/* qmgr_pickup.c */
struct pickup;
struct pickup *pickup_new(struct qmgr *q);
void pickup_free(struct pickup **p);
/* pickup_start - recover after a restart: forget imported files that are
   gone, unlink imported files that are still there */
int pickup_start(struct pickup *p);
/* pickup_run - import everything in the maildrop; 0, or -1 when the queue
   refused (full, I/O): the files stay for the next run. *retry_r is the
   monotonic time (µs) before which a new run is pointless, or 0. */
int pickup_run(struct pickup *p, int64_t *retry_r);

/* qmgr_import.c: one maildrop file into an open write transaction */
enum import_status {
	IMPORT_OK,		/* added; *r describes it */
	IMPORT_SEEN,		/* imported before (a crash before unlink) */
	IMPORT_GONE,		/* the file vanished meanwhile */
	IMPORT_BAD,		/* refused: r->why says why */
	IMPORT_TEMP,		/* the queue refused: stop, retry later */
};
struct import_result {
	uint64_t id;
	long uid;
	uint64_t size;
	size_t nrcpt;
	char sender[ADDRESS_BUF];
	const char *why;
};
enum import_status import_file(struct queue_txn *t, int dirfd,
    const char *name, struct import_result *r);

/* qmgr_loop.c */
int qmgr_loop(struct qmgr *q);
/* qmgr_open_queue - open (or reopen) the queue with the configured size */
int qmgr_open_queue(struct qmgr *q);

#endif
