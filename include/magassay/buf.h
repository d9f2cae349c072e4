/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — a growable byte buffer, used by writers and codecs.
 * Allocation failures are sticky: after one, every append is a no-op and
 * mg_buf_status() returns MG_ERR_NOMEM, so writers check once at the end. */
#ifndef MAGASSAY_BUF_H
#define MAGASSAY_BUF_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

typedef struct mg_buf {
	char *data;   /* always NUL-terminated when len > 0 (the NUL is not counted) */
	size_t len;
	size_t cap;
	int failed;   /* sticky MG_ERR_NOMEM */
} mg_buf;

void mg_buf_init(mg_buf *b);
void mg_buf_free(mg_buf *b);
void mg_buf_reset(mg_buf *b);          /* len = 0, keeps the allocation */
int mg_buf_append(mg_buf *b, const void *data, size_t len);
int mg_buf_puts(mg_buf *b, const char *s);
int mg_buf_printf(mg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mg_buf_status(const mg_buf *b);    /* MG_OK or MG_ERR_NOMEM */

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
