/*
 * test_pii.c: personal data at rest (proto/pii.c): key files, blind
 * indexes checked against OpenSSL's own HMAC, sealed records that open
 * under their key only and refuse any change, name masks, and what a
 * sheet line costs (printed, bounded generously).
 */
#include <time.h>

#include <openssl/hmac.h>

#include "pii.h"
#include "sheetlines.h"
#include "unit.h"

static const char	hex_a[] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
static const char	hex_b[] =
    "  FFEEDDCCBBAA99887766554433221100ffeeddccbbaa99887766554433221100 ";

static struct pii_keys *
keys(const char *idx, const char *data, const char *prev)
{
	uint8_t		ki[PII_KEY_LEN], kd[PII_KEY_LEN], kp[PII_KEY_LEN];
	struct perr	err = { 0 };
	struct pii_keys	*k;

	CHECK(pii_key_parse(idx, strlen(idx), ki, &err) == 0);
	CHECK(pii_key_parse(data, strlen(data), kd, &err) == 0);
	if (prev != NULL)
		CHECK(pii_key_parse(prev, strlen(prev), kp, &err) == 0);
	k = pii_keys_new(ki, kd, prev != NULL ? kp : NULL, &err);
	CHECK(k != NULL);
	return k;
}

static void
key_parse(void)
{
	uint8_t		k[PII_KEY_LEN];
	struct perr	err = { 0 };
	char		id[9];

	CHECK(pii_key_parse(hex_a, strlen(hex_a), k, &err) == 0);
	CHECK_INT(k[0], 0);
	CHECK_INT(k[31], 0x1f);
	CHECK(pii_key_parse(hex_b, strlen(hex_b), k, &err) == 0);
	CHECK_INT(k[0], 0xff);
	CHECK(pii_key_parse("abcd", 4, k, &err) == -1);
	CHECK_STR(err.code, "WP90");
	CHECK(pii_key_parse(hex_a, 63, k, &err) == -1);
	CHECK(pii_key_parse("g00102030405060708090a0b0c0d0e0f101112131415161718"
	    "191a1b1c1d1e1f", 64, k, &err) == -1);
	pii_key_id(k, id);
	CHECK_INT(strlen(id), 8);
}

/* The index is HMAC-SHA256(key, field byte, 0, value), 13 bytes, base64url. */
static void
index_is_hmac(void)
{
	struct pii_keys	*k = keys(hex_a, hex_b, NULL);
	struct pii_ctx	*c = pii_ctx_new(k);
	uint8_t		 key[PII_KEY_LEN], msg[64], mac[32];
	unsigned int	 n = 0;
	char		 out[PII_INDEX_LEN + 1], again[PII_INDEX_LEN + 1];
	char		 want[PII_INDEX_LEN + 1];
	struct perr	 err = { 0 };
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	int		 i, bit;

	CHECK(c != NULL);
	CHECK(pii_key_parse(hex_a, strlen(hex_a), key, &err) == 0);
	msg[0] = PII_CARD;
	msg[1] = 0;
	memcpy(msg + 2, "6217001234567890122", 19);
	HMAC(EVP_sha256(), key, sizeof(key), msg, 21, mac, &n);
	for (i = 0; i < PII_INDEX_LEN; i++) {
		int v = 0;
		for (bit = 0; bit < 6; bit++) {
			int b = i * 6 + bit;
			v = v << 1 | (b < 104 ? (mac[b / 8] >> (7 - b % 8)) & 1 : 0);
		}
		want[i] = alpha[v];
	}
	want[PII_INDEX_LEN] = '\0';
	pii_index(c, PII_CARD, "6217001234567890122", 19, out);
	CHECK_STR(out, want);
	pii_index(c, PII_CARD, "6217001234567890122", 19, again);
	CHECK_STR(again, out);
	/* another field, another value: another index */
	pii_index(c, PII_IDN, "6217001234567890122", 19, again);
	CHECK(strcmp(again, out) != 0);
	pii_index(c, PII_CARD, "6217001234567890123", 19, again);
	CHECK(strcmp(again, out) != 0);
	pii_ctx_free(c);
	pii_keys_free(k);
	/* another index key: another index */
	k = keys(hex_b, hex_b, NULL);
	c = pii_ctx_new(k);
	pii_index(c, PII_CARD, "6217001234567890122", 19, again);
	CHECK(strcmp(again, out) != 0);
	pii_ctx_free(c);
	pii_keys_free(k);
}

