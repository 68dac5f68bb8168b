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
 *   gen cost FILE CA   the daemon's CPU per sheet, stage by stage, by calling
 *                      the proto/ code the daemon runs; and the whole
 *                      signature check without xmlsec, with proof that it
 *                      refuses a changed amount (the lever of
 *                      tests/bench/levers/fast-verify.patch)
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
 * the daemon checks all of them with xmlsec, so a wrong signature cannot go
 * unnoticed: it would be a refused sheet.
 *
 * A test tool: it prints what it did to stderr and exits 1 on any error.
 */
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

/* ------------------------------------------------------------------ */
/* Small utilities.                                                    */

static void
die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void
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

static double
now_s(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A growing byte buffer; every writer dies on out-of-memory. */
struct buf {
	char	*p;
	size_t	 len, cap;
};

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

static void
buf_add(struct buf *b, const void *s, size_t n)
{
	buf_need(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void
buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
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

static void
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

static char *
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

static void
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

struct worker {
	char	id[19];
	char	card[20];
	char	name[16];
	const char *bank;
	int64_t	amount;		/* net monthly pay, fen */
};

static void
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

static int
world_workers(const struct world *w, int p)
{
	return p == 0 ? w->big : w->per;
}

/* Global index of worker k of project p (0-based). */
static int64_t
world_worker_index(const struct world *w, int p, int k)
{
	return p == 0 ? k : (int64_t)w->big + (int64_t)(p - 1) * w->per + k;
}

static void
project_code(int p, char out[32])
{
	snprintf(out, 32, "XB-2026-%04d", p + 1);
}

static void
project_account(int p, char out[40])
{
	snprintf(out, 40, "62284801%011d", p + 1);
}

/* Project p's row ids, as gen world loads them: after the rows the
 * migrations made (-A and -J say where those end). */
#define PROJECT_ID(p)	(w->proj_base + (p) + 1)
#define ACCOUNT_ID(p)	(w->acc_base + (p) + 1)

/* Money each project receives: its workers' pay for six months, so that
 * no scenario is held for funds (held sheets are a scenario of their own
 * in the integration suite, not a speed). */
#define DEPOSIT_MONTHS	6

static void
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

static void
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
static void
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
static void
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
/* Sheets: the text (as tests/tools/mksheet writes it) and signing.     */

struct signer_key {
	EVP_PKEY	*key;
	char		*cert_b64;	/* the certificate's DER in base64 */
};

static void
signer_key_load(struct signer_key *sk, const char *key_file,
    const char *cert_file)
{
	FILE		*f;
	X509		*x;
	unsigned char	*der = NULL;
	int		 n;

	if ((f = fopen(key_file, "r")) == NULL)
		die("could not open \"%s\": %s", key_file, strerror(errno));
	sk->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (sk->key == NULL || EVP_PKEY_get_base_id(sk->key) != EVP_PKEY_RSA)
		die("\"%s\": not an RSA private key", key_file);
	if ((f = fopen(cert_file, "r")) == NULL)
		die("could not open \"%s\": %s", cert_file, strerror(errno));
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL || (n = i2d_X509(x, &der)) <= 0)
		die("\"%s\": not a certificate", cert_file);
	if ((sk->cert_b64 = malloc((size_t)(4 * ((n + 2) / 3) + 1))) == NULL)
		die("out of memory");
	EVP_EncodeBlock((unsigned char *)sk->cert_b64, der, n);
	OPENSSL_free(der);
	X509_free(x);
}

static int
sha_write_cb(void *ctx, const char *data, int len)
{
	if (EVP_DigestUpdate(ctx, data, (size_t)len) != 1)
		return -1;
	return len;
}

static int
sha_close_cb(void *ctx)
{
	(void)ctx;
	return 0;
}

/* SHA-256 of the exclusive C14N (no comments) of a whole document. */
static int
c14n_sha256(xmlDocPtr doc, unsigned char out[SHA256_DIGEST_LENGTH])
{
	EVP_MD_CTX		*sha;
	xmlOutputBufferPtr	 ob;
	int			 rc;

	if ((sha = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1 ||
	    (ob = xmlOutputBufferCreateIO(sha_write_cb, sha_close_cb, sha,
	    NULL)) == NULL) {
		EVP_MD_CTX_free(sha);
		return -1;
	}
	rc = xmlC14NDocSaveTo(doc, NULL, XML_C14N_EXCLUSIVE_1_0, NULL, 0, ob);
	if (xmlOutputBufferClose(ob) < 0 || rc < 0 ||
	    EVP_DigestFinal_ex(sha, out, NULL) != 1) {
		EVP_MD_CTX_free(sha);
		return -1;
	}
	EVP_MD_CTX_free(sha);
	return 0;
}

/* The canonical form (exclusive C14N) of the SignedInfo we write. */
static void
signed_info(struct buf *b, const char *digest_b64, bool canonical)
{
	const char	*end = canonical ? "></ds:" : "/>";

#define EMPTY(name, alg) do { \
	buf_printf(b, "<ds:" name " Algorithm=\"%s\"", alg); \
	if (canonical) buf_printf(b, "%s" name ">\n", end); \
	else buf_printf(b, "%s\n", end); \
} while (0)
	buf_printf(b, "<ds:SignedInfo%s>\n",
	    canonical ? " xmlns:ds=\"" DS_NS "\"" : "");
	EMPTY("CanonicalizationMethod", EXC_C14N);
	EMPTY("SignatureMethod", RSA_SHA256);
	buf_puts(b, "<ds:Reference URI=\"\">\n<ds:Transforms>\n");
	EMPTY("Transform", ENVELOPED);
	EMPTY("Transform", EXC_C14N);
	buf_puts(b, "</ds:Transforms>\n");
	EMPTY("DigestMethod", DIGEST_SHA256);
	buf_printf(b, "<ds:DigestValue>%s</ds:DigestValue>\n</ds:Reference>\n"
	    "</ds:SignedInfo>", digest_b64);
#undef EMPTY
}

static void
next_month(const char *month, char out[16])
{
	int	y = atoi(month), m = atoi(month + 5);

	snprintf(out, 16, "%04d-%02d", y + m / 12, m % 12 + 1);
}

/*
 * Writes sheet text into b in two parts: everything up to the place of the
 * signature (*sig_at), and the rest. With the signature left out the
 * document is what the enveloped-signature transform sees.
 */
static void
sheet_text(const struct world *w, const struct plan_sheet *ps,
    const char *msg_id, const char *month, struct buf *b, size_t *sig_at)
{
	struct worker	wk;
	char		nm[16], created[48], confirmed[48], amt[32], gross[32];
	char		account[40], e2e[32];
	int64_t		total = 0;
	int		k;

	for (k = 0; k < ps->n; k++) {
		worker_make(world_worker_index(w, ps->project, ps->first + k),
		    &wk);
		total += wk.amount;
	}
	next_month(month, nm);
	snprintf(created, sizeof(created), "%s-02T09:00:00+08:00", nm);
	snprintf(confirmed, sizeof(confirmed), "%s-01T10:00:00+08:00", nm);
	fmt_fen(total, amt, sizeof(amt));
	project_account(ps->project, account);
	buf_printf(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.10\">\n"
	    "<CstmrCdtTrfInitn>\n<GrpHdr>\n<MsgId>%s</MsgId>\n"
	    "<CreDtTm>%s</CreDtTm>\n<NbOfTxs>%d</NbOfTxs>\n<CtrlSum>%s</CtrlSum>\n"
	    "<InitgPty><Nm>%s</Nm><Id><OrgId><Othr><Id>%s</Id><SchmeNm><Cd>USCC"
	    "</Cd></SchmeNm></Othr></OrgId></Id></InitgPty>\n</GrpHdr>\n"
	    "<PmtInf>\n<PmtInfId>PMT-1</PmtInfId>\n<PmtMtd>TRF</PmtMtd>\n"
	    "<NbOfTxs>%d</NbOfTxs>\n<CtrlSum>%s</CtrlSum>\n"
	    "<PmtTpInf><CtgyPurp><Cd>SALA</Cd></CtgyPurp></PmtTpInf>\n"
	    "<ReqdExctnDt><Dt>%.10s</Dt></ReqdExctnDt>\n"
	    "<Dbtr><Nm>%s</Nm><Id><OrgId><Othr><Id>%s</Id><SchmeNm><Cd>USCC</Cd>"
	    "</SchmeNm></Othr></OrgId></Id></Dbtr>\n"
	    "<DbtrAcct><Id><Othr><Id>%s</Id></Othr></Id><Ccy>CNY</Ccy></DbtrAcct>\n"
	    "<DbtrAgt><FinInstnId><ClrSysMmbId><MmbId>103491000018</MmbId>"
	    "</ClrSysMmbId></FinInstnId></DbtrAgt>\n"
	    "<UltmtDbtr><Nm>%s</Nm><Id><OrgId><Othr><Id>%s</Id><SchmeNm><Cd>USCC"
	    "</Cd></SchmeNm></Othr></OrgId></Id></UltmtDbtr>\n",
	    msg_id, created, ps->n, amt, w->gc_name, w->gc, ps->n, amt,
	    created, w->gc_name, w->gc, account, w->sub_name, w->sub);
	for (k = 0; k < ps->n; k++) {
		int64_t	i = world_worker_index(w, ps->project, ps->first + k);

		worker_make(i, &wk);
		snprintf(e2e, sizeof(e2e), "E%08" PRId64, i);
		fmt_fen(wk.amount, amt, sizeof(amt));
		fmt_fen((wk.amount * 11 + 5) / 10, gross, sizeof(gross));
		buf_printf(b, "<CdtTrfTxInf>\n<PmtId><EndToEndId>%s</EndToEndId>"
		    "</PmtId>\n<Amt><InstdAmt Ccy=\"CNY\">%s</InstdAmt></Amt>\n"
		    "<CdtrAgt><FinInstnId><ClrSysMmbId><MmbId>%s</MmbId>"
		    "</ClrSysMmbId></FinInstnId></CdtrAgt>\n"
		    "<Cdtr><Nm>%s</Nm><Id><PrvtId><Othr><Id>%s</Id><SchmeNm><Cd>"
		    "NIDN</Cd></SchmeNm></Othr></PrvtId></Id></Cdtr>\n"
		    "<CdtrAcct><Id><Othr><Id>%s</Id></Othr></Id></CdtrAcct>\n"
		    "<Purp><Cd>SALA</Cd></Purp>\n<RmtInf><Ustrd>WAGE/%s</Ustrd>"
		    "</RmtInf>\n<SplmtryData><Envlp><wp:Line xmlns:wp=\""
		    "urn:wagepay:line:1\"><wp:GrossPay>%s</wp:GrossPay>"
		    "<wp:DaysWorked>22</wp:DaysWorked><wp:Confirmation><wp:At>%s"
		    "</wp:At><wp:Method>SIGN</wp:Method><wp:Ref>CONF-%s</wp:Ref>"
		    "</wp:Confirmation></wp:Line></Envlp></SplmtryData>\n"
		    "</CdtTrfTxInf>\n", e2e, amt, wk.bank, wk.name, wk.id,
		    wk.card, month, gross, confirmed, e2e);
	}
	buf_puts(b, "</PmtInf>\n<SplmtryData><Envlp>\n");
	*sig_at = b->len;
	buf_puts(b, "\n</Envlp></SplmtryData>\n</CstmrCdtTrfInitn>\n"
	    "</Document>\n");
}

/* Signs the text in b (signature at sig_at) into out. */
static void
sheet_sign(const struct signer_key *sk, const struct buf *b, size_t sig_at,
    struct buf *out)
{
	xmlDocPtr	 doc;
	unsigned char	 md[SHA256_DIGEST_LENGTH], sig[1024];
	char		 md_b64[64], sig_b64[1400];
	struct buf	 si = { 0 };
	EVP_MD_CTX	*ctx;
	size_t		 siglen = sizeof(sig);

	if ((doc = xmlReadMemory(b->p, (int)b->len, NULL, NULL,
	    XML_PARSE_NONET)) == NULL || c14n_sha256(doc, md) == -1)
		die("could not canonicalise a sheet");
	xmlFreeDoc(doc);
	EVP_EncodeBlock((unsigned char *)md_b64, md, sizeof(md));
	signed_info(&si, md_b64, true);
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, sk->key) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)si.p, si.len) != 1)
		die("could not sign a sheet");
	EVP_MD_CTX_free(ctx);
	EVP_EncodeBlock((unsigned char *)sig_b64, sig, (int)siglen);
	si.len = 0;
	signed_info(&si, md_b64, false);

	out->len = 0;
	buf_add(out, b->p, sig_at);
	buf_printf(out, "<ds:Signature xmlns:ds=\"%s\">\n%s\n"
	    "<ds:SignatureValue>%s</ds:SignatureValue>\n<ds:KeyInfo>\n"
	    "<ds:X509Data>\n<ds:X509Certificate>%s</ds:X509Certificate>\n"
	    "</ds:X509Data>\n</ds:KeyInfo>\n</ds:Signature>", DS_NS, si.p,
	    sig_b64, sk->cert_b64);
	buf_add(out, b->p + sig_at, b->len - sig_at);
	free(si.p);
}

