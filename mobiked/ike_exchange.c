/*
 * ike_exchange.c - exchanges: build a request from an ordered task list,
 * protect it (SK, RFC 7296 3.14) once keys exist, send and retransmit it
 * (2.1, 2.4), and take the response: parse, verify and decrypt, check the
 * payload placement, and only then run the tasks' process steps.  A
 * message failing any of those checks is dropped without touching SA
 * state (2.21).  Requests from the gateway are answered by the responder
 * steps of the task list ike.c names for their exchange type; the answer
 * is cached and replayed for a retransmitted request (2.1).
 */
#define LOG_TAG "ike"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "mobiked/ike_task.h"

/* --- building and sending ------------------------------------------------ */

static void fill_hdr(struct ike_engine *e, struct ike_hdr *h, uint8_t type,
		     uint32_t msgid, bool response)
{
	memset(h, 0, sizeof(*h));
	h->spi_i = e->sa.spi_i;
	h->spi_r = type == IKE_SA_INIT && !response ? 0 : e->sa.spi_r;
	h->version = IKE_VERSION;
	h->exchange = type;
	/* 3.1: the original initiator, unless the gateway rekeyed (2.18). */
	h->flags = (e->sa.responder ? 0 : IKE_FLAG_INITIATOR) |
		   (response ? IKE_FLAG_RESPONSE : 0);
	h->msgid = msgid;
}

/* Wraps an inner chain into HDR, SK{...} and seals it into out. */
static int seal(struct ike_engine *e, const struct ike_hdr *h,
		const uint8_t *inner, size_t ilen, uint8_t first, uint8_t *out,
		size_t cap, size_t *olen)
{
	struct sk_ctx *c = e->sa.sk_out;
	size_t iv = sk_iv_len(c), icv = sk_icv_len(c);
	size_t sealed = sk_ike_sealed_len(c, ilen);
	struct ike_sk_layout lay;
	struct ike_builder b;
	struct wbuf w;

	wb_init(&w, out, cap);
	ike_build_begin(&b, &w, h);
	ike_build_sk(&b, first, iv, sealed - iv - icv, icv, &lay);
	if (ike_build_end(&b) != IKE_OK)
		return -1;
	memcpy(out + lay.ct_off, inner, ilen);
	return sk_ike_seal(c, out, cap, lay.iv_off, ilen, olen);
}

/* RFC 7383 2.5: SKF fragments when the peer takes them and the message
 * would exceed the configured datagram size; one SK message otherwise. */
static int seal_or_fragment(struct ike_engine *e, const struct ike_hdr *h,
			    const uint8_t *inner, size_t ilen, uint8_t first,
			    uint8_t *out, size_t cap, size_t *olen)
{
	size_t max = frag_max_len(e, h->exchange);
	int n;

	if (max && IKE_HDR_LEN + IKE_PAYLOAD_HDR_LEN +
			   sk_ike_sealed_len(e->sa.sk_out, ilen) >
		       max) {
		n = ike_frag_seal(e->sa.sk_out, h, inner, ilen, first, max, out,
				  cap, olen);
		if (n > 0) {
			log_debug("%s #%u: %zu octets in %d fragments",
				  ike_exchange_name(h->exchange), h->msgid,
				  ilen, n);
			return 0;
		}
		log_warn("%s #%u: cannot fragment, sending it whole",
			 ike_exchange_name(h->exchange), h->msgid);
	}
	/* 2.4: leave room for the IV, padding and ICV. */
	return seal(e, h, inner, ilen, first, out, cap - 64, olen);
}

/* A whole message: plaintext for IKE_SA_INIT, SK-protected otherwise. */
static int build_msg(struct ike_engine *e, const struct ike_hdr *h, build_fn fn,
		     void *arg, uint8_t *out, size_t cap, size_t *olen)
{
	uint8_t inner[IKE_MAX_MSG];
	struct ike_builder b;
	struct wbuf w;
	int rc;

	if (h->exchange == IKE_SA_INIT) {
		wb_init(&w, out, cap);
		ike_build_begin(&b, &w, h);
		rc = fn(e, &b, arg);
		if (rc || ike_build_end(&b) != IKE_OK)
			return -1;
		*olen = w.len;
		return 0;
	}
	if (!e->sa.sk_out)
		return -1;
	wb_init(&w, inner, sizeof(inner));
	ike_build_inner_begin(&b, &w);
	rc = fn(e, &b, arg);
	if (rc || ike_build_end(&b) != IKE_OK)
		return -1;
	rc = seal_or_fragment(e, h, inner, w.len, b.first, out, cap, olen);
	memset(inner, 0, w.len);
	return rc;
}