static void
seal_open(void)
{
	struct pii_keys	*k = keys(hex_a, hex_b, NULL);
	struct pii_ctx	*c = pii_ctx_new(k);
	uint8_t		 s1[PII_SEAL_MAX], s2[PII_SEAL_MAX];
	size_t		 n1, n2;
	struct pii_clear cl;
	struct perr	 err = { 0 };
	char		 id[9];

	CHECK(pii_seal(c, "410102198511205616", "张三丰", "6217001234567890122",
	    s1, &n1, &err) == 0);
	CHECK(pii_seal(c, "410102198511205616", "张三丰", "6217001234567890122",
	    s2, &n2, &err) == 0);
	CHECK_INT(n1, PII_SEAL_OVERHEAD + 6 + 18 + 9 + 19);
	/* a fresh nonce each time: the same fields seal differently */
	CHECK(n1 == n2 && memcmp(s1, s2, n1) != 0);
	CHECK(memmem(s1, n1, "5616", 4) == NULL);
	CHECK(memmem(s1, n1, "0122", 4) == NULL);
	CHECK(pii_open(c, s1, n1, &cl, &err) == 0);
	CHECK_STR(cl.idn, "410102198511205616");
	CHECK_STR(cl.name, "张三丰");
	CHECK_STR(cl.card, "6217001234567890122");
	pii_sealed_key_id(s1, n1, id);
	CHECK_STR(id, pii_keys_data_id(k));
	CHECK(pii_sealed_current(k, s1, n1));
	/* NULL fields are empty */
	CHECK(pii_seal(c, NULL, "x", NULL, s2, &n2, &err) == 0);
	CHECK(pii_open(c, s2, n2, &cl, &err) == 0);
	CHECK_STR(cl.idn, "");
	CHECK_STR(cl.name, "x");
	pii_ctx_free(c);
	pii_keys_free(k);
}

/* Every byte changed, and every truncation, is refused. */
static void
tampered(void)
{
	struct pii_keys	*k = keys(hex_a, hex_b, NULL);
	struct pii_ctx	*c = pii_ctx_new(k);
	uint8_t		 s[PII_SEAL_MAX];
	size_t		 n, i;
	struct pii_clear cl;
	struct perr	 err = { 0 };

	CHECK(pii_seal(c, "410102198511205616", "Li Si", "6217001234567890122",
	    s, &n, &err) == 0);
	for (i = 0; i < n; i++) {
		s[i] ^= 0x01;
		CHECK(pii_open(c, s, n, &cl, &err) == -1);
		CHECK_STR(err.code, "WP90");
		s[i] ^= 0x01;
	}
	for (i = 0; i < n; i++)
		CHECK(pii_open(c, s, i, &cl, &err) == -1);
	CHECK(pii_open(c, s, n, &cl, &err) == 0);
	pii_ctx_free(c);
	pii_keys_free(k);
}

/* A rotation: the new key opens the old key's records only while it is
 * named as previous_data_key; new records go under the new key. */
static void
rotation(void)
{
	struct pii_keys	*old = keys(hex_a, hex_a, NULL);
	struct pii_keys	*cur = keys(hex_a, hex_b, hex_a);
	struct pii_keys	*alone = keys(hex_a, hex_b, NULL);
	struct pii_ctx	*co = pii_ctx_new(old), *cc = pii_ctx_new(cur);
	struct pii_ctx	*ca = pii_ctx_new(alone);
	uint8_t		 s[PII_SEAL_MAX], t[PII_SEAL_MAX];
	size_t		 n, m;
	struct pii_clear cl;
	struct perr	 err = { 0 };

	CHECK(pii_seal(co, "11010519491231002X", "Wang", "6222020200112233445",
	    s, &n, &err) == 0);
	CHECK(!pii_sealed_current(cur, s, n));
	CHECK(pii_open(cc, s, n, &cl, &err) == 0);
	CHECK_STR(cl.idn, "11010519491231002X");
	CHECK(pii_open(ca, s, n, &cl, &err) == -1);
	CHECK(strstr(err.msg, "previous_data_key") != NULL);
	CHECK(pii_seal(cc, cl.idn, cl.name, cl.card, t, &m, &err) == 0);
	CHECK(pii_sealed_current(cur, t, m));
	CHECK(pii_open(ca, t, m, &cl, &err) == 0);
	CHECK(pii_open(co, t, m, &cl, &err) == -1);
	pii_ctx_free(co);
	pii_ctx_free(cc);
	pii_ctx_free(ca);
	pii_keys_free(old);
	pii_keys_free(cur);
	pii_keys_free(alone);
}

