/*
 * main.c: wagepay-sheet, the contractor's tool (API.md "The contractor's
 * tool", man page wagepay-sheet.1): make, sign, send, status, voucher,
 * cancel. Each command is a function here; the work is in csv.c,
 * payroll.c, build.c (make), proto/xmlsig.c (sign), client.c and report.c
 * (the calls). A sheet made here is read back with the daemon's own
 * reader (official schema, then proto/sheet.c's bank profile) before it
 * is written, and a signed one can be checked with the daemon's own
 * verifier (proto/sigverify.c) given --ca.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "ids.h"
#include "money.h"
#include "sheet.h"
#include "sheettool.h"
#include "xmlout.h"
#include "xmlsafe.h"
#include "xmlsig.h"

#define DS_NS	"http://www.w3.org/2000/09/xmldsig#"

static const char usage_text[] =
"usage: wagepay-sheet make --account ACCOUNT --subcontractor USCC --month YYYY-MM\n"
"                          [--backpay] --msg-id ID [--name NAME] FILE.csv > sheet.xml\n"
"       wagepay-sheet sign --key KEY.pem --cert CERT.pem [--ca CA.pem] sheet.xml > signed.xml\n"
"       wagepay-sheet sign --p12 FILE.p12 [--ca CA.pem] sheet.xml > signed.xml  (password on stdin)\n"
"       wagepay-sheet send --url https://HOST:PORT --cert CERT.pem --key KEY.pem --ca CA.pem signed.xml\n"
"       wagepay-sheet status|cancel --url ... --cert ... --key ... --ca ... MSGID\n"
"       wagepay-sheet voucher --url ... --cert ... --key ... --ca ... [--out FILE] MSGID\n"
"exit: 0 paid, 2 PART, 3 PDNG (held), 4 RJCT, 5 CANC (status), 1 any other failure\n";

struct args {
	const char	*account, *subcontractor, *month, *msg_id, *name;
	const char	*created, *key, *cert, *p12, *ca, *url, *out;
	int		 backpay;
	const char	*file;		/* the operand */
};

static int
usage(void)
{
	fputs(usage_text, stderr);
	return EXIT_FAILED;
}

static int
parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "account", required_argument, NULL, 'a' },
		{ "subcontractor", required_argument, NULL, 's' },
		{ "month", required_argument, NULL, 'm' },
		{ "backpay", no_argument, NULL, 'b' },
		{ "msg-id", required_argument, NULL, 'i' },
		{ "name", required_argument, NULL, 'n' },
		{ "created", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'k' },
		{ "cert", required_argument, NULL, 'c' },
		{ "p12", required_argument, NULL, 'p' },
		{ "ca", required_argument, NULL, 'A' },
		{ "url", required_argument, NULL, 'u' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	int	ch;

	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'a': a->account = optarg; break;
		case 's': a->subcontractor = optarg; break;
		case 'm': a->month = optarg; break;
		case 'b': a->backpay = 1; break;
		case 'i': a->msg_id = optarg; break;
		case 'n': a->name = optarg; break;
		case 'C': a->created = optarg; break;
		case 'k': a->key = optarg; break;
		case 'c': a->cert = optarg; break;
		case 'p': a->p12 = optarg; break;
		case 'A': a->ca = optarg; break;
		case 'u': a->url = optarg; break;
		case 'o': a->out = optarg; break;
		default: return -1;
		}
	}
	if (optind != argc - 1)
		return -1;
	a->file = argv[optind];
	return 0;
}

/* A whole file, or a pipe ("-" or /dev/stdin), NUL-terminated. */
static char *
read_file(const char *path, size_t *len)
{
	FILE	*f;
	char	*buf = NULL, *grown;
	size_t	 cap = 0, n = 0;

	f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	while (f != NULL) {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			if ((grown = realloc(buf, cap + 1)) == NULL)
				break;
			buf = grown;
		}
		n += fread(buf + n, 1, cap - n, f);
		if (ferror(f))
			break;
		if (feof(f)) {
			buf[n] = '\0';
			*len = n;
			if (f != stdin)
				fclose(f);
			return buf;
		}
	}
	fprintf(stderr, "wagepay-sheet: could not read \"%s\"\n", path);
	if (f != NULL && f != stdin)
		fclose(f);
	free(buf);
	return NULL;
}

