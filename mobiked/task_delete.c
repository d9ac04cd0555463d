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

/* 1.4.1: D(ESP) names the SPIs the gateway receives on (our outbound);
 * the answer names our inbound SPIs of the same SAs, which go now.  After
 * a rekey this is how the replaced SA leaves (make-before-break). */
static void child_deletes(struct ike_engine *e, const struct ike_delete *d,
			  struct ike_builder *b)
{
	uint8_t spis[4 * IKE_OLD_CHILDREN + 4];
	struct ike_delete ans = {.protocol = IKE_PROTO_ESP, .spi_size = 4};
	struct ike_child *ch;
	uint32_t be;

	if (d->protocol != IKE_PROTO_ESP || d->spi_size != 4)
		return;
	for (unsigned i = 0; i < d->nspi; i++) {
		memcpy(&be, d->spis.p + 4u * i, 4);
		ch = child_by_spi_out(e, be32toh(be));
		if (!ch || ans.nspi >= IKE_OLD_CHILDREN + 1)
			continue;
		be = htobe32(ch->spi_in);
		memcpy(spis + 4u * ans.nspi++, &be, 4);
		log_info("gateway deleted CHILD_SA %08x_o", ch->spi_out);
		child_remove(e, ch->spi_in);
	}
	if (!ans.nspi)
		return;
	ans.spis = (struct ike_chunk){spis, 4u * ans.nspi};
	ike_build_delete(b, &ans);
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
		child_deletes(e, &m->del[i], b);
	}
	if (!m->ndelete && !m->nnotify)
		log_debug("liveness check from the gateway");
}