static void
mask_name(void)
{
	char	out[64];

	pii_mask_name("张三丰", out, sizeof(out));
	CHECK_STR(out, "张**");
	pii_mask_name("Li Si", out, sizeof(out));
	CHECK_STR(out, "L****");
	pii_mask_name("王", out, sizeof(out));
	CHECK_STR(out, "王");
	pii_mask_name(NULL, out, sizeof(out));
	CHECK_STR(out, "");
	pii_mask_name("张三丰", out, 3);
	CHECK_STR(out, "");
}

/* What a sheet line costs the daemon: three indexes and one seal. */
static void
line_cost(void)
{
	struct pii_keys	*k = keys(hex_a, hex_b, NULL);
	struct pii_ctx	*c = pii_ctx_new(k);
	uint8_t		 s[PII_SEAL_MAX];
	size_t		 n;
	char		 out[PII_INDEX_LEN + 1];
	struct perr	 err = { 0 };
	struct timespec	 t0, t1;
	double		 us;
	int		 i, lines = 20000;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
	for (i = 0; i < lines; i++) {
		pii_index(c, PII_IDN, "410102198511205616", 18, out);
		pii_index(c, PII_NAME, "张三丰", 9, out);
		pii_index(c, PII_CARD, "6217001234567890122", 19, out);
		CHECK(pii_seal(c, "410102198511205616", "张三丰",
		    "6217001234567890122", s, &n, &err) == 0);
	}
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
	us = ((double)(t1.tv_sec - t0.tv_sec) * 1e6 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) / lines;
	fprintf(stderr, "  pii: %.2f us CPU a line (3 indexes + 1 seal), "
	    "%.2f ms per 1,000 lines\n", us, us);
	CHECK(us < 100.0);
	pii_ctx_free(c);
	pii_keys_free(k);
}

/* A sheet of n lines of made-up workers (names, IDs, cards as text). */
static struct sheet *
sheet_of(size_t n)
{
	struct sheet	*s = calloc(1, sizeof(*s));
	size_t		 i;

	CHECK(s != NULL && (s->lines = calloc(n, sizeof(*s->lines))) != NULL);
	s->nlines = n;
	for (i = 0; i < n; i++) {
		struct sheet_line *l = &s->lines[i];

		snprintf(l->end_to_end_id, sizeof(l->end_to_end_id), "E%zu", i);
		l->amount = 100000;
		l->gross = 120000;
		l->name = strdup(i % 2 ? "张三丰" : "Li Si");
		snprintf(l->id_number, sizeof(l->id_number), "41010219851120%04u",
		    (unsigned)(i % 10000));
		snprintf(l->card, sizeof(l->card), "621700123456%07u",
		    (unsigned)(i % 10000000));
		snprintf(l->card_bank, sizeof(l->card_bank), "102100099996");
		l->kind = LINE_WAGE;
		snprintf(l->month, sizeof(l->month), "2026-10");
		l->days_worked = 22;
		snprintf(l->confirmed_at, sizeof(l->confirmed_at), "2026-11-01T09:00:00+08:00");
		snprintf(l->confirm_method, sizeof(l->confirm_method), "SIGN");
		snprintf(l->confirm_ref, sizeof(l->confirm_ref), "R%zu", i);
	}
	return s;
}