/* The options make needs, each checked as the bank would. */
static int
make_options_ok(const struct args *a)
{
	int	ok = 1;

	if (a->account == NULL || a->subcontractor == NULL ||
	    a->month == NULL || a->msg_id == NULL)
		return usage(), 0;
	if (!ids_uscc_valid(a->subcontractor))
		ok = fprintf(stderr, "--subcontractor %s: not a unified social "
		    "credit code (GB 32100 check fails)\n", a->subcontractor) < 0;
	if (strlen(a->month) != 7 || a->month[4] != '-' ||
	    strspn(a->month, "0123456789-") != 7 ||
	    atoi(a->month + 5) < 1 || atoi(a->month + 5) > 12)
		ok = fprintf(stderr, "--month %s: must be YYYY-MM\n",
		    a->month) < 0;
	if (strlen(a->msg_id) < 1 || strlen(a->msg_id) > 35 ||
	    strspn(a->msg_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
	    "vwxyz0123456789-_.") != strlen(a->msg_id))
		ok = fprintf(stderr, "--msg-id %s: 1 to 35 letters, digits, "
		    "'-', '_' or '.'\n", a->msg_id) < 0;
	if (strlen(a->account) < 1 || strlen(a->account) > 34)
		ok = fprintf(stderr, "--account: 1 to 34 characters\n") < 0;
	return ok;
}

/* The sheet read back as the daemon reads it: the official schema, then
 * the bank profile. A failure here is a bug of this tool, said so. */
static int
self_check(const char *xml, size_t len)
{
	struct schemas	*s;
	struct perr	 err;
	xmlDocPtr	 doc;
	struct sheet	*sh = NULL;
	int		 rc;

	if ((s = schemas_load(&err)) == NULL)
		return fprintf(stderr, "wagepay-sheet: %s\n", err.msg), -1;
	if ((doc = xmlsafe_parse(xml, len, &err)) == NULL ||
	    schemas_validate(s, XSD_PAIN001, doc, &err) != 0 ||
	    (sh = sheet_parse(doc, &err)) == NULL)
		fprintf(stderr, "wagepay-sheet: the sheet made does not pass "
		    "the bank's reader (%s %s); please report this\n",
		    err.code, err.msg);
	rc = sh != NULL ? 0 : -1;
	sheet_free(sh);
	xmlFreeDoc(doc);
	schemas_free(s);
	return rc;
}

static int
cmd_make(const struct args *a)
{
	struct build_opts	 o = { a->account, a->subcontractor, a->name,
	    a->month, a->backpay, a->msg_id, a->created };
	struct csv		*csv;
	struct payroll		*p;
	char			 err[512], *xml = NULL, total[24];
	size_t			 len;
	int			 rc = EXIT_FAILED;

	if (!make_options_ok(a))
		return EXIT_FAILED;
	if ((csv = csv_read(a->file, err, sizeof(err))) == NULL) {
		fprintf(stderr, "wagepay-sheet: %s\n", err);
		return EXIT_FAILED;
	}
	if ((p = payroll_read(csv, stderr)) == NULL)
		goto done;
	if (p->nerrors > 0) {
		fprintf(stderr, "%s: %zu row(s) wrong, nothing written / "
		    "有 %zu 行有误，未生成工资单\n", a->file, p->nerrors,
		    p->nerrors);
		goto done;
	}
	if ((xml = build_sheet(&o, p, &len, err, sizeof(err))) == NULL) {
		fprintf(stderr, "wagepay-sheet: %s\n", err);
		goto done;
	}
	if (self_check(xml, len) != 0)
		goto done;
	if (fwrite(xml, 1, len, stdout) != len || fflush(stdout) != 0) {
		fprintf(stderr, "wagepay-sheet: could not write the sheet\n");
		goto done;
	}
	money_format(p->total, total, sizeof(total));
	fprintf(stderr, "%s (%s): %zu lines, total %s yuan, MsgId %s / "
	    "%zu 行，合计 %s 元\n", a->file, csv->encoding, p->nrows, total,
	    a->msg_id, p->nrows, total);
	rc = 0;
done:
	free(xml);
	payroll_free(p);
	csv_free(csv);
	return rc;
}

/* One line of standard input without its line end, for the PKCS#12
 * password; "" when none. */
static void
read_password(char *buf, size_t len)
{
	if (fgets(buf, (int)len, stdin) == NULL)
		buf[0] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
}

/* Whether any element below n (n included) is in the XML-DSig namespace. */
static int
has_signature(xmlNodePtr n)
{
	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if ((n->ns != NULL && strcmp((const char *)n->ns->href,
		    DS_NS) == 0) || has_signature(n->children))
			return 1;
	}
	return 0;
}

/* Where the signature goes: a new CstmrCdtTrfInitn/SplmtryData/Envlp.
 * NULL (printed) if the document is not a sheet or is signed already. */
