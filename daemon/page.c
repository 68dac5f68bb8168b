/*
 * page.c: the operations console's web page: three static files (HTML,
 * JavaScript, CSS) compiled into the binary by daemon/console/blob.S and
 * served by the console listener. The page talks only to the JSON API of
 * console.c; everything it shows comes from there.
 *
 * Owns nothing at run time. Every answer carries a Content-Security-Policy
 * that allows only these files and same-origin fetches (no inline script,
 * no other origin, no framing), so that text the page shows (project and
 * company names come from contractors) can never run as script, and
 * Strict-Transport-Security, since the console is HTTPS only.
 */
#include <stdint.h>
#include <string.h>

#include <event2/http.h>

#include "daemon.h"

extern const char	page_index_html[], page_app_js[], page_style_css[];
extern const uint64_t	page_index_html_len, page_app_js_len,
			page_style_css_len;

static const struct {
	const char	*path;
	const char	*ctype;
	const char	*data;
	const uint64_t	*len;
} files[] = {
	{ "/", "text/html; charset=utf-8", page_index_html, &page_index_html_len },
	{ "/index.html", "text/html; charset=utf-8", page_index_html,
	    &page_index_html_len },
	{ "/app.js", "text/javascript; charset=utf-8", page_app_js,
	    &page_app_js_len },
	{ "/style.css", "text/css; charset=utf-8", page_style_css,
	    &page_style_css_len },
};

#define CSP	"default-src 'none'; script-src 'self'; style-src 'self'; " \
		"img-src 'self' data:; connect-src 'self'; form-action 'self'; " \
		"base-uri 'none'; frame-ancestors 'none'"

bool
page_serve(struct evhttp_request *req, const char *path)
{
	struct evkeyvalq	*h;
	size_t			 i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (strcmp(path, files[i].path) != 0)
			continue;
		h = evhttp_request_get_output_headers(req);
		evhttp_add_header(h, "Content-Security-Policy", CSP);
		evhttp_add_header(h, "X-Frame-Options", "DENY");
		evhttp_add_header(h, "Referrer-Policy", "no-referrer");
		evhttp_add_header(h, "Strict-Transport-Security",
		    "max-age=31536000");
		http_reply(req, 200, files[i].ctype, files[i].data,
		    (size_t)*files[i].len);
		return true;
	}
	return false;
}
