/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target: the acquisition profile (INI) parser. Oracle: a profile
 * that parses renders a DP5 configuration text that the codec accepts. */
#include <stdint.h>
#include <stdlib.h>

#include "magassay/acq.h"
#include "magassay/dp5.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_acq_profile p;
	if (mg_acq_profile_init(&p) != 0)
		return 0;
	if (mg_acq_profile_parse(&p, (const char *)data, size, "fuzz") == 0) {
		char *text = NULL;
		if (mg_acq_profile_config_text(&p, &text) == 0) {
			if (mg_dp5_config_validate(text) < 0)
				abort(); /* a profile that parses must give a configuration the device takes */
			free(text);
		}
	}
	mg_acq_profile_clear(&p);
	return 0;
}
