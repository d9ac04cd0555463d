/*
 * json.h - the small JSON the control channel needs: a strict, bounded
 * parser into a caller-supplied token array (no allocation, depth-limited,
 * trailing bytes rejected) and a growable writer.
 */
#ifndef COMMON_JSON_H
#define COMMON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 16

enum json_type {
	JSON_NONE,
	JSON_OBJECT,
	JSON_ARRAY,
	JSON_STRING,
	JSON_NUMBER,
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL,
};

struct json_tok {
	enum json_type type;
	uint32_t start, end; /* byte span in the text; strings without quotes */
	uint32_t size;	     /* members of an object (pairs) or array */
	uint32_t next;	     /* index of the token after this value's subtree */
};

struct json_doc {
	const char *text;
	size_t len;
	struct json_tok *tok;
	uint32_t ntok, cap;
	const char *error; /* static description of the first error */
	size_t error_at;   /* byte offset of it */
};

/* Parses one complete value; 0 on success, -1 with doc->error set.  The
 * root is token 0.  Object members are key token followed by value token. */
int json_parse(struct json_doc *d, const char *text, size_t len,
	       struct json_tok *toks, uint32_t cap);
/* Value token of `key` in object token obj, or -1. */
int json_get(const struct json_doc *d, int obj, const char *key);
/* Element i of array token arr, or -1. */
int json_at(const struct json_doc *d, int arr, uint32_t i);
/* Unescaped string value into out (NUL-terminated); -1 if not a string,
 * invalid escape, embedded NUL, or too long for out. */
int json_str(const struct json_doc *d, int tok, char *out, size_t outsz);
/* Integer value; -1 if not an integer number or out of range. */
int json_int(const struct json_doc *d, int tok, long long *v);
int json_bool(const struct json_doc *d, int tok, bool *v);

struct jw {
	char *buf;
	size_t len, cap;
	bool failed; /* allocation failure or misuse; text is then invalid */
	uint8_t depth;
	bool first[JSON_MAX_DEPTH + 1];
};

void jw_init(struct jw *w);
void jw_free(struct jw *w);
void jw_reset(struct jw *w);
/* key is NULL at top level and inside arrays. */
void jw_obj_begin(struct jw *w, const char *key);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w, const char *key);
void jw_arr_end(struct jw *w);
void jw_str(struct jw *w, const char *key, const char *v);
void jw_int(struct jw *w, const char *key, long long v);
void jw_uint(struct jw *w, const char *key, unsigned long long v);
void jw_bool(struct jw *w, const char *key, bool v);
void jw_null(struct jw *w, const char *key);
/* Inserts already-serialised JSON as a value. */
void jw_raw(struct jw *w, const char *key, const char *json, size_t len);
/* NUL-terminated text, or NULL if failed. */
const char *jw_text(const struct jw *w);

#endif
