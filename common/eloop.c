#define LOG_TAG "eloop"
#include "common/eloop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

#define MAX_EVENTS 32

/* epoll_data points at one of these, never at the fd number, so an event
 * still queued for a deleted fd finds a dead registration, not a new one. */
struct fdreg {
	int fd;
	bool dead;
	eloop_fd_cb cb;
	void *arg;
	struct fdreg *next;
};

struct eloop {
	int epfd, tfd, sfd;
	uint64_t tfd_due; /* what the timerfd is armed for; 0 = disarmed */
	struct fdreg *regs, *dead;
	struct timer **heap;
	size_t ntimers, cap;
	uint64_t seq;
	sigset_t sigmask;
	struct {
		eloop_sig_cb cb;
		void *arg;
	} sigs[NSIG];
	bool stopped;
	int code;
};

/* ---- timer heap, ordered by (due_ns, seq) ---- */

static bool before(const struct timer *a, const struct timer *b)
{
	return a->due_ns < b->due_ns ||
	       (a->due_ns == b->due_ns && a->seq < b->seq);
}

static void place(struct eloop *l, size_t i, struct timer *t)
{
	l->heap[i] = t;
	t->slot = i;
}

static void sift_up(struct eloop *l, size_t i)
{
	struct timer *t = l->heap[i];

	while (i > 0 && before(t, l->heap[(i - 1) / 2])) {
		place(l, i, l->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	place(l, i, t);
}

static void sift_down(struct eloop *l, size_t i)
{
	struct timer *t = l->heap[i];
	size_t c;

	while ((c = 2 * i + 1) < l->ntimers) {
		if (c + 1 < l->ntimers && before(l->heap[c + 1], l->heap[c]))
			c++;
		if (!before(l->heap[c], t))
			break;
		place(l, i, l->heap[c]);
		i = c;
	}
	place(l, i, t);
}

/* Restores heap order after the entry at i changed or was replaced. */
static void heap_fix(struct eloop *l, size_t i)
{
	if (i > 0 && before(l->heap[i], l->heap[(i - 1) / 2]))
		sift_up(l, i);
	else
		sift_down(l, i);
}

static void heap_push(struct eloop *l, struct timer *t)
{
	if (l->ntimers == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct timer **h = realloc(l->heap, cap * sizeof(*h));

		/* The API has no error path for arming, and a daemon that
		 * silently loses a retransmit or lifetime timer is worse
		 * than one that dies loudly. */
		if (!h) {
			log_err("out of memory for %zu timers", cap);
			abort();
		}
		l->heap = h;
		l->cap = cap;
	}
	place(l, l->ntimers++, t);
	sift_up(l, t->slot);
}

static void heap_remove(struct eloop *l, struct timer *t)
{
	size_t i = t->slot;

	t->slot = SIZE_MAX;
	if (i == --l->ntimers)
		return;
	place(l, i, l->heap[l->ntimers]);
	heap_fix(l, i);
}

/* ---- timers ---- */

void timer_init(struct timer *t, timer_cb cb, void *owner)
{
	*t = (struct timer){.cb = cb, .owner = owner, .slot = SIZE_MAX};
}

bool timer_armed(const struct timer *t)
{
	return t->slot != SIZE_MAX;
}

void timer_arm_at(struct eloop *l, struct timer *t, uint64_t due_ns)
{
	t->due_ns = due_ns;
	t->seq = l->seq++;
	if (timer_armed(t))
		heap_fix(l, t->slot);
	else
		heap_push(l, t);
}

void timer_arm_ns(struct eloop *l, struct timer *t, uint64_t ns)
{
	uint64_t now = mono_ns();

	timer_arm_at(l, t, ns > UINT64_MAX - now ? UINT64_MAX : now + ns);
}

void timer_arm_ms(struct eloop *l, struct timer *t, uint64_t ms)
{
	timer_arm_ns(l, t,
		     ms > UINT64_MAX / NS_PER_MS ? UINT64_MAX : ms * NS_PER_MS);
}

void timer_cancel(struct eloop *l, struct timer *t)
{
	/* Tolerates a timer that is idle or armed on another loop. */
	if (timer_armed(t) && t->slot < l->ntimers && l->heap[t->slot] == t)
		heap_remove(l, t);
}

uint64_t timer_remaining_ns(const struct timer *t)
{
	uint64_t now;

	if (!timer_armed(t))
		return 0;
	now = mono_ns();
	return t->due_ns > now ? t->due_ns - now : 0;
}

/* Compacts out the owner's timers and re-heapifies in O(n): removing them
 * one by one while scanning would move unscanned entries behind the scan. */
void eloop_cancel_owner(struct eloop *l, void *owner)
{
	size_t i, n = 0;

	for (i = 0; i < l->ntimers; i++) {
		if (l->heap[i]->owner == owner)
			l->heap[i]->slot = SIZE_MAX;
		else
			place(l, n++, l->heap[i]);
	}
	l->ntimers = n;
	for (i = n / 2; i-- > 0;)
		sift_down(l, i);
}

size_t eloop_timer_count(const struct eloop *l)
{
	return l->ntimers;
}

int eloop_check(const struct eloop *l)
{
	for (size_t i = 0; i < l->ntimers; i++) {
		if (l->heap[i]->slot != i)
			return -1;
		if (i > 0 && before(l->heap[i], l->heap[(i - 1) / 2]))
			return -1;
	}
	return 0;
}

bool eloop_has_timer(const struct eloop *l, const struct timer *t)
{
	return timer_armed(t) && t->slot < l->ntimers && l->heap[t->slot] == t;
}

/* Called only before sleeping: arms and cancels in callbacks cost nothing
 * until the loop is about to wait. */
static int sync_timerfd(struct eloop *l)
{
	struct itimerspec its = {0};
	uint64_t due = l->ntimers ? l->heap[0]->due_ns : 0;

	if (due == l->tfd_due)
		return 0;
	if (l->ntimers) {
		due = due ? due : 1; /* an all-zero it_value would disarm */
		its.it_value.tv_sec = (time_t)(due / NS_PER_S);
		its.it_value.tv_nsec = (long)(due % NS_PER_S);
	}
	if (timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
		log_err("timerfd_settime: %s", strerror(errno));
		return -1;
	}
	l->tfd_due = due;
	return 0;
}

/* Fires what was due when the round began; a timer armed by a callback has
 * a newer seq and waits for the next round, so "arm for now" cannot spin. */
static int run_timers(struct eloop *l)
{
	uint64_t now = mono_ns(), first_new = l->seq;
	int n = 0;

	while (l->ntimers && l->heap[0]->due_ns <= now &&
	       l->heap[0]->seq < first_new) {
		struct timer *t = l->heap[0];

		/* the callback may free t's owner: t is not touched after */
		heap_remove(l, t);
		t->cb(t->owner);
		n++;
	}
	return n;
}

/* ---- descriptors and signals ---- */

static struct fdreg *find_reg(struct eloop *l, int fd)
{
	struct fdreg *r;

	for (r = l->regs; r && r->fd != fd; r = r->next)
		;
	return r;
}

static int epoll_op(struct eloop *l, int op, int fd, uint32_t ev, void *ptr)
{
	struct epoll_event e = {.events = ev, .data.ptr = ptr};

	if (epoll_ctl(l->epfd, op, fd, &e) == 0)
		return 0;
	log_err("epoll_ctl(%d, fd %d): %s", op, fd, strerror(errno));
	return -1;
}

int eloop_add_fd(struct eloop *l, int fd, uint32_t events, eloop_fd_cb cb,
		 void *arg)
{
	struct fdreg *r;

	if (find_reg(l, fd)) {
		errno = EEXIST;
		return -1;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	*r = (struct fdreg){.fd = fd, .cb = cb, .arg = arg, .next = l->regs};
	if (epoll_op(l, EPOLL_CTL_ADD, fd, events, r) < 0) {
		free(r);
		return -1;
	}
	l->regs = r;
	return 0;
}

int eloop_mod_fd(struct eloop *l, int fd, uint32_t events)
{
	struct fdreg *r = find_reg(l, fd);

	if (!r) {
		errno = ENOENT;
		return -1;
	}
	return epoll_op(l, EPOLL_CTL_MOD, fd, events, r);
}

/* Freed only after the dispatch round: an event for it may still be queued
 * in the batch being dispatched. */
void eloop_del_fd(struct eloop *l, int fd)
{
	struct fdreg **pp, *r;

	for (pp = &l->regs; *pp && (*pp)->fd != fd; pp = &(*pp)->next)
		;
	if (!(r = *pp))
		return;
	*pp = r->next;
	/* EBADF/ENOENT just mean the caller closed the fd first. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	r->dead = true;
	r->next = l->dead;
	l->dead = r;
}

static void free_list(struct fdreg *r)
{
	while (r) {
		struct fdreg *next = r->next;

		free(r);
		r = next;
	}
}

int eloop_add_signal(struct eloop *l, int signo, eloop_sig_cb cb, void *arg)
{
	sigset_t one;
	int fd;

	if (signo <= 0 || signo >= NSIG || sigaddset(&l->sigmask, signo) < 0) {
		errno = EINVAL;
		return -1;
	}
	sigemptyset(&one);
	sigaddset(&one, signo);
	if (sigprocmask(SIG_BLOCK, &one, NULL) < 0)
		return -1;
	fd = signalfd(l->sfd, &l->sigmask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0) {
		log_err("signalfd: %s", strerror(errno));
		return -1;
	}
	/* &l->sfd is a tag no registration can equal */
	if (l->sfd < 0 && epoll_op(l, EPOLL_CTL_ADD, fd, EPOLLIN, &l->sfd)) {
		close(fd);
		return -1;
	}
	l->sfd = fd;
	l->sigs[signo].cb = cb;
	l->sigs[signo].arg = arg;
	return 0;
}

static int run_signals(struct eloop *l)
{
	struct signalfd_siginfo si;
	int n = 0;

	while (read(l->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo < NSIG && l->sigs[si.ssi_signo].cb) {
			l->sigs[si.ssi_signo].cb(l->sigs[si.ssi_signo].arg,
						 (int)si.ssi_signo);
			n++;
		}
	}
	return n;
}

static void drain_timerfd(struct eloop *l)
{
	uint64_t ticks;

	/* Expired ABSTIME timers are disarmed: make sync_timerfd re-arm. */
	if (read(l->tfd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks))
		l->tfd_due = 0;
}

static int dispatch(struct eloop *l, const struct epoll_event *ev, int nev)
{
	int n = 0;

	for (int i = 0; i < nev; i++) {
		struct fdreg *r = ev[i].data.ptr;

		if (r == NULL) {
			drain_timerfd(l);
		} else if ((void *)r == &l->sfd) {
			n += run_signals(l);
		} else if (!r->dead) {
			r->cb(r->arg, r->fd, ev[i].events);
			n++;
		}
	}
	return n;
}

/* ---- the loop ---- */

struct eloop *eloop_new(void)
{
	struct eloop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->sfd = -1;
	sigemptyset(&l->sigmask);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (l->epfd < 0 || l->tfd < 0 ||
	    epoll_op(l, EPOLL_CTL_ADD, l->tfd, EPOLLIN, NULL) < 0) {
		log_err("cannot create event loop: %s", strerror(errno));
		if (l->epfd >= 0)
			close(l->epfd);
		if (l->tfd >= 0)
			close(l->tfd);
		free(l);
		return NULL;
	}
	return l;
}

/* Leaves the signals blocked: unblocking one that is pending would run its
 * default action (often termination) during shutdown. */
void eloop_free(struct eloop *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->ntimers; i++)
		l->heap[i]->slot = SIZE_MAX;
	free(l->heap);
	free_list(l->regs);
	free_list(l->dead);
	if (l->sfd >= 0)
		close(l->sfd);
	close(l->tfd);
	close(l->epfd);
	free(l);
}

int eloop_run_once(struct eloop *l, int timeout_ms)
{
	struct epoll_event ev[MAX_EVENTS];
	int nev, n;

	if (sync_timerfd(l) < 0)
		return -1;
	nev = epoll_wait(l->epfd, ev, MAX_EVENTS, timeout_ms);
	if (nev < 0 && errno != EINTR) {
		log_err("epoll_wait: %s", strerror(errno));
		return -1;
	}
	n = dispatch(l, ev, nev < 0 ? 0 : nev);
	n += run_timers(l);
	free_list(l->dead);
	l->dead = NULL;
	return n;
}

int eloop_run(struct eloop *l)
{
	while (!l->stopped) {
		if (eloop_run_once(l, -1) < 0)
			return -1;
	}
	l->stopped = false; /* so the loop can be run again */
	return l->code;
}

void eloop_stop(struct eloop *l, int code)
{
	l->stopped = true;
	l->code = code;
}
