/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — logging. The library never prints: every message goes through
 * one settable handler. With no handler installed, messages are dropped. */
#ifndef MAGASSAY_LOG_H
#define MAGASSAY_LOG_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

enum mg_loglevel {
	MG_LOG_NONE = 0,
	MG_LOG_ERR = 1,
	MG_LOG_WARN = 2,
	MG_LOG_INFO = 3,
	MG_LOG_DBG = 4,
	MG_LOG_SPEW = 5, /* byte dumps of every packet */
};

/* domain: the module that logs ("dp5", "usb", "mca"); msg: one line, no newline. */
typedef void (*mg_log_handler)(int level, const char *domain, const char *msg, void *userdata);

/* Install a handler (NULL removes it). Thread-safe; takes effect for all threads. */
void mg_log_set_handler(mg_log_handler handler, void *userdata);
/* Messages above this level are not formatted at all. Default MG_LOG_WARN. */
void mg_log_set_level(int level);
int mg_log_get_level(void);

/* Library-internal entry points (also usable by front ends). */
void mg_log(int level, const char *domain, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void mg_logv(int level, const char *domain, const char *fmt, va_list ap);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
