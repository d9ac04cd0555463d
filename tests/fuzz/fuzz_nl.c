/*
 * fuzz_nl.c - nl_parse() and nl_parse_status() on arbitrary bytes, as the
 * kernel (or anything that got a message onto the socket) could hand them.
 * Beyond "no crash": the count returned is the count of callbacks made, and
 * a malformed buffer delivers nothing.
 */
#include <stdlib.h>

#include "common/nl.h"
#include "tests/fuzz/fuzz.h"

static void count(void *arg, const struct nl_event *ev)
{
	int *n = arg;

	if (!nl_event_name(ev->type)[0])
		abort();
	(*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int n = 0, rc, err;

	rc = nl_parse(data, size, count, &n);
	if (rc != (rc < 0 ? -1 : n) || (rc < 0 && n))
		abort();
	rc = nl_parse_status(data, size, 0, &err);
	if (rc < -1 || rc > 1 || (rc == 1 && err > 0))
		abort();
	return 0;
}