static xmlNodePtr
signature_place(xmlDocPtr doc)
{
	xmlNodePtr	cct;

	cct = xmlsafe_child(xmlDocGetRootElement(doc), PAIN001_NS,
	    "CstmrCdtTrfInitn");
	if (cct == NULL) {
		fprintf(stderr, "wagepay-sheet: not a pain.001.001.10 sheet\n");
		return NULL;
	}
	if (has_signature(xmlDocGetRootElement(doc))) {
		fprintf(stderr, "wagepay-sheet: the sheet carries a ds:Signature "
		    "(or a signature template) already: sign what make wrote\n");
		return NULL;
	}
	return xmlout_node(xmlout_node(cct, "SplmtryData"), "Envlp");
}

/* With --ca: the signature checked by the daemon's own verifier. */
static int
verify_as_bank(xmlDocPtr doc, const char *ca)
{
	struct sigtrust	*t;
	struct perr	 err;
	char		 signer[WP_USCC_LEN];
	int		 rc = -1;

	if ((t = sigtrust_load(ca, &err)) == NULL)
		fprintf(stderr, "wagepay-sheet: --ca: %s\n", err.msg);
	else if (sigverify_sheet(t, doc, signer, &err) != 0)
		fprintf(stderr, "wagepay-sheet: the bank would refuse this "
		    "signature: %s %s\n", err.code, err.msg);
	else {
		fprintf(stderr, "signature verified as the bank verifies it; "
		    "signer %s\n", signer);
		rc = 0;
	}
	sigtrust_free(t);
	return rc;
}

static struct signer *
load_signer(const struct args *a)
{
	struct signer	*s;
	struct perr	 err;
	char		 password[1024];

	if (a->p12 != NULL) {
		read_password(password, sizeof(password));
		s = xmlsig_signer_load_p12(a->p12, password, &err);
		memset(password, 0, sizeof(password));
	} else
		s = xmlsig_signer_load(a->key, a->cert, &err);
	if (s == NULL)
		fprintf(stderr, "wagepay-sheet: %s\n", err.msg);
	return s;
}

static int
cmd_sign(const struct args *a)
{
	struct signer	*s = NULL;
	struct perr	 err;
	xmlDocPtr	 doc = NULL;
	xmlNodePtr	 envlp;
	char		*buf, *out = NULL;
	size_t		 len;
	int		 rc = EXIT_FAILED;

	if ((a->p12 == NULL) == (a->key == NULL || a->cert == NULL))
		return usage();
	if (a->p12 != NULL && strcmp(a->file, "-") == 0) {
		fprintf(stderr, "wagepay-sheet: with --p12 the password comes on "
		    "standard input: give the sheet as a file\n");
		return EXIT_FAILED;
	}
	if ((buf = read_file(a->file, &len)) == NULL)
		return EXIT_FAILED;
	if (xmlsig_init() != 0) {
		fprintf(stderr, "wagepay-sheet: could not start xmlsec\n");
		goto done;
	}
	if ((doc = xmlsafe_parse(buf, len, &err)) == NULL) {
		fprintf(stderr, "wagepay-sheet: %s: %s\n", a->file, err.msg);
		goto done;
	}
	if ((envlp = signature_place(doc)) == NULL ||
	    (s = load_signer(a)) == NULL)
		goto done;
	if (xmlsig_sign_under(s, doc, envlp, &err) != 0) {
		fprintf(stderr, "wagepay-sheet: %s\n", err.msg);
		goto done;
	}
	if (a->ca != NULL && verify_as_bank(doc, a->ca) != 0)
		goto done;
	if ((out = xmlout_dump(doc, &len)) == NULL ||
	    fwrite(out, 1, len, stdout) != len || fflush(stdout) != 0) {
		fprintf(stderr, "wagepay-sheet: could not write the signed "
		    "sheet\n");
		goto done;
	}
	rc = 0;
done:
	free(out);
	xmlsig_signer_free(s);
	xmlFreeDoc(doc);
	free(buf);
	return rc;
}

/* A reply that is not a decision: what the clerk should do about it. */
static int
http_failure(const struct client_reply *r, const char *what)
{
	switch (r->status) {
	case 401:
		fprintf(stderr, "%s: 401, the bank did not find a company "
		    "(serialNumber) in --cert\n", what);
		break;
	case 403:
		fprintf(stderr, "%s: 403, --cert's company is not the general "
		    "contractor of this project\n", what);
		break;
	case 404:
		fprintf(stderr, "%s: 404, not found (a MsgId this contractor "
		    "never sent, or no voucher: not paid yet)\n", what);
		break;
	case 413:
		fprintf(stderr, "%s: 413, the sheet is larger than the bank "
		    "accepts: split it\n", what);
		break;
	case 503:
		fprintf(stderr, "%s: 503, the bank cannot decide now; send the "
		    "same file again%s%s%s (nothing is paid twice)\n", what,
		    r->retry_after[0] ? " after " : "", r->retry_after,
		    r->retry_after[0] ? " seconds" : "");
		break;
	default:
		fprintf(stderr, "%s: HTTP %d: %.200s\n", what, r->status,
		    r->body != NULL ? r->body : "");
	}
	return EXIT_FAILED;
}