/* Builds and sends one request outside any exchange (no retransmit) on
 * the next Message ID.  Never beside an outstanding request: the window
 * is 1 (2.3). */
int exchange_send_oneshot(struct ike_engine *e, uint8_t type, build_fn fn,
			  void *arg)
{
	uint8_t out[IKE_MAX_WIRE];
	struct ike_hdr h;
	size_t n;

	if (e->x.active)
		return -EBUSY;
	fill_hdr(e, &h, type, e->sa.req_id, false);
	if (build_msg(e, &h, fn, arg, out, sizeof(out), &n))
		return -1;
	e->sa.req_id++;
	return exchange_send_raw(e, out, n);
}

/* One message, or the fragments of one end to end (RFC 7383). */
int exchange_send_raw(struct ike_engine *e, const uint8_t *p, size_t n)
{
	size_t one;
	int rc = 0, r;

	for (; n; p += one, n -= one) {
		one = ike_wire_next(p, n);
		r = e->io.send(e->io.arg, p, one, &e->sa.remote, e->sa.natt,
			       e->sa.natt);
		e->stats.tx++;
		if (r < 0) {
			log_debug("send to gateway failed: %s", strerror(-r));
			rc = r;
		}
	}
	return rc;
}

static int build_tasks(struct ike_engine *e, struct ike_builder *b, void *arg)
{
	const struct task *t;

	for (unsigned i = 0; i < e->x.ntasks; i++) {
		t = e->x.tasks[i];
		if (t->build_i && t->build_i(e, b)) {
			log_err("%s: building the request failed", t->name);
			return -1;
		}
	}
	return b->failed ? -1 : 0;
}

static int send_request(struct ike_engine *e)
{
	struct ike_hdr h;

	fill_hdr(e, &h, e->x.type, e->sa.req_id, false);
	if (build_msg(e, &h, build_tasks, NULL, e->x.pkt, sizeof(e->x.pkt),
		      &e->x.len))
		return -1;
	log_debug("sending %s request #%u (%zu bytes)",
		  ike_exchange_name(e->x.type), e->sa.req_id, e->x.len);
	e->x.sent = true;
	e->x.tries = 0;
	e->x.ignored[0] = 0;
	e->x.wait_ms = e->conf->retransmit.timeout_ms;
	timer_arm_ms(e->loop, &e->sa.t_retransmit, e->x.wait_ms);
	exchange_send_raw(e, e->x.pkt, e->x.len);
	return 0;
}

int exchange_start(struct ike_engine *e, uint8_t type,
		   const struct task *const *tasks, unsigned n,
		   exchange_done_cb done)
{
	if (e->x.active || n > IKE_MAX_TASKS)
		return -EBUSY;
	e->x.active = true;
	e->x.sent = false;
	e->x.type = type;
	e->x.ntasks = n;
	memcpy(e->x.tasks, tasks, n * sizeof(*tasks));
	e->x.done = done;
	if (send_request(e) == 0)
		return 0;
	e->x.active = false;
	return -EINVAL;
}

/* However an exchange ends (answered, failed, timed out or abandoned),
 * the Message ID it sent is spent: never reused for another request
 * (2.2), which the gateway would take for a retransmission. */
void exchange_abort(struct ike_engine *e)
{
	if (e->x.active && e->x.sent)
		e->sa.req_id++;
	e->x.active = false;
	timer_cancel(e->loop, &e->sa.t_retransmit);
	ike_defrag_reset(&e->frag.resp);
}

void exchange_abandon(struct ike_engine *e, const char *why)
{
	if (e->x.active)
		log_info("%s request #%u abandoned: %s",
			 ike_exchange_name(e->x.type), e->sa.req_id, why);
	exchange_abort(e);
}

static void finish(struct ike_engine *e, int rc)
{
	exchange_done_cb done = e->x.done;

	exchange_abort(e);
	if (done)
		done(e, rc);
}

/* Giving up names the last response we ignored, if any (TASK_IGNORE). */
static void give_up_reason(struct ike_engine *e)
{
	const char *x = ike_exchange_name(e->x.type);

	if (e->x.ignored[0])
		snprintf(e->last_error, sizeof(e->last_error), "%s: %s", x,
			 e->x.ignored);
	else
		snprintf(e->last_error, sizeof(e->last_error),
			 "no response to %s", x);
}

/* 2.4: retransmit the identical bytes with a growing wait; give up after
 * the configured tries. */
