/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static _Thread_local char detail[1024];
static _Thread_local int detail_set;

static const struct {
	int code;
	const char *name;
	const char *text;
} errors[] = {
	{MG_OK, "MG_OK", "no error"},
	{MG_ERR_ARG, "MG_ERR_ARG", "invalid argument"},
	{MG_ERR_NOMEM, "MG_ERR_NOMEM", "out of memory"},
	{MG_ERR_IO, "MG_ERR_IO", "input/output error"},
	{MG_ERR_FORMAT, "MG_ERR_FORMAT", "malformed input"},
	{MG_ERR_UNSUPPORTED, "MG_ERR_UNSUPPORTED", "not supported"},
	{MG_ERR_TIMEOUT, "MG_ERR_TIMEOUT", "timed out"},
	{MG_ERR_CHECKSUM, "MG_ERR_CHECKSUM", "checksum error"},
	{MG_ERR_PROTOCOL, "MG_ERR_PROTOCOL", "protocol error"},
	{MG_ERR_DEVICE, "MG_ERR_DEVICE", "the device reported an error"},
	{MG_ERR_NOT_FOUND, "MG_ERR_NOT_FOUND", "not found"},
	{MG_ERR_DISCONNECTED, "MG_ERR_DISCONNECTED", "device disconnected"},
	{MG_ERR_NA, "MG_ERR_NA", "not applicable"},
	{MG_ERR_NOSPACE, "MG_ERR_NOSPACE", "no space left (disk full or file size limit)"},
	{MG_ERR_INTERRUPTED, "MG_ERR_INTERRUPTED", "interrupted"},
	{MG_ERR_BUSY, "MG_ERR_BUSY", "resource busy"},
	{MG_ERR_EXISTS, "MG_ERR_EXISTS", "already exists"},
	{MG_ERR_NEED_MORE, "MG_ERR_NEED_MORE", "more input needed"},
	{MG_ERR_INTERNAL, "MG_ERR_INTERNAL", "internal error"},
};

const char *mg_strerror(int err)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(errors); i++)
		if (errors[i].code == err)
			return errors[i].text;
	return "unknown error";
}

const char *mg_strerror_name(int err)
{
	for (size_t i = 0; i < MG_ARRAY_SIZE(errors); i++)
		if (errors[i].code == err)
			return errors[i].name;
	return "MG_ERR_UNKNOWN";
}

const char *mg_error_detail(void)
{
	return detail_set ? detail : "no error detail recorded";
}

void mg_error_clear(void)
{
	detail_set = 0;
	detail[0] = '\0';
}

int mg_fail(int code, const char *domain, const char *fmt, ...)
{
	/* Format into a local buffer first: callers may pass mg_error_detail()
	 * itself as an argument, to wrap the previous detail. */
	char msg[sizeof(detail)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(detail, msg, sizeof(detail));
	detail_set = 1;
	mg_log(MG_LOG_DBG, domain, "%s: %s", mg_strerror_name(code), detail);
	return code;
}
