/*
 * fuzz_ike.c - the IKEv2 codec on arbitrary datagrams: header, outer chain,
 * the SK body parsed as if it were the decrypted inner chain, and the
 * placement table for the message's exchange as request and as response.
 * Any result code is fine; a crash, leak or UB report is not.
 */
#include "tests/fuzz/fuzz.h"

#include "mobiked/ike_msg.h"

/* Touch what the parser recorded so bad pointers or lengths show up. */
static unsigned touch(const struct ike_msg *m)
{
	unsigned sum = 0;

	for (unsigned i = 0; i < m->nnotify; i++)
		for (size_t k = 0; k < m->notify[i].data.len; k++)
			sum += m->notify[i].data.p[k];
	for (unsigned i = 0; i < m->cp.nattr; i++)
		for (size_t k = 0; k < m->cp.attr[i].value.len; k++)
			sum += m->cp.attr[i].value.p[k];
	for (size_t k = 0; k < m->nonce.len; k++)
		sum += m->nonce.p[k];
	for (size_t k = 0; k < m->sk.body.len; k++)
		sum += m->sk.body.p[k];
	return sum;
}

static void check(const struct ike_msg *m)
{
	uint8_t bad;

	ike_check_outer(m, false, &bad);
	ike_check_outer(m, true, &bad);
	ike_check_placement(m, false, &bad);
	ike_check_placement(m, true, NULL);
	(void)ike_payload_name(bad);
	(void)ike_exchange_name(m->hdr.exchange);
	if (m->nnotify) {
		uint16_t g;

		(void)ike_notify_name(m->notify[0].type);
		(void)ike_notify_group(&m->notify[0], &g);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ike_msg m; /* large: keep it off the stack */
	volatile unsigned sink;
	int rc;

	rc = ike_parse(&m, data, size);
	(void)ike_err_name(rc);
	(void)ike_err_notify(rc, &m.hdr);
	if (rc != IKE_OK)
		return 0;
	sink = touch(&m);
	check(&m);
	if (m.has_sk || m.has_skf) {
		/* The seeds carry plaintext inner chains in their SK bodies. */
		rc =
		    ike_parse_inner(&m, m.sk.first, m.sk.body.p, m.sk.body.len);
		sink += touch(&m);
		check(&m);
	}
	(void)sink;
	return 0;
}
