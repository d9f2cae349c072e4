/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private: the format table entries, one per file in formats/. */
#ifndef MAGASSAY_FORMATS_H
#define MAGASSAY_FORMATS_H

#include "magassay/error.h"
#include "magassay/format.h"

extern const mg_format mg_format_mca;
extern const mg_format mg_format_msa;
extern const mg_format mg_format_csv;
extern const mg_format mg_format_spx;
extern const mg_format mg_format_spe;
extern const mg_format mg_format_chn;
extern const mg_format mg_format_columns;

/* Helpers shared by the text readers. */

/* Fail with "line N: reason" (the registry prefixes the file name). */
#define mg_fail_line(code, dom, lineno, fmt, ...) \
	mg_fail(code, dom, "line %ld: " fmt, (long)(lineno), ##__VA_ARGS__)

/* A count must be finite and >= 0. */
int mg_check_count(double v);

/* formats/shared.c — helpers of the text readers. */
/* Skip a UTF-8 byte order mark. */
void mg_fmt_skip_bom(const unsigned char **data, size_t *len);
/* Offset of the first byte no text file holds (control bytes but TAB, CR,
 * LF, FF and ^Z), or -1. */
long mg_fmt_first_binary(const unsigned char *p, size_t len);
/* MG_OK, or fail with "line N: binary byte 0xXX at offset K" for the first such byte. */
int mg_fmt_refuse_binary(const unsigned char *p, size_t len, const char *dom);
/* A short printable excerpt of a bad value for an error message: at most
 * size-1 bytes of s, '?' for what is not printable ASCII; returns buf. */
const char *mg_fmt_excerpt(const char *s, size_t n, char *buf, size_t size);

/* formats/shared.c — helpers of the text writers (mca_write.c, msa_write.c). */
/* Shortest decimal text that reads back as exactly v. */
void mg_fmt_num(char *buf, size_t size, double v);
/* A new NUL-terminated UTF-8 string from bytes that are UTF-8 or else latin-1. */
char *mg_fmt_text_decode(const char *s, size_t n);
/* Append s (UTF-8) to b, as latin-1 where every character allows it and latin1 is set. */
void mg_fmt_text_put(mg_buf *b, const char *s, int latin1);
/* 1 when s has no control bytes and can be written on one header line. */
int mg_fmt_text_clean(const char *s);
/* Lines "key: value" (fields.h keys) for whatever `got` (the spectrum read
 * back from the native header) lacks of `want`. */
int mg_fmt_carry_diff(const mg_spectrum *want, const mg_spectrum *got, mg_buf *lines);
/* Apply one carried line to s. */
int mg_fmt_carry_apply(mg_spectrum *s, const char *line, int *last_meta);

#endif
