/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target: the ICP-OES method and QC profile parsers (the same
 * input through both). Oracle: parsing is deterministic (twice, the same
 * bytes of result); a parsed method keeps its invariants (named, analytes
 * with lines in range, at most MG_ICP_MAX_LINES lines to configure, IEC
 * interferents that are analytes, no accepted reporting line with an
 * unresolved overlap from a matrix element and no IEC for it); a failure
 * names a line that exists. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magassay/error.h"
#include "magassay/icp_analysis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK_OR_DIE(cond)          \
	do {                        \
		if (!(cond))        \
			abort();    \
	} while (0)

static void line_in_detail(long nlines)
{
	const char *d = mg_error_detail(), *p = strstr(d, " line ");
	if (p) {
		long l = strtol(p + 6, NULL, 10);
		CHECK_OR_DIE(l >= 1 && l <= nlines);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long nlines = 1;
	for (size_t i = 0; i < size; i++)
		nlines += data[i] == '\n' || data[i] == '\r';
	mg_icp_method *m = NULL, *m2 = NULL;
	int rc = mg_icp_method_parse((const char *)data, size, &m);
	int rc2 = mg_icp_method_parse((const char *)data, size, &m2);
	CHECK_OR_DIE(rc == rc2);
	if (rc != MG_OK) {
		CHECK_OR_DIE(!m && !m2);
		line_in_detail(nlines);
	} else {
		CHECK_OR_DIE(memcmp(m, m2, sizeof(*m)) == 0);
		CHECK_OR_DIE(m->name[0] && m->nanalytes >= 1 && m->nanalytes <= MG_ICP_MAX_ANALYTES);
		CHECK_OR_DIE(m->replicates >= 1 && m->replicates <= MG_ICP_MAX_REPLICATES);
		mg_icp_line lines[MG_ICP_MAX_LINES];
		int n = mg_icp_method_lines(m, lines, MG_ICP_MAX_LINES);
		CHECK_OR_DIE(n >= 1 && n <= MG_ICP_MAX_LINES);
		for (size_t a = 0; a < m->nanalytes; a++) {
			const mg_icp_analyte *an = &m->analyte[a];
			CHECK_OR_DIE(an->line.wavelength_nm >= 100 && an->line.wavelength_nm <= 1000);
			CHECK_OR_DIE(mg_icp_method_analyte(m, an->element) == (int)a);
			for (size_t j = 0; j < an->niec; j++)
				CHECK_OR_DIE(mg_icp_method_analyte(m, an->iec[j].element) >= 0);
			char by[4] = "";
			if (mg_icp_known_overlap(an->element, an->line.wavelength_nm, by) &&
			    (!strcmp(an->element, "B") || !strcmp(an->element, "Sm"))) {
				int in_matrix = 0, corrected = 0;
				for (size_t k = 0; k < m->nmatrix; k++)
					in_matrix |= !strcmp(m->matrix[k], by);
				for (size_t j = 0; j < an->niec; j++)
					corrected |= !strcmp(an->iec[j].element, by);
				CHECK_OR_DIE(!in_matrix || corrected);
			}
		}
		for (size_t k = 0; k < m->nsolutions; k++) {
			const mg_icp_solution *s = &m->solution[k];
			CHECK_OR_DIE(mg_icp_method_solution(m, s->name, 0) == s);
			for (size_t a = 0; a < MG_ICP_MAX_ANALYTES; a++)
				CHECK_OR_DIE(isnan(s->value[a]) || s->value[a] >= 0);
		}
	}
	mg_icp_method_free(m);
	mg_icp_method_free(m2);

	mg_icp_qc_profile *q = NULL;
	rc = mg_icp_qc_parse((const char *)data, size, &q);
	if (rc != MG_OK) {
		CHECK_OR_DIE(!q);
		line_in_detail(nlines);
	} else {
		CHECK_OR_DIE(q->name[0]);
		mg_icp_limits l[] = {q->icv, q->ccv, q->lloq_check, q->spike, q->crm, q->is_recovery, q->total};
		for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i++)
			CHECK_OR_DIE(!(isfinite(l[i].lo) && isfinite(l[i].hi)) || l[i].lo <= l[i].hi);
		mg_icp_qc_free(q);
	}
	return 0;
}