void exchange_retransmit_cb(void *owner)
{
	struct ike_engine *e = owner;
	const struct retransmit_conf *r = &e->conf->retransmit;

	if (!e->x.active)
		return;
	if (e->x.tries >= r->tries) {
		log_warn("%s request #%u: no %sresponse after %u retransmits",
			 ike_exchange_name(e->x.type), e->sa.req_id,
			 e->x.ignored[0] ? "acceptable " : "", e->x.tries);
		give_up_reason(e);
		finish(e, -ETIMEDOUT);
		return;
	}
	e->x.tries++;
	e->x.wait_ms = (uint64_t)((double)e->x.wait_ms * r->base);
	if (e->x.wait_ms == 0)
		e->x.wait_ms = 1;
	log_info("retransmit %u of %s request #%u", e->x.tries,
		 ike_exchange_name(e->x.type), e->sa.req_id);
	e->stats.retransmits++;
	timer_arm_ms(e->loop, &e->sa.t_retransmit, e->x.wait_ms);
	exchange_send_raw(e, e->x.pkt, e->x.len);
}

int exchange_build(struct ike_engine *e, uint8_t type, uint32_t msgid,
		   bool response, build_fn fn, void *arg, uint8_t *out,
		   size_t cap, size_t *olen)
{
	struct ike_hdr h;

	fill_hdr(e, &h, type, msgid, response);
	return build_msg(e, &h, fn, arg, out, cap, olen);
}

/* --- receiving ----------------------------------------------------------- */

static void drop(struct ike_engine *e, const char *why)
{
	e->stats.dropped++;
	log_info("dropped IKE message: %s", why);
}

/* Verify + decrypt the SK payload in place and parse its content.  The
 * ICV is checked before anything is decrypted (sk_ike_open).  An SKF
 * fragment goes to d: IKE_FRAG_PENDING until its message is complete. */
static int open_sk(struct ike_engine *e, struct ike_msg *m, uint8_t *pkt,
		   size_t len, struct ike_defrag *d)
{
	const uint8_t *inner;
	size_t ilen, hdr_len;

	if (m->has_skf && e->sa.sk_in)
		return frag_open(e, d, m, pkt, len);
	if (!m->has_sk || !e->sa.sk_in)
		return -1;
	hdr_len = (size_t)(m->sk.body.p - pkt);
	if (sk_ike_open(e->sa.sk_in, pkt, len, hdr_len, &inner, &ilen))
		return -1;
	return ike_parse_inner(m, m->sk.first, inner, ilen);
}

int exchange_open(struct ike_engine *e, struct ike_msg *m, uint8_t *pkt,
		  size_t len, bool response)
{
	uint8_t bad = 0;

	if (ike_parse(m, pkt, len) != IKE_OK ||
	    ike_check_outer(m, response, &bad) != IKE_OK ||
	    open_sk(e, m, pkt, len, &e->frag.other) != IKE_OK ||
	    ike_check_placement(m, response, &bad) != IKE_OK)
		return -1;
	return 0;
}

static void authenticated_rx(struct ike_engine *e)
{
	e->sa.last_rx_ns = mono_ns();
	if (e->sa.state == IKE_ST_ESTABLISHED && e->conf->dpd_delay_s)
		timer_arm_ms(e->loop, &e->sa.t_dpd,
			     (uint64_t)e->conf->dpd_delay_s * 1000);
}

/* The request rebuilt.  IKE_SA_INIT starts over on Message ID 0 (2.6,
 * 2.7); any other exchange was answered, so its retry is a new request
 * on the next ID (1.3, 2.2). */
static void retry(struct ike_engine *e)
{
	timer_cancel(e->loop, &e->sa.t_retransmit);
	ike_defrag_reset(&e->frag.resp);
	if (e->x.type != IKE_SA_INIT) {
		e->sa.req_id++;
		e->x.sent = false;
	}
	if (send_request(e))
		finish(e, -EINVAL);
}

static void run_process(struct ike_engine *e, const struct ike_msg *m)
{
	const struct task *t;
	int rc;

	for (unsigned i = 0; i < e->x.ntasks; i++) {
		t = e->x.tasks[i];
		rc = t->process_i ? t->process_i(e, m) : TASK_DONE;
		if (rc == TASK_RETRY)
			return retry(e);
		if (rc == TASK_IGNORE) { /* retransmissions go on */
			e->stats.dropped++;
			log_debug("%s: response ignored: %s", t->name,
				  e->x.ignored);
			return;
		}
		if (rc != TASK_DONE) {
			finish(e, -EPROTO);
			return;
		}
	}
	finish(e, 0);
}

