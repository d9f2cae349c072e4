/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target: the INI-like parsers of the ICP-OES side — instrument
 * profiles (drivers/icp/profile.c) and the simulator's rack files
 * (drivers/sim/icp_device.c). A profile that parses is complete: its
 * templates expand (or refuse a value with MG_ERR_ARG), its limits are
 * ordered, its name matches the glob it is; a rack that parses gives
 * solutions with finite, non-negative concentrations. Errors carry a line
 * number or name the file. abort() on a broken invariant. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/icp/protocol.h"
#include "magassay/error.h"
#include "magassay/icp_device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK_OR_DIE(cond)          \
	do {                        \
		if (!(cond))        \
			abort();    \
	} while (0)

static void expand_all(const mg_icp_profile *p)
{
	mg_icp_vars v = {.index = 2, .element = "Nd", .wavelength = 430.358, .label = "N52 \"A\"", .is = 0,
	                 .seconds = 1.5, .count = 3, .position = 12, .line = 1, .replicate = 2};
	const mg_icp_template *ts[] = {&p->lines_clear, &p->lines_add, &p->lines_count, &p->integration, &p->replicates,
	                               &p->position,    &p->label,     &p->start,       &p->run_count,   &p->window,
	                               &p->wavelengths};
	mg_buf b;
	mg_buf_init(&b);
	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		if (!ts[i]->source)
			continue;
		int rc = mg_icp_template_expand(ts[i], &v, &b);
		CHECK_OR_DIE(rc == MG_OK || rc == MG_ERR_ARG);
		if (rc == MG_OK)
			CHECK_OR_DIE(!memchr(b.data, '\n', b.len));
	}
	mg_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	mg_icp_profile *p = NULL;
	int rc = mg_icp_profile_parse(text, size, "fuzz.ini", &p);
	if (rc == MG_OK) {
		CHECK_OR_DIE(p && p->name[0] && p->lines_add.source && p->window.source && p->plasma_query);
		CHECK_OR_DIE(p->integration_min <= p->integration_max && p->position_min <= p->position_max);
		CHECK_OR_DIE(p->lines_max >= 1 && p->lines_max <= MG_ICP_MAX_LINES && p->pixels_max <= MG_ICP_MAX_PIXELS);
		CHECK_OR_DIE(p->wait == MG_ICP_WAIT_OPC || (p->poll_query && p->poll_busy_mask));
		CHECK_OR_DIE(mg_icp_glob(p->idn_manufacturer, p->idn_manufacturer) || strpbrk(p->idn_manufacturer, "*?"));
		expand_all(p);
		mg_icp_profile_free(p);
	} else {
		CHECK_OR_DIE(p == NULL && (rc == MG_ERR_FORMAT || rc == MG_ERR_NOMEM));
		CHECK_OR_DIE(strstr(mg_error_detail(), "fuzz.ini") != NULL);
	}

	mg_icpsim *sim = NULL;
	rc = mg_icpsim_new_with_rack("noise=0", text, size, "fuzz.rack", &sim);
	if (rc == MG_OK) {
		int pos[256];
		int n = mg_icpsim_positions(sim, pos, 256);
		CHECK_OR_DIE(n >= 1 && n <= 256);
		for (int i = 0; i < n; i++) {
			mg_icpsim_solution s;
			CHECK_OR_DIE(mg_icpsim_solution_at(sim, pos[i], &s) == MG_OK && s.position == pos[i]);
			for (size_t k = 0; k < s.nelements; k++)
				CHECK_OR_DIE(isfinite(s.mg_per_l[k]) && s.mg_per_l[k] >= 0);
			if (i)
				CHECK_OR_DIE(pos[i] > pos[i - 1]);
		}
		mg_icpsim_free(sim);
	} else {
		CHECK_OR_DIE(sim == NULL);
		CHECK_OR_DIE(rc == MG_ERR_FORMAT || rc == MG_ERR_NOMEM);
	}
	return 0;
}
