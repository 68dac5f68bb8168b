/*
 * pain002.c: writes the decision on a wage sheet, a pain.002.001.11
 * customer payment status report.
 *
 * Responsible for turning a struct status_report (plain C strings) into a
 * document that is valid against the official schema whatever the strings
 * hold: it writes with xmlTextWriter, which escapes markup; it replaces
 * bytes that are not valid UTF-8 or not XML characters; it cuts texts to
 * the lengths of their ISO types (Max35Text, Max105Text) at character
 * boundaries, never inside a multi-byte character; and it writes "UNKNOWN"
 * where ISO requires a reference the caller could not give. The caller's
 * messages must already be free of full ID and card numbers.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/xmlwriter.h>

#include "pain002.h"
#include "wagepay.h"

#define MAX35		35
#define MAX105		105
#define UNKNOWN		"UNKNOWN"

/*
 * Length of the UTF-8 sequence at s that encodes one XML character
 * (#x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD, #x10000-#x10FFFF), or 0 if the
 * bytes there are not one: malformed, overlong, a surrogate, a control
 * character, U+FFFE or U+FFFF.
 */
static size_t
xml_char_len(const unsigned char *s)
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

/*
 * Sets *res to a malloc'd copy of s with at most max characters, every byte
 * that is not part of an XML character replaced by '?', and white space at
 * both ends removed (a Max..Text must not be blank). NULL or a blank s gives
 * a copy of fallback, or *res NULL ("leave it out") when fallback is NULL.
 * -1 only on out-of-memory.
 */
static int
text_cut(const char *s, size_t max, const char *fallback, char **res)
{
	const unsigned char	*p;
	char			*out;
	size_t			 o = 0, n, chars = 0;

	*res = NULL;
	if (s == NULL)
		s = "";
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	/* Each character takes at most 4 bytes, a '?' one. */
	if ((out = malloc(4 * max + 1)) == NULL)
		return -1;
	for (p = (const unsigned char *)s; *p != '\0' && chars < max; chars++) {
		if ((n = xml_char_len(p)) == 0) {
			out[o++] = '?';
			p++;
			continue;
		}
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t' ||
	    out[o - 1] == '\n' || out[o - 1] == '\r'))
		o--;
	out[o] = '\0';
	if (o > 0) {
		*res = out;
		return 0;
	}
	free(out);
	if (fallback != NULL && (*res = strdup(fallback)) == NULL)
		return -1;
	return 0;
}

/* Writes <name>text</name> with text cut to max characters; a blank text
 * writes fallback, or nothing when fallback is NULL. -1 on out-of-memory. */
static int
element(xmlTextWriterPtr w, const char *name, const char *text, size_t max,
    const char *fallback)
{
	char	*t;
	int	 rc;

	if (text_cut(text, max, fallback, &t) != 0)
		return -1;
	if (t == NULL)
		return 0;
	rc = xmlTextWriterWriteElement(w, (const xmlChar *)name,
	    (const xmlChar *)t);
	free(t);
	return rc < 0 ? -1 : 0;
}

static int
start(xmlTextWriterPtr w, const char *name)
{
	return xmlTextWriterStartElement(w, (const xmlChar *)name) < 0 ? -1 : 0;
}

static int
end(xmlTextWriterPtr w)
{
	return xmlTextWriterEndElement(w) < 0 ? -1 : 0;
}

/* StsRsnInf: Rsn/Cd for an ISO code, Rsn/Prtry for the bank's WP.. code,
 * AddtlInf for the message; nothing at all when both are absent. */
static int
reason(xmlTextWriterPtr w, const char *code, const char *message)
{
	char	*msg;
	int	 has_code = code != NULL && code[0] != '\0';

	if (text_cut(message, MAX105, NULL, &msg) != 0)
		return -1;
	if (!has_code && msg == NULL)
		return 0;
	if (start(w, "StsRsnInf") != 0)
		goto fail;
	if (has_code) {
		if (start(w, "Rsn") != 0 ||
		    element(w, perr_code_is_iso(code) ? "Cd" : "Prtry", code,
		    perr_code_is_iso(code) ? 4 : MAX35, UNKNOWN) != 0 ||
		    end(w) != 0)
			goto fail;
	}
	if (msg != NULL && xmlTextWriterWriteElement(w,
	    (const xmlChar *)"AddtlInf", (const xmlChar *)msg) < 0)
		goto fail;
	free(msg);
	return end(w);
fail:
	free(msg);
	return -1;
}

