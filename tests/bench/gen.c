/*
 * gen.c: the benchmark's data, and the two measurements that need no daemon.
 *
 *   gen world DIR      the world as PostgreSQL COPY files: dedicated accounts,
 *                      projects, their subcontractor, the real-name roster,
 *                      card owners, deposits with their transfers (balances
 *                      on the account rows equal to them)
 *   gen sheets DIR NAME   signed wage sheets (one file each) and NAME.idx
 *   gen raw DSN        the limit: a raw COPY of the same ledger rows, one
 *                      commit per sheet, over -C connections
 *   gen cost FILE CA   the daemon's CPU per sheet, by calling the proto/
 *                      code it runs: the streaming read, and the whole-tree
 *                      stages beside it; with proof that a changed amount
 *                      is refused
 *
 * The parts: this file (utilities, workers, the world, plans, the command
 * line), gen_sheets.c, gen_raw.c, gen_cost.c; gen.h between them.
 *
 * World options, the same for every subcommand of one run: -P projects,
 * -W workers per project, -B workers of the big project (project 1; the
 * other projects have -W each), -g contractor USCC, -o owner USCC, -s
 * subcontractor USCC, and where the rows the migrations made end: -A the
 * last account id, -J the last project id, -X the CLEARING_IN account.
 * Workers are made from seeds like tests/tools/wpids.py
 * (valid GB 11643 ID numbers, Luhn card numbers, CNAPS codes, synthetic
 * names), deterministically, so sheets and the raw baseline name exactly the
 * rostered people.
 *
 * Signing: the sheets are signed here, ahead of the timed part, without
 * xmlsec: the digest is SHA-256 over libxml2's exclusive C14N of the sheet
 * without its ds:Signature (what the enveloped-signature transform leaves),
 * and SignedInfo is written in its canonical form and signed with OpenSSL.
 * The run script checks a sample of every set with `xmlsec1 --verify`, and
 * the daemon checks all of them, so a wrong signature cannot go unnoticed:
 * it would be a refused sheet.
 *
 * A test tool: it prints what it did to stderr and exits 1 on any error.
 */
#include "gen.h"

/* ------------------------------------------------------------------ */
/* Small utilities.                                                    */

