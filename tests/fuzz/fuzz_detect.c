/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target: content detection + read through the public entry point. */
#include <stdint.h>
#include <stdlib.h>

#include "magassay/format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_spectrum *s = NULL;
	if (mg_spectrum_read_mem(data, size, "fuzz", NULL, &s) == MG_OK) {
		if (mg_spectrum_validate(s) != MG_OK)
			abort();
		mg_spectrum_free(s);
	}
	return 0;
}