static int
group_header(xmlTextWriterPtr w, const struct status_report *r)
{
	char		now[32];
	const char	*created = r->created_at;
	time_t		t;
	struct tm	tm;

	/* ISODateTime is required; a caller that gave none gets the time of
	 * writing rather than an invalid report. */
	if (created == NULL || created[0] == '\0') {
		t = time(NULL);
		gmtime_r(&t, &tm);
		strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
		created = now;
	}
	if (start(w, "GrpHdr") != 0 ||
	    element(w, "MsgId", r->msg_id, MAX35, UNKNOWN) != 0 ||
	    element(w, "CreDtTm", created, 64, UNKNOWN) != 0 ||
	    end(w) != 0)
		return -1;
	if (start(w, "OrgnlGrpInfAndSts") != 0 ||
	    element(w, "OrgnlMsgId", r->orig_msg_id, MAX35, UNKNOWN) != 0 ||
	    element(w, "OrgnlMsgNmId", r->orig_msg_nm_id, MAX35,
	    "pain.001.001.10") != 0 ||
	    element(w, "GrpSts", r->group_status, 4, NULL) != 0 ||
	    reason(w, r->group_code, r->group_message) != 0 ||
	    end(w) != 0)
		return -1;
	return 0;
}

/* One OrgnlPmtInfAndSts holding a TxInfAndSts, RJCT, per refused line. */
static int
refused_lines(xmlTextWriterPtr w, const struct status_report *r)
{
	const struct status_line	*l;
	size_t				 i;

	if (r->nlines == 0 || r->lines == NULL)
		return 0;
	if (start(w, "OrgnlPmtInfAndSts") != 0 ||
	    element(w, "OrgnlPmtInfId", r->orig_pmt_inf_id, MAX35,
	    UNKNOWN) != 0)
		return -1;
	for (i = 0; i < r->nlines; i++) {
		l = &r->lines[i];
		if (start(w, "TxInfAndSts") != 0 ||
		    element(w, "OrgnlEndToEndId", l->end_to_end_id, MAX35,
		    UNKNOWN) != 0 ||
		    element(w, "TxSts", "RJCT", 4, NULL) != 0 ||
		    reason(w, l->code, l->message) != 0 ||
		    end(w) != 0)
			return -1;
	}
	return end(w);
}

char *
pain002_build(const struct status_report *r, size_t *len)
{
	xmlBufferPtr		 buf;
	xmlTextWriterPtr	 w;
	char			*out = NULL;
	int			 ok;

	if (r == NULL || (buf = xmlBufferCreate()) == NULL)
		return NULL;
	if ((w = xmlNewTextWriterMemory(buf, 0)) == NULL) {
		xmlBufferFree(buf);
		return NULL;
	}
	ok = xmlTextWriterSetIndent(w, 1) >= 0 &&
	    xmlTextWriterSetIndentString(w, (const xmlChar *)"  ") >= 0 &&
	    xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL) >= 0 &&
	    xmlTextWriterStartElementNS(w, NULL, (const xmlChar *)"Document",
	    (const xmlChar *)PAIN002_NS) >= 0 &&
	    start(w, "CstmrPmtStsRpt") == 0 &&
	    group_header(w, r) == 0 &&
	    refused_lines(w, r) == 0 &&
	    xmlTextWriterEndDocument(w) >= 0;
	/* Freeing the writer flushes it into buf. */
	xmlFreeTextWriter(w);
	if (ok && (out = malloc((size_t)xmlBufferLength(buf) + 1)) != NULL) {
		memcpy(out, xmlBufferContent(buf), (size_t)xmlBufferLength(buf));
		out[xmlBufferLength(buf)] = '\0';
		if (len != NULL)
			*len = (size_t)xmlBufferLength(buf);
	}
	xmlBufferFree(buf);
	return out;
}
