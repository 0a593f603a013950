/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * What Yard reads from a token's claims, wherever an identity provider
 * puts them (the claim map of docs/ews-integration.md, "Claims and token
 * types"), and what a refused token showed, for its log line.  token.c
 * decides whether a token is accepted; nothing here refuses one.
 */

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "auth/auth.h"

#define CLAIMS_SCOPE_UPLOAD "packages:upload"

static int     map_list(const char *, const char *, size_t,
	char[][AUTH_MAP_PATH_MAX], size_t *, char *, size_t);
static void    seen_copy(json_t *, const char *, char *, size_t);
static int     scope_has(const char *, size_t, const char *);
static json_t *claim_path(json_t *, const char *);
static void    utf8_cut(const char *, size_t, char *, size_t);

/* The settings' defaults, for a policy without a map. */
static const struct auth_claim_map claims_default = {
	.names = { "name", "preferred_username", "sub" },
	.nnames = 3,
	.email = "email",
	.roles = { "roles" },
	.nroles = 1,
	.scopes = { "scope", "scp" },
	.nscopes = 2,
};

/*
 * Each list of the map: comma-separated, blanks around entries dropped.
 * setting names the list in err.
 */
static int
map_list(const char *setting, const char *text, size_t max,
    char out[][AUTH_MAP_PATH_MAX], size_t *n, char *err, size_t errlen)
{
	const char *p, *end, *e;
	size_t	    len, i;

	*n = 0;
	if (text == NULL)
		return (1);
	for (p = text; *p == ' ' || *p == '\t'; p++)
		;
	if (*p == '\0')
		return (1);

	for (p = text;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		for (end = p; *end != '\0' && *end != ','; end++)
			;
		for (e = end; e > p && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		len = (size_t)(e - p);
		if (len == 0) {
			snprintf(err, errlen, "%s: an empty entry", setting);
			return (0);
		}
		if (*n == max) {
			if (max == 1)
				snprintf(err, errlen,
				    "%s: one claim path, not a list", setting);
			else
				snprintf(err, errlen,
				    "%s: more than %zu entries", setting, max);
			return (0);
		}
		if (len >= AUTH_MAP_PATH_MAX) {
			snprintf(err, errlen,
			    "%s: a claim path longer than %d bytes", setting,
			    AUTH_MAP_PATH_MAX - 1);
			return (0);
		}
		for (i = 0; i < len; i++) {
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) {
				snprintf(err, errlen,
				    "%s: a control character in a claim path",
				    setting);
				return (0);
			}
		}
		if (p[0] == '.' || p[len - 1] == '.' ||
		    memmem(p, len, "..", 2) != NULL) {
			snprintf(err, errlen,
			    "%s: an empty step in claim path \"%.*s\"", setting,
			    (int)len, p);
			return (0);
		}
		memcpy(out[*n], p, len);
		out[*n][len] = '\0';
		(*n)++;
		if (*end == '\0')
			break;
		p = end + 1;
	}
	return (1);
}

int
auth_claim_map_parse(struct auth_claim_map *m, const char *names,
    const char *email, const char *roles, const char *scopes, char *err,
    size_t errlen)
{
	char   one[1][AUTH_MAP_PATH_MAX];
	size_t n;

	memset(m, 0, sizeof(*m));
	if (errlen > 0)
		err[0] = '\0';
	if (!map_list("YARD_EWS_NAME_CLAIMS", names, AUTH_MAP_MAX, m->names,
		&m->nnames, err, errlen) ||
	    !map_list("YARD_EWS_EMAIL_CLAIM", email, 1, one, &n, err, errlen) ||
	    !map_list("YARD_EWS_ROLES_PATHS", roles, AUTH_MAP_MAX, m->roles,
		&m->nroles, err, errlen) ||
	    !map_list("YARD_EWS_SCOPE_CLAIMS", scopes, AUTH_MAP_MAX, m->scopes,
		&m->nscopes, err, errlen)) {
		memset(m, 0, sizeof(*m));
		return (0);
	}
	if (n == 1)
		memcpy(m->email, one[0], sizeof(m->email));
	return (1);
}

/* A header or payload member as a log may show it: printable ASCII. */
static void
seen_copy(json_t *obj, const char *name, char *buf, size_t bufsz)
{
	json_t	      *v;
	const uint8_t *s;
	size_t	       i, n;

	buf[0] = '\0';
	v = json_is_object(obj) ? json_object_get(obj, name) : NULL;
	if (!json_is_string(v))
		return;
	s = (const uint8_t *)json_string_value(v);
	n = json_string_length(v);
	if (n >= bufsz)
		n = bufsz - 1;
	for (i = 0; i < n; i++)
		buf[i] = (s[i] < 0x20 || s[i] >= 0x7f) ? '?' : (char)s[i];
	buf[n] = '\0';
}

void
auth_seen_header(json_t *hdr, struct auth_seen *seen)
{
	seen_copy(hdr, "alg", seen->alg, sizeof(seen->alg));
	seen_copy(hdr, "typ", seen->typ, sizeof(seen->typ));
	seen_copy(hdr, "kid", seen->kid, sizeof(seen->kid));
}

void
auth_seen_payload(json_t *payload, struct auth_seen *seen)
{
	seen_copy(payload, "iss", seen->iss, sizeof(seen->iss));
	seen_copy(payload, "sub", seen->sub, sizeof(seen->sub));
}

/*
 * The header and payload of a refused token, as far as they decode.  The
 * work is bounded: only the first AUTH_TOKEN_MAX bytes are looked at for
 * the header, and the payload only of a token no longer than that.
 */
void
auth_seen_scan(const char *token, size_t len, struct auth_seen *seen)
{
	const char  *dot, *end;
	json_t	    *j;
	json_error_t jerr;
	uint8_t	    *buf;
	size_t	     max, n;

	max = len < AUTH_TOKEN_MAX ? len : AUTH_TOKEN_MAX;
	if (max == 0 || (dot = memchr(token, '.', max)) == NULL)
		return;
	if ((buf = malloc(max)) == NULL)
		return;

	if (auth_b64url_decode(token, (size_t)(dot - token), buf, max, &n) &&
	    (j = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES,
		 &jerr)) != NULL) {
		auth_seen_header(j, seen);
		json_decref(j);
	}

	if (len <= AUTH_TOKEN_MAX) {
		dot++;
		if ((end = memchr(dot, '.', (size_t)(token + len - dot))) ==
		    NULL)
			end = token + len;
		if (auth_b64url_decode(dot, (size_t)(end - dot), buf, max,
			&n) &&
		    (j = json_loadb((const char *)buf, n,
			 JSON_REJECT_DUPLICATES, &jerr)) != NULL) {
			auth_seen_payload(j, seen);
			json_decref(j);
		}
	}

	explicit_bzero(buf, max);
	free(buf);
}

