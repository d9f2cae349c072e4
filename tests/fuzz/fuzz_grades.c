/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target: the grade table parser (examples/grades.ini format). */
#include <stdint.h>

#include "magassay/quant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_grade_table *t = NULL;
	if (mg_grade_table_parse((const char *)data, size, "fuzz", &t) == 0)
		mg_grade_table_free(t);
	return 0;
}
