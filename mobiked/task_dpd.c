/*
 * task_dpd.c - liveness check (RFC 7296 2.4), both ways.
 *
 * Initiator: an empty INFORMATIONAL request after dpd_delay seconds
 * without any authenticated message from the gateway.  Its response (any
 * protected response) proves the peer is alive; running out of
 * retransmits declares it dead, which ike.c turns into removing the
 * CHILD_SA and, with start_action = "start", re-establishing.
 * Responder: the gateway's empty INFORMATIONAL is its liveness check and
 * gets an empty answer (built by nobody: the exchange code seals it).
 */
#define LOG_TAG "ike"

#include "common/log.h"
#include "mobiked/ike_task.h"

/* The request is an SK payload with nothing inside. */
static int dpd_build(struct ike_engine *e, struct ike_builder *b)
{
	return 0;
}

/* Anything authenticated is an answer; notifies in it are not ours. */
static int dpd_process(struct ike_engine *e, const struct ike_msg *m)
{
	return TASK_DONE;
}

static void dpd_process_r(struct ike_engine *e, const struct ike_msg *m)
{
	if (!m->ndelete && !m->nnotify)
		log_debug("liveness check from the gateway");
}

const struct task task_dpd = {
    .name = "ike-dpd",
    .build_i = dpd_build,
    .process_i = dpd_process,
    .process_r = dpd_process_r,
};
