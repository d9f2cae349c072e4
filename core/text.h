/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private text-parsing helpers for the format readers. Strict by design:
 * numbers must be finite and wholly consumed; lines are counted from 1. */
#ifndef MAGASSAY_TEXT_H
#define MAGASSAY_TEXT_H

#include <stddef.h>

/* Iterate over the lines of a memory block. LF, CRLF and lone CR end a line.
 * The line returned is not NUL-terminated: use (ptr, len). */
typedef struct mg_lines {
	const char *data;
	size_t len;
	size_t pos;
	long lineno; /* number of the line last returned, from 1 */
} mg_lines;

void mg_lines_init(mg_lines *it, const void *data, size_t len);
/* 1 and (*line, *n) on a line, 0 at the end. */
int mg_lines_next(mg_lines *it, const char **line, size_t *n);

/* Trim ASCII white space at both ends of (s, n), in place on the view. */
void mg_trim(const char **s, size_t *n);
/* Case-insensitive prefix test on a view. */
int mg_starts_with_ci(const char *s, size_t n, const char *prefix);
int mg_equals_ci(const char *s, size_t n, const char *word);

/* Parse a finite double from the whole view (surrounding blanks allowed,
 * a trailing '.' as in "2048." allowed, NaN/Inf rejected). 0 or MG_ERR_FORMAT. */
int mg_parse_double(const char *s, size_t n, double *out);
/* Parse an integer in [min, max] from the whole view ("2048." accepted). */
int mg_parse_long(const char *s, size_t n, long min, long max, long *out);

/* Copy a view into a new NUL-terminated heap string (NULL on no memory). */
char *mg_strndup_view(const char *s, size_t n);

/* 1 if the block contains bytes that no text spectrum file holds
 * (NUL, or control bytes other than TAB/CR/LF/FF/0x1A). */
int mg_looks_binary(const void *data, size_t len);

/* A user-supplied text quoted for a message: printable ASCII as is, other
 * bytes as \xNN, cut after 40 bytes (core/id.c). */
void mg_quote_text(char *out, size_t cap, const char *s);
/* The id rule of magassay/id.h with the kind of id in the message:
 * "batch id "x/y": byte 2 is '/' ...". MG_OK or MG_ERR_ARG. */
int mg_id_check(const char *what, const char *id);

#endif
