/*
 * roster.c: the real-name roster (urn:wagepay:roster:1) and its receipt.
 *
 * Responsible for turning a Roster document into struct roster, with every
 * per-entry check that needs no database already made (WP11 ID check digit,
 * WP17 ID twice in one upload, WP12 card check digit, WP18 bank code, WP14
 * contract signed after entering, WP16 left before entering), and for
 * writing a Roster (GET) and a RosterReceipt (POST answer) with the libxml2
 * tree API, never by pasting strings.
 * It does not know the database: an Employer that is not among this upload's
 * Subcontractor elements may still be one the project already knows, so
 * unknown employers (WP13) and cards registered to another worker are left
 * to the daemon. Pure: no I/O, no logging, no globals. Messages never carry
 * a full ID or card number, only ids_mask'd ones.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "ids.h"
#include "roster.h"
#include "xmlsafe.h"

/* Longest text read from a worker field before its checks: enough for any
 * schema-valid value and for a short over-long one, so that a bad bank code
 * is reported as WP18 rather than as an unreadable document. */
#define ROSTER_FIELD_MAX	64
/* Subcontractors in one upload. A project has tens, not thousands; the
 * bound also keeps the listed-twice check (quadratic) cheap. */
#define ROSTER_MAX_SUBS		1000
/* RosterReceipt/Refused text is at most 255 characters (roster.xsd). */
#define ROSTER_MESSAGE_MAX	255

static bool
is_element(xmlNodePtr n, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    strcmp((const char *)n->ns->href, ROSTER_NS) == 0 &&
	    strcmp((const char *)n->name, name) == 0;
}

/* Copies an attribute of n into buf; -1 if absent or too long. */
static int
attr_copy(xmlNodePtr n, const char *name, char *buf, size_t len)
{
	xmlChar	*v;
	int	 rc = -1;

	if ((v = xmlGetNoNsProp(n, (const xmlChar *)name)) == NULL)
		return -1;
	if (strlen((const char *)v) < len) {
		memcpy(buf, v, strlen((const char *)v) + 1);
		rc = 0;
	}
	xmlFree(v);
	return rc;
}

/* YYYY-MM-DD by shape: the comparisons below are on these strings, which
 * order like the dates only when every one has this exact shape. */
