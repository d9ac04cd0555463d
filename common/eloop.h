/*
 * eloop.h - the one event loop of a daemon: epoll for descriptors, a single
 * timerfd for all timers, signalfd for signals.  No threads, no busy polling:
 * an idle loop sleeps in epoll_wait until a descriptor, timer or signal fires.
 *
 * Timers are embedded in their owners (no allocation per arm) and keyed by
 * (callback, owner): arming an armed timer moves it, and entering a new state
 * can drop every timer of an object with eloop_cancel_owner().  Timers due at
 * the same instant fire in the order they were armed.
 */
#ifndef COMMON_ELOOP_H
#define COMMON_ELOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct eloop;

typedef void (*timer_cb)(void *owner);

struct timer {
	timer_cb cb;
	void *owner;
	uint64_t due_ns; /* monotonic */
	uint64_t seq;	 /* arm order, breaks ties between equal due times */
	size_t slot;	 /* index in the loop's heap; SIZE_MAX when idle */
};

typedef void (*eloop_fd_cb)(void *arg, int fd, uint32_t events);
typedef void (*eloop_sig_cb)(void *arg, int signo);

struct eloop *eloop_new(void);
void eloop_free(struct eloop *l);

/* events: EPOLLIN / EPOLLOUT...; one registration per fd. */
int eloop_add_fd(struct eloop *l, int fd, uint32_t events, eloop_fd_cb cb,
		 void *arg);
int eloop_mod_fd(struct eloop *l, int fd, uint32_t events);
/* Safe from inside any callback, including for an fd with a pending event. */
void eloop_del_fd(struct eloop *l, int fd);

/* Blocks signo for the process and delivers it through the loop. */
int eloop_add_signal(struct eloop *l, int signo, eloop_sig_cb cb, void *arg);

void timer_init(struct timer *t, timer_cb cb, void *owner);
void timer_arm_ms(struct eloop *l, struct timer *t, uint64_t ms);
void timer_arm_ns(struct eloop *l, struct timer *t, uint64_t ns);
void timer_arm_at(struct eloop *l, struct timer *t, uint64_t due_ns);
void timer_cancel(struct eloop *l, struct timer *t);
bool timer_armed(const struct timer *t);
/* Nanoseconds until the timer fires; 0 if due or idle. */
uint64_t timer_remaining_ns(const struct timer *t);
/* Cancels every armed timer whose owner is `owner`. */
void eloop_cancel_owner(struct eloop *l, void *owner);
size_t eloop_timer_count(const struct eloop *l);
/* For tests: 0 when the heap is consistent (every entry's slot points back
 * at it, parents due no later than children), else -1.  And whether t is
 * really in l's heap, not just marked armed. */
int eloop_check(const struct eloop *l);
bool eloop_has_timer(const struct eloop *l, const struct timer *t);

/* Runs until eloop_stop(); returns the code passed to it. */
int eloop_run(struct eloop *l);
void eloop_stop(struct eloop *l, int code);
/* One wait + dispatch round, at most timeout_ms (-1: no limit).  Returns the
 * number of callbacks run, or -1 on error.  For tests and embedding. */
int eloop_run_once(struct eloop *l, int timeout_ms);

#endif
