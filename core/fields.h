/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private: the spectrum's named fields as "key: value" text, for formats that
 * carry free metadata lines (CSV comments, MSA ## keys). One table, so every
 * such format names the fields the same way and round trips are exact. */
#ifndef MAGASSAY_FIELDS_H
#define MAGASSAY_FIELDS_H

#include "magassay/buf.h"
#include "magassay/spectrum.h"

/* Write one line per known field and per meta entry:
 *   <prefix><key><sep><value>\n
 * Doubles are written with 17 significant digits; meta keys as "meta.<key>". */
int mg_fields_write(const mg_spectrum *s, mg_buf *out, const char *prefix, const char *sep);

/* Set a field from its key. 1 = known key set, 0 = unknown key (untouched),
 * <0 = known key with a bad value. */
int mg_fields_set(mg_spectrum *s, const char *key, const char *value);

#endif
