/*
 * xmlout.c: building the bank's own documents as libxml2 trees.
 *
 * Responsible for what every builder of an outgoing document needs so that
 * the result is well-formed and valid whatever the strings hold: texts
 * checked character by character (malformed UTF-8, control characters,
 * surrogates become '?'), cut to the length of their type at a character
 * boundary, amounts written exactly from fen, and serialization. Trees (not
 * an xmlTextWriter, as pain002.c uses) because alerts and vouchers are
 * signed before they are sent, and xmlsec signs a tree; the one text check
 * and cut, xmlout_cut(), serves pain002.c's writer too. Documents that are
 * neither signed nor small (payment orders: one a paid sheet, a line each
 * of its workers) are written straight into a buffer instead (struct
 * xmlout_buf), with the same checks, at a tenth of a tree's cost.
 * Pure: no I/O, no logging, no globals.
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "money.h"
#include "xmlout.h"

/*
 * Length of the UTF-8 sequence at s that encodes one XML character
 * (#x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF), or 0 if the
 * bytes there are not one.
 */
static size_t
char_len(const unsigned char *s)
{
	uint32_t	c;
	size_t		n, i;

	if (s[0] < 0x80) {
		if (s[0] < 0x20 && s[0] != '\t' && s[0] != '\n' && s[0] != '\r')
			return 0;
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		c = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		c = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* also stops at the NUL */
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) ||
	    (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe || c == 0xffff)
		return 0;
	return n;
}

static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A malloc'd safe copy of s (see xmlout_text); "" when s is NULL or blank.
 * NULL on out-of-memory. */