static bool
is_date(const char *s)
{
	int	i;

	for (i = 0; i < 10; i++) {
		if (i == 4 || i == 7) {
			if (s[i] != '-')
				return false;
		} else if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return s[10] == '\0';
}

/* Reads the text of child `name` of a worker; FF01 naming the field if it
 * is absent (and required) or longer than len - 1 bytes. A schema-valid
 * roster never fails here. */
static int
worker_field(xmlNodePtr w, size_t idx, const char *name, char *buf,
    size_t len, bool required, struct perr *err)
{
	xmlNodePtr	n;

	buf[0] = '\0';
	if ((n = xmlsafe_child(w, ROSTER_NS, name)) == NULL) {
		if (!required)
			return 0;
		return perr_set(err, "FF01", "roster: worker %zu: %s is missing",
		    idx + 1, name);
	}
	/* Empty counts as missing: every field has a minimum length. */
	if (xmlsafe_text(n, buf, len) == -1 || (required && buf[0] == '\0'))
		return perr_set(err, "FF01",
		    "roster: worker %zu: %s is empty or longer than %zu bytes",
		    idx + 1, name, len - 1);
	return 0;
}

static int
worker_date(xmlNodePtr w, size_t idx, const char *name, char *buf,
    bool required, struct perr *err)
{
	if (worker_field(w, idx, name, buf, WP_DATE_LEN, required, err) == -1)
		return -1;
	if (buf[0] != '\0' && !is_date(buf))
		return perr_set(err, "FF01",
		    "roster: worker %zu: %s is not a date (YYYY-MM-DD)",
		    idx + 1, name);
	return 0;
}

/*
 * The checks on one entry that need nothing but the entry, in the order a
 * contractor should fix them; the first that fails is recorded. WP11 comes
 * before the duplicate check (made later, over all entries), which in turn
 * replaces any later code: see mark_duplicates.
 */
static void
worker_check(struct roster_worker *rw, const char *bank)
{
	char	masked[WP_CARD_LEN];

	if (!ids_resident_id_valid(rw->id_number)) {
		ids_mask(rw->id_number, masked, sizeof(masked));
		perr_set(&rw->err, "WP11",
		    "ID number %s: check digit or birth date is wrong", masked);
	} else if (!ids_card_valid(rw->card)) {
		ids_mask(rw->card, masked, sizeof(masked));
		perr_set(&rw->err, "WP12",
		    "card %s: check digit is wrong, or not 12 to 19 digits",
		    masked);
	} else if (!ids_bank_code_valid(bank)) {
		perr_set(&rw->err, "WP18",
		    "CardBank must be the card bank's 12-digit CNAPS code");
	} else if (strcmp(rw->contract_signed, rw->entered) > 0) {
		perr_set(&rw->err, "WP14",
		    "labour contract signed %s, after entering the site on %s",
		    rw->contract_signed, rw->entered);
	} else if (rw->left[0] != '\0' && strcmp(rw->left, rw->entered) < 0) {
		perr_set(&rw->err, "WP16",
		    "left the site %s, before entering it on %s",
		    rw->left, rw->entered);
	}
}

static int
worker_parse(xmlNodePtr w, size_t idx, struct roster_worker *rw,
    struct perr *err)
{
	char	 bank[ROSTER_FIELD_MAX];

	if (worker_field(w, idx, "IdNumber", rw->id_number,
	    sizeof(rw->id_number), true, err) == -1 ||
	    worker_field(w, idx, "Employer", rw->employer,
	    sizeof(rw->employer), true, err) == -1 ||
	    worker_field(w, idx, "Card", rw->card, sizeof(rw->card), true,
	    err) == -1 ||
	    worker_field(w, idx, "CardBank", bank, sizeof(bank), true,
	    err) == -1 ||
	    worker_date(w, idx, "ContractSigned", rw->contract_signed, true,
	    err) == -1 ||
	    worker_date(w, idx, "Entered", rw->entered, true, err) == -1 ||
	    worker_date(w, idx, "Left", rw->left, false, err) == -1)
		return -1;
	if ((rw->name = xmlsafe_strdup(xmlsafe_child(w, ROSTER_NS,
	    "Name"))) == NULL || rw->name[0] == '\0')
		return perr_set(err, "FF01", "roster: worker %zu: Name is missing"
		    " or empty", idx + 1);
	/* A bank code too long for its field is refused as WP18 below and
	 * kept out of the struct rather than truncated. */
	if (strlen(bank) < sizeof(rw->card_bank))
		memcpy(rw->card_bank, bank, strlen(bank) + 1);
	worker_check(rw, bank);
	return 0;
}

/* One entry of the sort in mark_duplicates. */
struct id_position {
	const char	*id_number;
	size_t		 position;
};

/* By ID number, then by position, so that the first occurrence in the
 * upload sorts first among equals (qsort is not stable). */
static int
by_id_then_position(const void *a, const void *b)
{
	const struct id_position	*pa = a, *pb = b;
	int				 c;

	if ((c = strcmp(pa->id_number, pb->id_number)) != 0)
		return c;
	return pa->position < pb->position ? -1 :
	    pa->position > pb->position;
}

/*
 * WP17: an ID number given twice in one upload refuses the second and later
 * entries (the first one stands on its own checks). Sorting keeps this
 * O(n log n) for WP_MAX_ROSTER entries.
 */
static int
mark_duplicates(struct roster *r, struct perr *err)
{
	struct id_position	*order;
	size_t			 i;
	char			 masked[WP_ID_NUMBER_LEN];

	if (r->nworkers < 2)
		return 0;
	if ((order = calloc(r->nworkers, sizeof(*order))) == NULL)
		return perr_set(err, "FF01", "roster: out of memory");
	for (i = 0; i < r->nworkers; i++) {
		order[i].id_number = r->workers[i].id_number;
		order[i].position = i;
	}
	qsort(order, r->nworkers, sizeof(*order), by_id_then_position);
	for (i = 1; i < r->nworkers; i++) {
		struct roster_worker *cur = &r->workers[order[i].position];

		if (strcmp(order[i - 1].id_number, order[i].id_number) != 0)
			continue;
		/* An ID with a wrong check digit stays WP11: that is what
		 * the contractor must fix first. */
		if (strcmp(cur->err.code, "WP11") == 0)
			continue;
		ids_mask(cur->id_number, masked, sizeof(masked));
		perr_set(&cur->err, "WP17",
		    "ID number %s appears more than once in this roster;"
		    " only its first entry is read", masked);
	}
	free(order);
	return 0;
}

static int
sub_parse(xmlNodePtr n, struct roster *r, struct perr *err)
{
	struct roster_sub	*s = &r->subs[r->nsubs];
	xmlChar			*name;
	size_t			 i;

	if (attr_copy(n, "uscc", s->uscc, sizeof(s->uscc)) == -1)
		return perr_set(err, "FF01", "roster: subcontractor %zu: uscc"
		    " is missing or too long", r->nsubs + 1);
	/* A credit code is a company's public identity, not personal data:
	 * it may be named in full. */
	if (!ids_uscc_valid(s->uscc))
		return perr_set(err, "FF01", "roster: subcontractor %s: not a"
		    " valid unified social credit code (check character)",
		    s->uscc);
	for (i = 0; i < r->nsubs; i++)
		if (strcmp(r->subs[i].uscc, s->uscc) == 0)
			return perr_set(err, "FF01", "roster: subcontractor %s"
			    " is listed twice", s->uscc);
	if ((name = xmlGetNoNsProp(n, (const xmlChar *)"name")) == NULL)
		return perr_set(err, "FF01", "roster: subcontractor %s: name"
		    " is missing", s->uscc);
	s->name = strdup((const char *)name);
	xmlFree(name);
	if (s->name == NULL)
		return perr_set(err, "FF01", "roster: out of memory");
	r->nsubs++;
	return 0;
}

/*
 * Reads a schema-valid Roster. Returns NULL with FF01 when the document is
 * not a Roster, names more than WP_MAX_ROSTER workers or ROSTER_MAX_SUBS
 * subcontractors, lists a
 * subcontractor whose credit code is wrong or listed twice, or (if it was
 * not validated first) misses a field. Entries refused on their own carry
 * worker->err; the roster as a whole is still returned. The caller owns the
 * result (roster_free).
 */
struct roster *
roster_parse(xmlDocPtr doc, struct perr *err)
{
	struct roster	*r;
	xmlNodePtr	 root, n;
	size_t		 nsubs = 0, nworkers = 0;

	perr_clear(err);
	root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	if (!is_element(root, "Roster")) {
		perr_set(err, "FF01", "roster: the document is not a Roster"
		    " (%s)", ROSTER_NS);
		return NULL;
	}
	/* Count first so that the bound is checked before any work. */
	for (n = root->children; n != NULL; n = n->next) {
		if (is_element(n, "Subcontractor"))
			nsubs++;
		else if (is_element(n, "Worker"))
			nworkers++;
	}
	if (nworkers > WP_MAX_ROSTER) {
		perr_set(err, "FF01", "roster: %zu workers; at most %u in one"
		    " upload", nworkers, WP_MAX_ROSTER);
		return NULL;
	}
	if (nsubs > ROSTER_MAX_SUBS) {
		perr_set(err, "FF01", "roster: %zu subcontractors; at most %d"
		    " in one upload", nsubs, ROSTER_MAX_SUBS);
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (nsubs > 0 && (r->subs = calloc(nsubs, sizeof(*r->subs))) == NULL) ||
	    (nworkers > 0 &&
	    (r->workers = calloc(nworkers, sizeof(*r->workers))) == NULL)) {
		roster_free(r);
		perr_set(err, "FF01", "roster: out of memory");
		return NULL;
	}
	if (attr_copy(root, "project", r->project, sizeof(r->project)) == -1 ||
	    r->project[0] == '\0') {
		perr_set(err, "FF01", "roster: project is missing or longer"
		    " than %zu bytes", sizeof(r->project) - 1);
		goto fail;
	}
	for (n = root->children; n != NULL; n = n->next) {
		if (is_element(n, "Subcontractor")) {
			if (sub_parse(n, r, err) == -1)
				goto fail;
		} else if (is_element(n, "Worker")) {
			/* Counted as soon as it is touched, so that roster_free
			 * frees the name of a half-read worker. */
			r->nworkers++;
			if (worker_parse(n, r->nworkers - 1,
			    &r->workers[r->nworkers - 1], err) == -1)
				goto fail;
		}
	}
	if (mark_duplicates(r, err) == -1)
		goto fail;
	return r;
fail:
	roster_free(r);
	return NULL;
}

/* Frees r and everything it owns; NULL is a no-op. */
void
roster_free(struct roster *r)
{
	size_t	i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nsubs; i++)
		free(r->subs[i].name);
	for (i = 0; i < r->nworkers; i++)
		free(r->workers[i].name);
	free(r->subs);
	free(r->workers);
	free(r);
}

