/*
 * fuzz_main.c: the entry points. Built with -DFUZZ_LIBFUZZER under clang's
 * -fsanitize=fuzzer it is libFuzzer's; otherwise a main() that feeds each
 * file named on the command line to the target once, so the corpora are
 * replayed by `make test` under the ordinary (or ASan) build.
 */
#include <stdio.h>
#include <stdlib.h>

#include <libxml/parser.h>

#include "fuzz.h"
#include "xmlsafe.h"

volatile int	fuzz_sink;

const struct schemas *
fuzz_schemas(void)
{
	static struct schemas	*schemas;
	struct perr		 err;

	if (schemas == NULL) {
		xmlInitParser();
		if ((schemas = schemas_load(&err)) == NULL)
			abort();
	}
	return schemas;
}

#ifdef FUZZ_LIBFUZZER
int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	fuzz_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_one(data, size);
	return 0;
}
#else
int
main(int argc, char *argv[])
{
	FILE		*f;
	uint8_t		*buf;
	long		 n;
	int		 i;

	fuzz_init();
	for (i = 1; i < argc; i++) {
		if ((f = fopen(argv[i], "rb")) == NULL) {
			perror(argv[i]);
			return 1;
		}
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		fseek(f, 0, SEEK_SET);
		if ((buf = malloc((size_t)n + 1)) == NULL ||
		    fread(buf, 1, (size_t)n, f) != (size_t)n) {
			fprintf(stderr, "could not read %s\n", argv[i]);
			return 1;
		}
		fclose(f);
		fuzz_one(buf, (size_t)n);
		free(buf);
	}
	printf("replayed %d inputs\n", argc - 1);
	return 0;
}
#endif
