/*
 * task_delete.c - deleting the IKE SA (RFC 7296 1.4.1, 3.11), both ways.
 *
 * Initiator: on `down` or shutdown we send D(IKE), which implicitly
 * deletes the CHILD_SAs too; the response is an empty INFORMATIONAL.
 * Responder: the gateway's D(IKE) is answered with an empty response and
 * the SA dies once the answer is out (done_r).  CHILD_SA deletes are
 * task_child_delete.c.
 */
#define LOG_TAG "ike"

#include <string.h>

#include "common/log.h"
#include "mobiked/ike_task.h"

int delete_ike_build(struct ike_engine *e, struct ike_builder *b, void *arg)
{
	struct ike_delete d;

	memset(&d, 0, sizeof(d));
	d.protocol = IKE_PROTO_IKE; /* 3.11: SPI size 0, no SPIs */
	ike_build_delete(b, &d);
	return b->failed ? -1 : 0;
}

static int delete_build(struct ike_engine *e, struct ike_builder *b)
{
	return delete_ike_build(e, b, NULL);
}

static int delete_process(struct ike_engine *e, const struct ike_msg *m)
{
	return TASK_DONE;
}

/* 1.4.1: the response to D(IKE) is empty. */
static void delete_process_r(struct ike_engine *e, const struct ike_msg *m)
{
	for (unsigned i = 0; i < m->ndelete; i++)
		if (m->del[i].protocol == IKE_PROTO_IKE) {
			log_info("gateway deleted the IKE SA");
			e->ans.ike_deleted = true;
			return;
		}
}

/* Even unanswered: the gateway has deleted the SA already. */
static void delete_done_r(struct ike_engine *e, bool sent)
{
	if (e->ans.ike_deleted)
		engine_sa_dead(e, "deleted by the gateway");
}

const struct task task_delete = {
    .name = "ike-delete",
    .build_i = delete_build,
    .process_i = delete_process,
    .process_r = delete_process_r,
    .done_r = delete_done_r,
};

/* On the next Message ID, never that of a request still outstanding
 * (the gateway would take it for a retransmission of that one, 2.2). */
void delete_oneshot(struct ike_engine *e)
{
	if (!e->sa.sk_out)
		return;
	exchange_abandon(e, "deleting the IKE SA");
	exchange_send_oneshot(e, INFORMATIONAL, delete_ike_build, NULL);
}
