/* test_eloop.c - timer heap order, cancellation, fds, signals, idle sleep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/eloop.h"

#define MAX_ITEMS 10000

/* A timer owner that records when, and in which order, it fired. */
struct item {
	struct timer t;
	struct timer t2;
	int id;
	int fires;
	int limit; /* periodic: re-arm until fired this often */
	uint64_t period_ms;
	struct item *victim; /* cancelled from this one's callback */
};

static struct eloop *l;
#define MAX_FIRED (MAX_ITEMS + 16)
static struct item *order[MAX_FIRED];
static uint64_t dues[MAX_FIRED];
static size_t nfired;
static struct item items[MAX_ITEMS];

static void note(struct item *it, uint64_t due)
{
	it->fires++;
	if (nfired < MAX_FIRED) {
		dues[nfired] = due;
		order[nfired++] = it;
	}
}

static void record(void *owner)
{
	struct item *it = owner;

	note(it, it->t.due_ns);
}

static void record2(void *owner)
{
	struct item *it = owner;

	note(it, it->t2.due_ns);
}

static void periodic(void *owner)
{
	struct item *it = owner;

	record(it);
	if (it->fires < it->limit)
		timer_arm_ms(l, &it->t, it->period_ms);
	else
		eloop_stop(l, 7);
}

static void cancel_victim(void *owner)
{
	struct item *it = owner;

	record(it);
	timer_cancel(l, &it->victim->t);
}

static void arm_now(void *owner)
{
	struct item *it = owner;

	record(it);
	/* same (past) due time again: only seq keeps it out of this round */
	if (it->fires < 100)
		timer_arm_at(l, &it->t, it->t.due_ns);
}

static void stop_42(void *owner)
{
	eloop_stop(l, 42);
}

static uint64_t elapsed_ms(uint64_t since_ns)
{
	return (mono_ns() - since_ns) / NS_PER_MS;
}

static void init_items(size_t n, timer_cb cb)
{
	for (size_t i = 0; i < n; i++) {
		items[i] = (struct item){.id = (int)i};
		timer_init(&items[i].t, cb, &items[i]);
		timer_init(&items[i].t2, record2, &items[i]);
	}
}

/* Runs rounds until `want` callbacks fired or `max_ms` passed. */
static void run_until(size_t want, int max_ms)
{
	uint64_t t0 = mono_ns();

	while (nfired < want && elapsed_ms(t0) < (uint64_t)max_ms)
		assert_true(eloop_run_once(l, 10) >= 0);
}

