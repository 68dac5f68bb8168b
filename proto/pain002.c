/*
 * pain002.c: writes the decision on a wage sheet, a pain.002.001.11
 * customer payment status report.
 *
 * Responsible for turning a struct status_report (plain C strings) into a
 * document that is valid against the official schema whatever the strings
 * hold: it writes with xmlTextWriter, which escapes markup; it replaces
 * bytes that are not valid UTF-8 or not XML characters; it cuts texts to
 * the lengths of their ISO types (Max35Text, Max105Text) at character
 * boundaries, never inside a multi-byte character (both with xmlout_cut,
 * as the documents written as trees do); and it writes "UNKNOWN"
 * where ISO requires a reference the caller could not give. The caller's
 * messages must already be free of full ID and card numbers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/xmlwriter.h>

#include "pain002.h"
#include "wagepay.h"
#include "xmlout.h"

#define MAX35		35
#define MAX105		105
#define UNKNOWN		"UNKNOWN"

/* Writes <name>text</name> with text cut to max characters; a blank text
 * writes fallback, or nothing when fallback is NULL. -1 on out-of-memory. */
static int
element(xmlTextWriterPtr w, const char *name, const char *text, size_t max,
    const char *fallback)
{
	char	*t;
	int	 rc;

	if (xmlout_cut(text, max, fallback, &t) != 0)
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

	if (xmlout_cut(message, MAX105, NULL, &msg) != 0)
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

/* One OrgnlPmtInfAndSts holding a TxInfAndSts per line: RJCT for a refused
 * line, the line's own status (ACCC, RJCT) for a paid line's settlement. */
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
		    element(w, "TxSts", l->status != NULL &&
		    l->status[0] != '\0' ? l->status : "RJCT", 4, NULL) != 0 ||
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
