/*
 * coreack.c: builds CoreAck, the answer to every core feed call. Pure; the
 * caller owns the returned text.
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "coreack.h"

#define COREACK_MESSAGE_MAX	255

/* Bytes of s that hold at most max UTF-8 characters. */
static size_t
utf8_prefix(const char *s, size_t max)
{
	size_t	i = 0, chars = 0;

	while (s[i] != '\0' && chars < max) {
		i++;
		while (((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		chars++;
	}
	return i;
}

char *
coreack_build(const char *ref, const char *outcome, const char *code,
    const char *message, size_t *len)
{
	xmlDocPtr	 doc;
	xmlNodePtr	 root;
	xmlChar		*mem = NULL, *text;
	char		*out = NULL;
	int		 n = 0;
	size_t		 cut;

	if ((doc = xmlNewDoc(BAD_CAST "1.0")) == NULL)
		return NULL;
	cut = utf8_prefix(message ? message : "", COREACK_MESSAGE_MAX);
	if ((text = xmlStrndup(BAD_CAST (message ? message : ""), (int)cut)) == NULL)
		goto done;
	root = xmlNewDocNode(doc, NULL, BAD_CAST "CoreAck", NULL);
	if (root == NULL) {
		xmlFree(text);
		goto done;
	}
	xmlDocSetRootElement(doc, root);
	xmlSetNs(root, xmlNewNs(root, BAD_CAST CORE_NS, NULL));
	xmlNewProp(root, BAD_CAST "ref", BAD_CAST ref);
	xmlNewProp(root, BAD_CAST "outcome", BAD_CAST outcome);
	if (code != NULL && code[0] != '\0')
		xmlNewProp(root, BAD_CAST "code", BAD_CAST code);
	xmlNodeAddContent(root, text);
	xmlFree(text);
	xmlDocDumpMemoryEnc(doc, &mem, &n, "UTF-8");
	if (mem != NULL && (out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, mem, (size_t)n);
		out[n] = '\0';
		*len = (size_t)n;
	}
	xmlFree(mem);
done:
	xmlFreeDoc(doc);
	return out;
}