void
die(const char *fmt, ...)
{
	va_list	ap;

	fputs("gen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


static void
buf_need(struct buf *b, size_t n)
{
	if (b->len + n + 1 <= b->cap)
		return;
	while (b->len + n + 1 > b->cap)
		b->cap = b->cap ? b->cap * 2 : 65536;
	if ((b->p = realloc(b->p, b->cap)) == NULL)
		die("out of memory");
}

void
buf_add(struct buf *b, const void *s, size_t n)
{
	buf_need(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("vsnprintf failed");
	buf_need(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
write_file(const char *path, const char *data, size_t len)
{
	FILE	*f;

	if ((f = fopen(path, "w")) == NULL)
		die("could not create \"%s\": %s", path, strerror(errno));
	if (len > 0 && fwrite(data, 1, len, f) != len)
		die("could not write \"%s\": %s", path, strerror(errno));
	if (fclose(f) != 0)
		die("could not write \"%s\": %s", path, strerror(errno));
}

char *
read_file(const char *path, size_t *lenp)
{
	FILE	*f;
	char	*p;
	long	 n;

	if ((f = fopen(path, "rb")) == NULL)
		die("could not open \"%s\": %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		die("could not size \"%s\"", path);
	if ((p = malloc((size_t)n + 1)) == NULL)
		die("out of memory");
	if (n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n)
		die("could not read \"%s\"", path);
	fclose(f);
	p[n] = '\0';
	*lenp = (size_t)n;
	return p;
}

void
fmt_fen(int64_t fen, char *out, size_t len)
{
	snprintf(out, len, "%" PRId64 ".%02d", fen / 100, (int)(fen % 100));
}

/* ------------------------------------------------------------------ */
/* Identifiers, as tests/tools/wpids.py makes them.                    */

static const char *const REGIONS[] = {
	"410183", "410102", "410103", "410105", "410122", "410181"
};
static const char *const CARD_BIN[] = { "622848", "621700", "622202", "621661" };
static const char *const CARD_BANK[] = {
	"103491000018", "105491000016", "102491000013", "104491000014"
};
/* UTF-8, three bytes a character */
static const char SURNAMES[] = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗";
static const char GIVEN[] = "建国伟军强磊洋勇杰涛明超华平刚鹏辉飞鑫波斌宇浩凯健";
#define NSURNAMES	20
#define NGIVEN		25
#define ID_SPACE	(1000LL * 28 * 12 * 40)

static void
make_id(int64_t seed, char out[19])
{
	static const int	w[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9,
				    10, 5, 8, 4, 2 };
	static const char	chk[] = "10X98765432";
	int64_t			n = (seed % ID_SPACE) * 7919 % ID_SPACE;
	int			seq, day, month, year, s = 0, i;

	seq = (int)(n % 1000); n /= 1000;
	day = 1 + (int)(n % 28); n /= 28;
	month = 1 + (int)(n % 12); n /= 12;
	year = 1966 + (int)(n % 40);
	snprintf(out, 19, "%s%04d%02d%02d%03d",
	    REGIONS[(seed / ID_SPACE) % 6], year, month, day, seq);
	for (i = 0; i < 17; i++)
		s += (out[i] - '0') * w[i];
	out[17] = chk[s % 11];
	out[18] = '\0';
}

static void
make_card(int64_t seed, char out[20])
{
	int	total = 0, i, d;

	snprintf(out, 20, "%s%012" PRId64, CARD_BIN[seed % 4],
	    (int64_t)((seed * 999983 + 271828) % 1000000000000LL));
	/* Luhn: double every second digit from the right of the payload */
	for (i = 17; i >= 0; i--) {
		d = out[i] - '0';
		if ((17 - i) % 2 == 0) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		total += d;
	}
	out[18] = (char)('0' + (10 - total % 10) % 10);
	out[19] = '\0';
}

static void
make_name(int64_t seed, char out[16])
{
	int	s = (int)(seed % NSURNAMES), g1 = (int)((seed / NSURNAMES) % NGIVEN);
	int	g2 = (int)((seed * 7 + 3) % NGIVEN);

	memcpy(out, SURNAMES + 3 * s, 3);
	memcpy(out + 3, GIVEN + 3 * g1, 3);
	if (seed % 3 == 0) {
		out[6] = '\0';
		return;
	}
	memcpy(out + 6, GIVEN + 3 * g2, 3);
	out[9] = '\0';
}


void
worker_make(int64_t i, struct worker *w)
{
	int64_t	seed = SEED_BASE + i;

	make_id(seed, w->id);
	make_card(seed, w->card);
	make_name(seed, w->name);
	w->bank = CARD_BANK[seed % 4];
	w->amount = 300000 + (i * 7919) % 500000;
}

/* ------------------------------------------------------------------ */
/* The world.                                                          */


static int
world_workers(const struct world *w, int p)
{
	return p == 0 ? w->big : w->per;
}

/* Global index of worker k of project p (0-based). */
int64_t
world_worker_index(const struct world *w, int p, int k)
{
	return p == 0 ? k : (int64_t)w->big + (int64_t)(p - 1) * w->per + k;
}

void
project_code(int p, char out[32])
{
	snprintf(out, 32, "XB-2026-%04d", p + 1);
}

void
project_account(int p, char out[40])
{
	snprintf(out, 40, "62284801%011d", p + 1);
}


/* Money each project receives: its workers' pay for six months, so that
 * no scenario is held for funds (held sheets are a scenario of their own
 * in the integration suite, not a speed). */
#define DEPOSIT_MONTHS	6

void
cmd_world(const struct world *w, const char *dir)
{
	struct buf	acc = { 0 }, proj = { 0 }, ps = { 0 }, ros = { 0 },
			card = { 0 }, dep = { 0 }, tr = { 0 };
	struct worker	wk;
	char		code[32], number[40], path[4096];
	int64_t		sum, total_workers = 0;
	int		p, k;

	for (p = 0; p < w->projects; p++) {
		project_code(p, code);
		project_account(p, number);
		sum = 0;
		for (k = 0; k < world_workers(w, p); k++) {
			worker_make(world_worker_index(w, p, k), &wk);
			sum += wk.amount;
			buf_printf(&ros, "%ld\t%s\t%s\t%s\t%s\t%s\t2026-02-20\t"
			    "2026-03-01\n", PROJECT_ID(p), wk.id, wk.name, w->sub,
			    wk.card, wk.bank);
			buf_printf(&card, "%s\t%s\n", wk.card, wk.id);
			total_workers++;
		}
		sum *= DEPOSIT_MONTHS;
		buf_printf(&acc, "%ld\t%s\tDEDICATED\t%" PRId64 "\n",
		    ACCOUNT_ID(p), number, sum);
		/* plan: 12 months of the six deposited */
		buf_printf(&proj, "%ld\t%s\tBench project %d\t410183\thousing\t"
		    "%s\t%s\t%ld\t%" PRId64 "\t12\t2026-01-01\t15\n",
		    PROJECT_ID(p), code, p + 1, w->owner, w->gc, ACCOUNT_ID(p),
		    sum * 2);
		buf_printf(&ps, "%ld\t%s\n", PROJECT_ID(p), w->sub);
		buf_printf(&dep, "BENCH-DEP-%d\t%ld\t%" PRId64 "\t2026-10-05\t"
		    "Bench Owner\t%s\n", p + 1, ACCOUNT_ID(p), sum, w->owner);
		buf_printf(&tr, "%ld\t%ld\t%" PRId64 "\tDEPOSIT\tBENCH-DEP-%d\n",
		    w->clearing_in, ACCOUNT_ID(p), sum, p + 1);
	}
#define OUT(name, b) do { \
	snprintf(path, sizeof(path), "%s/%s", dir, name); \
	write_file(path, (b).p ? (b).p : "", (b).len); free((b).p); \
} while (0)
	OUT("account.copy", acc);
	OUT("project.copy", proj);
	OUT("project_subcontractor.copy", ps);
	OUT("roster_entry.copy", ros);
	OUT("card_owner.copy", card);
	OUT("deposit.copy", dep);
	OUT("transfer.copy", tr);
#undef OUT
	fprintf(stderr, "gen world: %d projects, %" PRId64 " workers\n",
	    w->projects, total_workers);
}

/* ------------------------------------------------------------------ */
/* Plans: which workers each sheet of a set pays.                      */



void
plan_add(struct plan *pl, int p, int first, int n)
{
	if (pl->n == pl->cap) {
		pl->cap = pl->cap ? pl->cap * 2 : 1024;
		if ((pl->s = realloc(pl->s, (size_t)pl->cap * sizeof(*pl->s))) ==
		    NULL)
			die("out of memory");
	}
	pl->s[pl->n].project = p;
	pl->s[pl->n].first = first;
	pl->s[pl->n].n = n;
	pl->n++;
	pl->lines += n;
}

/*
 * count sheets of size lines: chunk j of every ordinary project in turn
 * (so that consecutive sheets debit different accounts, as many
 * subcontractors' sheets at month end do), then, if use_big, the big
 * project's chunks (not for the small sheets that flow beside the big
 * sheet of the same month: those would be its duplicates).
 */
void
plan_fixed(const struct world *w, int size, int count, bool use_big,
    struct plan *pl)
{
	int	j, p;

	for (j = 0; (j + 1) * size <= w->per && pl->n < count; j++)
		for (p = 1; p < w->projects && pl->n < count; p++)
			plan_add(pl, p, j * size, size);
	for (j = 0; use_big && (j + 1) * size <= w->big && pl->n < count; j++)
		plan_add(pl, 0, j * size, size);
	if (pl->n < count)
		die("the world has room for only %d sheets of %d lines",
		    pl->n, size);
}

/* xorshift64*: deterministic sizes, the same on every machine. */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

/*
 * The realistic mix: sheet sizes log-uniform on [10, 1000] (median 100,
 * mean 215), each project's workers used once, projects interleaved, until
 * target lines.
 */
void
plan_mix(const struct world *w, int64_t target, struct plan *pl)
{
	int	*sizes, *nsz, p, j, k, used, n, maxj = 0;
	uint64_t s;
	bool	 any;

	nsz = calloc((size_t)w->projects, sizeof(*nsz));
	sizes = calloc((size_t)w->projects * (size_t)(w->per / 10 + 1),
	    sizeof(*sizes));
	if (nsz == NULL || sizes == NULL)
		die("out of memory");
	for (p = 1; p < w->projects; p++) {
		s = 0x9E3779B97F4A7C15ULL ^ ((uint64_t)p * 0x100000001B3ULL);
		used = 0;
		for (;;) {
			/* 10 * 100^u, u uniform in [0,1) */
			n = (int)lround(10.0 * pow(100.0,
			    (double)(rnd(&s) >> 11) / 9007199254740992.0));
			if (used + n > w->per)
				break;
			sizes[(size_t)p * (size_t)(w->per / 10 + 1) +
			    (size_t)nsz[p]++] = n;
			used += n;
		}
		if (nsz[p] > maxj)
			maxj = nsz[p];
	}
	for (j = 0; j < maxj && pl->lines < target; j++) {
		any = false;
		for (p = 1; p < w->projects && pl->lines < target; p++) {
			if (j >= nsz[p])
				continue;
			for (used = 0, k = 0; k < j; k++)
				used += sizes[(size_t)p *
				    (size_t)(w->per / 10 + 1) + (size_t)k];
			plan_add(pl, p, used, sizes[(size_t)p *
			    (size_t)(w->per / 10 + 1) + (size_t)j]);
			any = true;
		}
		if (!any)
			break;
	}
	free(sizes);
	free(nsz);
	if (pl->lines < target)
		die("the world has room for only %" PRId64 " mixed lines",
		    pl->lines);
}

/* ------------------------------------------------------------------ */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: gen [world options] world DIR\n"
	    "       gen [world options] -k KEY -c CERT [-j JOBS] -t fixed|flow|mix|big\n"
	    "           -z SIZE -n COUNT -m YYYY-MM sheets DIR NAME\n"
	    "       gen [world options] -n SHEETS -z SIZE -m YYYY-MM [-C CONNS] raw DSN\n"
	    "       gen [-n REPS] cost FILE CA\n"
	    "world options: -P projects -W workers -B big -g GC_USCC -G GC_NAME\n"
	    "               -o OWNER_USCC -s SUB_USCC -S SUB_NAME\n"
	    "               -A last account id -J last project id -X CLEARING_IN id\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct world	 w = { .projects = 10, .per = 1000, .big = 10000,
			    .gc_name = "Bench General Contractor",
			    .sub_name = "Bench Subcontractor" };
	const char	*key = NULL, *cert = NULL, *kind = "fixed";
	const char	*month = "2026-10";
	int64_t		 count = 1;
	int		 ch, size = 1000, jobs = 2, conns = 2;

	while ((ch = getopt(argc, argv, "A:J:X:P:W:B:g:G:o:s:S:k:c:j:t:z:n:m:C:")) !=
	    -1) {
		switch (ch) {
		case 'A': w.acc_base = atol(optarg); break;
		case 'J': w.proj_base = atol(optarg); break;
		case 'X': w.clearing_in = atol(optarg); break;
		case 'P': w.projects = atoi(optarg); break;
		case 'W': w.per = atoi(optarg); break;
		case 'B': w.big = atoi(optarg); break;
		case 'g': snprintf(w.gc, sizeof(w.gc), "%s", optarg); break;
		case 'G': snprintf(w.gc_name, sizeof(w.gc_name), "%s", optarg); break;
		case 'o': snprintf(w.owner, sizeof(w.owner), "%s", optarg); break;
		case 's': snprintf(w.sub, sizeof(w.sub), "%s", optarg); break;
		case 'S': snprintf(w.sub_name, sizeof(w.sub_name), "%s", optarg); break;
		case 'k': key = optarg; break;
		case 'c': cert = optarg; break;
		case 'j': jobs = atoi(optarg); break;
		case 't': kind = optarg; break;
		case 'z': size = atoi(optarg); break;
		case 'n': count = atoll(optarg); break;
		case 'm': month = optarg; break;
		case 'C': conns = atoi(optarg); break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || w.projects < 2 || w.per < 10 || w.big < 1 ||
	    jobs < 1 || conns < 1 || size < 1 || count < 1)
		usage();
	if (strcmp(argv[0], "cost") == 0) {
		if (argc != 3)
			usage();
		cmd_cost(argv[1], argv[2], (int)count);
		return 0;
	}
	if (strlen(w.gc) != 18 || strlen(w.owner) != 18 || strlen(w.sub) != 18)
		die("-g, -o and -s want 18-character credit codes");
	if (strcmp(argv[0], "world") == 0 && argc == 2)
		cmd_world(&w, argv[1]);
	else if (strcmp(argv[0], "sheets") == 0 && argc == 3) {
		if (key == NULL || cert == NULL)
			usage();
		cmd_sheets(&w, argv[1], argv[2], kind, size, count, month, key,
		    cert, jobs);
	} else if (strcmp(argv[0], "raw") == 0 && argc == 2)
		cmd_raw(&w, argv[1], (int)count, size, month, "RAW", conns);
	else
		usage();
	return 0;
}
