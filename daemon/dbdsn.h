/*
 * dbdsn.h: the connection string of daemon/db.c's pool (daemon/dbdsn.c).
 */
#ifndef DBDSN_H
#define DBDSN_H

#include <libpq-fe.h>

#include "wagepay.h"

/* libpq's parse of dsn (PQconninfoFree it), and the connect clock it sets
 * in milliseconds; NULL with err (WP90) for a DSN libpq cannot parse. */
PQconninfoOption *dbdsn_parse(const char *dsn, int *connect_ms,
		    struct perr *err);
/* PQconnectStartParams with opts, each multi-host list rotated by rotate
 * elements; NULL only when libpq is out of memory. */
PGconn		*dbdsn_connect_start(const PQconninfoOption *opts,
		    unsigned rotate);

#endif
