/*
 * test_sheetstream.c: a sheet read as a stream gets exactly the answer the
 * whole-tree path gives (xmlsafe_parse, the namespace, the schema,
 * sigtrust_verify_sheet, sheet_parse, the signer), whatever the pieces the
 * bytes come in; and proto/c14n.c writes exactly libxml2's exclusive
 * canonical form.
 *
 * The documents: every signed and broken sheet of tests/data/xmlsig/ and
 * tests/data/sheet/, and the fuzzing corpora of sheets and attacks, fed
 * whole, in 4 KB pieces, in odd 13-byte pieces and byte by byte.
 */
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

#include "c14n.h"
#include "sheetstream.h"
#include "../common/tree_verdict.h"
#include "unit.h"

#define SUB_CA		"tests/data/xmlsig/sub-ca.pem"
#define DS_NS		"http://www.w3.org/2000/09/xmldsig#"

static const char *const sets[] = {
	"tests/data/xmlsig/*.xml",
	"tests/data/sheet/*.xml",
	"tests/fuzz/corpus/sheet/*",
	"tests/fuzz/corpus/attacks/*",
};

static struct schemas	*schemas;
static struct sigtrust	*trust;

static void
setup(void)
{
	struct perr	err;

	CHECK(xmlsig_init() == 0);
	CHECK((schemas = schemas_load(&err)) != NULL);
	CHECK((trust = sigtrust_load(SUB_CA, &err)) != NULL);
}

static char *
read_path(const char *path, size_t *len)
{
	/* unit_read_data reads under tests/data/ */
	char	name[600];

	snprintf(name, sizeof(name), "../%s", path + strlen("tests/"));
	return unit_read_data(name, len);
}

static void
report(const char *path, size_t piece, const struct sheet_verdict *a,
    const struct sheet_verdict *b)
{
	const char	*why = verdict_differs(a, b);

	if (why != NULL)
		fprintf(stderr, "  %s in pieces of %zu: %s differs\n    tree:   "
		    "%d %s %s [%s]\n    stream: %d %s %s [%s]\n", path, piece,
		    why, a->status, a->err.code, a->err.msg, a->msg_id,
		    b->status, b->err.code, b->err.msg, b->msg_id);
	CHECK(why == NULL);
}

static void
stream_equals_tree(void)
{
	static const size_t	 pieces[] = { (size_t)-1, 4096, 13, 1 };
	struct sheet_verdict	 want, got;
	glob_t			 g;
	size_t			 s, i, p, len, accepted = 0, files = 0;
	char			*buf;

	setup();
	for (s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
		CHECK(glob(sets[s], 0, NULL, &g) == 0);
		for (i = 0; i < g.gl_pathc; i++, files++) {
			buf = read_path(g.gl_pathv[i], &len);
			tree_verdict(schemas, trust, buf, len, &want);
			accepted += want.status == 0;
			for (p = 0; p < sizeof(pieces) / sizeof(pieces[0]);
			    p++) {
				stream_verdict(schemas, trust, buf, len,
				    pieces[p], &got);
				report(g.gl_pathv[i], pieces[p], &want, &got);
				sheet_free(got.sheet);
			}
			sheet_free(want.sheet);
			free(buf);
		}
		globfree(&g);
	}
	/* the comparison covered accepted sheets, not only refusals */
	CHECK(files > 100);
	CHECK(accepted >= 2);
}

static int
digest_cb(void *arg, const char *buf, int len)
{
	return EVP_DigestUpdate(arg, buf, (size_t)len) == 1 ? len : -1;
}

static int
close_cb(void *arg)
{
	(void)arg;
	return 0;
}

/* Unlinks and frees every ds:Signature under n. */
static void
drop_signatures(xmlNodePtr n)
{
	xmlNodePtr	c, next;

	for (c = n->children; c != NULL; c = next) {
		next = c->next;
		if (c14n_is_signature(c)) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		} else if (c->type == XML_ELEMENT_NODE)
			drop_signatures(c);
	}
}

