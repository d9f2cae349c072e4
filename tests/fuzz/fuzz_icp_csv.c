/* SPDX-License-Identifier: GPL-3.0-or-later */
/* libFuzzer target: the vendor CSV import. Oracle: every row keeps its
 * invariants (a label, an element, a replicate in range, a finite intensity or
 * concentration); written back as a canonical CSV (quoted labels, %.17g
 * numbers, mg/L) it parses to the same rows. */
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

static int same(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_icp_csv *c = NULL;
	int rc = mg_icp_csv_parse((const char *)data, size, &c);
	if (rc != MG_OK) {
		CHECK_OR_DIE(c == NULL && rc < 0);
		return 0;
	}
	CHECK_OR_DIE(c->nrows > 0 && (c->has_intensity || c->has_conc));
	for (size_t i = 0; i < c->nrows; i++) {
		const mg_icp_csv_row *r = &c->rows[i];
		CHECK_OR_DIE(r->label[0] && r->element[0]);
		CHECK_OR_DIE(r->replicate >= 0 && r->replicate <= MG_ICP_MAX_REPLICATES);
		CHECK_OR_DIE(isfinite(r->intensity) || isfinite(r->conc));
		CHECK_OR_DIE(isnan(r->wavelength_nm) || (r->wavelength_nm >= 100 && r->wavelength_nm <= 1000));
		CHECK_OR_DIE(i == 0 || r->line > c->rows[i - 1].line);
	}
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CHECK_OR_DIE(f != NULL);
	fprintf(f, "Label,Element,Wavelength,Replicate%s%s\n", c->has_intensity ? ",Intensity" : "",
	        c->has_conc ? ",Conc (mg/L)" : "");
	for (size_t i = 0; i < c->nrows; i++) {
		const mg_icp_csv_row *r = &c->rows[i];
		fputc('"', f);
		for (const char *p = r->label; *p; p++) {
			if (*p == '"')
				fputc('"', f);
			fputc(*p, f);
		}
		fprintf(f, "\",%s,", r->element);
		if (isfinite(r->wavelength_nm))
			fprintf(f, "%.17g", r->wavelength_nm);
		if (r->replicate > 0)
			fprintf(f, ",%d", r->replicate);
		else
			fprintf(f, ",mean");
		if (c->has_intensity) {
			fputc(',', f);
			if (isfinite(r->intensity))
				fprintf(f, "%.17g", r->intensity);
		}
		if (c->has_conc) {
			fputc(',', f);
			if (isfinite(r->conc))
				fprintf(f, "%.17g", r->conc);
		}
		fputc('\n', f);
	}
	fclose(f);
	mg_icp_csv *d = NULL;
	rc = mg_icp_csv_parse(buf, len, &d);
	CHECK_OR_DIE(rc == MG_OK && d && d->nrows == c->nrows);
	for (size_t i = 0; i < c->nrows; i++) {
		const mg_icp_csv_row *a = &c->rows[i], *b = &d->rows[i];
		CHECK_OR_DIE(!strcmp(a->label, b->label) && !strcmp(a->element, b->element) && a->replicate == b->replicate);
		CHECK_OR_DIE(same(a->wavelength_nm, b->wavelength_nm) && same(a->intensity, b->intensity) &&
		             same(a->conc, b->conc));
	}
	mg_icp_csv_free(d);
	free(buf);
	mg_icp_csv_free(c);
	return 0;
}
