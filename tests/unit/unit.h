/*
 * unit.h: the unit test harness (Tor's tinytest shape). Each test_NAME.c
 * defines `const struct unit_case NAME_cases[]`, ended by {NULL, NULL}; the
 * runner finds the files by name, runs each case in its own process, filters
 * by a name prefix ("money/" or "money/parse"), and prints TAP.
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct unit_case {
	const char	*name;
	void		(*fn)(void);
};

/* A failed check prints where and why, and ends the case's process. */
#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
	exit(1); } } while (0)
#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
	if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) { \
	fprintf(stderr, "  %s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
	    a_ ? a_ : "(null)", b_ ? b_ : "(null)"); exit(1); } } while (0)
#define CHECK_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
	if (a_ != b_) { fprintf(stderr, "  %s:%d: %s == %lld, expected %lld\n", \
	    __FILE__, __LINE__, #a, a_, b_); exit(1); } } while (0)

/* Reads a whole file from tests/data/ (malloc'd, NUL-terminated); exits the
 * case on failure. */
char	*unit_read_data(const char *name, size_t *len);

#endif