/* libxml2's exclusive C14N of doc without its ds:Signature elements. */
static int
libxml2_digest(xmlDocPtr doc, unsigned char md[SHA256_LEN])
{
	xmlDocPtr		 copy = xmlCopyDoc(doc, 1);
	EVP_MD_CTX		*h = EVP_MD_CTX_new();
	xmlOutputBufferPtr	 ob;
	int			 rc;

	CHECK(copy != NULL && h != NULL);
	if (c14n_is_signature(xmlDocGetRootElement(copy)))
		return -2;	/* nothing left to compare */
	drop_signatures((xmlNodePtr)copy);
	CHECK(EVP_DigestInit_ex(h, EVP_sha256(), NULL) == 1);
	CHECK((ob = xmlOutputBufferCreateIO(digest_cb, close_cb, h,
	    NULL)) != NULL);
	rc = xmlC14NDocSaveTo(copy, NULL, XML_C14N_EXCLUSIVE_1_0, NULL, 0, ob);
	CHECK(xmlOutputBufferClose(ob) >= 0);
	CHECK(EVP_DigestFinal_ex(h, md, NULL) == 1);
	EVP_MD_CTX_free(h);
	xmlFreeDoc(copy);
	return rc < 0 ? -1 : 0;
}

static void
c14n_equals_libxml2(void)
{
	unsigned char	 ours[SHA256_LEN], theirs[SHA256_LEN];
	glob_t		 g;
	size_t		 s, i, len, compared = 0;
	char		*buf;
	xmlDocPtr	 doc;
	struct perr	 err;
	int		 a, b;

	setup();
	for (s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
		CHECK(glob(sets[s], 0, NULL, &g) == 0);
		for (i = 0; i < g.gl_pathc; i++) {
			buf = read_path(g.gl_pathv[i], &len);
			if ((doc = xmlsafe_parse(buf, len, &err)) != NULL) {
				a = sigtrust_doc_digest(doc, ours);
				if ((b = libxml2_digest(doc, theirs)) == -2) {
					xmlFreeDoc(doc);
					free(buf);
					continue;
				}
				if (a != b || (a == 0 && memcmp(ours, theirs,
				    SHA256_LEN) != 0))
					fprintf(stderr, "  %s: c14n differs "
					    "(%d, %d)\n", g.gl_pathv[i], a, b);
				CHECK_INT(a, b);
				if (a == 0)
					CHECK(memcmp(ours, theirs,
					    SHA256_LEN) == 0);
				compared++;
				xmlFreeDoc(doc);
			}
			free(buf);
		}
		globfree(&g);
	}
	CHECK(compared > 80);
}

/* The corner cases of the specification, each against libxml2. */
static void
c14n_corners(void)
{
	static const char *const docs[] = {
		"<a xmlns=\"urn:x\"><b xmlns=\"\"><c/></b></a>",
		"<a xmlns:p=\"urn:p\" xmlns:q=\"urn:q\"><p:b q:at=\"1\" z=\"2\" "
		    "a=\"3\"/></a>",
		"<p:a xmlns:p=\"urn:p\"><p:b xmlns:p=\"urn:other\"/><b/></p:a>",
		"<?pi before?><a>t&amp;&lt;&gt;&#13;\"'<![CDATA[x<y]]></a>"
		    "<?pi after data?><!-- c -->",
		"<a at=\"&#9;&#10;&#13;&quot;&lt;&amp;\"><!-- gone --><?p?></a>",
		"<a xml:lang=\"zh\" xmlns:u=\"urn:unused\"><b xml:space="
		    "\"preserve\"> x </b></a>",
		"<a xmlns=\"urn:x\"><b xmlns=\"urn:y\"><c xmlns=\"urn:x\"/></b>"
		    "</a>",
		"<a xmlns=\"rel/ative\"/>",
		"<a><ds:Signature xmlns:ds=\"" DS_NS "\"><x/></ds:Signature>"
		    "<b/></a>",
		"<a>\xe5\xb7\xa5\xe8\xb5\x84 &#x5DE5;</a>",
	};
	unsigned char	ours[SHA256_LEN], theirs[SHA256_LEN];
	struct perr	err;
	xmlDocPtr	doc;
	size_t		i;
	int		a, b;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		CHECK((doc = xmlsafe_parse(docs[i], strlen(docs[i]), &err)) !=
		    NULL);
		a = sigtrust_doc_digest(doc, ours);
		b = libxml2_digest(doc, theirs);
		if (a != b || (a == 0 && memcmp(ours, theirs, SHA256_LEN)))
			fprintf(stderr, "  differs on: %s (%d, %d)\n", docs[i],
			    a, b);
		CHECK_INT(a, b);
		CHECK(a != 0 || memcmp(ours, theirs, SHA256_LEN) == 0);
		xmlFreeDoc(doc);
	}
}

const struct unit_case sheetstream_cases[] = {
	{ "sheetstream/stream_equals_tree", stream_equals_tree },
	{ "sheetstream/c14n_equals_libxml2", c14n_equals_libxml2 },
	{ "sheetstream/c14n_corners", c14n_corners },
	{ NULL, NULL }
};
