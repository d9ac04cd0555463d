/*
 * task_dpd.c - liveness check (RFC 7296 2.4): an empty INFORMATIONAL
 * request after dpd_delay seconds without any authenticated message from
 * the gateway.  Its response (any protected response) proves the peer is
 * alive; running out of retransmits declares it dead, which ike.c turns
 * into removing the CHILD_SA and, with auto=start, re-establishing.
 */
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

const struct task task_dpd = {
    .name = "ike-dpd",
    .build_i = dpd_build,
    .process_i = dpd_process,
};