/* Whether the space-separated list s (len bytes) holds word. */
static int
scope_has(const char *s, size_t len, const char *word)
{
	size_t i, start, wlen;

	wlen = strlen(word);
	start = 0;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == ' ') {
			if (i - start == wlen &&
			    memcmp(s + start, word, wlen) == 0)
				return (1);
			start = i + 1;
		}
	}
	return (0);
}

/*
 * A claim path's value: the whole path as a top-level member, else its
 * dotted steps through objects.  NULL when either finds nothing.
 */
static json_t *
claim_path(json_t *claims, const char *path)
{
	json_t	   *v;
	const char *p, *dot;
	size_t	    n;

	if ((v = json_object_get(claims, path)) != NULL)
		return (v);
	if (strchr(path, '.') == NULL)
		return (NULL);
	v = claims;
	for (p = path;; p = dot + 1) {
		if (!json_is_object(v))
			return (NULL);
		dot = strchr(p, '.');
		n = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if ((v = json_object_getn(v, p, n)) == NULL || dot == NULL)
			return (v);
	}
}

/* s (len bytes of valid UTF-8) into buf, cut before a character that
 * does not fit whole. */
static void
utf8_cut(const char *s, size_t len, char *buf, size_t bufsz)
{
	if (len >= bufsz) {
		len = bufsz - 1;
		/* s[len] is the first byte left out: when it continues a
		 * character, that whole character goes. */
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
}

/*
 * Name, e-mail, admin and upload from where the map says.  A value of
 * another type than expected is passed over, never a refusal: identity
 * providers shape these claims in many ways.
 */
void
auth_claims_map(json_t *claims, const struct auth_policy *pol,
    struct auth_claims *c)
{
	const struct auth_claim_map *map;
	const char		    *admin;
	json_t			    *v, *m;
	size_t			     i, j;

	map = pol->map != NULL ? pol->map : &claims_default;

	for (i = 0; i < map->nnames; i++) {
		v = claim_path(claims, map->names[i]);
		if (json_is_string(v) && json_string_length(v) > 0) {
			utf8_cut(json_string_value(v), json_string_length(v),
			    c->name, sizeof(c->name));
			break;
		}
	}

	v = map->email[0] != '\0' ? claim_path(claims, map->email) : NULL;
	if (json_is_string(v))
		utf8_cut(json_string_value(v), json_string_length(v), c->email,
		    sizeof(c->email));

	admin = pol->admin_role;
	for (i = 0;
	     admin != NULL && admin[0] != '\0' && i < map->nroles && !c->admin;
	     i++) {
		v = claim_path(claims, map->roles[i]);
		if (json_is_string(v)) {
			c->admin = strcmp(json_string_value(v), admin) == 0;
			continue;
		}
		json_array_foreach(v, j, m)
		{
			if (json_is_string(m) &&
			    strcmp(json_string_value(m), admin) == 0) {
				c->admin = 1;
				break;
			}
		}
	}

	for (i = 0; i < map->nscopes && !c->upload; i++) {
		v = claim_path(claims, map->scopes[i]);
		if (json_is_string(v)) {
			c->upload = scope_has(json_string_value(v),
			    json_string_length(v), CLAIMS_SCOPE_UPLOAD);
			continue;
		}
		json_array_foreach(v, j, m)
		{
			if (json_is_string(m) &&
			    strcmp(json_string_value(m), CLAIMS_SCOPE_UPLOAD) ==
				0) {
				c->upload = 1;
				break;
			}
		}
	}
}
