/*
 * child_sa.c - the IKE SA's set of CHILD_SAs: the current one, and those
 * a rekey replaced (RFC 7296 2.8), kept in the data plane until their
 * DELETE settles so no packet in flight is lost (make-before-break).
 * The newest installed SA is current: status shows it, the rekey timer
 * follows it and the data plane sends on it.
 */
#define LOG_TAG "ike"

#include <string.h>

#include "common/log.h"
#include "mobiked/ike_task.h"

struct ike_child *child_by_spi_in(struct ike_engine *e, uint32_t spi_in)
{
	if (e->sa.child.installed && e->sa.child.spi_in == spi_in)
		return &e->sa.child;
	for (unsigned i = 0; i < IKE_OLD_CHILDREN; i++)
		if (e->sa.old[i].installed && e->sa.old[i].spi_in == spi_in)
			return &e->sa.old[i];
	return NULL;
}

struct ike_child *child_by_spi_out(struct ike_engine *e, uint32_t spi_out)
{
	if (e->sa.child.installed && e->sa.child.spi_out == spi_out)
		return &e->sa.child;
	for (unsigned i = 0; i < IKE_OLD_CHILDREN; i++)
		if (e->sa.old[i].installed && e->sa.old[i].spi_out == spi_out)
			return &e->sa.old[i];
	return NULL;
}

unsigned child_count_old(const struct ike_engine *e)
{
	unsigned n = 0;

	for (unsigned i = 0; i < IKE_OLD_CHILDREN; i++)
		n += e->sa.old[i].installed;
	return n;
}

/* The slot for a replaced SA; when all are taken (a peer that never
 * deletes), the oldest one goes. */
static struct ike_child *old_slot(struct ike_engine *e)
{
	struct ike_child *o = &e->sa.old[0];

	for (unsigned i = 0; i < IKE_OLD_CHILDREN; i++) {
		if (!e->sa.old[i].installed)
			return &e->sa.old[i];
		if (e->sa.old[i].seq < o->seq)
			o = &e->sa.old[i];
	}
	log_warn("CHILD_SA %08x_i never deleted by the gateway: removing it",
		 o->spi_in);
	child_remove(e, o->spi_in);
	return o;
}

void child_promote(struct ike_engine *e, const struct ike_child *nc)
{
	if (e->sa.child.installed)
		*old_slot(e) = e->sa.child;
	e->sa.child = *nc;
	rekey_arm(e);
}

static void remove_one(struct ike_engine *e, struct ike_child *ch)
{
	if (e->dp)
		e->dp->ops->del_child(e->dp, ch->spi_in);
	log_info("CHILD_SA %08x_i %08x_o removed", ch->spi_in, ch->spi_out);
	memset(ch, 0, sizeof(*ch));
}

/* Removing the current SA (a redundant one after a collision, or the
 * gateway's choice) makes the newest remaining one current. */
void child_remove(struct ike_engine *e, uint32_t spi_in)
{
	struct ike_child *ch = child_by_spi_in(e, spi_in), *n = NULL;

	if (!ch)
		return;
	remove_one(e, ch);
	if (ch != &e->sa.child)
		return;
	for (unsigned i = 0; i < IKE_OLD_CHILDREN; i++)
		if (e->sa.old[i].installed && (!n || e->sa.old[i].seq > n->seq))
			n = &e->sa.old[i];
	if (!n)
		return;
	e->sa.child = *n;
	memset(n, 0, sizeof(*n));
	rekey_arm(e);
}
