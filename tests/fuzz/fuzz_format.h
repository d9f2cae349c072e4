/* SPDX-License-Identifier: GPL-3.0-or-later */
/* One libFuzzer body shared by every format reader's target.
 *
 * Oracle, beyond "no crash, no leak, no UB": whatever a reader accepts must
 * validate, and for writable formats must survive write -> read with the
 * same counts, so a reader that accepts garbage or a writer that emits what
 * its reader rejects both show up. */
#ifndef MG_FUZZ_FORMAT_H
#define MG_FUZZ_FORMAT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magassay/format.h"

static void fuzz_format(mg_format_id id, const uint8_t *data, size_t size)
{
	const mg_format *fmt = mg_format_get(id);
	mg_spectrum *s = NULL;
	if (!fmt)
		abort();
	(void)fmt->probe(data, size);
	if (fmt->read(data, size, &s) != MG_OK)
		return;
	if (mg_spectrum_validate(s) != MG_OK)
		abort(); /* a reader returned an invalid spectrum as success */
	if (fmt->write) {
		mg_buf b;
		mg_buf_init(&b);
		if (fmt->write(s, &b) == MG_OK && mg_buf_status(&b) == MG_OK) {
			mg_spectrum *again = NULL;
			if (fmt->read((const unsigned char *)b.data, b.len, &again) != MG_OK)
				abort(); /* the writer produced what the reader rejects */
			if (again->nchan != s->nchan ||
			    memcmp(again->counts, s->counts, s->nchan * sizeof(double)) != 0)
				abort(); /* round trip changed the counts */
			mg_spectrum_free(again);
		}
		mg_buf_free(&b);
	}
	mg_spectrum_free(s);
}

#define MG_FUZZ_FORMAT_TARGET(ID)                                                      \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);                  \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)                   \
	{                                                                              \
		fuzz_format(ID, data, size);                                           \
		return 0;                                                              \
	}

#endif
