/*
 * qview_impl.h - what the parts of the views share (private to
 * common/qview*.c): the JSON of a message and of a recipient, and two
 * small predicates.
 */
#ifndef POSTERN_QVIEW_IMPL_H
#define POSTERN_QVIEW_IMPL_H

#include "qview.h"


/* qview_active - a job for message id is in flight (v->active) */
int qview_active(const struct qview *v, uint64_t id);
/* qview_waiting - the recipient has an attempt ahead */
int qview_waiting(const struct queue_rcpt *r);
/* qview_json_head - a message object up to its recipients' array */
void qview_json_head(struct strbuf *out, const struct queue_msg *m,
    int active);
/* qview_json_rcpt - one recipient; full: with the give-up time and the
   planned retries, and (t not NULL) the last transcript */
void qview_json_rcpt(const struct qview *v, struct strbuf *out,
    const struct queue_msg *m, const struct queue_rcpt *r, int full,
    struct queue_txn *t);
/* the steps of show and show --content (qview_show.c): QV_MORE, QV_DONE,
   QV_NOMSG, QV_DENIED or a queue status */
int qview_step_show(struct qview *v, struct queue_txn *t,
    struct strbuf *out, size_t end);
int qview_step_content(struct qview *v, struct queue_txn *t,
    struct strbuf *out, size_t end);

#endif
