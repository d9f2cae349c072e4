/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Private: chemical element symbols and atomic numbers (H..Cf, Z 1..98).
 * One table in core, so that every layer that reads or writes element
 * symbols (compositions, calibration records, spectrum headers) can use it
 * without reaching into physics or analysis. */
#ifndef MAGASSAY_ELEMENTS_H
#define MAGASSAY_ELEMENTS_H

#include <stddef.h>

/* Atomic number of the symbol in the view s[0..n) (case-insensitive: "Fe",
 * "fe", "FE"), or -1 when it is not an element symbol. */
int mg_element_z(const char *s, size_t n);

/* The symbol of element z ("Fe"; static), or "?" outside 1..98. */
const char *mg_element_symbol(int z);

#endif
