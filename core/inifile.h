/* SPDX-License-Identifier: GPL-3.0-or-later */
/* The one INI reader of the suite (private): every INI file magassay reads
 * (acquisition profiles, instrument files, ICP instrument profiles, ICP
 * methods and QC profiles, grade tables, simulator racks) goes through
 * mg_ini_parse(), which splits lines with inih (Debian's libinih) and gives
 * every caller the same syntax and the same error style:
 *
 *   <file> line <N>: <what>: <reason>
 *
 * Syntax, strict on purpose:
 *   - `[section]` headers; `key = value` pairs (inih also takes `key: value`);
 *   - comments: a line starting with ';' or '#', or ' ;' / ' #' after a value;
 *   - a UTF-8 byte-order mark at the start is skipped;
 *   - no continuation lines: leading blanks are ignored, so an indented line
 *     is a line of its own (inih's Python-style continuation is off);
 *   - lines of at most MG_INI_MAX_LINE bytes (inih's buffer), NUL and other
 *     control bytes (but TAB and CR) refused, a key before any section refused.
 *
 * The callback sees every section header (key == NULL) and every pair, in
 * file order, with NUL-terminated strings and their lengths. It returns 0,
 * or a negative mg_err after recording a detail (mg_ini_fail and the value
 * helpers below do it in the house style); the first failure stops the parse
 * and is returned. */
#ifndef MAGASSAY_INIFILE_H
#define MAGASSAY_INIFILE_H

#include <stddef.h>

#define MG_INI_MAX_LINE 198 /* bytes per line, without its end of line */

typedef struct mg_ini_item {
	const char *file;    /* name for messages ("(memory)" if none was given) */
	const char *domain;  /* log domain of the caller */
	long line;           /* 1-based */
	const char *section; /* trimmed; "" never reaches a callback */
	size_t section_len;
	const char *key;     /* NULL on a section header */
	size_t key_len;
	const char *value;   /* "" for `key =` */
	size_t value_len;
} mg_ini_item;

typedef int (*mg_ini_fn)(const mg_ini_item *it, void *userdata);

/* Parse `len` bytes of `text` (need not be NUL-terminated). `file` names the
 * source in messages, `domain` is the log domain. 0 or the first negative
 * code (MG_ERR_FORMAT for malformed text, or what the callback returned). */
int mg_ini_parse(const char *text, size_t len, const char *file, const char *domain, mg_ini_fn fn,
                 void *userdata);

/* Record "<file> line <N>: <message>" and return MG_ERR_FORMAT. */
int mg_ini_fail(const mg_ini_item *it, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Value readers: 0, or MG_ERR_FORMAT with the message in the house style. */
/* A finite number in [lo, hi]: "<key>: 'x' is not a number", "<key> = v outside [lo, hi]". */
int mg_ini_double(const mg_ini_item *it, double lo, double hi, double *out);
/* A whole number in [lo, hi]. */
int mg_ini_long(const mg_ini_item *it, long lo, long hi, long *out);
/* yes/no, true/false, on/off, 1/0 (any case). */
int mg_ini_bool(const mg_ini_item *it, int *out);
/* Text of 1 .. cap-1 bytes without control characters, copied into buf. */
int mg_ini_text(const mg_ini_item *it, char *buf, size_t cap);
/* One of `names` (NULL-terminated, any case): its index in *out. */
int mg_ini_choice(const mg_ini_item *it, const char *const *names, int *out);

/* Key equality on the item (case-insensitive), for dispatch tables. */
int mg_ini_key_is(const mg_ini_item *it, const char *key);
int mg_ini_section_is(const mg_ini_item *it, const char *section);

/* A short printable copy of a view for messages (at most 40 bytes, '?' for
 * bytes that are not printable ASCII). */
void mg_ini_show(const char *s, size_t n, char *buf, size_t size);

#endif