static char *
safe_copy(const char *s, size_t max)
{
	const unsigned char	*p;
	char			*out;
	size_t			 o = 0, n, chars = 0;

	if (s == NULL)
		s = "";
	while (is_space((unsigned char)*s))
		s++;
	if ((out = malloc(4 * max + 1)) == NULL)
		return NULL;
	for (p = (const unsigned char *)s; *p != '\0' && chars < max; chars++) {
		if ((n = char_len(p)) == 0) {
			out[o++] = '?';
			p++;
			continue;
		}
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	while (o > 0 && is_space((unsigned char)out[o - 1]))
		o--;
	out[o] = '\0';
	return out;
}

xmlNodePtr
xmlout_node(xmlNodePtr parent, const char *name)
{
	return xmlNewChild(parent, parent->ns, BAD_CAST name, NULL);
}

int
xmlout_cut(const char *s, size_t max, const char *fallback, char **res)
{
	if ((*res = safe_copy(s, max)) == NULL)
		return -1;
	if ((*res)[0] != '\0')
		return 0;
	free(*res);
	*res = NULL;
	if (fallback != NULL && (*res = safe_copy(fallback, max)) == NULL)
		return -1;
	return 0;
}

xmlNodePtr
xmlout_text(xmlNodePtr parent, const char *name, const char *text, size_t max,
    const char *fallback)
{
	char		*t;
	xmlNodePtr	 n;

	if (xmlout_cut(text, max, fallback, &t) == -1)
		return NULL;
	if (t == NULL)
		return parent;
	/* xmlNewTextChild escapes; xmlNewChild would read '&' as a reference */
	n = xmlNewTextChild(parent, parent->ns, BAD_CAST name, BAD_CAST t);
	free(t);
	return n;
}

int
xmlout_amount(xmlNodePtr parent, const char *name, int64_t fen)
{
	char	buf[32];

	if (fen < 0 || money_format(fen, buf, sizeof(buf)) < 0)
		return -1;
	return xmlNewTextChild(parent, parent->ns, BAD_CAST name,
	    BAD_CAST buf) == NULL ? -1 : 0;
}

int
xmlout_attr(xmlNodePtr node, const char *name, const char *value, size_t max)
{
	char	*t;
	int	 rc;

	if ((t = safe_copy(value, max)) == NULL)
		return -1;
	rc = xmlNewProp(node, BAD_CAST name, BAD_CAST t) == NULL ? -1 : 0;
	free(t);
	return rc;
}

xmlDocPtr
xmlout_doc(const char *ns, const char *name)
{
	xmlDocPtr	doc;
	xmlNodePtr	root;
	xmlNsPtr	n;

	if ((doc = xmlNewDoc(BAD_CAST "1.0")) == NULL)
		return NULL;
	if ((root = xmlNewDocNode(doc, NULL, BAD_CAST name, NULL)) == NULL) {
		xmlFreeDoc(doc);
		return NULL;
	}
	xmlDocSetRootElement(doc, root);
	if ((n = xmlNewNs(root, BAD_CAST ns, NULL)) == NULL) {
		xmlFreeDoc(doc);
		return NULL;
	}
	xmlSetNs(root, n);
	return doc;
}

char *
xmlout_dump(xmlDocPtr doc, size_t *len)
{
	xmlChar	*mem = NULL;
	int	 n = 0;
	char	*out = NULL;

	xmlDocDumpMemoryEnc(doc, &mem, &n, "UTF-8");
	if (mem != NULL && n >= 0 && (out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, mem, (size_t)n);
		out[n] = '\0';
		*len = (size_t)n;
	}
	xmlFree(mem);
	return out;
}

/* --- straight into a buffer ------------------------------------------------ */

void
xmlout_buf_init(struct xmlout_buf *b, size_t hint)
{
	memset(b, 0, sizeof(*b));
	if ((b->data = malloc(hint > 64 ? hint : 64)) == NULL)
		b->oom = true;
	else
		b->cap = hint > 64 ? hint : 64;
}

static bool
reserve(struct xmlout_buf *b, size_t n)
{
	char	*d;
	size_t	 cap;

	if (b->oom)
		return false;
	if (b->len + n + 1 <= b->cap)
		return true;
	for (cap = b->cap; cap < b->len + n + 1; cap *= 2)
		;
	if ((d = realloc(b->data, cap)) == NULL) {
		b->oom = true;
		return false;
	}
	b->data = d;
	b->cap = cap;
	return true;
}

void
xmlout_buf_raw(struct xmlout_buf *b, const char *s, size_t n)
{
	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* The safe form of s (as safe_copy makes it), escaped: its bytes end at
 * *end; returns its start, NULL when nothing is left. */
static const unsigned char *
safe_span(const char *s, size_t max, const unsigned char **end)
{
	const unsigned char	*p, *start, *last;
	size_t			 n, chars = 0;

	if (s == NULL)
		return NULL;
	while (is_space((unsigned char)*s))
		s++;
	start = last = (const unsigned char *)s;
	for (p = start; *p != '\0' && chars < max; chars++) {
		n = char_len(p);
		p += n == 0 ? 1 : n;
		if (n != 1 || !is_space(p[-1]))
			last = p;
	}
	*end = last;
	return last > start ? start : NULL;
}

static void
put_safe(struct xmlout_buf *b, const unsigned char *p,
    const unsigned char *end)
{
	const unsigned char	*run = p;
	size_t			 n;
	const char		*esc;

	if (!reserve(b, (size_t)(end - p) * 6))
		return;
	while (p < end) {
		esc = NULL;
		if ((n = char_len(p)) == 0)
			esc = "?";
		else if (*p == '&')
			esc = "&amp;";
		else if (*p == '<')
			esc = "&lt;";
		else if (*p == '>')
			esc = "&gt;";
		else if (*p == '"')
			esc = "&quot;";
		else if (*p == '\r')
			esc = "&#13;";
		if (esc == NULL) {
			p += n;
			continue;
		}
		memcpy(b->data + b->len, run, (size_t)(p - run));
		b->len += (size_t)(p - run);
		memcpy(b->data + b->len, esc, strlen(esc));
		b->len += strlen(esc);
		p += n == 0 ? 1 : n;
		run = p;
	}
	memcpy(b->data + b->len, run, (size_t)(p - run));
	b->len += (size_t)(p - run);
	b->data[b->len] = '\0';
}

void
xmlout_buf_text(struct xmlout_buf *b, const char *name, const char *text,
    size_t max, const char *fallback)
{
	const unsigned char	*start, *end;
	size_t			 nl = strlen(name);

	if ((start = safe_span(text, max, &end)) == NULL &&
	    (start = safe_span(fallback, max, &end)) == NULL)
		return;
	if (!reserve(b, 2 * nl + 5))
		return;
	b->data[b->len++] = '<';
	xmlout_buf_raw(b, name, nl);
	xmlout_buf_raw(b, ">", 1);
	put_safe(b, start, end);
	xmlout_buf_raw(b, "</", 2);
	xmlout_buf_raw(b, name, nl);
	xmlout_buf_raw(b, ">", 1);
}

void
xmlout_buf_amount(struct xmlout_buf *b, const char *name, int64_t fen,
    const char *ccy)
{
	char	buf[32], tag[96];
	int	n;

	if (fen < 0 || money_format(fen, buf, sizeof(buf)) < 0) {
		b->oom = true;		/* the caller checked: cannot happen */
		return;
	}
	n = ccy != NULL ? snprintf(tag, sizeof(tag), "<%s Ccy=\"%s\">", name,
	    ccy) : snprintf(tag, sizeof(tag), "<%s>", name);
	xmlout_buf_raw(b, tag, (size_t)n);
	xmlout_buf_raw(b, buf, strlen(buf));
	n = snprintf(tag, sizeof(tag), "</%s>", name);
	xmlout_buf_raw(b, tag, (size_t)n);
}

char *
xmlout_buf_finish(struct xmlout_buf *b, size_t *len)
{
	char	*out = b->data;

	if (b->oom) {
		free(b->data);
		memset(b, 0, sizeof(*b));
		return NULL;
	}
	*len = b->len;
	memset(b, 0, sizeof(*b));
	return out;
}
