/*
 * log.c: the daemon's log lines, on stderr, one line each, with a level
 * prefix systemd understands (<3> error, <4> warning, <6> info, <7> debug).
 * Owns nothing but the verbosity flag. Must not allocate: it is called on
 * out-of-memory paths.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int	log_verbose;

void
log_init(int debug)
{
	log_verbose = debug;
}

void
log_setverbose(int verbose)
{
	log_verbose = verbose;
}

static void
vlog(const char *prefix, const char *fmt, va_list ap, int with_errno)
{
	char	 line[1024];
	int	 saved = errno;

	vsnprintf(line, sizeof(line), fmt, ap);
	if (with_errno)
		fprintf(stderr, "%s%s: %s\n", prefix, line, strerror(saved));
	else
		fprintf(stderr, "%s%s\n", prefix, line);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog("<4>", fmt, ap, 1);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog("<4>", fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog("<6>", fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (!log_verbose)
		return;
	va_start(ap, fmt);
	vlog("<7>", fmt, ap, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog("<3>fatal: ", fmt, ap, 1);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vlog("<3>fatal: ", fmt, ap, 0);
	va_end(ap);
	exit(1);
}
