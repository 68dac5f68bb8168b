/*
 * coreack.h: the daemon's acknowledgement of a core feed call
 * (CoreAck, urn:wagepay:core:1).
 */
#ifndef COREACK_H
#define COREACK_H

#include <stddef.h>

#define CORE_NS "urn:wagepay:core:1"

/* Returns a malloc'd CoreAck document valid against proto/xsd/core.xsd;
 * code may be NULL or ""; the message is cut to 255 characters on a UTF-8
 * boundary. NULL only on out-of-memory. */
char	*coreack_build(const char *ref, const char *outcome, const char *code,
	    const char *message, size_t *len);

#endif
