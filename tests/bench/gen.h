/*
 * gen.h: what the parts of build/bench/gen share: gen.c (small utilities,
 * the workers, the world, the plans of which workers each sheet pays, the
 * command line), gen_sheets.c (signed sheets), gen_raw.c (the raw COPY
 * limit) and gen_cost.c (the daemon's CPU per sheet).
 */
#ifndef GEN_H
#define GEN_H

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libpq-fe.h>
#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include "sheet.h"
#include "sheetstream.h"
#include "xmlsafe.h"
#include "xmlsig.h"

#define SEED_BASE	1000000		/* worker i has seed SEED_BASE + i */
#define DS_NS		"http://www.w3.org/2000/09/xmldsig#"
#define EXC_C14N	"http://www.w3.org/2001/10/xml-exc-c14n#"
#define ENVELOPED	"http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define RSA_SHA256	"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define DIGEST_SHA256	"http://www.w3.org/2001/04/xmlenc#sha256"

/* A growing byte buffer; every writer dies on out-of-memory. */
struct buf {
	char	*p;
	size_t	 len, cap;
};

struct worker {
	char	id[19];
	char	card[20];
	char	name[16];
	const char *bank;
	int64_t	amount;		/* net monthly pay, fen */
};

struct world {
	long	acc_base;	/* dedicated account of project p: acc_base + p + 1 */
	long	proj_base;	/* project p's id: proj_base + p + 1 */
	long	clearing_in;	/* the bank's CLEARING_IN account id */
	int	projects;	/* P */
	int	per;		/* W: workers of projects 2..P */
	int	big;		/* B: workers of project 1 */
	char	gc[19], owner[19], sub[19];
	char	gc_name[64], sub_name[64];
};

struct plan_sheet {
	int	project;
	int	first;		/* worker k of the project */
	int	n;
};

struct plan {
	struct plan_sheet *s;
	int		 n, cap;
	int64_t		 lines;
};

/* Project p's row ids, as gen world loads them: after the rows the
 * migrations made (-A and -J say where those end). */
#define PROJECT_ID(p)	(w->proj_base + (p) + 1)
#define ACCOUNT_ID(p)	(w->acc_base + (p) + 1)

/* gen.c */
void		 die(const char *fmt, ...)
		    __attribute__((noreturn, format(printf, 1, 2)));
double		 now_s(void);
void		 buf_add(struct buf *b, const void *s, size_t n);
void		 buf_puts(struct buf *b, const char *s);
void		 buf_printf(struct buf *b, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
void		 write_file(const char *path, const char *data, size_t len);
char		*read_file(const char *path, size_t *lenp);
void		 fmt_fen(int64_t fen, char *out, size_t len);
void		 worker_make(int64_t i, struct worker *w);
int64_t		 world_worker_index(const struct world *w, int p, int k);
void		 project_code(int p, char out[32]);
void		 project_account(int p, char out[40]);
void		 plan_add(struct plan *pl, int p, int first, int n);
void		 plan_fixed(const struct world *w, int size, int count,
		    bool use_big, struct plan *pl);
void		 plan_mix(const struct world *w, int64_t target,
		    struct plan *pl);
void		 cmd_world(const struct world *w, const char *dir);

/* gen_sheets.c */
void		 next_month(const char *month, char out[16]);
void		 cmd_sheets(const struct world *w, const char *dir,
		    const char *name, const char *kind, int size, int64_t count,
		    const char *month, const char *key, const char *cert,
		    int jobs);

/* gen_raw.c */
void		 cmd_raw(const struct world *w, const char *dsn, int count,
		    int size, const char *month, const char *prefix, int conns);

/* gen_cost.c */
void		 cmd_cost(const char *file, const char *ca, int reps);

#endif
