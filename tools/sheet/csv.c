/*
 * csv.c: a CSV file as Excel saves it, decoded into UTF-8 records.
 *
 * Excel on a Chinese Windows saves "CSV" in GB18030 (code page 936, of
 * which GB18030 is the superset), and "CSV UTF-8" with a byte order mark;
 * other tools write UTF-8 without one. A file that is valid UTF-8 is read
 * as UTF-8, anything else is converted from GB18030 with iconv(3), and a
 * file that is neither is refused (never guessed at). Quoting is RFC 4180
 * as Excel writes it: a field in double quotes may hold the separator, line
 * breaks and "" for a quote. Row numbers are the spreadsheet's.
 *
 * Owns the decoded text's copies (struct csv); prints nothing.
 */
#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sheettool.h"

#define CSV_MAX_BYTES	(64u * 1024u * 1024u)

/* The whole file, NUL-terminated; NULL with err set. */
static char *
slurp(const char *path, size_t *lenp, char *err, size_t errlen)
{
	FILE	*f;
	char	*buf;
	size_t	 n;

	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "could not open \"%s\": %s", path,
		    strerror(errno));
		return NULL;
	}
	if ((buf = malloc(CSV_MAX_BYTES + 1)) == NULL) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n = fread(buf, 1, CSV_MAX_BYTES + 1, f);
	if (ferror(f) || n > CSV_MAX_BYTES) {
		snprintf(err, errlen, "could not read \"%s\": %s", path,
		    ferror(f) ? strerror(errno) : "larger than 64 MiB");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*lenp = n;
	return buf;
}

/* Well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF), and
 * no NUL byte. */