static uint32_t
be32(const char *p)
{
	const unsigned char *u = (const unsigned char *)p;

	return (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
}

/* Element i of a one-dimensional binary array: its bytes and length. */
static const char *
element(const struct sheetlines *sl, int col, size_t i, uint32_t *len)
{
	const char	*p = sl->values[col] + 20;

	for (;;) {
		*len = be32(p);
		if (i-- == 0)
			return p + 4;
		p += 4 + (*len == UINT32_MAX ? 0 : *len);
	}
}

/* With keys the personal columns are indexes and one sealed record a line,
 * which opens to the line's fields, and masks; without, as before 032. */
static void
sheet_keyed(void)
{
	struct pii_keys		*k = keys(hex_a, hex_b, NULL);
	struct pii_ctx		*c = pii_ctx_new(k);
	struct sheet		*s = sheet_of(3);
	struct sheetlines	*sl, *clear;
	struct pii_clear	 cl;
	struct perr		 err = { 0 };
	char			 ix[PII_INDEX_LEN + 1];
	const char		*e;
	uint32_t		 n;

	CHECK((sl = sheetlines_keyed(s, k, &err)) != NULL);
	CHECK((clear = sheetlines_new(s, &err)) != NULL);
	e = element(sl, SHEETLINES_IDN, 1, &n);
	pii_index(c, PII_IDN, s->lines[1].id_number, strlen(s->lines[1].id_number), ix);
	CHECK(n == PII_INDEX_LEN && memcmp(e, ix, n) == 0);
	e = element(sl, SHEETLINES_NAME, 1, &n);
	pii_index(c, PII_NAME, "张三丰", strlen("张三丰"), ix);
	CHECK(n == PII_INDEX_LEN && memcmp(e, ix, n) == 0);
	e = element(sl, SHEETLINES_PII, 1, &n);
	CHECK(pii_open(c, (const uint8_t *)e, n, &cl, &err) == 0);
	CHECK_STR(cl.idn, s->lines[1].id_number);
	CHECK_STR(cl.card, s->lines[1].card);
	CHECK_STR(cl.name, "张三丰");
	e = element(sl, SHEETLINES_CARD_MASK, 2, &n);
	CHECK(n == 19 && memcmp(e, "6217***********0002", n) == 0);
	e = element(sl, SHEETLINES_NAME_MASK, 1, &n);
	CHECK(n == strlen("张**") && memcmp(e, "张**", n) == 0);
	/* without keys: the clear values, no record, no masks (as before) */
	e = element(clear, SHEETLINES_IDN, 1, &n);
	CHECK(n == 18 && memcmp(e, s->lines[1].id_number, n) == 0);
	element(clear, SHEETLINES_PII, 1, &n);
	CHECK(n == UINT32_MAX);
	element(clear, SHEETLINES_NAME_MASK, 2, &n);
	CHECK(n == UINT32_MAX);
	/* every byte of the keyed arrays but the personal columns is the same */
	CHECK(memcmp(sl->values[SHEETLINES_AMOUNT], clear->values[SHEETLINES_AMOUNT],
	    (size_t)sl->lengths[SHEETLINES_AMOUNT]) == 0);
	sheetlines_free(sl);
	sheetlines_free(clear);
	sheet_free(s);
	pii_ctx_free(c);
	pii_keys_free(k);
}

static double
cpu_us(void)
{
	struct timespec	t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* What the daemon spends to make a 1,000-line sheet's arrays, in clear and
 * with keys: the difference is what sealing adds (printed). */
static void
sheet_cost(void)
{
	struct pii_keys		*k = keys(hex_a, hex_b, NULL);
	struct sheet		*s = sheet_of(1000);
	struct perr		 err = { 0 };
	double			 t0, clear = 1e18, keyed = 1e18, t;
	int			 r;

	for (r = 0; r < 15; r++) {
		t0 = cpu_us();
		sheetlines_free(sheetlines_new(s, &err));
		if ((t = cpu_us() - t0) < clear)
			clear = t;
		t0 = cpu_us();
		sheetlines_free(sheetlines_keyed(s, k, &err));
		if ((t = cpu_us() - t0) < keyed)
			keyed = t;
	}
	fprintf(stderr, "  sheetlines, 1,000 lines (best of 15, CPU): clear "
	    "%.2f ms, keyed %.2f ms, added %.2f ms\n", clear / 1e3,
	    keyed / 1e3, (keyed - clear) / 1e3);
	CHECK(keyed - clear < 100000.0);
	sheet_free(s);
	pii_keys_free(k);
}

const struct unit_case pii_cases[] = {
	{ "key_parse", key_parse },
	{ "index_is_hmac", index_is_hmac },
	{ "seal_open", seal_open },
	{ "tampered", tampered },
	{ "rotation", rotation },
	{ "mask_name", mask_name },
	{ "line_cost", line_cost },
	{ "sheet_keyed", sheet_keyed },
	{ "sheet_cost", sheet_cost },
	{ NULL, NULL }
};
