/* SPDX-License-Identifier: GPL-3.0-or-later */
/* magassay — whole-file reads and atomic writes. */
#ifndef MAGASSAY_FILEIO_H
#define MAGASSAY_FILEIO_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif
/* The public API: exported from libmagassay.so, which hides everything else. */
#pragma GCC visibility push(default)

/* Read a whole regular file of at most max_bytes. *data is malloc'ed and
 * NUL-terminated (the NUL not counted in *len). */
int mg_file_read_all(const char *path, size_t max_bytes, unsigned char **data, size_t *len);

/* Write data to path atomically: a temporary file in the same directory,
 * fsync, rename over path, fsync the directory. On any failure the temporary
 * file is removed and path is untouched. ENOSPC/EFBIG give MG_ERR_NOSPACE. */
int mg_file_write_atomic(const char *path, const void *data, size_t len);

#pragma GCC visibility pop
#ifdef __cplusplus
}
#endif
#endif
