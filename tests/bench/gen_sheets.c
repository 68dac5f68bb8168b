/*
 * gen_sheets.c: `gen sheets`: wage sheets as tests/tools/mksheet writes them, signed
 * here ahead of the timed part (see gen.c on how), one file each and an index.
 */
#include "gen.h"

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

void
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

void
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
