/*
 * runner.c: runs every unit case in its own process and prints TAP.
 * Usage: build/unit [PREFIX]   e.g. build/unit money/
 * The groups come from build/tests/unit/groups.h, made by the Makefile from
 * the names of tests/unit/test_*.c.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "unit.h"

#define UNIT_GROUP(g) extern const struct unit_case g##_cases[];
#include "groups.h"
#undef UNIT_GROUP

struct unit_group {
	const char		*name;
	const struct unit_case	*cases;
};

static const struct unit_group groups[] = {
#define UNIT_GROUP(g) { #g, g##_cases },
#include "groups.h"
#undef UNIT_GROUP
	{ NULL, NULL }
};

char *
unit_read_data(const char *name, size_t *len)
{
	char	 path[512];
	FILE	*f;
	char	*buf;
	long	 n;

	snprintf(path, sizeof(path), "tests/data/%s", name);
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "  could not open \"%s\"\n", path);
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	if ((buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "  could not read \"%s\"\n", path);
		exit(1);
	}
	buf[n] = '\0';
	fclose(f);
	if (len != NULL)
		*len = (size_t)n;
	return buf;
}

static int
run_case(const struct unit_case *c)
{
	pid_t	pid;
	int	status;

	fflush(stdout);
	if ((pid = fork()) == -1) {
		perror("fork");
		return -1;
	}
	if (pid == 0) {
		c->fn();
		exit(0);
	}
	if (waitpid(pid, &status, 0) == -1)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int
main(int argc, char *argv[])
{
	const char			*prefix = argc > 1 ? argv[1] : "";
	const struct unit_group		*g;
	const struct unit_case		*c;
	char				 full[256];
	int				 n = 0, failed = 0;

	for (g = groups; g->name != NULL; g++) {
		for (c = g->cases; c->name != NULL; c++) {
			snprintf(full, sizeof(full), "%s/%s", g->name, c->name);
			if (strncmp(full, prefix, strlen(prefix)) != 0)
				continue;
			n++;
			if (run_case(c) == 0)
				printf("ok %d - %s\n", n, full);
			else {
				printf("not ok %d - %s\n", n, full);
				failed++;
			}
		}
	}
	printf("1..%d\n", n);
	printf("%d passed, %d failed\n", n - failed, failed);
	return failed == 0 && n > 0 ? 0 : 1;
}