/* ---- writing ---- */

/*
 * A small builder that remembers the first allocation failure, so that the
 * writers below read as the document they produce instead of as a ladder
 * of NULL checks.
 */
struct build {
	xmlDocPtr	doc;
	xmlNsPtr	ns;
	bool		failed;
};

static xmlNodePtr
build_root(struct build *b, const char *name)
{
	xmlNodePtr	root;

	b->failed = false;
	b->ns = NULL;
	if ((b->doc = xmlNewDoc((const xmlChar *)"1.0")) == NULL ||
	    (root = xmlNewDocNode(b->doc, NULL, (const xmlChar *)name,
	    NULL)) == NULL) {
		b->failed = true;
		return NULL;
	}
	xmlDocSetRootElement(b->doc, root);
	/* The default namespace, declared once on the root. */
	if ((b->ns = xmlNewNs(root, (const xmlChar *)ROSTER_NS, NULL)) == NULL) {
		b->failed = true;
		return NULL;
	}
	xmlSetNs(root, b->ns);
	return root;
}

/* Adds <name>text</name>; text is escaped by libxml2. */
static void
build_text(struct build *b, xmlNodePtr parent, const char *name,
    const char *text)
{
	if (b->failed || parent == NULL)
		return;
	if (xmlNewTextChild(parent, b->ns, (const xmlChar *)name,
	    (const xmlChar *)text) == NULL)
		b->failed = true;
}

