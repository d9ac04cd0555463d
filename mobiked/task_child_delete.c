/*
 * task_child_delete.c - deleting CHILD_SAs (RFC 7296 1.4.1), both ways.
 *
 * Initiator: after a rekey (task_rekey.c) the replaced SA, or after a
 * collision the redundant one, is queued with child_delete_later() and
 *   INFORMATIONAL  HDR, SK {D(ESP, our inbound SPIs)}  <- D(ESP, ...)
 * removes them from the data plane once answered (make-before-break).
 * Responder: the gateway's D(ESP) names the SPIs it receives on (our
 * outbound); the answer names our inbound SPIs of the same SAs, which go
 * once it is out (done_r): unanswered, the gateway keeps them and asks
 * again.  A request that also deletes the IKE SA deletes every CHILD_SA
 * with it (task_delete.c) and is answered empty.
 */
#define LOG_TAG "ike"

#include <errno.h>

#include "common/buf.h"
#include "common/log.h"
#include "mobiked/ike_task.h"

static const struct task *const del_tasks[] = {&task_child_delete};

static void build_spis(struct ike_builder *b, const uint32_t *spi_in,
		       unsigned n)
{
	uint8_t spis[4 * (IKE_OLD_CHILDREN + 1)];
	struct ike_delete d = {.protocol = IKE_PROTO_ESP, .spi_size = 4};
	struct wbuf w;

	wb_init(&w, spis, sizeof(spis));
	for (unsigned i = 0; i < n; i++)
		wb_u32(&w, spi_in[i]);
	d.nspi = (uint16_t)(w.len / 4);
	d.spis = (struct ike_chunk){spis, w.len};
	ike_build_delete(b, &d);
}

/* --- initiator ----------------------------------------------------------- */

void child_delete_later(struct ike_engine *e, uint32_t spi_in)
{
	if (child_by_spi_in(e, spi_in) && e->rk.ndel < IKE_OLD_CHILDREN + 1)
		e->rk.del_spi_in[e->rk.ndel++] = spi_in;
}

static int cdel_build(struct ike_engine *e, struct ike_builder *b)
{
	build_spis(b, e->rk.del_spi_in, e->rk.ndel);
	return b->failed ? -1 : 0;
}

/* The answer names the gateway's inbound SPIs of the same SAs; whatever
 * it says, ours go now. */
static int cdel_process(struct ike_engine *e, const struct ike_msg *m)
{
	for (unsigned i = 0; i < e->rk.ndel; i++)
		child_remove(e, e->rk.del_spi_in[i]);
	e->rk.ndel = 0;
	return TASK_DONE;
}

static void cdel_done(struct ike_engine *e, int rc)
{
	if (rc == -ETIMEDOUT)
		engine_sa_dead(e, "CHILD_SA DELETE not answered");
}

int child_delete_start(struct ike_engine *e)
{
	if (!e->rk.ndel)
		return 0;
	return exchange_start(e, INFORMATIONAL, del_tasks, 1, cdel_done);
}

/* --- responder ----------------------------------------------------------- */

static bool deletes_ike(const struct ike_msg *m)
{
	for (unsigned i = 0; i < m->ndelete; i++)
		if (m->del[i].protocol == IKE_PROTO_IKE)
			return true;
	return false;
}

static bool named(const struct ike_answer *a, uint32_t spi_in)
{
	for (unsigned i = 0; i < a->ndel; i++)
		if (a->del_spi_in[i] == spi_in)
			return true;
	return false;
}

/* Only noted here: build_r names them, done_r removes them. */
static void peer_deletes(struct ike_engine *e, const struct ike_delete *d)
{
	struct ike_answer *a = &e->ans;
	struct ike_child *ch;
	uint32_t spi_out;
	struct rbuf r;

	if (d->protocol != IKE_PROTO_ESP || d->spi_size != 4)
		return;
	rb_init(&r, d->spis.p, d->spis.len);
	for (unsigned i = 0; i < d->nspi && rb_u32(&r, &spi_out) == 0; i++) {
		ch = child_by_spi_out(e, spi_out);
		if (ch && !named(a, ch->spi_in) &&
		    a->ndel < IKE_OLD_CHILDREN + 1)
			a->del_spi_in[a->ndel++] = ch->spi_in;
	}
}

static void cdel_process_r(struct ike_engine *e, const struct ike_msg *m)
{
	if (deletes_ike(m))
		return;
	for (unsigned i = 0; i < m->ndelete; i++)
		peer_deletes(e, &m->del[i]);
}

static int cdel_build_r(struct ike_engine *e, struct ike_builder *b)
{
	if (e->ans.ndel)
		build_spis(b, e->ans.del_spi_in, e->ans.ndel);
	return b->failed ? -1 : 0;
}

/* RFC 7296 1.4.1: the pairs go when the answer names them; without one
 * the gateway still has its halves and retransmits its request. */
static void cdel_done_r(struct ike_engine *e, bool sent)
{
	const struct ike_answer *a = &e->ans;
	const struct ike_child *ch;

	if (!sent) {
		if (a->ndel)
			log_warn("gateway's CHILD_SA DELETE not answered: "
				 "%u CHILD_SA(s) kept until it asks again",
				 a->ndel);
		return;
	}
	for (unsigned i = 0; i < a->ndel; i++) {
		ch = child_by_spi_in(e, a->del_spi_in[i]);
		if (!ch)
			continue;
		log_info("gateway deleted CHILD_SA %08x_o", ch->spi_out);
		child_remove(e, a->del_spi_in[i]);
	}
}

const struct task task_child_delete = {
    .name = "child-delete",
    .build_i = cdel_build,
    .process_i = cdel_process,
    .process_r = cdel_process_r,
    .build_r = cdel_build_r,
    .done_r = cdel_done_r,
};
