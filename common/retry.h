/*
 * retry - the retry schedule: when postern tries a deferred recipient
 * again and when it gives up. One definition for the queue manager
 * (which applies it) and posternctl show (which predicts it).
 *
 * After a recipient's n-th failed attempt its next one is
 * retry_schedule[n-1] later (the queue manager adds up to 10% jitter
 * either way). It gives up, failing with the last attempt's status, when
 * an attempt fails and either the schedule is used up (more attempts
 * than entries) or max_queue_lifetime (bounce_queue_lifetime for a
 * notice) has passed since arrival.
 */
#ifndef POSTERN_RETRY_H
#define POSTERN_RETRY_H

#include <stddef.h>
#include <stdint.h>

/* The most planned attempts anyone asks for (show, notices). */
#define RETRY_TIMELINE_MAX 64

struct config;
struct queue_msg;
struct queue_rcpt;

/* retry_gives_up - r has just failed an attempt (its attempts counted)
   at now: no attempt is left */
int retry_gives_up(const struct config *cfg, const struct queue_msg *m,
    const struct queue_rcpt *r, int64_t now);

/* retry_timeline - the attempts still ahead of a pending or deferred
   recipient, as planned (without jitter): v[0] is r->next, and the last
   one written is the attempt after which postern gives up if it fails
   too. At most max times; how many were written (0 for a recipient that
   is not waiting). */
size_t retry_timeline(const struct config *cfg, const struct queue_msg *m,
    const struct queue_rcpt *r, int64_t *v, size_t max);

#endif
