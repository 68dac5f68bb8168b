/*
 * page.c: the operations console's web page (static files served by the
 * console listener). Until the page exists, nothing is served here.
 */
#include "daemon.h"

bool
console_page(struct evhttp_request *req, const char *path)
{
	(void)req;
	(void)path;
	return false;
}