static void sorted_by_due(void **state)
{
	static const int offs[] = {5, 1, 7, 3, 0, 6, 2, 4};
	uint64_t base = mono_ns() - 10 * NS_PER_MS;

	init_items(8, record);
	for (int i = 0; i < 8; i++)
		timer_arm_at(l, &items[offs[i]].t, base + (uint64_t)offs[i]);
	assert_int_equal(eloop_timer_count(l), 8);
	assert_int_equal(eloop_run_once(l, 100), 8);
	assert_int_equal(nfired, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(order[i]->id, i);
	assert_int_equal(eloop_timer_count(l), 0);
}

static void future_dues_sorted(void **state)
{
	static const int offs[] = {30, 10, 20, 5, 25, 15};

	init_items(6, record);
	for (int i = 0; i < 6; i++)
		timer_arm_ms(l, &items[i].t, (uint64_t)offs[i]);
	run_until(6, 500);
	assert_int_equal(nfired, 6);
	for (size_t i = 1; i < 6; i++)
		assert_true(order[i - 1]->t.due_ns <= order[i]->t.due_ns);
	assert_int_equal(order[0]->id, 3);
	assert_int_equal(order[5]->id, 0);
}

static void equal_due_in_arm_order(void **state)
{
	static const int arm[] = {3, 1, 4, 0, 2};
	uint64_t due = mono_ns();

	init_items(5, record);
	for (int i = 0; i < 5; i++)
		timer_arm_at(l, &items[arm[i]].t, due);
	assert_int_equal(eloop_run_once(l, 100), 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(order[i]->id, arm[i]);
}

static void cancel_before_due(void **state)
{
	init_items(2, record);
	timer_arm_ms(l, &items[0].t, 5);
	timer_arm_ms(l, &items[1].t, 20);
	timer_cancel(l, &items[0].t);
	assert_false(timer_armed(&items[0].t));
	timer_cancel(l, &items[0].t); /* idle: no-op */
	assert_int_equal(eloop_timer_count(l), 1);
	run_until(1, 500);
	assert_int_equal(nfired, 1);
	assert_int_equal(order[0]->id, 1);
	assert_int_equal(items[0].fires, 0);
}

static void cancel_in_same_round(void **state)
{
	uint64_t due = mono_ns() - NS_PER_MS;

	init_items(3, record);
	items[0].t.cb = cancel_victim;
	items[0].victim = &items[1];
	timer_arm_at(l, &items[0].t, due);
	timer_arm_at(l, &items[1].t, due + 1);
	timer_arm_at(l, &items[2].t, due + 2);
	assert_int_equal(eloop_run_once(l, 100), 2);
	assert_int_equal(items[1].fires, 0);
	assert_int_equal(items[2].fires, 1);
	assert_int_equal(eloop_timer_count(l), 0);
}

static void periodic_rearm(void **state)
{
	uint64_t t0 = mono_ns(), ms;

	init_items(1, periodic);
	items[0].limit = 5;
	items[0].period_ms = 20;
	timer_arm_ms(l, &items[0].t, 20);
	assert_int_equal(eloop_run(l), 7);
	ms = elapsed_ms(t0);
	assert_int_equal(items[0].fires, 5);
	assert_true(ms >= 100);
	assert_true(ms < 250);
	assert_false(timer_armed(&items[0].t));
}

static void arm_for_now_does_not_spin(void **state)
{
	init_items(1, arm_now);
	timer_arm_at(l, &items[0].t, mono_ns() - NS_PER_MS);
	assert_int_equal(eloop_run_once(l, 100), 1);
	assert_true(timer_armed(&items[0].t));
	assert_int_equal(eloop_run_once(l, 100), 1);
	assert_int_equal(items[0].fires, 2);
	timer_cancel(l, &items[0].t);
}

static void rearm_moves(void **state)
{
	uint64_t t0;

	init_items(1, record);
	timer_arm_ms(l, &items[0].t, 1000);
	timer_arm_ms(l, &items[0].t, 10);
	assert_int_equal(eloop_timer_count(l), 1);
	assert_true(timer_remaining_ns(&items[0].t) <= 10 * NS_PER_MS);
	t0 = mono_ns();
	run_until(1, 500);
	assert_true(elapsed_ms(t0) < 200);
	assert_int_equal(items[0].fires, 1);
	assert_int_equal(eloop_timer_count(l), 0);
	/* and later: moving it out keeps it from firing early */
	timer_arm_ms(l, &items[0].t, 5);
	timer_arm_ms(l, &items[0].t, 1000);
	assert_int_equal(eloop_run_once(l, 30), 0);
	assert_int_equal(items[0].fires, 1);
}

static void cancel_owner_only_that_owner(void **state)
{
	uint64_t due = mono_ns() - NS_PER_MS;

	init_items(40, record);
	for (int i = 0; i < 40; i++) {
		timer_arm_at(l, &items[i].t, due - (uint64_t)(i * 7919 % 40));
		timer_arm_at(l, &items[i].t2, due - (uint64_t)(i * 31 % 40));
	}
	assert_int_equal(eloop_timer_count(l), 80);
	for (int i = 0; i < 40; i += 3)
		eloop_cancel_owner(l, &items[i]);
	assert_int_equal(eloop_timer_count(l), 80 - 2 * 14);
	for (int i = 0; i < 40; i++) {
		assert_int_equal(timer_armed(&items[i].t), i % 3 != 0);
		assert_int_equal(timer_armed(&items[i].t2), i % 3 != 0);
	}
	eloop_cancel_owner(l, &items[0]); /* nothing left: no-op */
	assert_int_equal(eloop_run_once(l, 100), 52);
	for (size_t i = 1; i < nfired; i++) /* the re-heapify kept order */
		assert_true(dues[i - 1] <= dues[i]);
	for (int i = 0; i < 40; i++)
		assert_int_equal(items[i].fires, i % 3 ? 2 : 0);
}

static void remaining_and_count(void **state)
{
	uint64_t rem;

	init_items(2, record);
	assert_int_equal(timer_remaining_ns(&items[0].t), 0);
	timer_arm_ms(l, &items[0].t, 500);
	rem = timer_remaining_ns(&items[0].t);
	assert_true(rem <= 500 * NS_PER_MS);
	assert_true(rem > 400 * NS_PER_MS);
	timer_arm_at(l, &items[1].t, mono_ns() - NS_PER_MS);
	assert_int_equal(timer_remaining_ns(&items[1].t), 0);
	assert_int_equal(eloop_timer_count(l), 2);
	timer_cancel(l, &items[0].t);
	assert_int_equal(timer_remaining_ns(&items[0].t), 0);
	assert_int_equal(eloop_timer_count(l), 1);
}

/* ---- descriptors ---- */

static int fd_calls, last_fd;
static uint32_t last_events;
static int pipes[2][2];

static void on_read(void *arg, int fd, uint32_t events)
{
	char c;

	fd_calls++;
	last_fd = fd;
	last_events = events;
	assert_int_equal(read(fd, &c, 1), 1);
}

static void on_never(void *arg, int fd, uint32_t events)
{
	fail_msg("callback for fd %d after it was deleted", fd);
}

/* Deletes and closes the other pipe, then reuses its fd number. */
static void del_other(void *arg, int fd, uint32_t events)
{
	int *other = pipes[fd == pipes[0][0] ? 1 : 0];
	int old = other[0];

	fd_calls++;
	eloop_del_fd(l, old);
	close(other[0]);
	close(other[1]);
	assert_int_equal(pipe2(other, O_CLOEXEC), 0);
	assert_int_equal(other[0], old); /* lowest free number: reused */
	assert_int_equal(eloop_add_fd(l, other[0], EPOLLIN, on_never, NULL), 0);
	eloop_del_fd(l, fd); /* and itself, with its own event being run */
}

static void open_pipes(void)
{
	assert_int_equal(pipe2(pipes[0], O_CLOEXEC), 0);
	assert_int_equal(pipe2(pipes[1], O_CLOEXEC), 0);
}

static void close_pipes(void)
{
	for (int i = 0; i < 4; i++)
		close(pipes[i / 2][i % 2]);
}

static void fd_readable(void **state)
{
	open_pipes();
	fd_calls = 0;
	assert_int_equal(eloop_add_fd(l, pipes[0][0], EPOLLIN, on_read, NULL),
			 0);
	assert_int_equal(eloop_add_fd(l, pipes[0][0], EPOLLIN, on_read, NULL),
			 -1);
	assert_int_equal(eloop_run_once(l, 0), 0);
	assert_int_equal(write(pipes[0][1], "x", 1), 1);
	assert_int_equal(eloop_run_once(l, 100), 1);
	assert_int_equal(last_fd, pipes[0][0]);
	assert_true(last_events & EPOLLIN);
	/* mod to no events: readable but not reported */
	assert_int_equal(eloop_mod_fd(l, pipes[0][0], 0), 0);
	assert_int_equal(write(pipes[0][1], "y", 1), 1);
	assert_int_equal(eloop_run_once(l, 20), 0);
	assert_int_equal(eloop_mod_fd(l, pipes[0][0], EPOLLIN), 0);
	assert_int_equal(eloop_run_once(l, 100), 1);
	assert_int_equal(eloop_mod_fd(l, pipes[1][0], EPOLLIN), -1);
	eloop_del_fd(l, pipes[0][0]);
	eloop_del_fd(l, pipes[0][0]); /* twice: no-op */
	assert_int_equal(fd_calls, 2);
	close_pipes();
}

static void del_fd_with_pending_event(void **state)
{
	open_pipes();
	fd_calls = 0;
	assert_int_equal(eloop_add_fd(l, pipes[0][0], EPOLLIN, del_other, NULL),
			 0);
	assert_int_equal(eloop_add_fd(l, pipes[1][0], EPOLLIN, del_other, NULL),
			 0);
	assert_int_equal(write(pipes[0][1], "x", 1), 1);
	assert_int_equal(write(pipes[1][1], "x", 1), 1);
	/* Both are in one epoll batch; whichever runs first deletes the
	 * other, whose queued event must be dropped, not run. */
	assert_int_equal(eloop_run_once(l, 100), 1);
	assert_int_equal(fd_calls, 1);
	/* the replacement fd (on_never) is registered but idle */
	assert_int_equal(eloop_run_once(l, 10), 0);
	eloop_del_fd(l, pipes[0][0]);
	eloop_del_fd(l, pipes[1][0]);
	close_pipes();
}

/* ---- signals, stop, idle ---- */

static int sig_seen;

static void on_signal(void *arg, int signo)
{
	sig_seen = signo;
	*(int *)arg += 1;
}

static void signal_delivered(void **state)
{
	int calls = 0;

	assert_int_equal(eloop_add_signal(l, SIGUSR1, on_signal, &calls), 0);
	assert_int_equal(eloop_add_signal(l, SIGUSR2, on_signal, &calls), 0);
	assert_int_equal(eloop_add_signal(l, 0, on_signal, &calls), -1);
	assert_int_equal(raise(SIGUSR1), 0);
	assert_int_equal(eloop_run_once(l, 100), 1);
	assert_int_equal(sig_seen, SIGUSR1);
	assert_int_equal(raise(SIGUSR2), 0);
	assert_int_equal(eloop_run_once(l, 100), 1);
	assert_int_equal(sig_seen, SIGUSR2);
	assert_int_equal(calls, 2);
}

static void stop_returns_code(void **state)
{
	struct timer t;

	timer_init(&t, stop_42, NULL);
	timer_arm_ms(l, &t, 1);
	assert_int_equal(eloop_run(l), 42);
}

static void idle_sleeps(void **state)
{
	uint64_t t0, ms;

	open_pipes();
	assert_int_equal(eloop_add_fd(l, pipes[0][0], EPOLLIN, on_never, NULL),
			 0);
	t0 = mono_ns();
	assert_int_equal(eloop_run_once(l, 200), 0);
	ms = elapsed_ms(t0);
	assert_true(ms >= 195 && ms < 300);

	/* a timer 1 s away: the timerfd must not wake us early */
	init_items(2, record);
	timer_arm_ms(l, &items[0].t, 1000);
	t0 = mono_ns();
	assert_int_equal(eloop_run_once(l, 50), 0);
	assert_true(elapsed_ms(t0) >= 45);
	/* moving it earlier re-arms the timerfd for the new time */
	timer_arm_ms(l, &items[0].t, 60);
	t0 = mono_ns();
	assert_int_equal(eloop_run_once(l, -1), 1);
	ms = elapsed_ms(t0);
	assert_true(ms >= 55 && ms < 200);

	/* cancelled before it fires: the timerfd is disarmed, no wakeup */
	timer_arm_ms(l, &items[1].t, 20);
	assert_int_equal(eloop_run_once(l, 0), 0); /* arms the timerfd */
	timer_cancel(l, &items[1].t);
	t0 = mono_ns();
	assert_int_equal(eloop_run_once(l, 100), 0);
	assert_true(elapsed_ms(t0) >= 95);
	eloop_del_fd(l, pipes[0][0]);
	close_pipes();
}

static void fds_close_on_exec(void **state)
{
	struct eloop *l2;
	bool open_before[256];
	int flags;

	for (int fd = 0; fd < 256; fd++)
		open_before[fd] = fcntl(fd, F_GETFD) >= 0;
	l2 = eloop_new();
	assert_non_null(l2);
	assert_int_equal(eloop_add_signal(l2, SIGUSR1, on_signal, NULL), 0);
	for (int fd = 0; fd < 256; fd++) {
		flags = fcntl(fd, F_GETFD);
		if (flags >= 0 && !open_before[fd])
			assert_true(flags & FD_CLOEXEC);
	}
	eloop_free(l2);
}

static void free_leaves_timers_idle(void **state)
{
	struct eloop *l2 = eloop_new();

	init_items(1, record);
	timer_arm_ms(l2, &items[0].t, 1000);
	eloop_free(l2);
	assert_false(timer_armed(&items[0].t));
}

static void heap_stress(void **state)
{
	uint64_t now = mono_ns(), span = now / 2;
	size_t armed = 0;

	srand(12345);
	init_items(MAX_ITEMS, record);
	for (int i = 0; i < MAX_ITEMS; i++)
		timer_arm_at(l, &items[i].t, now - (uint64_t)rand() % span);
	for (int i = 0; i < MAX_ITEMS; i++) {
		struct item *it = &items[rand() % MAX_ITEMS];

		if (rand() % 3 == 0)
			timer_cancel(l, &it->t);
		else if (rand() % 5 == 0)
			eloop_cancel_owner(l, it);
		else if (rand() % 4 == 0) /* move: may repeat a due time */
			timer_arm_at(l, &it->t, now - (uint64_t)rand() % 1000);
	}
	for (int i = 0; i < MAX_ITEMS; i++)
		armed += timer_armed(&items[i].t);
	assert_int_equal(eloop_timer_count(l), armed);
	assert_int_equal(eloop_run_once(l, 100), (int)armed);
	assert_int_equal(nfired, armed);
	for (size_t i = 1; i < nfired; i++) {
		const struct timer *a = &order[i - 1]->t, *b = &order[i]->t;

		assert_true(a->due_ns < b->due_ns ||
			    (a->due_ns == b->due_ns && a->seq < b->seq));
	}
	for (int i = 0; i < MAX_ITEMS; i++)
		assert_true(items[i].fires <= 1);
}

static int setup(void **state)
{
	nfired = 0;
	l = eloop_new();
	return l ? 0 : -1;
}

static int teardown(void **state)
{
	eloop_free(l);
	l = NULL;
	return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(sorted_by_due),
	    T(future_dues_sorted),
	    T(equal_due_in_arm_order),
	    T(cancel_before_due),
	    T(cancel_in_same_round),
	    T(periodic_rearm),
	    T(arm_for_now_does_not_spin),
	    T(rearm_moves),
	    T(cancel_owner_only_that_owner),
	    T(remaining_and_count),
	    T(fd_readable),
	    T(del_fd_with_pending_event),
	    T(signal_delivered),
	    T(stop_returns_code),
	    T(idle_sleeps),
	    T(fds_close_on_exec),
	    T(free_leaves_timers_idle),
	    T(heap_stress),
	};

	return cmocka_run_group_tests_name("eloop", tests, NULL, NULL);
}
