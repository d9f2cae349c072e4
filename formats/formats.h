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

#endif
