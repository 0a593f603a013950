/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 *
 * The outbox's sender: the rows the outbox duty claims (src/store/outbox.c,
 * worker 1 of the leading instance) are delivered in a Kore task (a thread
 * of the worker, under its seccomp filter) with libcurl, so the event loop
 * never waits on a mail server or on EWS:
 *   - mail: an RFC 5322 message (UTF-8 subject as RFC 2047 encoded-words,
 *     text/plain body in base64) in the recipient's language (zh-CN or
 *     en), over SMTP with TLS required (smtps://, or smtp:// and
 *     STARTTLS), with the server's last reply kept on failure;
 *   - callback: a JSON POST to YARD_EWS_NOTIFY_URL with Idempotency-Key
 *     and X-Yard-Signature: sha256=<hex HMAC-SHA256 of the body>.
 * The thread touches only its own batch (malloc'd, never Kore's pools);
 * the results go back to the store on the event loop when it is done.
 */

#include <ctype.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kore/kore.h>
#include <kore/http.h>
#include <kore/tasks.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "app.h"
#include "api/api.h"

#define OB_ERR_MAX   1000
#define OB_REPLY_MAX 400

struct ob_item {
	int64_t id, attempt;
	char   *channel, *kind, *key, *recipient, *lang, *payload;
	int	ok;
	char	error[OB_ERR_MAX];
};

struct ob_buf {
	char  *data;
	size_t len, cap, pos;
	int    failed;
};

static int  ob_deliver(const struct store_outbox_item *, size_t);
static int  ob_task_run(struct kore_task *);
static void ob_task_done(struct kore_task *);

static struct kore_task *ob_task;
static struct ob_item	*ob_items;
static size_t		 ob_n;
static char		*smtp_password; /* read in the parent */
static char		*notify_secret;
static size_t		 notify_secret_len;