static void
build_attr(struct build *b, xmlNodePtr n, const char *name, const char *value)
{
	if (b->failed || n == NULL)
		return;
	if (xmlSetProp(n, (const xmlChar *)name, (const xmlChar *)value) == NULL)
		b->failed = true;
}

static xmlNodePtr
build_element(struct build *b, xmlNodePtr parent, const char *name)
{
	xmlNodePtr	n;

	if (b->failed || parent == NULL)
		return NULL;
	if ((n = xmlNewChild(parent, b->ns, (const xmlChar *)name,
	    NULL)) == NULL)
		b->failed = true;
	return n;
}

/* Serialises and frees the document. The bytes are copied into a plain
 * malloc'd buffer: the contract promises free(), and libxml2's allocator
 * may have been replaced by xmlMemSetup. */
static char *
build_finish(struct build *b, size_t *len)
{
	xmlChar	*mem = NULL;
	int	 size = 0;
	char	*out = NULL;

	if (!b->failed)
		xmlDocDumpFormatMemoryEnc(b->doc, &mem, &size, "UTF-8", 1);
	if (mem != NULL && size > 0 && (out = malloc((size_t)size + 1)) != NULL) {
		memcpy(out, mem, (size_t)size);
		out[size] = '\0';
		if (len != NULL)
			*len = (size_t)size;
	}
	xmlFree(mem);
	xmlFreeDoc(b->doc);
	b->doc = NULL;
	return out;
}

