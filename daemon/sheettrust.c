/*
 * sheettrust.c: the signature trust store sheets are verified with.
 *
 * A worker may be verifying with it while SIGHUP installs a new one, so
 * each is reference-counted on the loop thread: held when a job is
 * submitted (sheettrust_hold), released when its done() runs
 * (sheettrust_release). Owns every store it was given; frees one when its
 * last holder lets go. Loop thread only.
 */
#include <stdlib.h>

#include "daemon.h"
#include "log.h"
#include "xmlsig.h"

struct sheettrust {
	struct sigtrust	*sig;
	int		 refs;
};
static struct sheettrust	*current;

void
sheettrust_release(struct sheettrust *t)
{
	if (t != NULL && --t->refs == 0) {
		sigtrust_free(t->sig);
		free(t);
	}
}

void
sheettrust_set(struct sigtrust *sig)
{
	struct sheettrust	*t = NULL;

	if (sig != NULL) {
		if ((t = calloc(1, sizeof(*t))) == NULL)
			fatal("calloc");
		t->sig = sig;
		t->refs = 1;
	}
	sheettrust_release(current);
	current = t;
}

struct sheettrust *
sheettrust_hold(void)
{
	if (current != NULL)
		current->refs++;
	return current;
}

struct sigtrust *
sheettrust_sig(const struct sheettrust *t)
{
	return t->sig;
}