static char *
ob_read_secret(const char *what, const char *path, size_t *len)
{
	char  *s;
	size_t n;

	if ((s = app_file_read(path, 4096, &n)) == NULL)
		fatal("%s: cannot read %s: %s", what, path, errno_s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	if (n == 0)
		fatal("%s: %s is empty", what, path);
	if (len != NULL)
		*len = n;
	return (s);
}

void
api_outbox_load(void)
{
	const struct app_settings *c = &app.cfg;

	if (c->smtp_url != NULL) {
		if (c->smtp_from == NULL || strchr(c->smtp_from, '@') == NULL)
			fatal(
			    "YARD_SMTP_URL needs YARD_SMTP_FROM (an address)");
		if (c->smtp_password_file != NULL)
			smtp_password =
			    ob_read_secret("YARD_SMTP_PASSWORD_FILE",
				c->smtp_password_file, NULL);
	}
	if (c->ews_notify_url != NULL) {
		if (c->ews_notify_secret_file == NULL)
			fatal("YARD_EWS_NOTIFY_URL needs "
			      "YARD_EWS_NOTIFY_SECRET_FILE (the HMAC key)");
		notify_secret = ob_read_secret("YARD_EWS_NOTIFY_SECRET_FILE",
		    c->ews_notify_secret_file, &notify_secret_len);
	}
}

/* Worker 1: the outbox duty (run where this instance leads it). */
void
api_outbox_worker_init(void)
{
	struct store_outbox_config oc;

	if (worker->id != 1)
		return;
	memset(&oc, 0, sizeof(oc));
	oc.mail = app.cfg.smtp_url != NULL;
	oc.callback = app.cfg.ews_notify_url != NULL;
	oc.batch = app.cfg.outbox_batch;
	oc.stuck_after = app.cfg.outbox_stuck_after;
	oc.retry_base = app.cfg.outbox_retry_base;
	oc.retry_max = app.cfg.outbox_retry_max;
	oc.max_attempts = app.cfg.outbox_max_attempts;
	store_outbox_register(core_duty_add, &oc, ob_deliver);
}

static char *
ob_strdup(const char *s)
{
	return (strdup(s != NULL ? s : ""));
}

static void
ob_free_items(void)
{
	size_t i;

	for (i = 0; i < ob_n; i++) {
		free(ob_items[i].channel);
		free(ob_items[i].kind);
		free(ob_items[i].key);
		free(ob_items[i].recipient);
		free(ob_items[i].lang);
		free(ob_items[i].payload);
	}
	free(ob_items);
	ob_items = NULL;
	ob_n = 0;
}

static int
ob_deliver(const struct store_outbox_item *it, size_t n)
{
	size_t i;

	if (ob_task != NULL || n == 0)
		return (0);
	if ((ob_items = calloc(n, sizeof(*ob_items))) == NULL)
		return (0);
	ob_n = n;
	for (i = 0; i < n; i++) {
		ob_items[i].id = it[i].id;
		ob_items[i].attempt = it[i].attempt;
		ob_items[i].channel = ob_strdup(it[i].channel);
		ob_items[i].kind = ob_strdup(it[i].kind);
		ob_items[i].key = ob_strdup(it[i].key);
		ob_items[i].recipient = ob_strdup(it[i].recipient);
		ob_items[i].lang = ob_strdup(it[i].lang);
		ob_items[i].payload = ob_strdup(it[i].payload);
		if (ob_items[i].channel == NULL || ob_items[i].kind == NULL ||
		    ob_items[i].key == NULL || ob_items[i].recipient == NULL ||
		    ob_items[i].lang == NULL || ob_items[i].payload == NULL) {
			ob_free_items();
			return (0);
		}
	}
	ob_task = kore_calloc(1, sizeof(*ob_task));
	kore_task_create(ob_task, ob_task_run);
	kore_task_bind_callback(ob_task, ob_task_done);
	kore_task_run(ob_task);
	return (1);
}

static void
ob_task_done(struct kore_task *t)
{
	struct store_outbox_result *r;
	size_t			    i;

	if (!kore_task_finished(t))
		return;
	if ((r = calloc(ob_n > 0 ? ob_n : 1, sizeof(*r))) != NULL) {
		for (i = 0; i < ob_n; i++) {
			r[i].id = ob_items[i].id;
			r[i].attempt = ob_items[i].attempt;
			r[i].ok = ob_items[i].ok;
			r[i].error = ob_items[i].error;
			if (!ob_items[i].ok)
				kore_log(LOG_NOTICE,
				    "outbox: %s %s (attempt %" PRId64 "): %s",
				    ob_items[i].channel, ob_items[i].key,
				    ob_items[i].attempt, ob_items[i].error);
		}
		store_outbox_delivered(r, ob_n);
		free(r);
	}
	ob_free_items();
	kore_task_destroy(t);
	kore_free(t);
	ob_task = NULL;
}

/*
 * Task thread from here on: malloc only, nothing of Kore's.
 */

static void
ob_put(struct ob_buf *b, const char *s, size_t n)
{
	char  *p;
	size_t cap;

	if (b->failed)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = (b->len + n + 1) * 2;
		if ((p = realloc(b->data, cap)) == NULL) {
			b->failed = 1;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
ob_puts(struct ob_buf *b, const char *s)
{
	ob_put(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
ob_printf(struct ob_buf *b, const char *fmt, ...)
{
	va_list ap;
	char	tmp[1024];
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	ob_put(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* Keep an error printable and valid UTF-8: control bytes and bytes
 * beyond ASCII become '?'. */
static void
ob_err(struct ob_item *it, const char *fmt, ...)
{
	va_list ap;
	size_t	i;

	va_start(ap, fmt);
	(void)vsnprintf(it->error, sizeof(it->error), fmt, ap);
	va_end(ap);
	for (i = 0; it->error[i] != '\0'; i++) {
		if ((unsigned char)it->error[i] < 0x20 ||
		    (unsigned char)it->error[i] > 0x7e)
			it->error[i] = '?';
	}
}

static void
ob_base64(struct ob_buf *b, const unsigned char *in, size_t n)
{
	unsigned char out[4 * 64 / 3 + 4];
	size_t	      i, k;

	/* 57 bytes per line: 76 characters. */
	for (i = 0; i < n; i += 57) {
		k = n - i < 57 ? n - i : 57;
		EVP_EncodeBlock(out, in + i, (int)k);
		ob_puts(b, (const char *)out);
		ob_puts(b, "\r\n");
	}
}

/* An RFC 2047 encoded-word sequence, split on UTF-8 boundaries: at most
 * 42 bytes a word (56 base64 characters, 68 with the markers), so that
 * "Subject: " and the first word fit a 78-character line. */
static void
ob_header_words(struct ob_buf *b, const char *s)
{
	unsigned char out[64];
	size_t	      n, i, k;
	int	      first = 1;

	n = strlen(s);
	for (i = 0; i < n; i += k) {
		k = n - i < 42 ? n - i : 42;
		while (k > 1 && i + k < n &&
		    ((unsigned char)s[i + k] & 0xc0) == 0x80)
			k--;
		EVP_EncodeBlock(out, (const unsigned char *)s + i, (int)k);
		ob_printf(b, "%s=?UTF-8?B?%s?=", first ? "" : "\r\n ", out);
		first = 0;
	}
}

static const char *
ob_jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return (s != NULL ? s : "");
}

static int
ob_addr_ok(const char *a)
{
	const char *p;

	if (*a == '\0' || strchr(a, '@') == NULL || strlen(a) > 254)
		return (0);
	for (p = a; *p != '\0'; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f ||
		    strchr("<>()[]\\,;:\"", *p) != NULL)
			return (0);
	}
	return (1);
}

/* The address inside "Name <addr>", or the whole value. */
static void
ob_from_addr(const char *from, char *out, size_t len)
{
	const char *lt, *gt;

	if ((lt = strrchr(from, '<')) != NULL &&
	    (gt = strchr(lt, '>')) != NULL && (size_t)(gt - lt - 1) < len) {
		memcpy(out, lt + 1, (size_t)(gt - lt - 1));
		out[gt - lt - 1] = '\0';
		return;
	}
	(void)snprintf(out, len, "%s", from);
}

static void
ob_date(char *out, size_t len)
{
	static const char *days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri",
		"Sat" };
	static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May",
		"Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm	   tm;
	time_t		   now = time(NULL);

	(void)gmtime_r(&now, &tm);
	(void)snprintf(out, len, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Subject and body text of a package.uploaded mail in lang. */
static void
ob_package_text(json_t *pkg, int en, const char *url, struct ob_buf *subj,
    struct ob_buf *body)
{
	const char *name = ob_jstr(pkg, "name"), *ver = ob_jstr(pkg, "version");
	const char *task = ob_jstr(pkg, "task_name");
	const char *node = ob_jstr(pkg, "node_name");
	const char *notes = ob_jstr(pkg, "notes");
	json_int_t  size = json_integer_value(json_object_get(pkg, "size"));

	ob_printf(subj, "[Yard] %s%s%s%s",
	    en ? "New update package: " : "新的更新包：", name,
	    *ver != '\0' ? " " : "", ver);
	if (en) {
		ob_puts(body,
		    "Hello,\r\n\r\nA new update package was uploaded");
		if (*task != '\0')
			ob_printf(body, " for task \"%s\" (node %s)", task,
			    node);
		else if (*node != '\0')
			ob_printf(body, " for node \"%s\"", node);
		ob_puts(body, ", which you manage:\r\n\r\n");
		ob_printf(body, "  Name:        %s\r\n", name);
		ob_printf(body, "  Version:     %s\r\n", ver);
		ob_printf(body, "  File:        %s\r\n",
		    ob_jstr(pkg, "filename"));
		ob_printf(body,
		    "  Size:        %" JSON_INTEGER_FORMAT " bytes\r\n", size);
		ob_printf(body, "  SHA-256:     %s\r\n",
		    ob_jstr(pkg, "sha256"));
		ob_printf(body, "  Uploaded by: %s\r\n",
		    ob_jstr(pkg, "uploader_sub"));
		if (*notes != '\0')
			ob_printf(body, "  Notes:       %s\r\n", notes);
		ob_printf(body,
		    "\r\nOpen it in Yard and attach it to a task:\r\n%s\r\n"
		    "\r\n-- \r\nYard (sent automatically; please do not "
		    "reply)\r\n",
		    url);
		return;
	}
	ob_puts(body, "您好：\r\n\r\n");
	if (*task != '\0')
		ob_printf(body, "您管理的任务「%s」（节点 %s）", task, node);
	else if (*node != '\0')
		ob_printf(body, "您管理的节点「%s」", node);
	else
		ob_puts(body, "Yard");
	ob_puts(body, "有新的更新包上传：\r\n\r\n");
	ob_printf(body, "  名称：%s\r\n", name);
	ob_printf(body, "  版本：%s\r\n", ver);
	ob_printf(body, "  文件：%s\r\n", ob_jstr(pkg, "filename"));
	ob_printf(body, "  大小：%" JSON_INTEGER_FORMAT " 字节\r\n", size);
	ob_printf(body, "  SHA-256：%s\r\n", ob_jstr(pkg, "sha256"));
	ob_printf(body, "  上传者：%s\r\n", ob_jstr(pkg, "uploader_sub"));
	if (*notes != '\0')
		ob_printf(body, "  备注：%s\r\n", notes);
	ob_printf(body,
	    "\r\n在 Yard 中查看并附加到任务：\r\n%s\r\n\r\n-- \r\n"
	    "Yard（系统自动发送，请勿回复）\r\n",
	    url);
}

static int
ob_is_alert(const char *kind)
{
	return (strncmp(kind, "alert.", 6) == 0);
}

/* One event of an alert mail: rule, target, value against the thresholds,
 * its times and its page. */
static void
ob_alert_event(json_t *e, int en, struct ob_buf *body)
{
	const char *task = ob_jstr(e, "task_name");
	const char *fired = ob_jstr(e, "fired_at");
	const char *resolved = ob_jstr(e, "resolved_at");
	const char *kind = ob_jstr(e, "kind");
	int	    below =
	    strcmp(kind, "node_disk") == 0 || strcmp(kind, "node_memory") == 0;

	ob_printf(body, "* %s (%s)\r\n", ob_jstr(e, "rule"), kind);
	if (*task != '\0')
		ob_printf(body,
		    en ? "  Task:      %s on node %s\r\n"
		       : "  任务：%s（节点 %s）\r\n",
		    task, ob_jstr(e, "node_name"));
	else
		ob_printf(body, en ? "  Node:      %s\r\n" : "  节点：%s\r\n",
		    ob_jstr(e, "node_name"));
	ob_printf(body,
	    en ? "  Value:     %s (fires %s %s, resolves %s %s)\r\n"
	       : "  当前值：%s（%s %s 时告警，%s %s 时恢复）\r\n",
	    ob_jstr(e, "value_text"), below ? "<" : ">",
	    ob_jstr(e, "threshold_text"),
	    below ? ">=" : "<=", ob_jstr(e, "recovery_text"));
	ob_printf(body, en ? "  Since:     %s\r\n" : "  开始：%s\r\n",
	    ob_jstr(e, "started_at"));
	if (*fired != '\0')
		ob_printf(body, en ? "  Firing at: %s\r\n" : "  告警：%s\r\n",
		    fired);
	if (*resolved != '\0')
		ob_printf(body, en ? "  Resolved:  %s\r\n" : "  恢复：%s\r\n",
		    resolved);
	ob_printf(body, "  %s/ui/alerts?event=%" JSON_INTEGER_FORMAT "\r\n\r\n",
	    app.cfg.public_url, json_integer_value(json_object_get(e, "id")));
}

/* Subject and body of an alert mail (alert.firing, alert.resolved): the
 * events of one notice, a node's transitions grouped. */
static int
ob_alert_text(json_t *p, const char *kind, int en, struct ob_buf *subj,
    struct ob_buf *body)
{
	json_t	   *evs = json_object_get(p, "events"), *e;
	int	    firing = strcmp(kind, "alert.firing") == 0;
	int	    repeat = json_is_true(json_object_get(p, "repeat"));
	const char *task, *pre, *intro;
	size_t	    i, n;

	if (!json_is_array(evs) || (n = json_array_size(evs)) == 0)
		return (0);
	e = json_array_get(evs, 0);
	task = ob_jstr(e, "task_name");
	if (firing && repeat)
		pre = en ? "Still firing: " : "仍在告警：";
	else if (firing)
		pre = en ? "Firing: " : "告警：";
	else
		pre = en ? "Resolved: " : "已恢复：";
	if (n == 1 && en)
		ob_printf(subj, "[Yard] %s%s on %s%s%s", pre,
		    ob_jstr(e, "rule"), task, *task != '\0' ? "@" : "",
		    ob_jstr(e, "node_name"));
	else if (n == 1)
		ob_printf(subj, "[Yard] %s%s — %s%s%s", pre, ob_jstr(e, "rule"),
		    task, *task != '\0' ? "@" : "", ob_jstr(e, "node_name"));
	else if (en)
		ob_printf(subj, "[Yard] %s%zu alerts on node %s", pre, n,
		    ob_jstr(e, "node_name"));
	else
		ob_printf(subj, "[Yard] %s节点 %s 的 %zu 条告警", pre,
		    ob_jstr(e, "node_name"), n);
	if (firing && repeat)
		intro = en ? "These alerts are still firing:"
			   : "以下告警仍未恢复：";
	else if (firing)
		intro = en ? "These alerts are firing:" : "以下告警已触发：";
	else
		intro = en ? "These alerts are resolved:" : "以下告警已恢复：";
	ob_printf(body, "%s\r\n\r\n%s\r\n\r\n", en ? "Hello," : "您好：",
	    intro);
	json_array_foreach(evs, i, e)
	{
		ob_alert_event(e, en, body);
	}
	if (en)
		ob_puts(body,
		    "-- \r\nYard (sent automatically; please do "
		    "not reply)\r\n");
	else
		ob_puts(body, "-- \r\nYard（系统自动发送，请勿回复）\r\n");
	return (1);
}

/* The whole message of a mail item into msg; 0 and it->error on bad
 * input. */
static int
ob_mail_message(struct ob_item *it, struct ob_buf *msg)
{
	struct ob_buf subj, body;
	json_t	     *p, *pkg;
	char	      date[64], from[256], url[1024], mid[512];
	const char   *dom;
	size_t	      i;
	int	      ok = 0;

	memset(&subj, 0, sizeof(subj));
	memset(&body, 0, sizeof(body));
	if ((p = json_loads(it->payload, 0, NULL)) == NULL) {
		ob_err(it, "bad payload");
		goto done;
	}
	if (ob_is_alert(it->kind)) {
		if (!ob_alert_text(p, it->kind, strcmp(it->lang, "en") == 0,
			&subj, &body)) {
			ob_err(it, "bad payload: no events");
			goto done;
		}
	} else if ((pkg = json_object_get(p, "package")) != NULL) {
		(void)snprintf(url, sizeof(url),
		    "%s/ui/packages/%" JSON_INTEGER_FORMAT, app.cfg.public_url,
		    json_integer_value(json_object_get(pkg, "id")));
		ob_package_text(pkg, strcmp(it->lang, "en") == 0, url, &subj,
		    &body);
	} else {
		ob_err(it, "bad payload");
		goto done;
	}
	ob_from_addr(app.cfg.smtp_from, from, sizeof(from));
	dom =
	    strchr(from, '@') != NULL ? strchr(from, '@') + 1 : "yard.invalid";
	/* The same Message-ID on every attempt: receivers can drop copies. */
	(void)snprintf(mid, sizeof(mid), "<%s@%s>", it->key, dom);
	for (i = 0; mid[i] != '\0'; i++) {
		if (!isalnum((unsigned char)mid[i]) &&
		    strchr("<>@.-_", mid[i]) == NULL)
			mid[i] = '.';
	}
	ob_date(date, sizeof(date));
	ob_printf(msg, "Date: %s\r\n", date);
	ob_printf(msg, "Message-ID: %s\r\n", mid);
	ob_printf(msg, "From: %s\r\n", app.cfg.smtp_from);
	ob_printf(msg, "To: <%s>\r\n", it->recipient);
	ob_puts(msg, "Subject: ");
	if (subj.data != NULL)
		ob_header_words(msg, subj.data);
	ob_puts(msg,
	    "\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Auto-Submitted: auto-generated\r\n");
	ob_printf(msg, "X-Yard-Kind: %s\r\n\r\n", it->kind);
	if (body.data != NULL)
		ob_base64(msg, (const unsigned char *)body.data, body.len);
	if (msg->failed || subj.failed || body.failed) {
		ob_err(it, "out of memory");
		goto done;
	}
	ok = 1;
done:
	free(subj.data);
	free(body.data);
	json_decref(p);
	return (ok);
}

static size_t
ob_read(char *dst, size_t size, size_t nmemb, void *arg)
{
	struct ob_buf *b = arg;
	size_t	       n = size * nmemb;

	if (n > b->len - b->pos)
		n = b->len - b->pos;
	memcpy(dst, b->data + b->pos, n);
	b->pos += n;
	return (n);
}

/* The server's last refusal (a 4xx or 5xx reply line), never what we
 * send (AUTH is in there). */
static int
ob_debug(CURL *c, curl_infotype type, char *data, size_t n, void *arg)
{
	char  *last = arg;
	size_t k;

	if (type != CURLINFO_HEADER_IN || n < 3 ||
	    (data[0] != '4' && data[0] != '5'))
		return (0);
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		n--;
	k = n < OB_REPLY_MAX - 1 ? n : OB_REPLY_MAX - 1;
	memcpy(last, data, k);
	last[k] = '\0';
	return (0);
}

static void
ob_send_mail(struct ob_item *it)
{
	struct ob_buf	   msg;
	struct curl_slist *rcpt = NULL;
	CURL		  *c;
	CURLcode	   rc;
	char		   from[256], env_from[300], to[300];
	char		   ebuf[CURL_ERROR_SIZE], last[OB_REPLY_MAX];

	memset(&msg, 0, sizeof(msg));
	if (!ob_addr_ok(it->recipient)) {
		ob_err(it, "not an e-mail address: %s", it->recipient);
		return;
	}
	if (!ob_mail_message(it, &msg))
		goto done;
	ob_from_addr(app.cfg.smtp_from, from, sizeof(from));
	(void)snprintf(env_from, sizeof(env_from), "<%s>", from);
	(void)snprintf(to, sizeof(to), "<%s>", it->recipient);
	if ((c = curl_easy_init()) == NULL) {
		ob_err(it, "curl_easy_init failed");
		goto done;
	}
	ebuf[0] = last[0] = '\0';
	rcpt = curl_slist_append(NULL, to);
	curl_easy_setopt(c, CURLOPT_URL, app.cfg.smtp_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* TLS always: smtps://, or STARTTLS on smtp:// (refused without). */
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (app.cfg.smtp_ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, app.cfg.smtp_ca_file);
	if (app.cfg.smtp_user != NULL)
		curl_easy_setopt(c, CURLOPT_USERNAME, app.cfg.smtp_user);
	if (smtp_password != NULL)
		curl_easy_setopt(c, CURLOPT_PASSWORD, smtp_password);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, env_from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, ob_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &msg);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)msg.len);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, ob_debug);
	curl_easy_setopt(c, CURLOPT_DEBUGDATA, last);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);
	if ((rc = curl_easy_perform(c)) == CURLE_OK)
		it->ok = 1;
	else
		ob_err(it, "%s%s%s",
		    ebuf[0] != '\0' ? ebuf : curl_easy_strerror(rc),
		    last[0] != '\0' ? "; server said: " : "", last);
	curl_easy_cleanup(c);
done:
	curl_slist_free_all(rcpt);
	free(msg.data);
}

static size_t
ob_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct ob_buf *b = arg;
	size_t	       n = size * nmemb;

	if (b->len < OB_REPLY_MAX)
		ob_put(b, ptr,
		    n < OB_REPLY_MAX - b->len ? n : OB_REPLY_MAX - b->len);
	return (n);
}

static void
ob_send_callback(struct ob_item *it)
{
	struct curl_slist *h = NULL;
	struct ob_buf	   reply;
	CURL		  *c;
	CURLcode	   rc;
	json_t		  *p;
	char		  *body = NULL, url[1024], line[600], hex[65];
	unsigned char	   mac[EVP_MAX_MD_SIZE];
	unsigned int	   maclen = 0, i;
	long		   status = 0;
	char		   ebuf[CURL_ERROR_SIZE];

	memset(&reply, 0, sizeof(reply));
	if ((p = json_loads(it->payload, 0, NULL)) == NULL) {
		ob_err(it, "bad payload");
		return;
	}
	if (ob_is_alert(it->kind))
		(void)snprintf(url, sizeof(url),
		    "%s/ui/alerts?event=%" JSON_INTEGER_FORMAT,
		    app.cfg.public_url,
		    json_integer_value(json_object_get(p, "event_id")));
	else
		(void)snprintf(url, sizeof(url),
		    "%s/ui/packages/%" JSON_INTEGER_FORMAT, app.cfg.public_url,
		    json_integer_value(json_object_get(p, "package_id")));
	json_object_set_new(p, "url", json_string(url));
	body = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	if (body == NULL) {
		ob_err(it, "out of memory");
		return;
	}
	if (HMAC(EVP_sha256(), notify_secret, (int)notify_secret_len,
		(const unsigned char *)body, strlen(body), mac,
		&maclen) == NULL) {
		ob_err(it, "HMAC failed");
		goto done;
	}
	for (i = 0; i < maclen && i < 32; i++)
		(void)snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	if ((c = curl_easy_init()) == NULL) {
		ob_err(it, "curl_easy_init failed");
		goto done;
	}
	ebuf[0] = '\0';
	h = curl_slist_append(h, "Content-Type: application/json");
	(void)snprintf(line, sizeof(line), "Idempotency-Key: %s", it->key);
	h = curl_slist_append(h, line);
	(void)snprintf(line, sizeof(line), "X-Yard-Signature: sha256=%s", hex);
	h = curl_slist_append(h, line);
	(void)snprintf(line, sizeof(line), "X-Yard-Kind: %s", it->kind);
	h = curl_slist_append(h, line);
	h = curl_slist_append(h, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, app.cfg.ews_notify_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(c, CURLOPT_USERAGENT, APP_USER_AGENT);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ob_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, ebuf);
	if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		ob_err(it, "%s",
		    ebuf[0] != '\0' ? ebuf : curl_easy_strerror(rc));
	} else {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300)
			it->ok = 1;
		else
			ob_err(it, "HTTP %ld: %s", status,
			    reply.data != NULL ? reply.data : "");
	}
	curl_easy_cleanup(c);
done:
	curl_slist_free_all(h);
	free(reply.data);
	free(body);
}

static int
ob_task_run(struct kore_task *t)
{
	size_t i;

	for (i = 0; i < ob_n; i++) {
		/* The kind goes into a header: our own names only. */
		if (ob_items[i].kind[0] == '\0' ||
		    strspn(ob_items[i].kind, "abcdefghijklmnopqrstuvwxyz.") !=
			strlen(ob_items[i].kind))
			ob_err(&ob_items[i], "bad kind");
		else if (strcmp(ob_items[i].channel, "mail") == 0)
			ob_send_mail(&ob_items[i]);
		else if (strcmp(ob_items[i].channel, "callback") == 0)
			ob_send_callback(&ob_items[i]);
		else
			ob_err(&ob_items[i], "unknown channel %s",
			    ob_items[i].channel);
	}
	return (1);
}