/* The peer sets the I flag only as the original initiator (3.1). */
bool exchange_flag_ok(const struct ike_engine *e, const struct ike_hdr *h)
{
	return !!(h->flags & IKE_FLAG_INITIATOR) == e->sa.responder;
}

static void response_in(struct ike_engine *e, const struct ike_hdr *h,
			uint8_t *pkt, size_t len)
{
	struct ike_msg m;
	uint8_t bad = 0;
	int rc;

	if (!e->x.active || h->msgid != e->sa.req_id ||
	    h->exchange != e->x.type || !exchange_flag_ok(e, h))
		return drop(e, "not the response we wait for");
	rc = ike_parse(&m, pkt, len);
	if (rc == IKE_OK && h->exchange != IKE_SA_INIT) {
		rc = ike_check_outer(&m, true, &bad);
		if (rc == IKE_OK)
			rc = open_sk(e, &m, pkt, len, &e->frag.resp);
		if (rc == IKE_FRAG_PENDING)
			return;
		if (rc == -1)
			return drop(e, "integrity check failed");
	}
	if (rc == IKE_OK)
		rc = ike_check_placement(&m, true, &bad);
	if (rc != IKE_OK) {
		log_info("%s response: %s (%s)", ike_exchange_name(h->exchange),
			 ike_err_name(rc), ike_payload_name(bad));
		return drop(e, "malformed response");
	}
	e->stats.rx++;
	authenticated_rx(e);
	e->cur_pkt = pkt;
	e->cur_len = len;
	run_process(e, &m);
	e->cur_pkt = NULL;
}

/* --- requests from the gateway ------------------------------------------- */

struct resp_arg {
	uint16_t error; /* answer with just this notify */
	uint8_t error_data;
	const struct task *const *tasks; /* otherwise: their build_r steps */
	unsigned ntasks;
};

static int build_response(struct ike_engine *e, struct ike_builder *b,
			  void *arg)
{
	struct resp_arg *a = arg;
	const struct task *t;
	struct ike_notify_pl n;

	if (a->error) {
		memset(&n, 0, sizeof(n));
		n.type = a->error;
		if (a->error == IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD) {
			n.data.p = &a->error_data;
			n.data.len = 1;
		}
		ike_build_notify(b, &n);
		return b->failed ? -1 : 0;
	}
	for (unsigned i = 0; i < a->ntasks; i++) {
		t = a->tasks[i];
		if (t->build_r && t->build_r(e, b)) {
			log_err("%s: building the response failed", t->name);
			return -1;
		}
	}
	return b->failed ? -1 : 0;
}

/* Every task reads the request before any answer is built. */
static void process_request(struct ike_engine *e, const struct ike_msg *m,
			    const struct resp_arg *a)
{
	memset(&e->ans, 0, sizeof(e->ans));
	for (unsigned i = 0; i < a->ntasks; i++)
		if (a->tasks[i]->process_r)
			a->tasks[i]->process_r(e, m);
}

static void request_done(struct ike_engine *e, const struct resp_arg *a,
			 bool sent)
{
	for (unsigned i = 0; i < a->ntasks; i++)
		if (a->tasks[i]->done_r)
			a->tasks[i]->done_r(e, sent);
}

/* True if the answer went out (and is cached for retransmissions). */
static bool respond(struct ike_engine *e, const struct ike_hdr *rh,
		    struct resp_arg *a)
{
	uint8_t out[IKE_MAX_WIRE];
	struct ike_hdr h;
	size_t n;

	fill_hdr(e, &h, rh->exchange, rh->msgid, true);
	if (build_msg(e, &h, build_response, a, out, sizeof(out), &n)) {
		log_err("%s request #%u: cannot build the answer; left "
			"unanswered for the gateway to retransmit",
			ike_exchange_name(rh->exchange), rh->msgid);
		return false;
	}
	e->sa.peer_req_id = rh->msgid + 1;
	if (ike_sa_keep(&e->sa.resp_cache, &e->sa.resp_cache_len, out, n) ==
	    0) {
		e->sa.resp_cached = true;
		e->sa.resp_cache_id = rh->msgid;
	}
	exchange_send_raw(e, out, n);
	return true;
}

