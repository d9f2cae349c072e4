/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target: an energy/resolution calibration record's JSON (the
 * payload of a store record, or a file given to `analyze --calib`).
 * Oracle: what parses writes back (mg_analysis_calib_write_file) and parses
 * again to the same calibration. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "magassay/analysis.h"
#include "magassay/fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_analysis_config cfg;
	mg_analysis_config_default(&cfg);
	mg_energy_cal cal;
	mg_detector_model det = cfg.det;
	if (mg_analysis_calib_parse((const char *)data, size, "fuzz", &cal, &det) != 0)
		return 0;
	if (!(cal.gain_kev > 0) || !isfinite(cal.offset_kev))
		abort(); /* accepted what the reader promises to refuse */
	char path[] = "/tmp/magassay-fuzz-ecal-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	close(fd);
	unlink(path); /* the writer never overwrites */
	if (mg_analysis_calib_write_file(path, &cal, &det) == 0) {
		mg_energy_cal again;
		mg_detector_model d2 = cfg.det;
		if (mg_analysis_calib_read_file(path, &again, &d2) != 0 || fabs(again.gain_kev - cal.gain_kev) > 1e-9 * fabs(cal.gain_kev))
			abort(); /* the writer produced what the reader rejects, or changed it */
	}
	unlink(path);
	return 0;
}
