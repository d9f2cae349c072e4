/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target: the one INI reader (core/inifile.c over inih). Oracle:
 * every item handed out is NUL-terminated at its stated length, has a
 * section, a line number that grows, and nothing is longer than a line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "inifile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int item(const mg_ini_item *it, void *ud)
{
	long *last = ud;
	if (it->line < *last || it->section_len == 0 || strlen(it->section) != it->section_len ||
	    it->section_len > MG_INI_MAX_LINE)
		abort();
	if (it->key && (strlen(it->key) != it->key_len || strlen(it->value) != it->value_len ||
	                it->key_len + it->value_len > MG_INI_MAX_LINE))
		abort();
	*last = it->line;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long last = 0;
	mg_ini_parse((const char *)data, size, "fuzz", "fuzz", item, &last);
	return 0;
}