/*
 * Writes r as a Roster: the subcontractors, then every worker (refused or
 * not: the caller decides what r holds), Left only when set. The output is
 * valid against roster.xsd when r's fields are (as roster_parse or the
 * database leave them). NULL only on out-of-memory; the caller frees.
 */
char *
roster_build(const struct roster *r, size_t *len)
{
	struct build	 b;
	xmlNodePtr	 root, n;
	size_t		 i;

	root = build_root(&b, "Roster");
	build_attr(&b, root, "project", r->project);
	for (i = 0; i < r->nsubs; i++) {
		n = build_element(&b, root, "Subcontractor");
		build_attr(&b, n, "uscc", r->subs[i].uscc);
		build_attr(&b, n, "name", r->subs[i].name != NULL ?
		    r->subs[i].name : "");
	}
	for (i = 0; i < r->nworkers; i++) {
		const struct roster_worker *w = &r->workers[i];

		n = build_element(&b, root, "Worker");
		build_text(&b, n, "IdNumber", w->id_number);
		build_text(&b, n, "Name", w->name != NULL ? w->name : "");
		build_text(&b, n, "Employer", w->employer);
		build_text(&b, n, "Card", w->card);
		build_text(&b, n, "CardBank", w->card_bank);
		build_text(&b, n, "ContractSigned", w->contract_signed);
		build_text(&b, n, "Entered", w->entered);
		if (w->left[0] != '\0')
			build_text(&b, n, "Left", w->left);
	}
	return build_finish(&b, len);
}

/* Copies at most ROSTER_MESSAGE_MAX bytes of s, cut at a UTF-8 character
 * boundary, so that a long message still validates (maxLength 255). */
static void
message_copy(const char *s, char *out, size_t outlen)
{
	size_t	n = strlen(s);

	if (n > outlen - 1)
		n = outlen - 1;
	/* Back off continuation bytes (10xxxxxx) of a cut character. */
	if (n < strlen(s))
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	memcpy(out, s, n);
	out[n] = '\0';
}

/*
 * Writes a RosterReceipt: accepted as given, refused = nrefused, and one
 * Refused element per refusal (its ID number and code as attributes, the
 * message as text, cut to 255 bytes). NULL only on out-of-memory; the
 * caller frees.
 */
char *
roster_receipt_build(const char *project, size_t accepted,
    const struct roster_refusal *refused, size_t nrefused, size_t *len)
{
	struct build	 b;
	xmlNodePtr	 root, n;
	char		 num[24], msg[ROSTER_MESSAGE_MAX + 1];
	size_t		 i;

	root = build_root(&b, "RosterReceipt");
	build_attr(&b, root, "project", project);
	snprintf(num, sizeof(num), "%zu", accepted);
	build_attr(&b, root, "accepted", num);
	snprintf(num, sizeof(num), "%zu", nrefused);
	build_attr(&b, root, "refused", num);
	for (i = 0; i < nrefused; i++) {
		message_copy(refused[i].message != NULL ? refused[i].message :
		    "", msg, sizeof(msg));
		if (b.failed)
			break;
		if ((n = xmlNewTextChild(root, b.ns,
		    (const xmlChar *)"Refused", (const xmlChar *)msg)) == NULL) {
			b.failed = true;
			break;
		}
		build_attr(&b, n, "idNumber", refused[i].id_number);
		build_attr(&b, n, "code", refused[i].code);
	}
	return build_finish(&b, len);
}
