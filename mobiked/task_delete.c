/*
 * task_delete.c - DELETE in both directions (RFC 7296 1.4.1, 3.11).
 *
 * Initiator: on `down` or shutdown we send D(IKE), which implicitly
 * deletes the CHILD_SA too; the response is an empty INFORMATIONAL.
 * Responder: the gateway's D(IKE) is answered with an empty response and
 * the SA dies; its D(ESP, spi) names the SPI it receives on (our
 * outbound) and is answered with D(ESP, our inbound SPI).  An empty
 * request is a liveness check and gets an empty response.
 */
#define LOG_TAG "ike"

#include <endian.h>
#include <string.h>

#include "common/log.h"
#include "mobiked/ike_task.h"

static int delete_build(struct ike_engine *e, struct ike_builder *b)
{
	struct ike_delete d;

	memset(&d, 0, sizeof(d));
	d.protocol = IKE_PROTO_IKE; /* 3.11: SPI size 0, no SPIs */
	ike_build_delete(b, &d);
	return b->failed ? -1 : 0;
}

static int delete_process(struct ike_engine *e, const struct ike_msg *m)
{
	return TASK_DONE;
}

const struct task task_delete = {
    .name = "ike-delete",
    .build_i = delete_build,
    .process_i = delete_process,
};

static int oneshot_build(struct ike_engine *e, struct ike_builder *b,
			 void *arg)
{
	return delete_build(e, b);
}

void delete_oneshot(struct ike_engine *e)
{
	if (e->sa.sk_out)
		exchange_send_oneshot(e, INFORMATIONAL, oneshot_build, NULL);
}

/* Does this D(ESP) name our CHILD_SA's outbound SPI? */
static bool names_our_child(const struct ike_engine *e,
			    const struct ike_delete *d)
{
	uint32_t be;

	if (d->protocol != IKE_PROTO_ESP || d->spi_size != 4 ||
	    !e->sa.child.installed)
		return false;
	for (unsigned i = 0; i < d->nspi; i++) {
		memcpy(&be, d->spis.p + 4u * i, 4);
		if (be32toh(be) == e->sa.child.spi_out)
			return true;
	}
	return false;
}

static void answer_child_delete(struct ike_engine *e, struct ike_builder *b)
{
	uint32_t be = htobe32(e->sa.child.spi_in);
	struct ike_delete d = {
	    .protocol = IKE_PROTO_ESP,
	    .spi_size = 4,
	    .nspi = 1,
	    .spis = {(const uint8_t *)&be, 4},
	};

	ike_build_delete(b, &d);
	log_info("gateway deleted CHILD_SA %08x_o", e->sa.child.spi_out);
	child_uninstall(e);
}

void info_respond(struct ike_engine *e, const struct ike_msg *m,
		  struct ike_builder *b, bool *kill_sa)
{
	for (unsigned i = 0; i < m->ndelete; i++) {
		if (m->del[i].protocol == IKE_PROTO_IKE) {
			/* 1.4.1: the response to D(IKE) is empty. */
			log_info("gateway deleted the IKE SA");
			*kill_sa = true;
			return;
		}
		if (names_our_child(e, &m->del[i]))
			answer_child_delete(e, b);
	}
	if (!m->ndelete && !m->nnotify)
		log_debug("liveness check from the gateway");
}
