/*
 * log.h: OpenBSD-style logging to stderr (systemd captures it).
 * log_warn appends strerror(errno); log_warnx does not. fatal/fatalx exit(1)
 * and are for start-up, out-of-memory and broken invariants only.
 * Never pass a full ID number, card number or worker name.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>

#define LOG_FMT(a, b) __attribute__((format(printf, a, b)))

void	log_init(int debug);
void	log_setverbose(int verbose);
void	log_warn(const char *, ...) LOG_FMT(1, 2);
void	log_warnx(const char *, ...) LOG_FMT(1, 2);
void	log_info(const char *, ...) LOG_FMT(1, 2);
void	log_debug(const char *, ...) LOG_FMT(1, 2);
void	fatal(const char *, ...) LOG_FMT(1, 2) __attribute__((noreturn));
void	fatalx(const char *, ...) LOG_FMT(1, 2) __attribute__((noreturn));

#endif