static bool
is_utf8(const unsigned char *s, size_t n)
{
	size_t		i = 0, k, need;
	unsigned	cp, min;

	while (i < n) {
		if (s[i] == 0)
			return false;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((s[i] & 0xe0) == 0xc0) {
			need = 1; cp = s[i] & 0x1f; min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			need = 2; cp = s[i] & 0x0f; min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			need = 3; cp = s[i] & 0x07; min = 0x10000;
		} else
			return false;
		for (k = 1; k <= need; k++) {
			if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

/* GB18030 to UTF-8 with iconv; NULL if the bytes are not GB18030. */
static char *
from_gb18030(const char *in, size_t n, size_t *outlen)
{
	iconv_t	 cd;
	char	*out, *ip = (char *)(uintptr_t)in, *op;
	size_t	 cap = n * 2 + 16, il = n, ol = cap;

	if ((cd = iconv_open("UTF-8", "GB18030")) == (iconv_t)-1)
		return NULL;
	if ((out = malloc(cap + 1)) == NULL) {
		iconv_close(cd);
		return NULL;
	}
	op = out;
	if (iconv(cd, &ip, &il, &op, &ol) == (size_t)-1 ||
	    iconv(cd, NULL, NULL, &op, &ol) == (size_t)-1) {
		iconv_close(cd);
		free(out);
		return NULL;
	}
	iconv_close(cd);
	*op = '\0';
	*outlen = (size_t)(op - out);
	if (memchr(out, '\0', *outlen) != NULL) {
		free(out);
		return NULL;
	}
	return out;
}

/* The separator Excel used: the most frequent of , ; and tab in the first
 * line outside quotes (',' when none). */
static char
separator(const char *s)
{
	size_t	comma = 0, semi = 0, tab = 0;
	bool	quoted = false;

	for (; *s != '\0' && (quoted || (*s != '\n' && *s != '\r')); s++) {
		if (*s == '"')
			quoted = !quoted;
		else if (!quoted && *s == ',')
			comma++;
		else if (!quoted && *s == ';')
			semi++;
		else if (!quoted && *s == '\t')
			tab++;
	}
	if (tab > comma && tab > semi)
		return '\t';
	return semi > comma ? ';' : ',';
}

static int
add_field(struct csv_record *r, const char *start, size_t n)
{
	char	**grown;

	if ((grown = realloc(r->fields, (r->nfields + 1) *
	    sizeof(*grown))) == NULL)
		return -1;
	r->fields = grown;
	if ((r->fields[r->nfields] = strndup(start, n)) == NULL)
		return -1;
	r->nfields++;
	return 0;
}

/* One field starting at *pp (unquoted, or quoted with "" inside), left in
 * buf; *pp moved past it. */
static int
next_field(const char **pp, char sep, char *buf, size_t *n)
{
	const char	*p = *pp;

	*n = 0;
	if (*p != '"') {
		while (*p != '\0' && *p != sep && *p != '\n' && *p != '\r')
			buf[(*n)++] = *p++;
		*pp = p;
		return 0;
	}
	for (p++;; p++) {
		if (*p == '\0')
			return -1;	/* a quote never closed */
		if (*p == '"' && p[1] == '"')
			buf[(*n)++] = *p++;
		else if (*p == '"')
			break;
		else
			buf[(*n)++] = *p;
	}
	p++;
	/* Excel writes nothing between the closing quote and the separator;
	 * anything else is kept, as Excel reads it */
	while (*p != '\0' && *p != sep && *p != '\n' && *p != '\r')
		buf[(*n)++] = *p++;
	*pp = p;
	return 0;
}

static bool
record_blank(const struct csv_record *r)
{
	size_t	i;

	for (i = 0; i < r->nfields; i++)
		if (r->fields[i][strspn(r->fields[i], " \t")] != '\0')
			return false;
	return true;
}

static void
record_clear(struct csv_record *r)
{
	size_t	i;

	for (i = 0; i < r->nfields; i++)
		free(r->fields[i]);
	free(r->fields);
	r->fields = NULL;
	r->nfields = 0;
}

/* Splits text into records; -1 with err set. */
static int
split(struct csv *c, const char *text, size_t len, char *err, size_t errlen)
{
	const char		*p = text;
	char			*buf;
	struct csv_record	 r = { 0 }, *grown;
	char			 sep = separator(text);
	size_t			 row = 1, n;

	if ((buf = malloc(len + 1)) == NULL)
		return snprintf(err, errlen, "out of memory"), -1;
	while (*p != '\0') {
		r.row = row;
		for (;;) {
			if (next_field(&p, sep, buf, &n) != 0) {
				snprintf(err, errlen, "row %zu: a quoted field "
				    "is never closed", row);
				goto fail;
			}
			if (add_field(&r, buf, n) != 0)
				goto oom;
			if (*p != sep)
				break;
			p++;
		}
		if (*p == '\r')
			p++;
		if (*p == '\n')
			p++;
		if (record_blank(&r)) {
			record_clear(&r);
		} else {
			if ((grown = realloc(c->records, (c->nrecords + 1) *
			    sizeof(*grown))) == NULL)
				goto oom;
			c->records = grown;
			c->records[c->nrecords++] = r;
			memset(&r, 0, sizeof(r));
		}
		row++;
	}
	free(buf);
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	record_clear(&r);
	free(buf);
	return -1;
}

struct csv *
csv_read(const char *path, char *err, size_t errlen)
{
	struct csv	*c;
	char		*raw, *text;
	size_t		 len, tlen;

	if ((raw = slurp(path, &len, err, errlen)) == NULL)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		free(raw);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (len >= 3 && memcmp(raw, "\xef\xbb\xbf", 3) == 0) {
		c->encoding = "UTF-8 with BOM";
		text = raw + 3;
		tlen = len - 3;
		if (!is_utf8((unsigned char *)text, tlen)) {
			snprintf(err, errlen, "\"%s\" starts with a UTF-8 byte "
			    "order mark but is not UTF-8", path);
			goto fail;
		}
	} else if (is_utf8((unsigned char *)raw, len)) {
		c->encoding = "UTF-8";
		text = raw;
		tlen = len;
	} else if ((text = from_gb18030(raw, len, &tlen)) != NULL) {
		c->encoding = "GB18030";
		free(raw);
		raw = text;
	} else {
		snprintf(err, errlen, "\"%s\" is neither UTF-8 nor GB18030 "
		    "text: save it from Excel as \"CSV UTF-8\" or \"CSV\"",
		    path);
		goto fail;
	}
	if (split(c, text, tlen, err, errlen) != 0)
		goto fail;
	free(raw);
	return c;
fail:
	free(raw);
	csv_free(c);
	return NULL;
}

void
csv_free(struct csv *c)
{
	size_t	i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nrecords; i++)
		record_clear(&c->records[i]);
	free(c->records);
	free(c);
}
