/* SPDX-License-Identifier: GPL-3.0-or-later */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "magassay/buf.h"

void mg_buf_init(mg_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void mg_buf_free(mg_buf *b)
{
	free(b->data);
	mg_buf_init(b);
}

void mg_buf_reset(mg_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static int reserve(mg_buf *b, size_t extra)
{
	if (b->failed)
		return MG_ERR_NOMEM;
	if (extra > SIZE_MAX / 2 - b->len - 1) {
		b->failed = 1;
		return MG_ERR_NOMEM;
	}
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return MG_OK;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	char *p = realloc(b->data, cap);
	if (!p) {
		b->failed = 1;
		return MG_ERR_NOMEM;
	}
	b->data = p;
	b->cap = cap;
	return MG_OK;
}

int mg_buf_append(mg_buf *b, const void *data, size_t len)
{
	if (reserve(b, len) != MG_OK)
		return MG_ERR_NOMEM;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return MG_OK;
}

int mg_buf_puts(mg_buf *b, const char *s)
{
	return mg_buf_append(b, s, strlen(s));
}

int mg_buf_printf(mg_buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return MG_ERR_ARG;
	if ((size_t)n < sizeof(small))
		return mg_buf_append(b, small, (size_t)n);
	if (reserve(b, (size_t)n) != MG_OK)
		return MG_ERR_NOMEM;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return MG_OK;
}

int mg_buf_status(const mg_buf *b)
{
	return b->failed ? MG_ERR_NOMEM : MG_OK;
}