static void
cmd_sheets(const struct world *w, const char *dir, const char *name,
    const char *kind, int size, int64_t count, const char *month,
    const char *key, const char *cert, int jobs)
{
	struct plan	 pl = { 0 };
	struct signer_key sk;
	struct buf	 idx = { 0 }, text = { 0 }, out = { 0 };
	char		 path[4096], msg_id[40];
	size_t		 sig_at;
	pid_t		*kids;
	int		 i, j, status, failed = 0;
	double		 t0 = now_s();

	if (strcmp(kind, "fixed") == 0 || strcmp(kind, "flow") == 0)
		plan_fixed(w, size, (int)count, strcmp(kind, "fixed") == 0, &pl);
	else if (strcmp(kind, "mix") == 0)
		plan_mix(w, count, &pl);
	else if (strcmp(kind, "big") == 0) {
		if (size > w->big)
			die("the big project has only %d workers", w->big);
		plan_add(&pl, 0, 0, size);
	} else
		die("unknown kind \"%s\" (fixed, flow, mix, big)", kind);

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		die("could not create \"%s\": %s", path, strerror(errno));
	signer_key_load(&sk, key, cert);
	if ((kids = calloc((size_t)jobs, sizeof(*kids))) == NULL)
		die("out of memory");
	for (j = 0; j < jobs; j++) {
		if ((kids[j] = fork()) == -1)
			die("fork: %s", strerror(errno));
		if (kids[j] != 0)
			continue;
		for (i = j; i < pl.n; i += jobs) {
			snprintf(msg_id, sizeof(msg_id), "%s-%06d", name, i + 1);
			text.len = 0;
			sheet_text(w, &pl.s[i], msg_id, month, &text, &sig_at);
			sheet_sign(&sk, &text, sig_at, &out);
			snprintf(path, sizeof(path), "%s/%s/%06d.xml", dir, name,
			    i + 1);
			write_file(path, out.p, out.len);
		}
		_exit(0);
	}
	for (j = 0; j < jobs; j++)
		if (waitpid(kids[j], &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			failed = 1;
	if (failed)
		die("a signing process failed");
	for (i = 0; i < pl.n; i++) {
		char	code[32];

		project_code(pl.s[i].project, code);
		buf_printf(&idx, "%s/%06d.xml\t%s-%06d\t%d\t%s\n", name, i + 1,
		    name, i + 1, pl.s[i].n, code);
	}
	snprintf(path, sizeof(path), "%s/%s.idx", dir, name);
	write_file(path, idx.p, idx.len);
	fprintf(stderr, "gen sheets %s: %d sheets, %" PRId64 " lines, month %s, "
	    "%.1f s\n", name, pl.n, pl.lines, month, now_s() - t0);
}

/* ------------------------------------------------------------------ */
/* The limit: a raw COPY of the same ledger rows.                      */

struct raw_sheet {
	struct buf	sheet, lines, transfers;
	int64_t		nlines;
	double		latency;
};

struct raw_job {
	int		 backend;	/* its PostgreSQL backend's pid */
	double		 backend_cpu;	/* seconds, read before it exits */
	const char	*dsn;
	struct raw_sheet *rs;
	int		 n, first, step;
	const char	*error;
};

/* CPU seconds of a process on this machine (user + system), 0 if gone. */
static double
proc_cpu(int pid)
{
	char		 path[64], line[1024], *p;
	unsigned long	 ut = 0, st = 0;
	FILE		*f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	p = fgets(line, sizeof(line), f);
	fclose(f);
	if (p == NULL || (p = strrchr(line, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	    &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int
raw_copy(PGconn *c, const char *sql, const struct buf *data)
{
	PGresult	*r;
	int		 ok;

	r = PQexec(c, sql);
	ok = PQresultStatus(r) == PGRES_COPY_IN;
	PQclear(r);
	if (!ok || PQputCopyData(c, data->p, (int)data->len) != 1 ||
	    PQputCopyEnd(c, NULL) != 1)
		return -1;
	r = PQgetResult(c);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		fprintf(stderr, "gen raw: %s", PQresultErrorMessage(r));
	PQclear(r);
	while ((r = PQgetResult(c)) != NULL)
		PQclear(r);
	return ok ? 0 : -1;
}

static int
raw_exec(PGconn *c, const char *sql)
{
	PGresult	*r = PQexec(c, sql);
	int		 ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	if (!ok)
		fprintf(stderr, "gen raw: %s", PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : -1;
}

static void *
raw_run(void *arg)
{
	struct raw_job	*job = arg;
	PGconn		*c = PQconnectdb(job->dsn);
	int		 i;
	double		 t;

	if (PQstatus(c) != CONNECTION_OK) {
		job->error = "could not connect";
		PQfinish(c);
		return NULL;
	}
	job->backend = PQbackendPID(c);
	for (i = job->first; i < job->n; i += job->step) {
		t = now_s();
		if (raw_exec(c, "BEGIN") == -1 ||
		    raw_copy(c, "COPY sheet (id, contractor_uscc, msg_id, digest, "
		    "project_id, account_id, subcontractor_uscc, month, state, "
		    "nb_of_txs, ctrl_sum, accepted_count, accepted_total, "
		    "paid_at) FROM STDIN", &job->rs[i].sheet) == -1 ||
		    raw_copy(c, "COPY sheet_line (sheet_id, seq, end_to_end_id, "
		    "project_id, id_number, name, card, card_bank, kind, month, "
		    "amount, gross, days_worked, confirmed_at, confirm_method, "
		    "confirm_ref) FROM STDIN", &job->rs[i].lines) == -1 ||
		    raw_copy(c, "COPY transfer (debit_account, credit_account, "
		    "amount, reason, reference, sheet_id, line_seq) FROM STDIN",
		    &job->rs[i].transfers) == -1 ||
		    raw_exec(c, "COMMIT") == -1) {
			job->error = "a COPY failed";
			break;
		}
		job->rs[i].latency = now_s() - t;
	}
	job->backend_cpu = proc_cpu(job->backend);
	PQfinish(c);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The same rows a paid sheet leaves (the sheet, its lines, one WAGE
 * transfer per line) written with COPY, one transaction per sheet. The
 * transfers go from the bank's clearing-in to its clearing-out account:
 * the same row shape, while the dedicated accounts' balances, which a raw
 * COPY does not maintain, stay equal to their transfers.
 */
static void
cmd_raw(const struct world *w, const char *dsn, int count, int size,
    const char *month, const char *prefix, int conns)
{
	struct plan	 pl = { 0 };
	struct raw_sheet *rs;
	struct raw_job	*jobs;
	pthread_t	*th;
	struct worker	 wk;
	PGconn		*c;
	PGresult	*r;
	char		 nm[16], confirmed[48], code_msg[40], e2e[32];
	const char	*param;
	struct rusage	 ru;
	double		 t0, wall, *lat, bcpu;
	int64_t		 lines = 0, total, idx;
	int		 i, k, fail = 0;
	long		 in_id, out_id;

	plan_fixed(w, size, count, true, &pl);
	if ((c = PQconnectdb(dsn)) == NULL || PQstatus(c) != CONNECTION_OK)
		die("could not connect: %s", PQerrorMessage(c));
	r = PQexec(c, "SELECT (SELECT id FROM account WHERE kind = "
	    "'CLEARING_IN'), (SELECT id FROM account WHERE kind = "
	    "'CLEARING_OUT')");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		die("no clearing accounts: %s", PQerrorMessage(c));
	in_id = atol(PQgetvalue(r, 0, 0));
	out_id = atol(PQgetvalue(r, 0, 1));
	PQclear(r);
	snprintf(code_msg, sizeof(code_msg), "%d", pl.n);
	param = code_msg;
	r = PQexecParams(c, "SELECT nextval('sheet_id_seq') FROM "
	    "generate_series(1, $1::int)", 1, NULL, &param, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != pl.n)
		die("could not allocate sheet ids: %s", PQerrorMessage(c));

	next_month(month, nm);
	snprintf(confirmed, sizeof(confirmed), "%s-01T10:00:00+08:00", nm);
	if ((rs = calloc((size_t)pl.n, sizeof(*rs))) == NULL)
		die("out of memory");
	for (i = 0; i < pl.n; i++) {
		const char	*sid = PQgetvalue(r, i, 0);

		total = 0;
		snprintf(code_msg, sizeof(code_msg), "%s-%06d", prefix, i + 1);
		for (k = 0; k < pl.s[i].n; k++) {
			idx = world_worker_index(w, pl.s[i].project,
			    pl.s[i].first + k);
			worker_make(idx, &wk);
			snprintf(e2e, sizeof(e2e), "E%08" PRId64, idx);
			total += wk.amount;
			buf_printf(&rs[i].lines, "%s\t%d\t%s\t%ld\t%s\t%s\t%s\t%s\t"
			    "WAGE\t%s-01\t%" PRId64 "\t%" PRId64 "\t22\t%s\tSIGN\t"
			    "CONF-%s\n", sid, k + 1, e2e,
			    PROJECT_ID(pl.s[i].project), wk.id, wk.name, wk.card,
			    wk.bank, month, wk.amount, (wk.amount * 11 + 5) / 10,
			    confirmed, e2e);
			buf_printf(&rs[i].transfers, "%ld\t%ld\t%" PRId64 "\tWAGE\t"
			    "%s/%s\t%s\t%d\n", in_id, out_id, wk.amount, code_msg,
			    e2e, sid, k + 1);
		}
		buf_printf(&rs[i].sheet, "%s\t%s\t%s\t\\\\x%064d\t%ld\t%ld\t%s\t"
		    "%s-01\tPAID\t%d\t%" PRId64 "\t%d\t%" PRId64 "\t%s\n", sid,
		    w->gc, code_msg, 0, PROJECT_ID(pl.s[i].project),
		    ACCOUNT_ID(pl.s[i].project), w->sub, month, pl.s[i].n, total,
		    pl.s[i].n, total, "2026-11-02 09:00:00+08");
		rs[i].nlines = pl.s[i].n;
		lines += pl.s[i].n;
	}
	PQclear(r);
	PQfinish(c);

	jobs = calloc((size_t)conns, sizeof(*jobs));
	th = calloc((size_t)conns, sizeof(*th));
	if (jobs == NULL || th == NULL)
		die("out of memory");
	t0 = now_s();
	for (i = 0; i < conns; i++) {
		jobs[i].dsn = dsn;
		jobs[i].rs = rs;
		jobs[i].n = pl.n;
		jobs[i].first = i;
		jobs[i].step = conns;
		if (pthread_create(&th[i], NULL, raw_run, &jobs[i]) != 0)
			die("pthread_create failed");
	}
	for (i = 0; i < conns; i++) {
		pthread_join(th[i], NULL);
		if (jobs[i].error != NULL) {
			fprintf(stderr, "gen raw: connection %d: %s\n", i,
			    jobs[i].error);
			fail = 1;
		}
	}
	wall = now_s() - t0;
	if (fail)
		die("the raw COPY baseline failed");
	if ((lat = calloc((size_t)pl.n, sizeof(*lat))) == NULL)
		die("out of memory");
	for (i = 0; i < pl.n; i++)
		lat[i] = rs[i].latency;
	qsort(lat, (size_t)pl.n, sizeof(*lat), cmp_double);
	/* one line for the run script: sheets lines seconds p50_ms p99_ms,
	 * this client's own CPU seconds (it shares the machine) and its
	 * backends' */
	getrusage(RUSAGE_SELF, &ru);
	for (i = 0, bcpu = 0; i < conns; i++)
		bcpu += jobs[i].backend_cpu;
	printf("%d %" PRId64 " %.3f %.1f %.1f %.2f %.2f\n", pl.n, lines, wall,
	    1000 * lat[pl.n / 2], 1000 * lat[(pl.n * 99) / 100],
	    (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, bcpu);
	fprintf(stderr, "gen raw: %d sheets, %" PRId64 " lines in %.2f s over %d "
	    "connections: %.0f lines/s\n", pl.n, lines, wall, conns,
	    (double)lines / wall);
	for (i = 0; i < pl.n; i++) {
		free(rs[i].sheet.p);
		free(rs[i].lines.p);
		free(rs[i].transfers.p);
	}
	free(rs);
	free(lat);
	free(jobs);
	free(th);
	free(pl.s);
}

/* ------------------------------------------------------------------ */
/* The daemon's CPU per sheet, stage by stage.                          */

static void
cost_stream(const struct schemas *sch, struct sigtrust *st, const char *body,
    size_t len, struct sheet_verdict *v)
{
	struct sheetstream	*ss;
	struct perr		 err;
	size_t			 off, n;

	if ((ss = sheetstream_new(sch, &err)) == NULL)
		die("sheetstream: %s", err.msg);
	/* in 16 KB pieces, about as libevent hands the body over */
	for (off = 0; off < len; off += n) {
		n = len - off < 16384 ? len - off : 16384;
		if (sheetstream_feed(ss, body + off, n) == -1)
			break;
	}
	sheetstream_finish(ss, st, v);
	sheetstream_free(ss);
}

/*
 * The daemon's CPU per sheet: the streaming read it runs (parse, schema,
 * canonical form and its SHA-256, the bank profile and the signature,
 * interleaved, so timed as one), and beside it the whole-tree path stage by
 * stage, which tells how the work splits; then proof that a changed amount
 * is refused.
 */
static void
cmd_cost(const char *file, const char *ca, int reps)
{
	struct perr		 err;
	struct schemas		*sch;
	struct sigtrust		*st;
	struct sheet		*s;
	struct sheet_verdict	 v;
	xmlDocPtr		 doc;
	char			*body, *tamper, signer[WP_USCC_LEN];
	size_t			 len;
	double			 t[6], sum[6] = { 0 };
	int			 r, i;
	static const char *const stage[] = {
		"the daemon's streaming read (sheetstream)",
		"  tree: parse (xmlsafe_parse)", "  tree: schema (pain.001 XSD)",
		"  tree: signature (C14N, SHA-256, RSA)",
		"  tree: profile (sheet_parse)", "  tree: free"
	};

	perr_clear(&err);
	body = read_file(file, &len);
	if (xmlsig_init() == -1 || (sch = schemas_load(&err)) == NULL ||
	    (st = sigtrust_load(ca, &err)) == NULL)
		die("set-up: %s %s", err.code, err.msg);
	for (r = 0; r < reps; r++) {
		t[0] = now_s();
		cost_stream(sch, st, body, len, &v);
		if (v.status != 0)
			die("stream: %s %s", v.err.code, v.err.msg);
		sheet_free(v.sheet);
		t[1] = now_s();
		if ((doc = xmlsafe_parse(body, len, &err)) == NULL)
			die("parse: %s", err.msg);
		t[2] = now_s();
		if (schemas_validate(sch, XSD_PAIN001, doc, &err) == -1)
			die("schema: %s", err.msg);
		t[3] = now_s();
		if (sigtrust_verify_sheet(st, doc, signer, &err) == -1)
			die("signature: %s %s", err.code, err.msg);
		t[4] = now_s();
		if ((s = sheet_parse(doc, &err)) == NULL)
			die("profile: %s", err.msg);
		t[5] = now_s();
		sheet_free(s);
		xmlFreeDoc(doc);
		for (i = 0; i < 5; i++)
			sum[i] += t[i + 1] - t[i];
		sum[5] += now_s() - t[5];
	}
	printf("cost of %s (%zu bytes, %d runs): ms per sheet\n", file, len, reps);
	for (i = 0; i < 6; i++)
		printf("  %-44s %8.2f\n", stage[i], 1000 * sum[i] / reps);

	if ((tamper = strstr(body, "<InstdAmt Ccy=\"CNY\">")) == NULL)
		die("no amount to tamper with");
	tamper[20] = tamper[20] == '9' ? '8' : '9';
	cost_stream(sch, st, body, len, &v);
	printf("  %-44s %8s\n", "  ... a changed amount", strcmp(v.err.code,
	    "WP31") == 0 ? "refused" : "ACCEPTED (bug)");
	if (strcmp(v.err.code, "WP31") != 0)
		die("a changed amount was not refused for its signature");
	sheet_free(v.sheet);
	schemas_free(sch);
	sigtrust_free(st);
	free(body);
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
