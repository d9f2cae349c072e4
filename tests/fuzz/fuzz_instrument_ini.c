/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target: the instrument description (`--instrument FILE`, INI).
 * Oracle: never crash; a file that parses is consistent (mg_instrument_desc_check)
 * and survives a round trip through mg_instrument_desc_format unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magassay/instrument.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same(const mg_instrument_desc *a, const mg_instrument_desc *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->anode, b->anode) == 0 && a->kv == b->kv && a->ua == b->ua &&
	       a->window_be_um == b->window_be_um && strcmp(a->filter, b->filter) == 0 && a->filter_um == b->filter_um &&
	       a->electron_angle_deg == b->electron_angle_deg && a->anode_takeoff_deg == b->anode_takeoff_deg &&
	       a->beam_sr == b->beam_sr && a->incidence_deg == b->incidence_deg && a->takeoff_deg == b->takeoff_deg &&
	       strcmp(a->det_material, b->det_material) == 0 && a->det_thickness_mm == b->det_thickness_mm &&
	       a->det_be_um == b->det_be_um && a->det_dead_layer_um == b->det_dead_layer_um &&
	       a->det_area_mm2 == b->det_area_mm2 && a->det_distance_mm == b->det_distance_mm &&
	       a->noise_kev == b->noise_kev && a->fano == b->fano && a->path == b->path && a->path_mm == b->path_mm &&
	       a->tube_path_mm == b->tube_path_mm;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_instrument_desc d, e;
	if (mg_instrument_desc_parse((const char *)data, size, "fuzz.ini", &d) != 0)
		return 0;
	if (mg_instrument_desc_check(&d) != 0)
		abort();
	char buf[8192];
	int n = mg_instrument_desc_format(&d, buf, sizeof buf);
	if (n <= 0 || (size_t)n >= sizeof buf)
		abort();
	if (mg_instrument_desc_parse(buf, (size_t)n, "roundtrip.ini", &e) != 0 || !same(&d, &e))
		abort();
	return 0;
}
