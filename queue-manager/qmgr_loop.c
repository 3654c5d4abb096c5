/*
 * qmgr_loop - the queue manager's one event loop.
 *
 * Waits with poll(2) on the trigger FIFO and a signalfd (SIGTERM, SIGINT:
 * stop; SIGHUP: reload the configuration). Pickup runs when the FIFO is
 * poked and, as a safety net against lost wake-ups, every minute, after
 * clearing the LMDB reader slots of dead processes. After
 * a temporary failure (queue full) pickup waits before trying again, so
 * a full queue does not turn into a busy loop. The FIFO is opened
 * read-write so that it never reports end of file when the last writer
 * goes away.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "config.h"
#include "die.h"
#include "exitcodes.h"
#include "log.h"
#include "qmgr.h"
#include "queue.h"
#include "timeutil.h"

#define SCAN_INTERVAL (60 * 1000000LL)

/* qmgr_open_queue - open the queue at the configured map size */
int qmgr_open_queue(struct qmgr *q)
{
	char err[512];
	uint64_t size = config_size(q->cfg, CK_queue_map_size);

	if (q->queue != NULL)
		queue_close(&q->queue);
	if (queue_open(&q->queue, q->layout.db, size, QUEUE_CREATE, err,
	    sizeof(err)) != QUEUE_OK) {
		log_error("cannot open the queue in %s: %s", q->layout.db, err);
		return -1;
	}
	q->map_size = size;
	return 0;
}

/* open_fds - the trigger FIFO and the signalfd */
static void open_fds(struct qmgr *q)
{
	sigset_t set;

	q->trigger_fd = open(q->layout.trigger, O_RDWR | O_NONBLOCK |
	    O_NOFOLLOW | O_CLOEXEC);
	if (q->trigger_fd < 0)
		die_perm(EX_OSERR, "cannot open %s: %s", q->layout.trigger,
		    strerror(errno));
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	q->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (q->signal_fd < 0)
		die_perm(EX_OSERR, "signalfd: %s", strerror(errno));
}

/* reload - SIGHUP: a new configuration, and a new map size if it changed */
static void reload(struct qmgr *q)
{
	struct config *cfg;
	char err[512];

	if (config_load(&cfg, q->config_dir, err, sizeof(err)) < 0) {
		log_error("reload refused, keeping the old configuration: %s",
		    err);
		return;
	}
	config_free(&q->cfg);
	q->cfg = cfg;
	log_open("qmgr", q->cfg, q->foreground);
	if (config_size(cfg, CK_queue_map_size) != q->map_size &&
	    qmgr_open_queue(q) < 0)
		die_temp("cannot reopen the queue after reload");
	log_info("configuration reloaded");
}

/* drain - empty the FIFO; any byte means "look at the maildrop" */
static void drain(int fd)
{
	char buf[512];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* on_signals - SIG_STOP when the loop must stop, SIG_RELOADED after a
   reload, else 0 */
enum { SIG_STOP = 1, SIG_RELOADED = 2 };
static int on_signals(struct qmgr *q)
{
	struct signalfd_siginfo si;
	int what = 0;

	while (read(q->signal_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload(q);
			what |= SIG_RELOADED;
		} else {
			what |= SIG_STOP;
		}
	}
	return what;
}

/* wait_ms - poll timeout until the next scan or retry */
static int wait_ms(int64_t next)
{
	int64_t d = next - timeutil_monotonic();

	if (d <= 0)
		return 0;
	return d / 1000 > 60000 ? 60000 : (int)(d / 1000) + 1;
}

/* stop_wait - SIGTERM: wait up to shutdown_timeout for jobs in flight;
   their results are recorded, what is left stays due */
static void stop_wait(struct qmgr *q)
{
	int64_t until = timeutil_monotonic() +
	    config_duration(q->cfg, CK_shutdown_timeout) * 1000000;
	struct pollfd pfd[512];
	size_t n;

	q->stopping = 1;
	while (sched_busy(q->sched) > 0 && timeutil_monotonic() < until) {
		n = sched_pollfds(q->sched, pfd, 512);
		if (poll(pfd, n, 100) > 0)
			sched_ready(q->sched, pfd, n);
	}
	if (sched_busy(q->sched) > 0)
		log_warn("stopping with %zu jobs in flight; their recipients "
		    "will be tried again", sched_busy(q->sched));
}

/* turn - one wait for events and what follows; 1 when told to stop */
static int turn(struct qmgr *q, int64_t *pick, int64_t *retry, int64_t *due)
{
	struct pollfd pfd[2 + 512 + 32];
	int64_t wake = *pick < *due ? *pick : *due;
	size_t n, nc;
	int what;

	pfd[0].fd = q->trigger_fd;
	pfd[1].fd = q->signal_fd;
	pfd[0].events = pfd[1].events = POLLIN;
	pfd[0].revents = pfd[1].revents = 0;
	n = sched_pollfds(q->sched, pfd + 2, 512);
	nc = control_pollfds(q->control, pfd + 2 + n, 32);
	if (poll(pfd, 2 + n + nc, wait_ms(wake)) < 0 && errno != EINTR)
		die_temp("poll: %s", strerror(errno));
	if (pfd[1].revents & POLLIN) {
		what = on_signals(q);
		if (what & SIG_STOP)
			return 1;
		if (what & SIG_RELOADED) {
			*pick = *retry = 0;
			sched_reload(q->sched);
		}
	}
	if (pfd[0].revents & POLLIN) {
		drain(q->trigger_fd);
		if (*retry == 0 || timeutil_monotonic() >= *retry)
			*pick = 0;
	}
	sched_ready(q->sched, pfd + 2, n);
	control_ready(q->control, pfd + 2 + n, nc);
	return 0;
}

/* qmgr_loop - run until told to stop */
int qmgr_loop(struct qmgr *q)
{
	int64_t pick = 0, retry = 0, due = 0;

	open_fds(q);
	if ((q->pickup = pickup_new(q)) == NULL || pickup_start(q->pickup) < 0)
		die_temp("cannot start pickup");
	if ((q->sched = sched_new(q)) == NULL)
		die_temp("cannot start the scheduler");
	if ((q->control = control_open(q)) == NULL)
		die_temp("cannot start the control socket");
	log_info("started, queue %s", q->layout.queue);
	for (;;) {
		if (timeutil_monotonic() >= pick) {
			/* Readers killed without ending their transaction
			   (posternctl, say) would pin old pages for ever. */
			queue_reader_check(q->queue);
			if (pickup_run(q->pickup, &retry) >= 0)
				sched_kick(q->sched);
			pick = retry ? retry : timeutil_monotonic() +
			    SCAN_INTERVAL;
		}
		if (sched_kicked(q->sched) || timeutil_monotonic() >= due)
			sched_run(q->sched, &due);
		if (turn(q, &pick, &retry, &due))
			break;
	}
	log_info("stopping");
	control_close(&q->control);
	stop_wait(q);
	sched_free(&q->sched);
	pickup_free(&q->pickup);
	queue_close(&q->queue);
	config_free(&q->cfg);
	return EX_OK;
}
