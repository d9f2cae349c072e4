/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private helpers shared by every module of the library (not installed). */
#ifndef MAGASSAY_INTERNAL_H
#define MAGASSAY_INTERNAL_H

#include <stddef.h>
#include "magassay/error.h"
#include "magassay/log.h"

/* Record a detail message for this thread, log it at debug level under
 * `domain`, and return `code` so callers can write `return mg_fail(...)`. */
int mg_fail(int code, const char *domain, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define mg_err(dom, ...) mg_log(MG_LOG_ERR, dom, __VA_ARGS__)
#define mg_warn(dom, ...) mg_log(MG_LOG_WARN, dom, __VA_ARGS__)
#define mg_info(dom, ...) mg_log(MG_LOG_INFO, dom, __VA_ARGS__)
#define mg_dbg(dom, ...) mg_log(MG_LOG_DBG, dom, __VA_ARGS__)
#define mg_spew(dom, ...) mg_log(MG_LOG_SPEW, dom, __VA_ARGS__)

#define MG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
