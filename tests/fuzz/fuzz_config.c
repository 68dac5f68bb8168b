/*
 * fuzz_config.c: the configuration file parser.
 */
#include "config.h"
#include "fuzz.h"

void
fuzz_init(void)
{
}

void
fuzz_one(const uint8_t *data, size_t size)
{
	struct perr	err;

	config_free(config_parse("fuzz.conf", (const char *)data, size, &err));
}
