/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * What every codec shares (docs/agent-protocol.md): error paths, the body
 * loader with its size cap, typed member getters, the encoders' set/dump
 * pair, UTF-8 checks, UUIDs and the generic error reply.
 */

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agentproto/agentproto.h"
#include "agentproto/internal.h"

static size_t utf8_seq(const unsigned char *, size_t);

const char agentproto_b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void
agentproto_err_set(struct agentproto_err *err, const char *pfx,
    const char *name, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return;
	agentproto_path_join(err->field, sizeof(err->field), pfx, name);
	va_start(ap, fmt);
	(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* clang-format off */
static const char *const code_names[AGENTPROTO_C_COUNT] = {
	[AGENTPROTO_C_NONE] = "invalid",
	[AGENTPROTO_C_REQUIRED] = "required",
	[AGENTPROTO_C_TYPE] = "type",
	[AGENTPROTO_C_TOO_LONG] = "too_long",
	[AGENTPROTO_C_TOO_SHORT] = "too_short",
	[AGENTPROTO_C_RANGE] = "range",
	[AGENTPROTO_C_PATTERN] = "pattern",
	[AGENTPROTO_C_ENUM] = "enum",
	[AGENTPROTO_C_UNKNOWN] = "unknown",
	[AGENTPROTO_C_NOT_ABSOLUTE] = "not_absolute",
	[AGENTPROTO_C_NOT_RELATIVE] = "not_relative",
	[AGENTPROTO_C_PATH] = "path",
	[AGENTPROTO_C_DUPLICATE] = "duplicate",
	[AGENTPROTO_C_TOO_MANY] = "too_many",
	[AGENTPROTO_C_FORMAT] = "format",
	[AGENTPROTO_C_NOT_ALLOWED] = "not_allowed",
	[AGENTPROTO_C_NOT_FOUND] = "not_found",
	[AGENTPROTO_C_OUTSIDE_ROOTS] = "outside_roots",
	[AGENTPROTO_C_IMMUTABLE] = "immutable",
	[AGENTPROTO_C_INVALID] = "invalid",
};
/* clang-format on */

const char *
agentproto_code_name(enum agentproto_code code)
{
	if ((unsigned)code >= AGENTPROTO_C_COUNT)
		return ("invalid");
	return (code_names[code]);
}

void
agentproto_err_clear(struct agentproto_err *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
}

/*
 * Bounded: past AGENTPROTO_FERR_MAX refusals only lost grows, so a body
 * with a million bad items costs nothing more than one with 32.
 */
void
agentproto_err_add(struct agentproto_err *err, const char *pfx,
    const char *name, enum agentproto_code code, unsigned flags, int64_t min,
    int64_t max, const char *arg_name, const char *arg, const char *fmt, ...)
{
	struct agentproto_ferr *f;
	va_list			ap;
	int			first;

	if (err == NULL)
		return;
	first = err->nf == 0 && err->lost == 0;
	if (first) {
		agentproto_path_join(err->field, sizeof(err->field), pfx, name);
		va_start(ap, fmt);
		(void)vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	if (err->nf >= AGENTPROTO_FERR_MAX) {
		err->lost++;
		return;
	}
	f = &err->f[err->nf++];
	memset(f, 0, sizeof(*f));
	agentproto_path_join(f->field, sizeof(f->field), pfx, name);
	f->code = (uint8_t)code;
	f->flags = (uint8_t)(flags & (AGENTPROTO_F_MIN | AGENTPROTO_F_MAX));
	f->min = min;
	f->max = max;
	if (arg_name != NULL && arg != NULL) {
		f->arg_name = arg_name;
		(void)snprintf(f->arg, sizeof(f->arg), "%s", arg);
	}
}

/* "facts.disks[2]" + "path" -> "facts.disks[2].path". */
void
agentproto_path_join(char *dst, size_t len, const char *pfx, const char *name)
{
	if (pfx == NULL)
		pfx = "";
	if (name == NULL)
		name = "";
	(void)snprintf(dst, len, "%s%s%s", pfx,
	    pfx[0] != '\0' && name[0] != '\0' ? "." : "", name);
}

/* Parse a body into an object; only printable ASCII of jansson's error
 * text reaches err (it quotes the input). */
json_t *
agentproto_load(const char *buf, size_t len, struct agentproto_err *err)
{
	return (agentproto_load_max(buf, len, AGENTPROTO_BODY_MAX, err));
}

json_t *
agentproto_load_max(const char *buf, size_t len, size_t max,
    struct agentproto_err *err)
{
	json_error_t jerr;
	json_t	    *root;
	size_t	     i;

	if (buf == NULL && len != 0) {
		agentproto_err_set(err, "", "", "no body");
		return (NULL);
	}
	if (len > max) {
		agentproto_err_set(err, "", "", "body larger than %zu bytes",
		    max);
		return (NULL);
	}
	if ((root = json_loadb(buf == NULL ? "" : buf, len,
		 JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		for (i = 0; jerr.text[i] != '\0'; i++) {
			if (!isprint((unsigned char)jerr.text[i]))
				jerr.text[i] = '?';
		}
		agentproto_err_set(err, "", "", "invalid JSON: %.100s",
		    jerr.text);
		return (NULL);
	}
	if (!json_is_object(root)) {
		json_decref(root);
		agentproto_err_set(err, "", "",
		    "the body must be a JSON object");
		return (NULL);
	}
	return (root);
}

int
agentproto_check_v(const json_t *root, struct agentproto_err *err)
{
	int64_t v;

	return (agentproto_get_int(root, "", "v", 1, AGENTPROTO_VERSION,
	    AGENTPROTO_VERSION, &v, NULL, err));
}

/* A member of o; NULL (and err set when required) if absent. */
const json_t *
agentproto_member(const json_t *o, const char *pfx, const char *name,
    int required, struct agentproto_err *err)
{
	const json_t *m;

	/* jansson's getter takes a non-const object but does not modify it. */
	m = json_object_get((json_t *)(uintptr_t)o, name);
	if (m == NULL && required)
		agentproto_err_set(err, pfx, name, "missing");
	return (m);
}

int
agentproto_get_int(const json_t *o, const char *pfx, const char *name,
    int required, int64_t min, int64_t max, int64_t *out, int *present,
    struct agentproto_err *err)
{
	const json_t *m;
	json_int_t    v;

	if (present != NULL)
		*present = 0;
	if ((m = agentproto_member(o, pfx, name, required, err)) == NULL)
		return (!required);
	if (!json_is_integer(m)) {
		agentproto_err_set(err, pfx, name, "must be an integer");
		return (0);
	}
	v = json_integer_value(m);
	if (v < min || v > max) {
		agentproto_err_set(err, pfx, name,
		    "must be between %" PRId64 " and %" PRId64, min, max);
		return (0);
	}
	*out = (int64_t)v;
	if (present != NULL)
		*present = 1;
	return (1);
}

int
agentproto_get_num(const json_t *o, const char *pfx, const char *name,
    double min, double max, double *out, struct agentproto_err *err)
{
	const json_t *m;
	double	      v;

	if ((m = agentproto_member(o, pfx, name, 1, err)) == NULL)
		return (0);
	if (!json_is_number(m)) {
		agentproto_err_set(err, pfx, name, "must be a number");
		return (0);
	}
	v = json_number_value(m);
	if (!isfinite(v) || v < min || v > max) {
		agentproto_err_set(err, pfx, name, "must be between %g and %g",
		    min, max);
		return (0);
	}
	*out = v;
	return (1);
}

/* A UUID member, checked and turned to lower case. */
int
agentproto_get_uuid(const json_t *o, const char *pfx, const char *name,
    char *dst, size_t dstlen, struct agentproto_err *err)
{
	size_t i;

	if (!agentproto_get_str(o, pfx, name, 1, AGENTPROTO_UUID_LEN,
		AGENTPROTO_UUID_LEN, dst, dstlen, err))
		return (0);
	if (!agentproto_uuid_valid(dst)) {
		agentproto_err_set(err, pfx, name, "must be a UUID");
		return (0);
	}
	for (i = 0; dst[i] != '\0'; i++)
		dst[i] = (char)tolower((unsigned char)dst[i]);
	return (1);
}

/* A string of minlen..maxlen bytes copied into dst (dstlen > maxlen). */
int
agentproto_get_str(const json_t *o, const char *pfx, const char *name,
    int required, size_t minlen, size_t maxlen, char *dst, size_t dstlen,
    struct agentproto_err *err)
{
	const json_t *m;
	size_t	      n;

	if ((m = agentproto_member(o, pfx, name, required, err)) == NULL)
		return (!required);
	if (!json_is_string(m)) {
		agentproto_err_set(err, pfx, name, "must be a string");
		return (0);
	}
	n = json_string_length(m);
	if (n < minlen || n > maxlen || n >= dstlen) {
		agentproto_err_set(err, pfx, name,
		    "must be %zu to %zu bytes long", minlen, maxlen);
		return (0);
	}
	memcpy(dst, json_string_value(m), n);
	dst[n] = '\0';
	return (1);
}

/* Set o[key] = v, stealing v; 0 when v is NULL or on failure. */
int
agentproto_set(json_t *o, const char *key, json_t *v)
{
	if (v == NULL)
		return (0);
	return (json_object_set_new(o, key, v) == 0);
}

/* Dump and release root; NULL on failure. */
char *
agentproto_dump(json_t *root)
{
	char *s;

	if (root == NULL)
		return (NULL);
	s = json_dumps(root, AGENTPROTO_DUMP_FLAGS);
	json_decref(root);
	return (s);
}

/* Lower-case letters, digits, '_' and '-': "ping", "apply-config". */
int
agentproto_type_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (!(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '_' && s[i] != '-')
			return (0);
	}
	return (i > 0);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t	 len, i;

	if (s[0] < 0x80)
		return (1);
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else
		return (0);
	if (n < len)
		return (0);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (0);
	return (len);
}

size_t
agentproto_utf8_clean(char *dst, size_t dstlen, const char *src, size_t srclen)
{
	const unsigned char *s;
	size_t		     i, o, n;

	if (dstlen == 0)
		return (0);
	s = (const unsigned char *)src;
	for (i = 0, o = 0; i < srclen;) {
		n = utf8_seq(s + i, srclen - i);
		if (n == 0 ||
		    (n == 1 &&
			((s[i] < 0x20 && s[i] != '\t' && s[i] != '\n') ||
			    s[i] == 0x7f))) {
			if (o + 1 >= dstlen)
				break;
			dst[o++] = '?';
			i += n == 0 ? 1 : n;
			continue;
		}
		if (o + n >= dstlen)
			break;
		memcpy(dst + o, s + i, n);
		o += n;
		i += n;
	}
	dst[o] = '\0';
	return (o);
}

/* 8-4-4-4-12 hexadecimal digits, either case. */
int
agentproto_uuid_valid(const char *s)
{
	size_t i;

	for (i = 0; i < AGENTPROTO_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return (0);
		} else if (!isxdigit((unsigned char)s[i])) {
			return (0);
		}
	}
	return (s[i] == '\0');
}

int
agentproto_error_decode(const char *buf, size_t len,
    struct agentproto_error_reply *r, struct agentproto_err *err)
{
	json_t *root;
	int	ret;

	memset(r, 0, sizeof(*r));
	if ((root = agentproto_load(buf, len, err)) == NULL)
		return (0);
	ret = agentproto_get_str(root, "", "error", 1, 1, AGENTPROTO_ERROR_MAX,
		  r->error, sizeof(r->error), err) &&
	    agentproto_get_str(root, "", "message", 0, 0,
		AGENTPROTO_MESSAGE_MAX, r->message, sizeof(r->message), err) &&
	    agentproto_get_str(root, "", "field", 0, 0, sizeof(r->field) - 1,
		r->field, sizeof(r->field), err);
	json_decref(root);
	if (!ret)
		memset(r, 0, sizeof(*r));
	return (ret);
}

char *
agentproto_error_encode(const char *code, const char *message,
    const char *field)
{
	json_t *o;

	if (code == NULL || (o = json_object()) == NULL)
		return (NULL);
	if (!agentproto_set(o, "error", json_string(code)) ||
	    (message != NULL &&
		!agentproto_set(o, "message", json_string(message))) ||
	    (field != NULL &&
		!agentproto_set(o, "field", json_string(field)))) {
		json_decref(o);
		return (NULL);
	}
	return (agentproto_dump(o));
}

/* Standard base64 (RFC 4648 4), strict: one encoding per byte string. */
static const char std_b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
std_b64_val(unsigned char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(std_b64_chars, c)) == NULL)
		return (-1);
	return ((int)(p - std_b64_chars));
}

char *
agentproto_b64_encode(const uint8_t *in, size_t len)
{
	char	*out;
	size_t	 i, o;
	uint32_t v;

	if (len > SIZE_MAX / 2 || (out = malloc((len + 2) / 3 * 4 + 1)) == NULL)
		return (NULL);
	for (i = 0, o = 0; i < len; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = std_b64_chars[(v >> 18) & 63];
		out[o++] = std_b64_chars[(v >> 12) & 63];
		out[o++] = i + 1 < len ? std_b64_chars[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? std_b64_chars[v & 63] : '=';
	}
	out[o] = '\0';
	return (out);
}

int
agentproto_b64_decode(const char *in, size_t inlen, uint8_t **out,
    size_t *outlen)
{
	uint8_t *buf;
	size_t	 i, o, pad;
	int	 a, b, c, d;

	*out = NULL;
	*outlen = 0;
	if (inlen % 4 != 0)
		return (0);
	pad = 0;
	if (inlen > 0 && in[inlen - 1] == '=')
		pad++;
	if (inlen > 1 && in[inlen - 2] == '=')
		pad++;
	if ((buf = malloc(inlen / 4 * 3 + 1)) == NULL)
		return (0);
	for (i = 0, o = 0; i < inlen; i += 4) {
		a = std_b64_val((unsigned char)in[i]);
		b = std_b64_val((unsigned char)in[i + 1]);
		if (i + 4 == inlen && pad > 0) {
			c = pad == 2 ? 0
				     : std_b64_val((unsigned char)in[i + 2]);
			d = 0;
			/* Trailing bits must be zero (one encoding per bytes). */
			if (pad == 2 && (b & 15) != 0)
				c = -1;
			if (pad == 1 && c >= 0 && (c & 3) != 0)
				c = -1;
		} else {
			c = std_b64_val((unsigned char)in[i + 2]);
			d = std_b64_val((unsigned char)in[i + 3]);
		}
		if (a < 0 || b < 0 || c < 0 || d < 0) {
			free(buf);
			return (0);
		}
		buf[o++] = (uint8_t)(a << 2 | b >> 4);
		if (i + 4 == inlen && pad == 2)
			break;
		buf[o++] = (uint8_t)((b & 15) << 4 | c >> 2);
		if (i + 4 == inlen && pad == 1)
			break;
		buf[o++] = (uint8_t)((c & 3) << 6 | d);
	}
	buf[o] = '\0';
	*out = buf;
	*outlen = o;
	return (1);
}