/* RFC 7383 2.6.1: the answer again for fragment 1 only. */
static void retransmitted_fragment(struct ike_engine *e,
				   const struct ike_hdr *h, struct ike_msg *m,
				   uint8_t *pkt, size_t len)
{
	int rc = frag_retransmit(e, m, pkt, len);

	if (rc < 0)
		return drop(e, "integrity check failed");
	e->stats.rx++;
	authenticated_rx(e);
	if (!rc)
		return;
	log_debug("retransmitted request #%u: resending the response",
		  h->msgid);
	exchange_send_raw(e, e->sa.resp_cache, e->sa.resp_cache_len);
}

static bool peer_may_request(const struct ike_engine *e)
{
	return (e->sa.state == IKE_ST_ESTABLISHED ||
		e->sa.state == IKE_ST_DELETING) &&
	       e->sa.sk_in;
}

/* 2.21.2, 2.5: an authenticated request that fails the placement check
 * gets just the error notify, no task sees it.  -1: not even that. */
static int placement_error(const struct ike_hdr *h, const struct ike_msg *m,
			   int rc, uint8_t bad, struct resp_arg *a)
{
	if (rc == IKE_OK)
		return 0;
	a->ntasks = 0;
	if (rc == IKE_ECRITICAL) {
		a->error = IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD;
		a->error_data = m->critical_type;
		return 0;
	}
	log_info("%s request: %s (%s)", ike_exchange_name(h->exchange),
		 ike_err_name(rc), ike_payload_name(bad));
	a->error = ike_err_notify(rc, h);
	return a->error ? 0 : -1;
}

void exchange_request(struct ike_engine *e, const struct ike_hdr *h,
		      uint8_t *pkt, size_t len, struct ike_defrag *d,
		      const struct task *const *tasks, unsigned n)
{
	struct resp_arg a = {.tasks = tasks, .ntasks = n};
	struct ike_msg m;
	uint8_t bad = 0;
	bool retransmit;
	int rc;

	if (!peer_may_request(e) || !n || !exchange_flag_ok(e, h))
		return drop(e, "unexpected request");
	retransmit = e->sa.resp_cached && h->msgid == e->sa.resp_cache_id;
	if (!retransmit && h->msgid != e->sa.peer_req_id)
		return drop(e, "request with a wrong message ID");
	rc = ike_parse(&m, pkt, len);
	if (rc == IKE_OK)
		rc = ike_check_outer(&m, false, &bad);
	if (rc != IKE_OK || !(m.has_sk || m.has_skf))
		/* 2.21.1-2: unauthenticated: never answered or acted on. */
		return drop(e, "unprotected or malformed request");
	if (retransmit && m.has_skf)
		return retransmitted_fragment(e, h, &m, pkt, len);
	rc = open_sk(e, &m, pkt, len, d);
	if (rc == IKE_FRAG_PENDING)
		return;
	if (rc == -1)
		return drop(e, "integrity check failed");
	e->stats.rx++;
	authenticated_rx(e);
	if (retransmit) {
		log_debug("retransmitted request #%u: resending the response",
			  h->msgid);
		exchange_send_raw(e, e->sa.resp_cache, e->sa.resp_cache_len);
		return;
	}
	if (rc == IKE_OK)
		rc = ike_check_placement(&m, false, &bad);
	if (placement_error(h, &m, rc, bad, &a))
		return drop(e, "malformed request");
	process_request(e, &m, &a);
	request_done(e, &a, respond(e, h, &a));
}

static void request_in(struct ike_engine *e, const struct ike_hdr *h,
		       uint8_t *pkt, size_t len)
{
	unsigned n = 0;
	const struct task *const *tasks = engine_responder(h->exchange, &n);

	exchange_request(e, h, pkt, len, &e->frag.req, tasks, n);
}

void exchange_input(struct ike_engine *e, uint8_t *pkt, size_t len,
		    bool via_4500)
{
	struct ike_hdr h;
	int rc = ike_parse_hdr(&h, pkt, len);

	if (rc != IKE_OK)
		return drop(e, ike_err_name(rc));
	if (ike_rekey_old_input(e, &h, pkt, len))
		return; /* for the IKE SA a rekey replaced */
	/* 2.6: an IKE_SA_INIT response may carry SPIr 0 (COOKIE etc.). */
	if (h.spi_i != e->sa.spi_i || e->sa.state == IKE_ST_IDLE ||
	    e->sa.state == IKE_ST_DEAD ||
	    (e->sa.state != IKE_ST_INIT_SENT && h.spi_r != e->sa.spi_r))
		return drop(e, "unknown IKE SA");
	if (h.flags & IKE_FLAG_RESPONSE)
		response_in(e, &h, pkt, len);
	else
		request_in(e, &h, pkt, len);
	(void)via_4500;
}
