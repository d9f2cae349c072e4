/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target: a quantification calibration record read back from JSON
 * (what `magassay calibrate ... --out` writes and `--calib FILE` reads).
 * Oracle: what parses serialises and parses again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magassay/calib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_quant_calibration c;
	memset(&c, 0, sizeof c);
	if (mg_quant_calibration_from_json((const char *)data, size, "fuzz", &c) == 0) {
		char *js = mg_quant_calibration_to_json(&c);
		if (js) {
			mg_quant_calibration again;
			memset(&again, 0, sizeof again);
			if (mg_quant_calibration_from_json(js, strlen(js), "fuzz", &again) != 0)
				abort(); /* the writer produced what the reader rejects */
			mg_quant_calibration_clear(&again);
			free(js);
		}
	}
	mg_quant_calibration_clear(&c);
	return 0;
}
