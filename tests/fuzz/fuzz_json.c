/*
 * fuzz_json.c - json_parse on arbitrary bytes, then every accessor on every
 * token with small output buffers; strings that decode are written back
 * with the jw writer and must parse and decode to the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "common/json.h"
#include "tests/fuzz/fuzz.h"

#define NTOK 256

static void check_tokens(const struct json_doc *d, size_t size)
{
	for (uint32_t i = 0; i < d->ntok; i++) {
		const struct json_tok *t = &d->tok[i];

		if (t->start > t->end || t->end > size || t->next <= i ||
		    t->next > d->ntok)
			abort();
	}
}

/* Re-encodes s and checks the writer's output decodes back to it. */
static void round_trip(const char *s)
{
	struct json_tok t[2];
	struct json_doc d;
	char back[256];
	struct jw w;

	jw_init(&w);
	jw_str(&w, NULL, s);
	if (jw_text(&w) &&
	    (json_parse(&d, w.buf, w.len, t, 2) < 0 ||
	     json_str(&d, 0, back, sizeof(back)) < 0 || strcmp(back, s)))
		abort();
	jw_free(&w);
}

static void walk(const struct json_doc *d)
{
	char small[8], big[256];
	long long v;
	bool b;

	for (uint32_t i = 0; i < d->ntok; i++) {
		int t = (int)i;

		json_str(d, t, small, sizeof(small));
		if (json_str(d, t, big, sizeof(big)) == 0)
			round_trip(big);
		json_int(d, t, &v);
		json_bool(d, t, &b);
		json_get(d, t, "cmd");
		json_at(d, t, d->tok[i].size ? d->tok[i].size - 1 : 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct json_tok toks[NTOK];
	struct json_doc d;

	if (json_parse(&d, (const char *)data, size, toks, NTOK) == 0) {
		check_tokens(&d, size);
		walk(&d);
	} else if (!d.error || d.error_at > size || d.ntok) {
		abort();
	}
	return 0;
}
