/*
 * Copyright (c) 2026 Yard authors.  ISC licence.
 * Modelled on OpenBSD httpd's log.c (Copyright (c) 2003, 2004 Henning
 * Brauer, ISC licence).
 *
 * Logging: stderr under -d (and for the one-shot commands), syslog
 * otherwise.  log_warn appends strerror(errno).
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "agent.h"

static int debug;
static int verbose;

static void vlog(int, const char *, va_list)
    __attribute__((format(printf, 2, 0)));
static void logit(int, const char *, ...) __attribute__((format(printf, 2, 3)));

/* n_debug: log to stderr; n_verbose: also log_debug messages. */
void
log_init(int n_debug, int facility)
{
	debug = n_debug;
	verbose = n_debug;
	if (!debug)
		openlog("yard-agent", LOG_PID | LOG_NDELAY, facility);
	tzset();
}

void
log_setverbose(int v)
{
	verbose = v;
}

static void
logit(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

static void
vlog(int pri, const char *fmt, va_list ap)
{
	int saved_errno = errno;

	if (debug) {
		fprintf(stderr, "yard-agent: ");
		vfprintf(stderr, fmt, ap);
		fprintf(stderr, "\n");
		fflush(stderr);
	} else
		vsyslog(pri, fmt, ap);
	errno = saved_errno;
}

void
log_warn(const char *emsg, ...)
{
	char	buf[1024];
	va_list ap;
	int	saved_errno = errno;

	va_start(ap, emsg);
	if (emsg == NULL)
		logit(LOG_ERR, "%s", strerror(saved_errno));
	else {
		(void)vsnprintf(buf, sizeof(buf), emsg, ap);
		logit(LOG_ERR, "%s: %s", buf, strerror(saved_errno));
	}
	va_end(ap);
	errno = saved_errno;
}

void
log_warnx(const char *emsg, ...)
{
	va_list ap;

	va_start(ap, emsg);
	vlog(LOG_ERR, emsg, ap);
	va_end(ap);
}

void
log_info(const char *emsg, ...)
{
	va_list ap;

	va_start(ap, emsg);
	vlog(LOG_INFO, emsg, ap);
	va_end(ap);
}

void
log_debug(const char *emsg, ...)
{
	va_list ap;

	if (verbose) {
		va_start(ap, emsg);
		vlog(LOG_DEBUG, emsg, ap);
		va_end(ap);
	}
}

void
fatal(const char *emsg, ...)
{
	char	buf[1024];
	va_list ap;
	int	saved_errno = errno;

	va_start(ap, emsg);
	if (emsg == NULL)
		logit(LOG_CRIT, "fatal: %s", strerror(saved_errno));
	else {
		(void)vsnprintf(buf, sizeof(buf), emsg, ap);
		logit(LOG_CRIT, "fatal: %s: %s", buf, strerror(saved_errno));
	}
	va_end(ap);
	exit(1);
}

void
fatalx(const char *emsg, ...)
{
	char	buf[1024];
	va_list ap;

	va_start(ap, emsg);
	(void)vsnprintf(buf, sizeof(buf), emsg, ap);
	va_end(ap);
	logit(LOG_CRIT, "fatal: %s", buf);
	exit(1);
}
