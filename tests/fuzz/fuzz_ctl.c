/*
 * fuzz_ctl.c - the daemon's view of a control connection without the
 * socket: bytes split at a data-derived point and fed to the line framer,
 * each line dispatched against a small command table.  Every reply must
 * itself be valid JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ctl.h"
#include "tests/fuzz/fuzz.h"

static int cmd_status(void *arg, const struct ctl_req *req, struct jw *out,
		      char *err, size_t errlen)
{
	jw_str(out, "state", "up");
	jw_int(out, "n", -1);
	return 0;
}

/* Echoes every string argument back, as a command reading args would. */
static int cmd_args(void *arg, const struct ctl_req *req, struct jw *out,
		    char *err, size_t errlen)
{
	const struct json_doc *d = req->doc;
	char v[32];
	long long n;

	if (req->args < 0) {
		snprintf(err, errlen, "needs args");
		return -1;
	}
	if (json_str(d, json_get(d, req->args, "name"), v, sizeof(v)) == 0)
		jw_str(out, "name", v);
	if (json_int(d, json_get(d, req->args, "n"), &n) == 0)
		jw_int(out, "n", n);
	jw_arr_begin(out, "list");
	for (uint32_t i = 0; i < 4; i++)
		if (json_str(d, json_at(d, json_get(d, req->args, "list"), i),
			     v, sizeof(v)) == 0)
			jw_str(out, NULL, v);
	jw_arr_end(out);
	return 0;
}

static const struct ctl_cmd cmds[] = {
    {"status", cmd_status, "state"},
    {"args", cmd_args, "echo args"},
    {NULL, NULL, NULL},
};

static void on_line(void *arg, char *line, size_t len)
{
	struct json_tok toks[64];
	struct json_doc d;
	struct jw reply;

	jw_init(&reply);
	ctl_dispatch(cmds, NULL, NULL, line, len, &reply);
	if (!jw_text(&reply) ||
	    json_parse(&d, reply.buf, reply.len, toks, 64) < 0)
		abort();
	jw_free(&reply);
}

static void on_oversize(void *arg)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctl_lines lb;
	size_t split;

	memset(&lb, 0, sizeof(lb));
	if (size == 0)
		return 0;
	split = (size_t)data[0] * (size - 1) / 255;
	data++;
	size--;
	ctl_lines_feed(&lb, (const char *)data, split, on_line, on_oversize,
		       NULL);
	ctl_lines_feed(&lb, (const char *)data + split, size - split, on_line,
		       on_oversize, NULL);
	return 0;
}
