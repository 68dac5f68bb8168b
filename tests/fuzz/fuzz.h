/*
 * fuzz.h: what every fuzz target shares. A target defines
 * fuzz_init() (once) and fuzz_one(data, size) (per input); fuzz_main.c
 * adapts them to libFuzzer (make fuzz) or to a replay of files
 * (make test: build/fuzz-NAME FILE...).
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

struct schemas;

void	fuzz_init(void);
void	fuzz_one(const uint8_t *data, size_t size);

/* The compiled schemas, loaded once (aborts if they do not load); also
 * initialises libxml2 for the targets. */
const struct schemas	*fuzz_schemas(void);
/* Results read only so that they count as used (gcc ignores a (void) cast
 * on warn_unused_result). */
extern volatile int	 fuzz_sink;

#endif