static int
client_opts_ok(const struct args *a, struct client_opts *o)
{
	if (a->url == NULL || a->cert == NULL || a->key == NULL ||
	    a->ca == NULL)
		return usage(), 0;
	o->url = a->url;
	o->cert = a->cert;
	o->key = a->key;
	o->ca = a->ca;
	return 1;
}

static int
cmd_send(const struct args *a)
{
	struct client_opts	o;
	struct client_reply	r;
	char			err[512], *buf;
	size_t			len;
	int			rc;

	if (!client_opts_ok(a, &o) || (buf = read_file(a->file, &len)) == NULL)
		return EXIT_FAILED;
	if (client_request(&o, "POST", "/v1/sheets", buf, len, &r, err,
	    sizeof(err)) != 0) {
		free(buf);
		fprintf(stderr, "wagepay-sheet: %s\n", err);
		return EXIT_FAILED;
	}
	free(buf);
	/* 200 decided, 400 refused unread (FF01), 409 MsgId reused (DU01):
	 * each with its pain.002 */
	if (r.status == 200 || r.status == 400 || r.status == 409)
		rc = report_decision(r.body, r.len, stdout, stderr);
	else
		rc = http_failure(&r, "send");
	if (r.status == 409)
		fprintf(stdout, "\nThis MsgId was used before for another "
		    "sheet: make it again with a new --msg-id / 单号已用过，"
		    "请换一个 --msg-id 重新生成\n");
	client_reply_free(&r);
	return rc;
}

/* MsgId as a path segment: what is not unreserved is %-encoded. */
static void
path_segment(const char *s, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t	n = 0;

	for (; *s != '\0' && n + 4 < len; s++) {
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-._~", *s) != NULL) {
			out[n++] = *s;
			continue;
		}
		out[n++] = '%';
		out[n++] = hex[(unsigned char)*s >> 4];
		out[n++] = hex[(unsigned char)*s & 15];
	}
	out[n] = '\0';
}

static int
save(const char *path, const char *body, size_t len)
{
	FILE	*f;
	int	 ok;

	if ((f = fopen(path, "wb")) == NULL)
		return -1;
	ok = fwrite(body, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* status, voucher or cancel of one MsgId. */
static int
cmd_call(const char *cmd, const struct args *a)
{
	struct client_opts	o;
	struct client_reply	r;
	char			err[512], seg[128], path[256];
	int			rc;

	if (!client_opts_ok(a, &o))
		return EXIT_FAILED;
	path_segment(a->file, seg, sizeof(seg));
	snprintf(path, sizeof(path), "/v1/sheets/%s%s", seg,
	    strcmp(cmd, "voucher") == 0 ? "/voucher" :
	    strcmp(cmd, "cancel") == 0 ? "/cancel" : "");
	if (client_request(&o, strcmp(cmd, "cancel") == 0 ? "POST" : "GET",
	    path, NULL, 0, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "wagepay-sheet: %s\n", err);
		return EXIT_FAILED;
	}
	if (r.status == 200 && strcmp(cmd, "voucher") == 0) {
		rc = report_voucher(r.body, r.len, stdout, stderr) == 0 ?
		    0 : EXIT_FAILED;
		if (rc == 0 && a->out != NULL && save(a->out, r.body,
		    r.len) != 0)
			rc = fprintf(stderr, "wagepay-sheet: could not write "
			    "\"%s\"\n", a->out) < 0 ? EXIT_FAILED : EXIT_FAILED;
	} else if (r.status == 200 || (r.status == 409 &&
	    strcmp(cmd, "cancel") == 0)) {
		rc = report_decision(r.body, r.len, stdout, stderr);
		if (strcmp(cmd, "cancel") == 0)
			rc = rc == EXIT_CANCELLED ? 0 : EXIT_FAILED;
		if (r.status == 409)
			fprintf(stdout, "\nNot withdrawn: only a held (PDNG) "
			    "sheet can be / 未撤回：只有挂起的工资单可以撤回\n");
	} else
		rc = http_failure(&r, cmd);
	client_reply_free(&r);
	return rc;
}

int
main(int argc, char **argv)
{
	struct args	a;
	const char	*cmd;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	if (parse_args(argc - 1, argv + 1, &a) != 0)
		return usage();
	xmlInitParser();
	if (strcmp(cmd, "make") == 0)
		return cmd_make(&a);
	if (strcmp(cmd, "sign") == 0)
		return cmd_sign(&a);
	if (strcmp(cmd, "send") == 0)
		return cmd_send(&a);
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "voucher") == 0 ||
	    strcmp(cmd, "cancel") == 0)
		return cmd_call(cmd, &a);
	return usage();
}
