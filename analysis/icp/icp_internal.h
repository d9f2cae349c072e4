/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private helpers of the ICP-OES analysis (analysis/icp/), not installed. */
#ifndef MAGASSAY_ICP_INTERNAL_H
#define MAGASSAY_ICP_INTERNAL_H

#include <stddef.h>

#include "magassay/icp_analysis.h"

/* ---- field readers (fields.c); the INI files go through core/inifile.h ---- */

/* View helpers */
int icp_view_eq(const char *s, size_t n, const char *word); /* case-insensitive */
/* Copy a view into a fixed buffer; MG_ERR_FORMAT if it does not fit. */
int icp_copy(char *dst, size_t cap, const char *s, size_t n);
/* Next comma-separated item of a list view into (item, item_len); advances (s, n).
 * 1 if an item was taken, 0 at the end. Items are trimmed. */
int icp_list_next(const char **s, size_t *n, const char **item, size_t *item_len);
/* "Nd" style element symbol (1 uppercase + 0..1 lowercase letters) from a view. */
int icp_parse_element(const char *s, size_t n, char out[4]);
/* "yes"/"no"/"true"/"false"/"on"/"off"/"1"/"0". */
int icp_parse_bool(const char *s, size_t n, int *out);
/* "90, 110" or "90-110" → limits; "none" → both NAN. */
int icp_parse_limits(const char *s, size_t n, mg_icp_limits *out);
/* "12.5", "12.5 ± 0.3", "12.5 +/- 0.3", "12.5 +- 0.3" */
int icp_parse_value_u(const char *s, size_t n, double *v, double *u);
/* "Y 371.030" → element and wavelength */
int icp_parse_line_spec(const char *s, size_t n, char el[4], double *nm);

/* Fill a line struct (label "Nd 430.358"). */
void icp_line_set(mg_icp_line *l, const char *el, double nm, int is_std);

/* Split one delimited record (CSV) into fields, quotes ("" escapes) allowed.
 * Fields are copied into buf (NUL-separated); starts/lens point into buf.
 * Returns the field count, or MG_ERR_FORMAT (unterminated quote, too many). */
int icp_csv_split(const char *line, size_t n, char sep, char *buf, size_t bufcap, const char **fields,
                  size_t maxfields);

#endif
